/**
 * The dashboard's pages (hono/jsx): the schools of the caller's list with their alerts, and one
 * school's page (alerts, zones now, a day and a week per zone, overrides with the form to create
 * and cancel one, the week's savings). Every chart has a text alternative on the page; every
 * input a label; errors sit next to their field and are summed up at the top of the form.
 */
import { raw } from 'hono/html';
import type { OverrideView } from '../bridge/overrides-service.js';
import { addDays } from '../domain/dates.js';
import type { SchoolAlert } from './alerts.js';
import { ComfortSection } from './comfort-section.js';
import type { PreheatView, SchoolSummary, SchoolView, ZoneView } from './dashboard-state.js';
import {
  formatCelsius,
  formatNumber,
  functionLabel,
  localDateTime,
  localTime,
  longDate,
  modeLabel,
  shortDay,
} from './labels.js';
import { Layout } from './layout.js';
import {
  END_CHOICES,
  OVERRIDE_MODES,
  type OverrideField,
  type OverrideFormErrors,
  type OverrideFormValues,
} from './override-form.js';
import {
  ALERT_KIND_LABELS,
  ALERT_KINDS,
  GATEWAY_STATE_LABELS,
  GATEWAY_STATES,
  type OverviewQuery,
  type OverviewView,
  overviewHref,
  SORT_LABELS,
  SORTS,
} from './overview.js';
import { kwhText, savingsSvg } from './savings-svg.js';
import { timelineSummary, timelineSvg } from './timeline-svg.js';

export const DASHBOARD_BASE = '/tableau-de-bord';

export interface Viewer {
  clientId: string;
  canWrite: boolean;
  showVue: boolean;
}

export function schoolHref(uai: string, date?: string, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...(date === undefined ? {} : { jour: date }), ...extra });
  const query = params.toString();
  return `${DASHBOARD_BASE}/${uai}${query === '' ? '' : `?${query}`}`;
}

