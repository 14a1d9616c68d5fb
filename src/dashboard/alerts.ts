/**
 * A school's alerts on the dashboard (issue 7): the sync is stale or has no timetable, a gateway
 * is offline or never connected, a zone does not acknowledge its latest desired state, rooms of
 * the timetable belong to no zone (VUE's `salle-inconnue` finding, reused as is); and the
 * calendar's silent failures (issue 20): a timetable whose school year is over (or not started)
 * on a school day — every zone is then sent frost 8 °C as if on holiday —, holiday data that
 * runs out within 60 days, and a current timetable imported before the summer holidays; and the
 * reverse of the unmapped rooms: rooms a zone names that the stored timetable lacks (no lesson can
 * ever occupy them: the zone's published `desired` never follows a lesson there).
 * And the comfort alerts of issue 16 (comfort-alerts.ts): cold starts and overheating since yesterday.
 */
import { DateTime } from 'luxon';
import type { FeedStatus } from '../bridge/booking-feeds.js';
import type { GatewayReport } from '../bridge/gateway-tracker.js';
import type { PlanForDates } from '../bridge/planning.js';
import { localDate } from '../bridge/school-plan.js';
import { type HolidayPeriod, isSummerHoliday } from '../calendar/holiday-period.js';
import type { SchoolCalendar } from '../calendar/school-calendar.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays, isoWeekday, mondayOf } from '../domain/dates.js';
import type { Timetable } from '../domain/timetable.js';
import { type Finding, unknownRoomsFinding } from '../scope/vue/data-quality.js';
import { type ComfortAlert, comfortAlerts, overviewComfortAlerts } from './comfort-alerts.js';
import type { DashboardDeps } from './deps.js';
import { formatNumber, functionLabel } from './labels.js';

export type AlertCode =
  | 'synchro-en-retard'
  | 'sans-emploi-du-temps'
  | 'passerelle-hors-ligne'
  | 'zone-sans-acquittement'
  | 'salles-non-affectees'
  | 'annee-scolaire-terminee'
  | 'annee-scolaire-non-commencee'
  | 'vacances-inconnues'
  | 'pas-d-import-depuis-la-rentree'
  | 'salles-de-zone-absentes'
  | 'flux-reservations-en-echec'
  | ComfortAlert['code'];

/** The alerts `calendarAlerts` can give: the `kind` label of `scope_energie_school_alert`. */
export const CALENDAR_ALERT_CODES = [
  'annee-scolaire-terminee',
  'annee-scolaire-non-commencee',
  'vacances-inconnues',
  'pas-d-import-depuis-la-rentree',
] as const satisfies readonly AlertCode[];

/**
 * Every alert `scope_energie_school_alert` carries (the `kind` label): the calendar's, and the
 * zone rooms missing from the timetable. Each school has one sample per kind, 0 or 1.
 */
export const SCHOOL_GAUGE_ALERT_CODES = [
  ...CALENDAR_ALERT_CODES,
  'salles-de-zone-absentes',
] as const satisfies readonly AlertCode[];

/** How far ahead the holiday data must reach: a term's planning horizon, issue 20. */
export const HOLIDAY_DATA_DAYS_AHEAD = 60;

export interface SchoolAlert {
  code: AlertCode;
  message: string;
}

/** What the overview reads per school at every view, to key its row cache and build a row. */
export interface OverviewInputs {
  sync: Awaited<ReturnType<DashboardDeps['syncStatus']>>;
  feeds: readonly FeedStatus[];
  comfort: readonly ComfortAlert[];
}

export type ZoneReportLike = GatewayReport['zones'][number];

/** `plan`: the school page's week plan, which the comfort alerts read when yesterday and today are in it. */
export async function schoolAlerts(
  deps: DashboardDeps,
  devices: LoadedDevices,
  plan?: PlanForDates,
): Promise<SchoolAlert[]> {
  return (await schoolAlertsAndRooms(deps, devices, undefined, plan ? { plan } : 'fresh')).alerts;
}

/**
 * The alerts, and the count of timetable rooms in no zone (every page of VUE's finding, not only
 * the rooms the alerts name; null without a timetable): the overview shows both per school.
 */
