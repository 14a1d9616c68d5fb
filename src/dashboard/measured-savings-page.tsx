/**
 * `GET /tableau-de-bord/{uai}/economies-mesurees` (issue 16): measured savings beside the
 * estimated ones, in French. A form (period of reference before the pilot, period of report),
 * then the baseline model with its statistics and the ASHRAE Guideline 14 verdict, the measured
 * saving with its uncertainty, and the estimate of the same days; or the missing data, named,
 * and no number (docs/savings.md, "Measured savings"). Mounted behind the dashboard's page auth.
 */
import { Hono } from 'hono';
import { type AuthEnv, uaiVisible } from '../auth/middleware.js';
import { hasRole } from '../auth/principal.js';
import { MAX_PLAN_DAYS } from '../bridge/planning.js';
import { isInputError } from '../domain/problems.js';
import { isValidUai } from '../domain/uai.js';
import { DEFAULT_BASELINE } from '../savings/baseline.js';
import type { MissingData } from '../savings/measured-savings.js';
import {
  type MeasuredQuery,
  measuredQuery,
  type SchoolMeasuredBody,
} from '../savings/school-measured-savings.js';
import {
  dateChunks,
  estimateSchoolSavings,
  outdoorForSchool,
  savingsDates,
} from '../savings/school-savings.js';
import type { DashboardDeps } from './deps.js';
import { Layout, renderDocument } from './layout.js';
import { DASHBOARD_BASE, schoolHref } from './pages.js';
import { kwhText } from './savings-svg.js';

const PERIODS: Record<MissingData['period'], string> = { baseline: 'référence', reporting: 'suivi' };
const WHAT: Record<MissingData['what'], string> = {
  'meter-readings': 'relevés de compteur',
  'outdoor-temperature': 'températures extérieures',
  'degree-days': 'degrés-jours de chauffage',
};
const REASONS: Record<string, string> = {
  'no-reading': 'aucun relevé',
  gap: 'relevés trop espacés (plus de 48 h)',
  'index-reset': 'remise à zéro du compteur',
  'interval-too-long': 'période de consommation de plus de 48 h',
  'no-outdoor': 'aucune température',
  'normals-only': 'normale mensuelle seulement',
};

