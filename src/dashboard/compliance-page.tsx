/**
 * The compliance report as a printable French page (issue 21; docs/dashboard.md, "Rapport de
 * conformité"): `GET /tableau-de-bord/{uai}/conformite?from=YYYY-MM-DD&to=YYYY-MM-DD`, and the
 * same report as CSV with `&format=csv` (the bytes of `GET /api/compliance`). Managers, auditors and
 * admins; a school outside the caller's list is the dashboard's 404 page. Without dates, the last
 * full week (Monday to Sunday) before today in the school's time zone.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DateTime } from 'luxon';
import type { AuthEnv } from '../auth/middleware.js';
import { canAccessUai, hasRole } from '../auth/principal.js';
import { SortieError } from '../bridge/sortie-client.js';
import { complianceCsv } from '../compliance/compliance-csv.js';
import type { ComplianceReport, SituationRow } from '../compliance/compliance-report-schema.js';
import { isInputError } from '../domain/problems.js';
import { pathUai } from '../domain/uai.js';
import type { DashboardDeps } from './deps.js';
import { Layout, renderDocument } from './layout.js';
import { DASHBOARD_BASE, ErrorPage, schoolHref, type Viewer } from './pages.js';

/** What the page needs beyond the dashboard's deps: the report itself. */
export type ComplianceDeps = Pick<DashboardDeps, 'clock' | 'devices' | 'compliance'>;

const KIND_LABELS: Record<string, string> = {
  occupied: 'Occupation',
  preheat: 'Préchauffage / anticipation',
  'merged-gap': 'Intercours maintenu en confort',
  'short-gap': 'Inoccupation de moins de 24 h (nuits, midis)',
  'long-gap': 'Inoccupation de 24 à 48 h (week-end court)',
  holiday: 'Inoccupation de 48 h ou plus (week-end, vacances)',
  override: 'Dérogation manuelle',
  fallback: 'Semaine par défaut (sans emploi du temps)',
};
const MODE_LABELS: Record<string, string> = {
  comfort: 'confort',
  comfort_1: 'confort −1 °C',
  comfort_2: 'confort −2 °C',
  eco: 'réduit',
  frost: 'hors-gel',
  off: 'arrêt',
  on: 'marche',
};
const SITUATION_LABELS: Record<string, string> = {
  occupied: 'Occupé (préchauffage et dérogations compris)',
  unoccupied_under_24h: 'Inoccupé moins de 24 h',
  unoccupied_24h_to_48h: 'Inoccupé de 24 à 48 h',
  unoccupied_48h_or_more: 'Inoccupé 48 h ou plus',
};
const STATUS_LABELS: Record<SituationRow['status'], string> = {
  'within-cap': 'conforme',
  excepted: 'au-delà, sous exception approuvée',
  'above-cap': 'NON CONFORME',
};
const FUNCTION_LABELS: Record<string, string> = {
  heating: 'Chauffage',
  lighting: 'Éclairage',
  ventilation: 'Ventilation',
};