export async function schoolAlertsAndRooms(
  deps: DashboardDeps,
  devices: LoadedDevices,
  gateways: readonly GatewayReport[] = deps.gateways(devices.value.school.uai),
  /**
   * `reused`: the overview's comfort alerts, at most a minute or two old (overviewComfortAlerts);
   * or the inputs the overview already read for its row cache (the same values, read once).
   */
  comfort: 'fresh' | 'reused' | OverviewInputs | { plan: PlanForDates } = 'fresh',
): Promise<{ alerts: SchoolAlert[]; unzonedRooms: number | null }> {
  const school = devices.value.school;
  const alerts: SchoolAlert[] = [];
  const known = typeof comfort === 'object' && 'sync' in comfort ? comfort : null;
  const plan = typeof comfort === 'object' && 'plan' in comfort ? comfort.plan : undefined;

  const sync = known?.sync ?? (await deps.syncStatus(school.uai));
  if (sync.stale) {
    alerts.push({
      code: 'synchro-en-retard',
      message:
        sync.age_hours === null
          ? 'Synchronisation en retard : aucune réussite depuis le démarrage.'
          : `Synchronisation en retard : dernière réussite il y a ${formatNumber(sync.age_hours, 1)} h.`,
    });
  } else if (sync.state === 'no-timetable') {
    alerts.push({
      code: 'sans-emploi-du-temps',
      message: 'Aucun emploi du temps reçu : le plan suit la semaine type des règles.',
    });
  }

  for (const gateway of gateways) {
    if (gateway.state !== 'online') {
      alerts.push({
        code: 'passerelle-hors-ligne',
        message:
          gateway.last_seen === null
            ? `Passerelle ${gateway.gateway} : jamais connectée.`
            : `Passerelle ${gateway.gateway} hors ligne depuis le ${DateTime.fromISO(gateway.last_seen, {
                zone: school.timezone,
              }).toFormat('dd/MM/yyyy HH:mm')}.`,
      });
    }
    for (const zone of gateway.zones) {
      if (!zone.lagging) continue;
      alerts.push({
        code: 'zone-sans-acquittement',
        message: `Zone ${zone.zone} (${functionLabel(zone.function).toLowerCase()}) n’acquitte pas : révision appliquée ${zone.applied_rev ?? 'aucune'}, dernière envoyée ${zone.latest_rev ?? '—'}.`,
      });
    }
  }

  alerts.push(...(await schoolCalendarAlerts(deps, devices)));
  alerts.push(...(await schoolZoneRoomAlerts(deps, devices)));
  for (const feed of known?.feeds ?? deps.bookingFeeds?.() ?? []) {
    if (feed.uai !== school.uai || feed.failing_since === null) continue;
    alerts.push({
      code: 'flux-reservations-en-echec',
      message: `Flux de réservations ${feed.feed} en échec depuis le ${DateTime.fromISO(feed.failing_since, {
        zone: school.timezone,
      }).toFormat(
        'dd/MM/yyyy HH:mm',
      )} : ${feed.last_error ?? 'erreur inconnue'}. Les dernières réservations lues restent appliquées.`,
    });
  }
  alerts.push(
    ...(known?.comfort ??
      (await (comfort === 'reused'
        ? overviewComfortAlerts(deps, devices)
        : comfortAlerts(deps, devices, plan)))),
  );
  const unknown = await unknownRooms(deps, devices);
  if (unknown) {
    for (const item of unknown.items) alerts.push({ code: 'salles-non-affectees', message: item.message });
    if (unknown.moreItems > 0) {
      alerts.push({
        code: 'salles-non-affectees',
        message: `Et ${unknown.moreItems} autre(s) salle(s) hors de toute zone.`,
      });
    }
  }
  return {
    alerts,
    unzonedRooms: unknown ? unknown.itemsBefore + unknown.items.length + unknown.moreItems : null,
  };
}

/** `calendarAlerts` of one school now: what the dashboard, `/metrics` and `check` show. */
export async function schoolCalendarAlerts(
  deps: Pick<DashboardDeps, 'clock' | 'calendars' | 'timetable' | 'timetableDates' | 'timetableImportedAt'>,
  devices: LoadedDevices,
): Promise<SchoolAlert[]> {
  const school = devices.value.school;
  // The dates alone (school year, grid days): off this thread in the service (timetableDates).
  const dates = deps.timetableDates
    ? await deps.timetableDates(school.uai)
    : await deps.timetable(school.uai);
  const importedAt = dates ? ((await deps.timetableImportedAt?.(school.uai)) ?? null) : null;
  const calendar = deps.calendars.forSchool(school.uai, {
    departement: school.departement,
    timezone: school.timezone,
  });
  return calendarAlerts(
    dates,
    calendar,
    localDate(deps.clock.now(), school.timezone),
    importedAt === null ? null : localDate(Date.parse(importedAt), school.timezone),
  );
}

/** `zoneRoomAlerts` of one school against its current timetable; none without a timetable. */
export async function schoolZoneRoomAlerts(
  deps: Pick<DashboardDeps, 'timetable' | 'timetableDates'>,
  devices: LoadedDevices,
): Promise<SchoolAlert[]> {
  const uai = devices.value.school.uai;
  const current = deps.timetableDates ? await deps.timetableDates(uai) : await deps.timetable(uai);
  // An older service's cached dates may lack the rooms: then nothing can be said.
  if (!current?.rooms) return [];
  return zoneRoomAlerts(current.rooms, devices.value.zones);
}

/**
 * One alert per zone naming the rooms the timetable lacks (by id or name, as src/rules/check.ts
 * matches them): pure, linear in rooms and zones. `scope-energie check` reports the same rooms as
 * `room-unknown` errors with their lines.
 */