export function OverviewPage(props: { viewer: Viewer; view: OverviewView }) {
  const { viewer, view } = props;
  const { query } = view;
  const href = (change: Partial<OverviewQuery>) => overviewHref(DASHBOARD_BASE, query, change);
  const filtered =
    query.q !== undefined ||
    query.departement !== undefined ||
    query.alerte !== undefined ||
    query.passerelles !== undefined;
  return (
    <Layout title="Tableau de bord" clientId={viewer.clientId} showVue={viewer.showVue}>
      <h1>Tableau de bord</h1>
      {view.total === 0 ? (
        <p>Aucun établissement piloté dans votre périmètre.</p>
      ) : (
        <>
          <p>
            {view.total} établissement(s) piloté(s) dans votre périmètre, dont {view.withAlerts} avec des
            alertes.
          </p>
          <form method="get" action={DASHBOARD_BASE} class="filtres" aria-label="Filtrer les établissements">
            <div>
              <label for="f-q">Nom ou UAI</label>
              <input id="f-q" name="q" type="search" value={query.q ?? ''} maxlength={100} />
            </div>
            <div>
              <label for="f-departement">Département</label>
              <select id="f-departement" name="departement">
                <option value="">Tous</option>
                {view.departements.map((d) => (
                  <option value={d} selected={query.departement === d}>
                    {d}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="f-alerte">Alerte</label>
              <select id="f-alerte" name="alerte">
                <option value="">Toutes</option>
                {ALERT_KINDS.map((kind) => (
                  <option value={kind} selected={query.alerte === kind}>
                    {ALERT_KIND_LABELS[kind]}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="f-passerelles">Passerelles</label>
              <select id="f-passerelles" name="passerelles">
                <option value="">Tous états</option>
                {GATEWAY_STATES.map((state) => (
                  <option value={state} selected={query.passerelles === state}>
                    {GATEWAY_STATE_LABELS[state]}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="f-tri">Trier par</label>
              <select id="f-tri" name="tri">
                {SORTS.map((sort) => (
                  <option value={sort} selected={(query.tri ?? 'uai') === sort}>
                    {SORT_LABELS[sort]}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Afficher</button>
            {filtered ? (
              <a
                href={href({
                  q: undefined,
                  departement: undefined,
                  alerte: undefined,
                  passerelles: undefined,
                  page: undefined,
                })}
              >
                Effacer les filtres
              </a>
            ) : null}
          </form>
          <section aria-labelledby="comptes-titre">
            <h2 id="comptes-titre">Alertes par type</h2>
            <table id="comptes">
              <caption>
                Établissements ayant chaque type d’alerte
                {query.q !== undefined || query.departement !== undefined || query.passerelles !== undefined
                  ? ' (parmi ceux que la recherche, le département et l’état des passerelles retiennent)'
                  : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Type d’alerte</th>
                  <th scope="col">Établissements</th>
                </tr>
              </thead>
              <tbody>
                {view.counts.map(({ kind, schools }) => (
                  <tr data-compte={kind}>
                    <th scope="row">
                      {schools === 0 || query.alerte === kind ? (
                        ALERT_KIND_LABELS[kind]
                      ) : (
                        <a href={href({ alerte: kind, page: undefined })}>{ALERT_KIND_LABELS[kind]}</a>
                      )}
                    </th>
                    <td class="nombre">{schools}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="liste-titre">
            <h2 id="liste-titre">Établissements</h2>
            <p role="status" id="resultat">
              {view.matching === 0
                ? 'Aucun établissement ne correspond à ces critères.'
                : `${view.matching} établissement(s) correspondant(s), page ${view.page} sur ${view.pages}.`}
            </p>
            {view.matching === 0 ? null : (
              <>
                <table id="etablissements">
                  <caption>
                    Établissements et alertes, triés par {SORT_LABELS[query.tri ?? 'uai'].toLowerCase()}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Établissement</th>
                      <th scope="col">UAI</th>
                      <th scope="col">Département</th>
                      <th scope="col">Passerelles</th>
                      <th scope="col">Salles hors zone</th>
                      <th scope="col">Zones à salles disparues</th>
                      <th scope="col">Alertes</th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.rows.map((s) => (
                      <tr data-uai={s.uai}>
                        <th scope="row">
                          <a href={schoolHref(s.uai)}>{s.name}</a>
                        </th>
                        <td>{s.uai}</td>
                        <td>{s.departement}</td>
                        <td>{GATEWAY_STATE_LABELS[s.gateways]}</td>
                        <td class="nombre">
                          {s.unzonedRooms === null ? (
                            '—'
                          ) : (
                            <RoomsLink
                              school={s}
                              count={s.unzonedRooms}
                              label={`${s.unzonedRooms} salle(s) hors zone à ${s.name}`}
                            />
                          )}
                        </td>
                        <td class="nombre">
                          <RoomsLink
                            school={s}
                            count={s.staleZones}
                            label={`${s.staleZones} zone(s) citant des salles disparues à ${s.name}`}
                          />
                        </td>
                        <td>
                          <AlertList alerts={s.alerts} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Paging view={view} href={href} />
              </>
            )}
          </section>
        </>
      )}
    </Layout>
  );
}

/** A non-zero count links to the school's "Salles et zones" page, where the rooms are listed. */
function RoomsLink(props: { school: SchoolSummary; count: number; label: string }) {
  if (props.count === 0) return <>0</>;
  return (
    <a
      href={`${DASHBOARD_BASE}/${props.school.uai}/salles`}
      aria-label={`${props.label} : voir les salles et zones`}
    >
      {props.count}
    </a>
  );
}

function Paging(props: { view: OverviewView; href: (change: Partial<OverviewQuery>) => string }) {
  const { view, href } = props;
  if (view.pages <= 1) return null;
  const pages = Array.from({ length: view.pages }, (_, i) => i + 1);
  return (
    <nav class="pages" aria-label="Pages des établissements">
      <ul>
        <li>
          {view.page > 1 ? (
            <a href={href({ page: view.page - 1 })} rel="prev">
              ← Page précédente
            </a>
          ) : null}
        </li>
        {pages.map((n) => (
          <li>
            {n === view.page ? (
              <a href={href({ page: n })} aria-current="page" aria-label={`Page ${n}, page affichée`}>
                {n}
              </a>
            ) : (
              <a href={href({ page: n })} aria-label={`Page ${n}`}>
                {n}
              </a>
            )}
          </li>
        ))}
        <li>
          {view.page < view.pages ? (
            <a href={href({ page: view.page + 1 })} rel="next">
              Page suivante →
            </a>
          ) : null}
        </li>
      </ul>
    </nav>
  );
}

function AlertList(props: { alerts: SchoolAlert[] }) {
  if (props.alerts.length === 0) return <p>Aucune alerte.</p>;
  return (
    <ul class="alertes">
      {props.alerts.map((a) => (
        <li data-alerte={a.code}>{a.message}</li>
      ))}
    </ul>
  );
}

const FLASH: Record<string, string> = {
  'derogation-creee': 'Dérogation créée : le nouvel état est envoyé à la passerelle.',
  'derogation-annulee': 'Dérogation annulée : la zone reprend le plan.',
  'derogation-deja-terminee': 'Cette dérogation était déjà terminée : rien à annuler.',
};
export const FLASH_CODES = Object.keys(FLASH) as [string, ...string[]];

export interface SchoolPageProps {
  viewer: Viewer;
  view: SchoolView;
  flash?: string | undefined;
  form: OverrideFormValues;
  errors: OverrideFormErrors;
}

export function SchoolPage(props: SchoolPageProps) {
  const { view, viewer } = props;
  const title = `${view.name} (${view.uai})`;
  return (
    <Layout title={`Tableau de bord : ${title}`} clientId={viewer.clientId} showVue={viewer.showVue}>
      <p>
        <a href={DASHBOARD_BASE}>← Tous les établissements</a> ·{' '}
        <a href={`${DASHBOARD_BASE}/${encodeURIComponent(view.uai)}/salles`}>Salles et zones</a>
      </p>
      <h1>{title}</h1>
      <p>
        Heures locales ({view.timezone}). Données au {localDateTime(view.now, view.timezone)}.
        {view.fallback ? ' Plan établi sur la semaine type des règles (aucun emploi du temps reçu).' : ''}
      </p>
      {props.flash && FLASH[props.flash] ? (
        <p class="ok" role="status">
          {FLASH[props.flash]}
        </p>
      ) : null}
      <section class="alertes" aria-labelledby="alertes-titre">
        <h2 id="alertes-titre">Alertes</h2>
        <AlertList alerts={view.alerts} />
      </section>
      <p>
        <a href={`${DASHBOARD_BASE}/${view.uai}/evenements`}>Évènements et réservations de la semaine</a>
      </p>
      <DayNavigation view={view} />
      {view.planError ? (
        <p class="erreur" role="alert">
          {view.planError}
        </p>
      ) : (
        <>
          <ZonesTable view={view} />
          <Timelines view={view} />
          <Preheats view={view} />
        </>
      )}
      <Overrides {...props} />
      <Savings view={view} />
      <section id="conformite" aria-labelledby="conformite-titre">
        <h2 id="conformite-titre">Conformité</h2>
        <p>
          <a
            href={`${DASHBOARD_BASE}/${view.uai}/conformite?from=${view.monday}&to=${addDays(view.monday, 6)}`}
          >
            Rapport de conformité de la semaine du {longDate(view.monday)}
          </a>{' '}
          (heures par régime, consignes maximales face aux plafonds légaux, dérogations, exceptions, écarts
          des passerelles ; imprimable).
        </p>
      </section>
      {view.comfort ? (
        <ComfortSection body={view.comfort} heading="Confort mesuré de la semaine" otherPeriodLink />
      ) : null}
    </Layout>
  );
}

function DayNavigation(props: { view: SchoolView }) {
  const { view } = props;
  return (
    <nav class="jours" aria-label="Jour affiché">
      <a href={schoolHref(view.uai, addDays(view.date, -1))} rel="prev">
        ← Jour précédent
      </a>
      <a href={schoolHref(view.uai, view.today)}>Aujourd’hui</a>
      <a href={schoolHref(view.uai, addDays(view.date, 1))} rel="next">
        Jour suivant →
      </a>
      <form method="get" action={`${DASHBOARD_BASE}/${view.uai}`}>
        <div>
          <label for="jour">Jour affiché</label>
          <input id="jour" name="jour" type="date" value={view.date} required />
        </div>
        <button type="submit" class="secondaire">
          Afficher
        </button>
      </form>
    </nav>
  );
}

function ZonesTable(props: { view: SchoolView }) {
  const { view } = props;
  return (
    <section aria-labelledby="zones-titre">
      <h2 id="zones-titre">Zones</h2>
      <table id="zones">
        <caption>Chauffage de chaque zone à {localTime(view.now, view.timezone)}</caption>
        <thead>
          <tr>
            <th scope="col">Zone</th>
            <th scope="col">Mode en cours</th>
            <th scope="col">Consigne</th>
            <th scope="col">Jusqu’à</th>
            <th scope="col">Température mesurée</th>
            <th scope="col">Révision appliquée</th>
          </tr>
        </thead>
        <tbody>
          {view.zones.map((zone) => (
            <ZoneRow zone={zone} timezone={view.timezone} />
          ))}
        </tbody>
      </table>
      <p class="aide">
        Mode, consigne et fin : l’état demandé par le plan (le message « desired »). Température et révision :
        le dernier rapport de la passerelle.
      </p>
    </section>
  );
}

function ZoneRow(props: { zone: ZoneView; timezone: string }) {
  const { zone, timezone } = props;
  const r = zone.reported;
  const setpoint = zone.current?.setpoint_c;
  return (
    <tr data-zone={zone.id}>
      <th scope="row">{zone.name}</th>
      <td>{zone.current ? modeLabel(zone.current.mode) : 'Pas de chauffage'}</td>
      <td class="nombre">{setpoint === undefined ? '—' : formatCelsius(setpoint)}</td>
      <td>{zone.current ? localDateTime(zone.current.until, timezone) : '—'}</td>
      <td class="nombre">{r?.measured_c == null ? '—' : formatCelsius(r.measured_c)}</td>
      <td class="nombre">
        {r === null
          ? '—'
          : `${r.applied_rev ?? 'aucune'} (envoyée : ${r.latest_rev ?? '—'})${r.lagging ? ' — non acquittée' : ''}`}
      </td>
    </tr>
  );
}

function Timelines(props: { view: SchoolView }) {
  const { view } = props;
  return (
    <section aria-labelledby="frises-titre">
      <h2 id="frises-titre">Occupation et chauffage</h2>
      <p>
        Jour du {longDate(view.date)} et semaine du {longDate(view.monday)}. En haut l’occupation des salles
        de la zone, en bas le mode de chauffage du plan (dérogations comprises).
      </p>
      {view.zones.map((zone) => {
        const day = timelineSummary(zone.day);
        const week = timelineSummary(zone.week);
        return (
          <div class="frise-zone" id={`frises-${zone.id}`}>
            <h3>{zone.name}</h3>
            {raw(timelineSvg(zone.day))}
            {raw(timelineSvg(zone.week))}
            <details>
              <summary>Version texte ({zone.name})</summary>
              <p>
                <strong>Jour :</strong> {day.occupancy} {day.heating} {day.temperature ?? ''}
              </p>
              <p>
                <strong>Semaine :</strong> {week.occupancy} {week.heating} {week.temperature ?? ''}
              </p>
            </details>
          </div>
        );
      })}
    </section>
  );
}

const FALLBACK_LABELS: Record<string, string> = {
  'no-snapshot': 'aucun apprentissage',
  'too-few-starts': 'trop peu de relances apprises',
  'stale-telemetry': 'mesures de plus de 24 h',
  'flagged-sensor': 'capteur signalé',
  override: 'dérogation en vigueur',
};

/** `optimisé (appris)`, or the fixed preheat and why it applies. */
function preheatRule(p: PreheatView): string {
  if (p.optimum?.status === 'learned') return 'Optimisé (appris)';
  const fallback = p.optimum?.fallback;
  return fallback ? `Fixe : ${FALLBACK_LABELS[fallback] ?? fallback}` : 'Fixe';
}

/**
 * The week's preheats as a small line (0 to 180 min, the rules' cap, bottom to top). Decorative:
 * the same figures are written next to it, so it is hidden from assistive technologies.
 */
export function preheatSparkline(preheats: readonly PreheatView[]): string {
  if (preheats.length < 2) return '';
  const width = 120;
  const height = 24;
  const step = width / (preheats.length - 1);
  const points = preheats
    .map((p, i) => {
      const y = height - 2 - (Math.min(p.minutes, 180) / 180) * (height - 4);
      return `${Math.round(i * step * 10) / 10},${Math.round(y * 10) / 10}`;
    })
    .join(' ');
  return (
    `<svg class="etincelle" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-hidden="true" focusable="false">` +
    `<polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`
  );
}

/**
 * Optimum start (issue 17, docs/optimum-start.md): per heated zone, the preheat of the next
 * occupancy start and what it was learned from, and the week's preheats as the plan has them now.
 */
function Preheats(props: { view: SchoolView }) {
  const { view } = props;
  const zones = view.zones.filter((z) => z.functions.includes('heating'));
  if (zones.length === 0) return null;
  return (
    <section id="prechauffage" aria-labelledby="prechauffage-titre">
      <h2 id="prechauffage-titre">Préchauffage optimisé</h2>
      <table id="prechauffages">
        <caption>Préchauffage de la prochaine occupation de chaque zone</caption>
        <thead>
          <tr>
            <th scope="col">Zone</th>
            <th scope="col">Prochaine occupation</th>
            <th scope="col">Préchauffage</th>
            <th scope="col">Règle</th>
            <th scope="col">Relances apprises</th>
            <th scope="col">Montée en température / constante de temps</th>
            <th scope="col">Préchauffages de la semaine</th>
          </tr>
        </thead>
        <tbody>
          {zones.map((zone) => {
            const next = zone.preheats.find((p) => p.start > view.now);
            const o = next?.optimum;
            return (
              <tr data-prechauffage={zone.id}>
                <th scope="row">{zone.name}</th>
                <td>{next ? localDateTime(next.start, view.timezone) : '—'}</td>
                <td class="nombre">{next ? `${formatNumber(next.minutes, 0)} min` : '—'}</td>
                <td>{next ? preheatRule(next) : '—'}</td>
                <td class="nombre">{o ? String(o.starts) : '—'}</td>
                <td class="nombre">
                  {o?.heat_gain_k_per_h !== undefined && o.time_constant_h !== undefined
                    ? `${formatNumber(o.heat_gain_k_per_h, 2)} K/h / ${formatNumber(o.time_constant_h, 1)} h`
                    : '—'}
                </td>
                <td>
                  {raw(preheatSparkline(zone.preheats))}
                  {zone.preheats.length === 0
                    ? 'Aucun'
                    : zone.preheats
                        .map(
                          (p) =>
                            `${shortDay(p.start, view.timezone)} ${localTime(p.start, view.timezone)} : ${formatNumber(p.minutes, 0)} min`,
                        )
                        .join(' ; ')}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="aide">
        Préchauffage : minutes de confort avant le début de l’occupation. Optimisé : la durée que la montée en
        température apprise de la zone demande (au plus 3 h) ; fixe : la durée des règles, avec la raison. Les
        préchauffages de la semaine sont ceux du plan calculé maintenant, avec l’apprentissage actuel.
      </p>
    </section>
  );
}

function Overrides(props: SchoolPageProps) {
  const { view, viewer } = props;
  const open = view.overrides.filter((o) => o.status === 'active' || o.status === 'scheduled');
  const ended = view.overrides.filter((o) => o.status === 'expired' || o.status === 'cancelled').slice(0, 10);
  return (
    <section id="derogations" aria-labelledby="derogations-titre">
      <h2 id="derogations-titre">Dérogations</h2>
      {open.length === 0 ? (
        <p>Aucune dérogation en cours ou à venir.</p>
      ) : (
        <OverrideTable caption="En cours et à venir" overrides={open} view={view} cancel={viewer.canWrite} />
      )}
      {ended.length === 0 ? null : (
        <OverrideTable caption="Terminées (10 dernières)" overrides={ended} view={view} cancel={false} />
      )}
      {viewer.canWrite ? (
        <OverrideForm {...props} />
      ) : (
        <p>Lecture seule : votre rôle ne permet pas de créer ni d’annuler une dérogation.</p>
      )}
    </section>
  );
}

const STATUS_LABELS: Record<OverrideView['status'], string> = {
  active: 'En cours',
  scheduled: 'À venir',
  expired: 'Expirée',
  cancelled: 'Annulée',
};

function OverrideTable(props: {
  caption: string;
  overrides: OverrideView[];
  view: SchoolView;
  cancel: boolean;
}) {
  const { view } = props;
  const zoneName = (id: string) => view.zones.find((z) => z.id === id)?.name ?? id;
  const at = (iso: string) => localDateTime(Date.parse(iso), view.timezone);
  return (
    <table class="derogations">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Zone</th>
          <th scope="col">Fonction</th>
          <th scope="col">Mode</th>
          <th scope="col">Consigne</th>
          <th scope="col">Début</th>
          <th scope="col">Fin</th>
          <th scope="col">Auteur</th>
          <th scope="col">Motif</th>
          <th scope="col">Statut</th>
          {props.cancel ? <th scope="col">Action</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.overrides.map((o) => (
          <tr data-derogation={o.id}>
            <th scope="row">{zoneName(o.zone)}</th>
            <td>{functionLabel(o.function)}</td>
            <td>{modeLabel(o.mode)}</td>
            <td class="nombre">{o.setpoint_c === undefined ? '—' : formatCelsius(o.setpoint_c)}</td>
            <td>{at(o.from)}</td>
            <td>{at(o.until)}</td>
            <td>{o.cancelled_by ? `${o.author} (annulée par ${o.cancelled_by})` : o.author}</td>
            <td>{o.reason}</td>
            <td>{STATUS_LABELS[o.status]}</td>
            {props.cancel ? (
              <td>
                <form method="post" action={`${DASHBOARD_BASE}/${view.uai}/derogations/${o.id}/annulation`}>
                  <input type="hidden" name="jour" value={view.date} />
                  <button
                    type="submit"
                    class="secondaire"
                    aria-label={`Annuler la dérogation de ${zoneName(o.zone)}`}
                  >
                    Annuler
                  </button>
                </form>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const FIELD_LABELS: Record<OverrideField, string> = {
  zone: 'Zone',
  fonction: 'Fonction',
  mode: 'Mode',
  consigne: 'Consigne (°C, facultative)',
  fin: 'Fin de la dérogation',
  duree_heures: 'Durée (heures)',
  jusqua: 'Jusqu’au (heure locale)',
  motif: 'Motif',
};

const END_LABELS: Record<(typeof END_CHOICES)[number], string> = {
  duree: 'Après une durée',
  jusqua: 'À une date et heure',
  'prochain-changement': 'Au prochain changement du plan',
};

function OverrideForm(props: SchoolPageProps) {
  const { view, form, errors } = props;
  const failed = Object.entries(errors) as Array<[OverrideField, string]>;
  const fieldId = (f: OverrideField) => (f === 'fin' ? 'f-fin-duree' : `f-${f}`);
  const invalid = (f: OverrideField) =>
    errors[f] === undefined ? {} : { 'aria-invalid': 'true', 'aria-describedby': `f-${f}-erreur` };
  const error = (f: OverrideField) =>
    errors[f] === undefined ? null : (
      <p class="erreur" id={`f-${f}-erreur`}>
        {errors[f]}
      </p>
    );
  return (
    <form
      method="post"
      action={`${DASHBOARD_BASE}/${view.uai}/derogations`}
      id="nouvelle-derogation"
      novalidate
    >
      <h3>Nouvelle dérogation</h3>
      {failed.length === 0 ? null : (
        <div class="resume-erreurs" role="alert">
          <p class="erreur">La dérogation n’a pas été créée :</p>
          <ul>
            {failed.map(([field, message]) => (
              <li>
                <a href={`#${fieldId(field)}`}>
                  {FIELD_LABELS[field]} : {message}
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}
      <input type="hidden" name="jour" value={view.date} />
      <label for="f-zone">{FIELD_LABELS.zone}</label>
      <select id="f-zone" name="zone" required {...invalid('zone')}>
        <option value="" selected={form.zone === ''}>
          — choisir —
        </option>
        {view.zones.map((z) => (
          <option value={z.id} selected={form.zone === z.id}>
            {z.name}
          </option>
        ))}
      </select>
      {error('zone')}
      <label for="f-fonction">{FIELD_LABELS.fonction}</label>
      <select id="f-fonction" name="fonction" {...invalid('fonction')}>
        {(['heating', 'lighting', 'ventilation'] as const).map((fn) => (
          <option value={fn} selected={form.fonction === fn}>
            {functionLabel(fn)}
          </option>
        ))}
      </select>
      {error('fonction')}
      <label for="f-mode">{FIELD_LABELS.mode}</label>
      <select id="f-mode" name="mode" {...invalid('mode')}>
        {OVERRIDE_MODES.map((mode) => (
          <option value={mode} selected={form.mode === mode}>
            {modeLabel(mode)}
          </option>
        ))}
      </select>
      {error('mode')}
      <label for="f-consigne">{FIELD_LABELS.consigne}</label>
      <input
        id="f-consigne"
        name="consigne"
        inputmode="decimal"
        value={form.consigne}
        aria-describedby={
          errors.consigne === undefined ? 'f-consigne-aide' : 'f-consigne-aide f-consigne-erreur'
        }
        aria-invalid={errors.consigne === undefined ? undefined : 'true'}
      />
      <p class="aide" id="f-consigne-aide">
        Chauffage seulement ; 19 °C au plus (Code de l’énergie, R241-26). Vide : la consigne du mode.
      </p>
      {error('consigne')}
      <fieldset aria-describedby={errors.fin === undefined ? undefined : 'f-fin-erreur'}>
        <legend>{FIELD_LABELS.fin}</legend>
        <div class="choix">
          {END_CHOICES.map((choice) => (
            <>
              <input
                type="radio"
                id={`f-fin-${choice}`}
                name="fin"
                value={choice}
                checked={form.fin === choice}
              />
              <label for={`f-fin-${choice}`}>{END_LABELS[choice]}</label>
            </>
          ))}
        </div>
        {error('fin')}
        <label for="f-duree_heures">{FIELD_LABELS.duree_heures}</label>
        <input
          id="f-duree_heures"
          name="duree_heures"
          inputmode="decimal"
          value={form.duree_heures}
          {...invalid('duree_heures')}
        />
        {error('duree_heures')}
        <label for="f-jusqua">{FIELD_LABELS.jusqua}</label>
        <input id="f-jusqua" name="jusqua" type="datetime-local" value={form.jusqua} {...invalid('jusqua')} />
        {error('jusqua')}
        <p class="aide">14 jours au plus.</p>
      </fieldset>
      <label for="f-motif">{FIELD_LABELS.motif}</label>
      <textarea id="f-motif" name="motif" rows={2} maxlength={500} required {...invalid('motif')}>
        {form.motif}
      </textarea>
      {error('motif')}
      <p class="envoi">
        <button type="submit">Créer la dérogation</button>
      </p>
    </form>
  );
}

function Savings(props: { view: SchoolView }) {
  const { view } = props;
  const s = view.savings;
  return (
    <section id="economies" aria-labelledby="economies-titre">
      <h2 id="economies-titre">Économies estimées de la semaine</h2>
      {!s.ok ? (
        <p>{s.reason}</p>
      ) : (
        <>
          <p>
            Estimation, semaine du {longDate(s.body.from)} au {longDate(s.body.to)} : référence{' '}
            {kwhText(s.body.totals.kwh_baseline)}, plan {kwhText(s.body.totals.kwh_plan)}, économie{' '}
            <strong>{kwhText(s.body.totals.saving_kwh)}</strong>
            {s.body.totals.saving_percent === null
              ? ''
              : ` (${String(s.body.totals.saving_percent).replace('.', ',')} %)`}
            .
          </p>
          {raw(
            savingsSvg({
              id: 'economies-graphique',
              title: `Chaleur fournie par zone, référence et plan, semaine du ${longDate(s.body.from)}`,
              zones: s.body.zones.flatMap((z) =>
                z.kwh === null ? [] : [{ name: z.name, baselineKwh: z.kwh.baseline, planKwh: z.kwh.plan }],
              ),
            }),
          )}
          <table>
            <caption>Chaleur fournie par zone (kWh, estimation)</caption>
            <thead>
              <tr>
                <th scope="col">Zone</th>
                <th scope="col">Référence</th>
                <th scope="col">Plan</th>
                <th scope="col">Économie</th>
              </tr>
            </thead>
            <tbody>
              {s.body.zones.map((z) => (
                <tr>
                  <th scope="row">{z.name}</th>
                  <td class="nombre">{z.kwh === null ? '—' : kwhText(z.kwh.baseline)}</td>
                  <td class="nombre">{z.kwh === null ? '—' : kwhText(z.kwh.plan)}</td>
                  <td class="nombre">
                    {z.saving_kwh === null
                      ? 'non estimée (coefficient de pertes absent)'
                      : kwhText(z.saving_kwh)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>Méthode et hypothèses</summary>
            <p>
              Chaleur livrée aux locaux, en régime permanent : somme sur chaque heure de H × (consigne −
              température extérieure), sous le plan et sous la référence ({s.body.inputs.baseline.description}
              ). Températures extérieures : normales mensuelles. Borne haute : l’inertie du bâtiment est
              ignorée. Détail : docs/savings.md.
            </p>
          </details>
          <p>
            <a href={`${DASHBOARD_BASE}/${view.uai}/economies-mesurees`}>
              Économies mesurées aux compteurs, à côté de cette estimation
            </a>
          </p>
        </>
      )}
    </section>
  );
}

export function ErrorPage(props: { viewer: Viewer; title: string; message: string }) {
  return (
    <Layout title={props.title} clientId={props.viewer.clientId} showVue={props.viewer.showVue}>
      <h1>{props.title}</h1>
      <p class="erreur">{props.message}</p>
      <p>
        <a href={DASHBOARD_BASE}>Tableau de bord</a>
      </p>
    </Layout>
  );
}
