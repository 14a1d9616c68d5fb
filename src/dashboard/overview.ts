/**
 * The overview of a region (issue 18): the schools of the caller's list, each with its alerts,
 * département, gateway state and room-mapping counts, sorted, filtered (département, alert kind,
 * gateway state), searched (name or UAI) and paged, with the count of schools per alert kind.
 * Pure: it takes the summaries (dashboard-state.ts) and the query, no I/O, so the route only
 * parses the query and renders.
 */
import { z } from 'zod';
import type { AlertCode } from './alerts.js';
import type { SchoolSummary } from './dashboard-state.js';

/** Every alert kind, in the order the counts and the filter list them. */
export const ALERT_KINDS = [
  'synchro-en-retard',
  'sans-emploi-du-temps',
  'passerelle-hors-ligne',
  'zone-sans-acquittement',
  'salles-non-affectees',
  'salles-de-zone-absentes',
  'annee-scolaire-terminee',
  'annee-scolaire-non-commencee',
  'vacances-inconnues',
  'pas-d-import-depuis-la-rentree',
  'flux-reservations-en-echec',
  'demarrage-froid',
  'surchauffe',
] as const satisfies readonly AlertCode[];

/** Checked at compile time: a new alert code must be given a place (and a label) here. */
type MissingKind = Exclude<AlertCode, (typeof ALERT_KINDS)[number]>;
const _everyKindListed: MissingKind extends never ? true : never = true;
void _everyKindListed;

export const ALERT_KIND_LABELS: Record<AlertCode, string> = {
  'synchro-en-retard': 'Synchronisation en retard',
  'sans-emploi-du-temps': 'Aucun emploi du temps reçu',
  'passerelle-hors-ligne': 'Passerelle hors ligne',
  'zone-sans-acquittement': 'Zone sans acquittement',
  'salles-non-affectees': 'Salles hors de toute zone',
  'salles-de-zone-absentes': 'Zones citant des salles disparues',
  'annee-scolaire-terminee': 'Année scolaire terminée',
  'annee-scolaire-non-commencee': 'Année scolaire non commencée',
  'vacances-inconnues': 'Vacances scolaires inconnues',
  'pas-d-import-depuis-la-rentree': 'Aucun import depuis la rentrée',
  'flux-reservations-en-echec': 'Flux de réservations en échec',
  'demarrage-froid': 'Démarrage froid',
  surchauffe: 'Surchauffe',
};

/**
 * A school's gateways as one state (dashboard-state.ts, `gatewayState`): every one online, at
 * least one never connected, else at least one not online now.
 */
export const GATEWAY_STATES = ['en-ligne', 'hors-ligne', 'jamais-connectee'] as const;
export type GatewayState = (typeof GATEWAY_STATES)[number];

export const GATEWAY_STATE_LABELS: Record<GatewayState, string> = {
  'en-ligne': 'Toutes en ligne',
  'hors-ligne': 'Au moins une hors ligne',
  'jamais-connectee': 'Au moins une jamais connectée',
};

/** `uai` first: the default, the order the overview has always had. */
export const SORTS = ['uai', 'nom', 'departement', 'alertes'] as const;
export type OverviewSort = (typeof SORTS)[number];

export const SORT_LABELS: Record<OverviewSort, string> = {
  uai: 'UAI',
  nom: 'Nom',
  departement: 'Département',
  alertes: 'Nombre d’alertes (décroissant)',
};

/**
 * Rows per page: 350 schools in 7 pages, each a table a screen reader can still walk (every row
 * carries its alerts).
 */
export const OVERVIEW_PAGE_SIZE = 50;

/** An empty parameter (a form sent with "Tous") is no filter. */
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const overviewQuerySchema = z.object({
  q: optional(z.string().trim().max(100, 'recherche : 100 caractères au plus.')),
  departement: optional(
    z.string().regex(/^(?:\d{2}|2[AB]|97\d)$/, 'département : deux chiffres, 2A, 2B ou 97x attendus.'),
  ),
  alerte: optional(z.enum(ALERT_KINDS, { message: 'alerte : type d’alerte inconnu.' })),
  passerelles: optional(z.enum(GATEWAY_STATES, { message: 'passerelles : état inconnu.' })),
  tri: optional(z.enum(SORTS, { message: 'tri : ordre inconnu.' })),
  page: optional(
    z.coerce
      .number({ message: 'page : un nombre entier est attendu.' })
      .int('page : un nombre entier est attendu.')
      .min(1, 'page : 1 au moins.'),
  ),
});
export type OverviewQuery = z.infer<typeof overviewQuerySchema>;