export function zoneRoomAlerts(
  rooms: readonly { id: string; name: string }[],
  zones: readonly { id: string; name?: string | undefined; rooms: readonly string[] }[],
): SchoolAlert[] {
  const known = new Set<string>();
  for (const room of rooms) {
    known.add(room.id);
    known.add(room.name);
  }
  return zones.flatMap((zone) => {
    const missing = zone.rooms.filter((room) => !known.has(room));
    if (missing.length === 0) return [];
    const all = missing.length === zone.rooms.length;
    return [
      {
        code: 'salles-de-zone-absentes' as const,
        message:
          `Zone ${zone.id}${zone.name ? ` (${zone.name})` : ''} : ${missing.length > 1 ? 'salles absentes' : 'salle absente'} de l’emploi du temps : ${missing.join(', ')}. ` +
          (all
            ? 'Aucun cours ne peut occuper cette zone : elle reste en mode réduit ou hors gel.'
            : 'Aucun cours ne les occupera.') +
          ' Corrigez devices/ ou importez un emploi du temps qui les contient.',
      },
    ];
  });
}

/** Rooms of the timetable in no zone: only that finding of VUE's check, linear in the lessons. */
async function unknownRooms(deps: DashboardDeps, devices: LoadedDevices): Promise<Finding | null> {
  const school = devices.value.school;
  if (deps.unknownRooms) return deps.unknownRooms(school.uai, devices);
  const timetable = await deps.timetable(school.uai);
  if (!timetable) return null;
  return unknownRoomsFinding(
    timetable,
    devices.value.zones,
    devices.file,
    mondayOf(localDate(deps.clock.now(), school.timezone)),
  );
}

const frenchDate = (iso: string): string => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/**
 * The alerts that follow from the dates alone, for local date `today`: pure, so `check` and
 * `/metrics` ask the same question. A school day is a day of the timetable's grid (Monday to
 * Friday without one) that the calendar does not close. `importedOn` is the local date the
 * current timetable version was imported (its meta's `importedAt`), null when unknown.
 *
 * "No import since the rentrée" compares the import with the START of the last summer holidays
 * (the day pupils leave), not with their end: a new year's timetable is normally imported in late
 * August, before the rentrée, and an unchanged re-import stores nothing (its date stays), so the
 * rentrée itself would flag every well-run school all year. A version imported on or before the
 * last day of classes of the previous year is last year's.
 */
export function calendarAlerts(
  timetable: Pick<Timetable, 'school_year' | 'grid'> | null,
  calendar: Pick<SchoolCalendar, 'closure' | 'periods'>,
  today: string,
  importedOn: string | null = null,
): SchoolAlert[] {
  const alerts: SchoolAlert[] = [];
  const year = timetable?.school_year;
  const days = timetable?.grid?.days ?? [1, 2, 3, 4, 5];
  const schoolDay = days.includes(isoWeekday(today)) && calendar.closure(today) === null;
  if (year && schoolDay && today > year.end) {
    alerts.push({
      code: 'annee-scolaire-terminee',
      message: `L’emploi du temps couvre l’année scolaire du ${frenchDate(year.start)} au ${frenchDate(year.end)}, terminée : un jour de classe, toutes les zones restent hors gel. Importez l’emploi du temps de la nouvelle année.`,
    });
  } else if (year && schoolDay && today < year.start) {
    alerts.push({
      code: 'annee-scolaire-non-commencee',
      message: `L’emploi du temps commence le ${frenchDate(year.start)} : aujourd’hui, jour de classe, aucune zone n’est chauffée pour des cours.`,
    });
  }
  // The summer holidays whose rentrée has come: the latest that ended by today.
  const summer = calendar.periods.reduce<HolidayPeriod | null>(
    (last, p) => (isSummerHoliday(p) && p.end <= today && (last === null || p.end > last.end) ? p : last),
    null,
  );
  if (timetable && importedOn !== null && schoolDay && summer && importedOn <= summer.start) {
    alerts.push({
      code: 'pas-d-import-depuis-la-rentree',
      message: `Emploi du temps importé le ${frenchDate(importedOn)}, avant les vacances d’été (rentrée le ${frenchDate(summer.end)}) : aucun import depuis la rentrée. Importez l’emploi du temps de cette année.`,
    });
  }
  // The last day the holiday data speaks of; past it every day looks like a school day.
  const knownUntil = calendar.periods.reduce<string | null>(
    (last, p) => (last === null || p.end > last ? p.end : last),
    null,
  );
  const horizon = addDays(today, HOLIDAY_DATA_DAYS_AHEAD);
  if (knownUntil === null || knownUntil < horizon) {
    alerts.push({
      code: 'vacances-inconnues',
      message:
        knownUntil === null
          ? 'Aucune donnée de vacances scolaires pour la zone de l’établissement : importez le calendrier.'
          : `Données de vacances scolaires connues jusqu’au ${frenchDate(knownUntil)} seulement (moins de ${HOLIDAY_DATA_DAYS_AHEAD} jours) : importez le calendrier.`,
    });
  }
  return alerts;
}