const frNumber = (n: number, digits = 1) =>
  n.toLocaleString('fr-FR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const frDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

export function measuredSavingsRoutes(deps: DashboardDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get(`${DASHBOARD_BASE}/:uai/economies-mesurees`, async (c) => {
    const principal = c.get('principal');
    const viewer = { clientId: principal.clientId, showVue: hasRole(principal, 'manager') };
    const uai = c.req.param('uai');
    const devices = isValidUai(uai) ? deps.devices().get(uai) : undefined;
    c.header('Cache-Control', 'private, no-store');
    if (!hasRole(principal, 'manager', 'auditor') || !devices || !uaiVisible(c, uai)) {
      return c.html(
        renderDocument(
          <Layout title="Établissement introuvable" {...viewer}>
            <h1>Établissement introuvable</h1>
            <p class="erreur">Aucun établissement {uai} parmi ceux que vous suivez.</p>
          </Layout>,
        ),
        404,
      );
    }
    const school = devices.value.school;
    const form = {
      reference_du: c.req.query('reference_du') ?? '',
      reference_au: c.req.query('reference_au') ?? '',
      du: c.req.query('du') ?? '',
      au: c.req.query('au') ?? '',
    };
    const asked = Object.values(form).some((v) => v !== '');
    let error: string | null = null;
    let query: MeasuredQuery | null = null;
    if (asked) {
      try {
        query = measuredQuery(
          { baselineFrom: form.reference_du, baselineTo: form.reference_au, from: form.du, to: form.au },
          {
            baselineFrom: 'début de la référence',
            baselineTo: 'fin de la référence',
            from: 'début du suivi',
            to: 'fin du suivi',
            meter: 'compteurs',
            model: 'modèle',
            station: 'station',
          },
        );
      } catch (e) {
        if (!isInputError(e)) throw e;
        error = e.problems.map((p) => `${p.where} : ${p.message}`).join(' ; ');
      }
    }
    let measured: SchoolMeasuredBody | null = null;
    let estimated: { saving: number; percent: number | null } | string | null = null;
    if (query) {
      if (!deps.measuredSavings) error = 'Les relevés de compteurs ne sont pas disponibles sur ce service.';
      else measured = await deps.measuredSavings(uai, query);
      if (measured?.ok) {
        try {
          const calendar = deps.calendars.forSchool(uai, {
            departement: school.departement,
            timezone: school.timezone,
          });
          const dates = savingsDates(query.from, query.to, school.timezone, { from: 'du', to: 'au' });
          const plans = [];
          for (const chunk of dateChunks(dates, MAX_PLAN_DAYS))
            plans.push((await deps.planFor(uai, chunk.date, chunk.days)).plan);
          const comfort = deps.zoneComfort?.(uai);
          const body = estimateSchoolSavings({
            devices,
            calendar,
            plans,
            dates,
            baseline: DEFAULT_BASELINE,
            outdoor: outdoorForSchool(calendar, undefined, 'station'),
            ...(comfort ? { zoneComfort: comfort } : {}),
          });
          estimated = { saving: body.totals.saving_kwh, percent: body.totals.saving_percent };
        } catch (e) {
          estimated = `Estimation indisponible : ${(e as Error).message}`;
        }
      }
    }
    const title = `Économies mesurées — ${school.name}`;
    return c.html(
      renderDocument(
        <Layout title={title} {...viewer}>
          <p>
            <a href={schoolHref(uai)}>Retour à l’établissement</a>
          </p>
          <h1>{title}</h1>
          <p>
            Méthode IPMVP option C (bâtiment entier) : un modèle de la consommation journalière des compteurs
            en fonction des degrés-jours de chauffage (base 18 °C), ajusté sur une période de référence avant
            le pilote, puis appliqué à la période de suivi. Détail : docs/savings.md.
          </p>
          <form method="get" action={`${DASHBOARD_BASE}/${uai}/economies-mesurees`}>
            <fieldset>
              <legend>Période de référence (avant le pilote)</legend>
              <label for="m-ref-du">Du</label>
              <input id="m-ref-du" name="reference_du" type="date" value={form.reference_du} required />
              <label for="m-ref-au">Au</label>
              <input id="m-ref-au" name="reference_au" type="date" value={form.reference_au} required />
            </fieldset>
            <fieldset>
              <legend>Période de suivi</legend>
              <label for="m-du">Du</label>
              <input id="m-du" name="du" type="date" value={form.du} required />
              <label for="m-au">Au</label>
              <input id="m-au" name="au" type="date" value={form.au} required />
            </fieldset>
            <p class="envoi">
              <button type="submit">Calculer</button>
            </p>
          </form>
          {error === null ? (
            ''
          ) : (
            <p class="erreur" role="alert">
              {error}
            </p>
          )}
          {measured && !measured.ok ? (
            <section id="donnees-manquantes" aria-labelledby="manquantes-titre">
              <h2 id="manquantes-titre">Données insuffisantes : aucune économie calculée</h2>
              <ul>
                {measured.missing.map((m) => (
                  <li data-manque={`${m.period}:${m.what}`}>
                    Période de {PERIODS[m.period]} : {WHAT[m.what]} manquants
                    {m.missing_days === undefined ? '' : ` (${m.missing_days} jours)`}.
                    {m.days && m.days.length > 0
                      ? ` Premiers jours : ${m.days
                          .slice(0, 5)
                          .map((d) => `${frDate(d.date)} (${REASONS[d.reason] ?? d.reason})`)
                          .join(', ')}.`
                      : ''}
                  </li>
                ))}
              </ul>
            </section>
          ) : (
            ''
          )}
          {measured?.ok ? (
            <section id="economies-mesurees" aria-labelledby="mesurees-titre">
              <h2 id="mesurees-titre">Économies mesurées et estimées</h2>
              <table>
                <caption>
                  Suivi du {frDate(measured.reporting.from)} au {frDate(measured.reporting.to)} (
                  {measured.reporting.days_used} jours avec données), compteurs {measured.meters.join(', ')}
                </caption>
                <tbody>
                  <tr data-ligne="mesuree">
                    <th scope="row">Économie mesurée</th>
                    <td class="nombre">
                      {kwhText(measured.savings.kwh)}
                      {measured.savings.percent === null ? '' : ` (${frNumber(measured.savings.percent)} %)`}
                    </td>
                  </tr>
                  {measured.savings.uncertainty.map((u) => (
                    <tr data-ligne={`incertitude-${u.confidence}`}>
                      <th scope="row">Incertitude à {u.confidence} %</th>
                      <td class="nombre">± {kwhText(u.kwh)}</td>
                    </tr>
                  ))}
                  <tr data-ligne="estimee">
                    <th scope="row">Économie estimée (chaleur, plan contre programme fixe)</th>
                    <td class="nombre">
                      {typeof estimated === 'string' || estimated === null
                        ? (estimated ?? '—')
                        : `${kwhText(estimated.saving)}${estimated.percent === null ? '' : ` (${frNumber(estimated.percent)} %)`}`}
                    </td>
                  </tr>
                </tbody>
              </table>
              <table>
                <caption>Modèle de référence</caption>
                <tbody>
                  <tr>
                    <th scope="row">Équation</th>
                    <td>{measured.model.formula}</td>
                  </tr>
                  <tr>
                    <th scope="row">R²</th>
                    <td class="nombre">{frNumber(measured.model.r2, 3)}</td>
                  </tr>
                  <tr>
                    <th scope="row">CV(RMSE)</th>
                    <td class="nombre">
                      {frNumber(measured.model.cv_rmse_percent)} % (au plus{' '}
                      {measured.model.ashrae14.cv_rmse_max_percent} %)
                    </td>
                  </tr>
                  <tr>
                    <th scope="row">NMBE</th>
                    <td class="nombre">{frNumber(measured.model.nmbe_percent, 4)} %</td>
                  </tr>
                  <tr data-ligne="ashrae">
                    <th scope="row">ASHRAE Guideline 14</th>
                    <td>{measured.model.ashrae14.meets ? 'critères respectés' : 'critères non respectés'}</td>
                  </tr>
                </tbody>
              </table>
              <details>
                <summary>Hypothèses</summary>
                <p>
                  La mesure couvre tous les usages des compteurs choisis ; l’estimation ne compte que la
                  chaleur des zones chauffées. Un écart entre les deux vient de l’inertie, des apports ou
                  d’autres usages.
                </p>
              </details>
            </section>
          ) : (
            ''
          )}
        </Layout>,
      ),
      asked && error !== null ? 400 : measured && !measured.ok ? 422 : 200,
    );
  });
  return app;
}