export interface OverviewView {
  query: OverviewQuery;
  /** Every school of the caller's list (before any filter). */
  total: number;
  /** Of which with at least one alert. */
  withAlerts: number;
  /** The départements of the caller's list, sorted: the filter's choices. */
  departements: string[];
  /**
   * Per alert kind, the schools that have it among those the other filters keep (département,
   * gateways, search): what choosing that kind would list.
   */
  counts: { kind: AlertCode; schools: number }[];
  /** Schools kept by every filter. */
  matching: number;
  page: number;
  pages: number;
  rows: SchoolSummary[];
}

/** Lower case without accents, so `lycee` finds « Lycée ». */
function folded(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export function overviewView(schools: readonly SchoolSummary[], query: OverviewQuery): OverviewView {
  const needle = query.q ? folded(query.q) : null;
  // Everything but the alert kind: the counts are taken over these.
  const others = schools.filter(
    (s) =>
      (query.departement === undefined || s.departement === query.departement) &&
      (query.passerelles === undefined || s.gateways === query.passerelles) &&
      (needle === null || folded(s.name).includes(needle) || s.uai.toLowerCase().includes(needle)),
  );
  const perKind = new Map<AlertCode, number>();
  for (const school of others) {
    for (const kind of new Set(school.alerts.map((a) => a.code)))
      perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
  }
  const kept =
    query.alerte === undefined ? others : others.filter((s) => s.alerts.some((a) => a.code === query.alerte));
  const sorted = [...kept].sort(comparator(query.tri ?? 'uai'));
  const pages = Math.max(1, Math.ceil(sorted.length / OVERVIEW_PAGE_SIZE));
  // Past the last page (a filter narrowed the list under a kept page number): the last page.
  const page = Math.min(query.page ?? 1, pages);
  return {
    query,
    total: schools.length,
    withAlerts: schools.filter((s) => s.alerts.length > 0).length,
    departements: [...new Set(schools.map((s) => s.departement))].sort(),
    counts: ALERT_KINDS.map((kind) => ({ kind, schools: perKind.get(kind) ?? 0 })),
    matching: sorted.length,
    page,
    pages,
    rows: sorted.slice((page - 1) * OVERVIEW_PAGE_SIZE, page * OVERVIEW_PAGE_SIZE),
  };
}

const byName = (a: SchoolSummary, b: SchoolSummary) =>
  a.name.localeCompare(b.name, 'fr') || a.uai.localeCompare(b.uai);
const byUai = (a: SchoolSummary, b: SchoolSummary) => a.uai.localeCompare(b.uai);

function comparator(sort: OverviewSort): (a: SchoolSummary, b: SchoolSummary) => number {
  switch (sort) {
    case 'nom':
      return byName;
    case 'uai':
      return byUai;
    case 'departement':
      return (a, b) => a.departement.localeCompare(b.departement) || byName(a, b);
    case 'alertes':
      return (a, b) => b.alerts.length - a.alerts.length || byName(a, b);
  }
}

/**
 * The overview's address with `query` changed by `change` (an `undefined` drops a parameter):
 * every link keeps the filters; the default page and sort are left out.
 */
export function overviewHref(
  base: string,
  query: OverviewQuery,
  change: Partial<OverviewQuery> = {},
): string {
  const merged = { ...query, ...change };
  const params = new URLSearchParams();
  if (merged.q) params.set('q', merged.q);
  if (merged.departement) params.set('departement', merged.departement);
  if (merged.alerte) params.set('alerte', merged.alerte);
  if (merged.passerelles) params.set('passerelles', merged.passerelles);
  if (merged.tri && merged.tri !== 'uai') params.set('tri', merged.tri);
  if (merged.page && merged.page > 1) params.set('page', String(merged.page));
  const text = params.toString();
  return text === '' ? base : `${base}?${text}`;
}