export function compliancePageRoutes(deps: ComplianceDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get(`${DASHBOARD_BASE}/:uai/conformite`, async (c) => {
    const principal = c.get('principal');
    const viewer: Viewer = {
      clientId: principal.clientId,
      canWrite: hasRole(principal, 'manager'),
      showVue: hasRole(principal, 'manager'),
    };
    const error = (status: ContentfulStatusCode, title: string, message: string) =>
      page(c, <ErrorPage viewer={viewer} title={title} message={message} />, status);
    if (!hasRole(principal, 'manager', 'auditor')) {
      return error(
        403,
        'Accès refusé',
        `Le rôle ${principal.role} ne donne pas accès au rapport de conformité.`,
      );
    }
    let uai: string;
    try {
      uai = pathUai(c.req.param('uai'));
    } catch (e) {
      if (!isInputError(e)) throw e;
      return error(400, 'Requête incorrecte', e.problems.map((p) => p.message).join(' ; '));
    }
    const devices = canAccessUai(principal, uai) ? deps.devices().get(uai) : undefined;
    if (!devices || !deps.compliance) {
      return error(
        404,
        'Établissement introuvable',
        `Aucun établissement ${uai} piloté dans votre périmètre.`,
      );
    }
    const { from, to } = defaultWeek(
      c.req.query('from'),
      c.req.query('to'),
      deps.clock.now(),
      devices.value.school.timezone,
    );
    let report: ComplianceReport | null;
    try {
      report = await deps.compliance.report(uai, from, to, { from: 'from', to: 'to' });
    } catch (e) {
      if (isInputError(e)) {
        return error(
          400,
          'Période incorrecte',
          e.problems.map((p) => `${p.where} : ${p.message}`).join(' ; '),
        );
      }
      if (e instanceof SortieError) {
        return error(
          503,
          'Occupation indisponible',
          `L’occupation de ${uai} ne peut pas être lue maintenant : ${e.message}`,
        );
      }
      throw e;
    }
    if (!report) {
      return error(
        404,
        'Établissement introuvable',
        `Aucun établissement ${uai} piloté dans votre périmètre.`,
      );
    }
    c.header('Cache-Control', 'private, no-store');
    if (c.req.query('format') === 'csv') {
      return c.body(complianceCsv(report), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="conformite-${uai}-${report.from}-${report.to}.csv"`,
      });
    }
    return c.html(renderDocument(<CompliancePage viewer={viewer} report={report} />));
  });
  return app;
}

function page(c: Context<AuthEnv>, node: unknown, status: ContentfulStatusCode): Response {
  c.header('Cache-Control', 'private, no-store');
  return c.html(renderDocument(node), status);
}

/** The dates asked for, else the last full week (Monday–Sunday) before today. */
function defaultWeek(
  from: string | undefined,
  to: string | undefined,
  now: number,
  timezone: string,
): { from: string | undefined; to: string | undefined } {
  if (from !== undefined || to !== undefined) return { from, to };
  const monday = DateTime.fromMillis(now, { zone: timezone }).startOf('week').minus({ weeks: 1 });
  return { from: monday.toISODate() ?? undefined, to: monday.plus({ days: 6 }).toISODate() ?? undefined };
}

/** `2026-11-30T07:00:00.000Z` as `lun. 30/11 08:00` in the school's time zone. */
function local(instant: string | null, timezone: string): string {
  if (instant === null) return '—';
  return DateTime.fromISO(instant, { zone: timezone }).setLocale('fr').toFormat('ccc dd/LL HH:mm');
}
const hours = (h: number | undefined) =>
  h === undefined ? '—' : h.toLocaleString('fr-FR', { maximumFractionDigits: 2 });
const celsius = (c: number | null) => (c === null ? '—' : `${c.toLocaleString('fr-FR')} °C`);

/**
 * What the zone's sensor measured in each legal situation, against the same caps: a temperature
 * above the cap while unoccupied is not by itself a breach (the cap bounds the heating; thermal
 * mass and free gains keep rooms warmer), hence the figures beside the setpoints, not a verdict.
 */
function MeasuredTable(props: {
  situations: NonNullable<ComplianceReport['zones'][number]['functions'][number]['situations']>;
  timezone: string;
  deviations: number;
}) {
  return (
    <table>
      <caption>
        Chauffage : températures mesurées et plafond légal (écarts de la passerelle sur la période :{' '}
        {props.deviations})
      </caption>
      <thead>
        <tr>
          <th scope="col">Situation</th>
          <th scope="col">Heures mesurées</th>
          <th scope="col">Température maximale</th>
          <th scope="col">Mesurée le</th>
          <th scope="col">Plafond</th>
          <th scope="col">Minutes au-delà du plafond</th>
          <th scope="col">Minutes au-delà du plafond et de la tolérance</th>
        </tr>
      </thead>
      <tbody>
        {props.situations.map((s) =>
          s.measured ? (
            <tr>
              <th scope="row">{SITUATION_LABELS[s.situation] ?? s.situation}</th>
              <td class="nombre">{hours(s.measured.measured_hours)}</td>
              <td class="nombre">{celsius(s.measured.max_measured_c)}</td>
              <td>{local(s.measured.max_measured_at, props.timezone)}</td>
              <td class="nombre">{celsius(s.cap_c)}</td>
              <td class="nombre">{hours(s.measured.minutes_above_cap)}</td>
              <td
                class={
                  s.situation === 'occupied' && s.measured.minutes_above_cap_tolerance > 0
                    ? 'nombre non-conforme'
                    : 'nombre'
                }
              >
                {hours(s.measured.minutes_above_cap_tolerance)}
              </td>
            </tr>
          ) : null,
        )}
      </tbody>
    </table>
  );
}

export function CompliancePage(props: { viewer: Viewer; report: ComplianceReport }) {
  const { viewer, report: r } = props;
  const tz = r.timezone;
  const title = `Rapport de conformité — ${r.name}`;
  const csvHref = `${DASHBOARD_BASE}/${r.uai}/conformite?${new URLSearchParams({ from: r.from, to: r.to, format: 'csv' })}`;
  return (
    <Layout title={title} clientId={viewer.clientId} showVue={viewer.showVue}>
      <div class="rapport">
        <h1>{title}</h1>
        <p>
          Établissement {r.uai}, du {r.from} au {r.to} inclus ({tz}). Établi le {local(r.generated_at, tz)}.
        </p>
        <form class="periode" method="get" action={`${DASHBOARD_BASE}/${r.uai}/conformite`}>
          <label for="from">Du</label>
          <input id="from" name="from" type="date" value={r.from} required />
          <label for="to">Au (inclus, 93 jours au plus)</label>
          <input id="to" name="to" type="date" value={r.to} required />
          <div class="envoi">
            <button type="submit">Afficher</button>
          </div>
        </form>
        <p class="actions">
          <a href={csvHref}>Télécharger en CSV</a> · <a href={schoolHref(r.uai)}>Retour à l’établissement</a>{' '}
          · Pour imprimer : menu Imprimer du navigateur.
        </p>

        <section aria-labelledby="synthese">
          <h2 id="synthese">Synthèse</h2>
          <p class={r.summary.within_caps ? 'ok' : 'non-conforme'}>
            {r.summary.within_caps
              ? 'Aucune consigne au-delà des plafonds légaux sans exception approuvée.'
              : `${r.summary.above_cap_situations} situation(s) au-delà d’un plafond légal sans exception approuvée.`}
          </p>
          <ul>
            <li>
              Dérogations manuelles : {r.summary.overrides} (refusées : {r.summary.refused_overrides})
            </li>
            <li>Exceptions appliquées : {r.summary.exceptions}</li>
            <li>
              Écarts des passerelles : {r.summary.gateway_deviations}
              {r.summary.pending_revs > 0
                ? ` (${r.summary.pending_revs} consigne(s) encore dans le délai)`
                : ''}
            </li>
          </ul>
          {r.summary.measured ? (
            <p>
              Températures mesurées : {r.summary.measured.samples.toLocaleString('fr-FR')} relevé(s) valide(s)
              {r.summary.measured.flagged > 0 ? ` (${r.summary.measured.flagged} écarté(s))` : ''} ;{' '}
              {hours(r.summary.measured.occupied_minutes_above_cap_tolerance)} min en occupation au-delà du
              plafond plus la tolérance
              {r.summary.measured.zones_above_cap_tolerance.length > 0
                ? ` (zones : ${r.summary.measured.zones_above_cap_tolerance.join(', ')})`
                : ''}
              . Relevés conservés depuis le {local(r.summary.measured.retained_since, tz)}.
            </p>
          ) : null}
          <p class="aide">{r.basis}</p>
          <p class="aide">
            Plans :{' '}
            {r.plans
              .map(
                (p) =>
                  `${p.hash.slice(0, 12)} (règles ${p.rules_version}, emploi du temps ${p.timetable_version ?? 'aucun : semaine par défaut'})`,
              )
              .join(' ; ')}
          </p>
        </section>

        {r.zones.map((zone) => (
          <section aria-labelledby={`zone-${zone.zone}`}>
            <h2 id={`zone-${zone.zone}`}>
              Zone {zone.name ?? zone.zone} ({zone.zone})
            </h2>
            {zone.functions.map((f) => (
              <>
                <table>
                  <caption>{FUNCTION_LABELS[f.function] ?? f.function} : heures par régime</caption>
                  <thead>
                    <tr>
                      <th scope="col">Régime</th>
                      <th scope="col">Heures</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(f.hours_by_kind).map(([kind, h]) => (
                      <tr>
                        <th scope="row">{KIND_LABELS[kind] ?? kind}</th>
                        <td class="nombre">{hours(h)}</td>
                      </tr>
                    ))}
                    {Object.entries(f.hours_by_mode).map(([mode, h]) => (
                      <tr>
                        <th scope="row">Mode {MODE_LABELS[mode] ?? mode}</th>
                        <td class="nombre">{hours(h)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {f.situations ? (
                  <table>
                    <caption>Chauffage : consigne maximale demandée et plafond légal</caption>
                    <thead>
                      <tr>
                        <th scope="col">Situation</th>
                        <th scope="col">Heures</th>
                        <th scope="col">Consigne maximale</th>
                        <th scope="col">Plafond</th>
                        <th scope="col">Texte</th>
                        <th scope="col">Constat</th>
                      </tr>
                    </thead>
                    <tbody>
                      {f.situations.map((s) => (
                        <tr>
                          <th scope="row">{SITUATION_LABELS[s.situation] ?? s.situation}</th>
                          <td class="nombre">{hours(s.hours)}</td>
                          <td class="nombre">{celsius(s.max_setpoint_c)}</td>
                          <td class="nombre">{celsius(s.cap_c)}</td>
                          <td>{s.cap_basis}</td>
                          <td class={s.status === 'above-cap' ? 'non-conforme' : ''}>
                            {STATUS_LABELS[s.status]}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
                {f.situations?.some((s) => s.measured) ? (
                  <MeasuredTable
                    situations={f.situations}
                    timezone={tz}
                    deviations={
                      r.gateway_deviations.filter((d) => d.zone === zone.zone && d.function === f.function)
                        .length
                    }
                  />
                ) : null}
              </>
            ))}
          </section>
        ))}

        <section aria-labelledby="derogations">
          <h2 id="derogations">Dérogations manuelles</h2>
          {r.overrides.length === 0 ? (
            <p>Aucune dérogation sur la période.</p>
          ) : (
            <table>
              <caption>Dérogations, avec leur auteur</caption>
              <thead>
                <tr>
                  <th scope="col">Zone</th>
                  <th scope="col">Fonction</th>
                  <th scope="col">Mode et consigne</th>
                  <th scope="col">Début</th>
                  <th scope="col">Fin</th>
                  <th scope="col">Heures sur la période</th>
                  <th scope="col">Auteur</th>
                  <th scope="col">Motif</th>
                  <th scope="col">Annulation</th>
                </tr>
              </thead>
              <tbody>
                {r.overrides.map((o) => (
                  <tr>
                    <td>{o.zone}</td>
                    <td>{FUNCTION_LABELS[o.function] ?? o.function}</td>
                    <td>
                      {MODE_LABELS[o.mode] ?? o.mode}
                      {o.setpoint_c === null ? '' : `, ${celsius(o.setpoint_c)}`}
                    </td>
                    <td>{local(o.from, tz)}</td>
                    <td>{local(o.until, tz)}</td>
                    <td class="nombre">{hours(o.hours_in_period)}</td>
                    <td>{o.author}</td>
                    <td>{o.reason}</td>
                    <td>
                      {o.cancelled_at === null
                        ? '—'
                        : `${local(o.cancelled_at, tz)} par ${o.cancelled_by ?? '?'}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {r.refused_overrides.length > 0 ? (
            <table>
              <caption>Dérogations refusées</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Zone</th>
                  <th scope="col">Demandeur</th>
                  <th scope="col">Motif du refus</th>
                </tr>
              </thead>
              <tbody>
                {r.refused_overrides.map((o) => (
                  <tr>
                    <td>{local(o.at, tz)}</td>
                    <td>{o.zone ?? '—'}</td>
                    <td>{o.actor}</td>
                    <td>{o.refusal ?? o.code ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>

        <section aria-labelledby="exceptions">
          <h2 id="exceptions">Exceptions aux plafonds appliquées</h2>
          {r.exceptions.length === 0 ? (
            <p>Aucune exception appliquée sur la période.</p>
          ) : (
            <table>
              <caption>Exceptions, avec leur approbation</caption>
              <thead>
                <tr>
                  <th scope="col">Zone</th>
                  <th scope="col">Règle</th>
                  <th scope="col">Consigne maximale</th>
                  <th scope="col">Heures</th>
                  <th scope="col">Justification</th>
                  <th scope="col">Fondement</th>
                  <th scope="col">Approuvée par</th>
                  <th scope="col">Le</th>
                  <th scope="col">Référence</th>
                </tr>
              </thead>
              <tbody>
                {r.exceptions.map((e) => (
                  <tr>
                    <td>{e.zone}</td>
                    <td>{e.rule}</td>
                    <td class="nombre">{celsius(e.max_setpoint_c)}</td>
                    <td class="nombre">{hours(e.hours)}</td>
                    <td>{e.justification}</td>
                    <td>{e.basis}</td>
                    <td>{e.approved_by}</td>
                    <td>{e.approved_on}</td>
                    <td>{e.reference}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section aria-labelledby="ecarts">
          <h2 id="ecarts">Écarts des passerelles</h2>
          <p class="aide">
            Une consigne non appliquée dans les 5 minutes, ou appliquée avec un autre mode ou une autre
            température, d’après les accusés de réception du journal d’audit.
          </p>
          {r.gateway_deviations.length === 0 ? (
            <p>Aucun écart constaté.</p>
          ) : (
            <table>
              <caption>Consignes non suivies</caption>
              <thead>
                <tr>
                  <th scope="col">Zone</th>
                  <th scope="col">Fonction</th>
                  <th scope="col">Révision</th>
                  <th scope="col">Consigne envoyée</th>
                  <th scope="col">Envoyée le</th>
                  <th scope="col">Constat</th>
                  <th scope="col">État rapporté</th>
                  <th scope="col">Accusé le</th>
                </tr>
              </thead>
              <tbody>
                {r.gateway_deviations.map((d) => (
                  <tr>
                    <td>{d.zone}</td>
                    <td>{FUNCTION_LABELS[d.function] ?? d.function}</td>
                    <td class="nombre">{d.rev}</td>
                    <td>
                      {MODE_LABELS[d.desired_mode ?? ''] ?? d.desired_mode ?? '—'}
                      {d.desired_setpoint_c === null ? '' : `, ${celsius(d.desired_setpoint_c)}`}
                    </td>
                    <td>{local(d.published_at, tz)}</td>
                    <td class="non-conforme">
                      {d.kind === 'not-applied' ? 'non appliquée' : 'appliquée autrement'}
                    </td>
                    <td>
                      {d.reported_rev === null
                        ? 'aucun rapport'
                        : `rév. ${d.reported_rev}, ${MODE_LABELS[d.reported_mode ?? ''] ?? d.reported_mode ?? '—'}${d.reported_setpoint_c === null ? '' : `, ${celsius(d.reported_setpoint_c)}`}`}
                    </td>
                    <td>{local(d.acknowledged_at, tz)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </Layout>
  );
}
