/**
 * What the dashboard shows, gathered from its dependencies (deps.ts) into plain data the pages
 * render: each school's alerts, and for one school its zones (the plan's current state, what the
 * gateway reports), a day and a week of plan and occupancy per zone, its overrides and the week's
 * savings estimate. No HTML here; no state kept between requests.
 */
import type { Principal } from '../auth/principal.js';
import { canAccessUai } from '../auth/principal.js';
import type { FeedStatus } from '../bridge/booking-feeds.js';
import type { GatewayReport } from '../bridge/gateway-tracker.js';
import type { OverrideView } from '../bridge/overrides-service.js';
import { localDaysRange, type PlanForDates } from '../bridge/planning.js';
import { localDate, type SchoolPlan } from '../bridge/school-plan.js';
import { SortieError } from '../bridge/sortie-client.js';
import { departementOfSchool } from '../calendar/public-holidays.js';
import { segmentAt } from '../contract/desired-state.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays, mondayOf } from '../domain/dates.js';
import type { Occupancy } from '../domain/occupancy.js';
import { isInputError } from '../domain/problems.js';
import type { OptimumStartReason } from '../rules/optimum-start.js';
import type { Segment } from '../rules/segment.js';
import { zoneOccupancy } from '../rules/zone-occupancy.js';
import { DEFAULT_BASELINE } from '../savings/baseline.js';
import {
  estimateSchoolSavings,
  outdoorForSchool,
  type SchoolSavingsBody,
  savingsDates,
} from '../savings/school-savings.js';
import { type ComfortBody, comfortPeriod, comfortReport, heatedZones } from '../telemetry/comfort-report.js';
import type { ZoneReportLike } from './alerts.js';
import { type SchoolAlert, schoolAlerts, schoolAlertsAndRooms } from './alerts.js';
import { overviewComfortAlerts } from './comfort-alerts.js';
import type { DashboardDeps } from './deps.js';
import { longDate } from './labels.js';
import type { GatewayState } from './overview.js';
import type { TemperaturePoint, TimelineInput } from './timeline-svg.js';

export interface SchoolSummary {
  uai: string;
  name: string;
  /** The devices file's override, else the UAI's prefix (`departementOfSchool`). */
  departement: string;
  gateways: GatewayState;
  alerts: SchoolAlert[];
  /** Timetable rooms in no zone; null without a timetable (nothing to compare). */
  unzonedRooms: number | null;
  /** Zones naming rooms the timetable lacks (one `salles-de-zone-absentes` alert each). */
  staleZones: number;
}

/** The schools of the caller's list that the bridge drives, with their alerts, by UAI. */
export async function schoolsOverview(deps: DashboardDeps, principal: Principal): Promise<SchoolSummary[]> {
  const visible = [...deps.devices().values()]
    .filter((d) => canAccessUai(principal, d.value.school.uai))
    .sort((a, b) => a.value.school.uai.localeCompare(b.value.school.uai));
  // One pass over the tracker for the whole list: a report per school walks every zone of the
  // region each time (350 × 14,000 zones at region scale).
  const byUai = new Map<string, GatewayReport[]>();
  if (deps.allGateways) {
    for (const report of deps.allGateways()) {
      const list = byUai.get(report.uai) ?? [];
      list.push(report);
      byUai.set(report.uai, list);
    }
  }
  // The feeds' status once per view, not once per school (it lists every feed of the region).
  const feedsByUai = new Map<string, FeedStatus[]>();
  for (const feed of deps.bookingFeeds?.() ?? []) {
    const list = feedsByUai.get(feed.uai) ?? [];
    list.push(feed);
    feedsByUai.set(feed.uai, list);
  }
  const rows = rowCaches.get(deps) ?? new Map<string, CachedRow>();
  rowCaches.set(deps, rows);
  const now = deps.clock.now();
  const summaries = await Promise.all(
    visible.map(async (devices) => {
      const { uai, name, departement, timezone } = devices.value.school;
      const reports = deps.allGateways ? (byUai.get(uai) ?? []) : deps.gateways(uai);
      const [sync, version, comfort] = await Promise.all([
        deps.syncStatus(uai),
        deps.timetableVersion ? deps.timetableVersion(uai) : undefined,
        overviewComfortAlerts(deps, devices),
      ]);
      const inputs = { sync, feeds: feedsByUai.get(uai) ?? [], comfort };
      // Every input of the row, so that a kept row is the row this view would compute: the
      // stored version (the dates, import date, zone rooms and unmapped rooms are per version and
      // devices file), the local date (calendar alerts), the calendars, the sync state, the
      // gateways' states and acknowledgements, the feeds and the comfort alerts.
      const token =
        version === undefined
          ? null
          : JSON.stringify([
              version,
              localDate(now, timezone),
              'fingerprint' in deps.calendars ? deps.calendars.fingerprint : null,
              sync.state,
              sync.stale,
              sync.stale ? sync.age_hours : null,
              reports.map((r) => [
                r.gateway,
                r.state,
                r.last_seen,
                r.zones
                  .filter((z) => z.lagging)
                  .map((z) => [z.zone, z.function, z.applied_rev, z.latest_rev]),
              ]),
              inputs.feeds.map((f) => [f.feed, f.failing_since, f.last_error]),
              comfort,
            ]);
      const kept = rows.get(uai);
      if (token !== null && kept && kept.devices === devices && kept.token === token) return kept.row;
      const { alerts, unzonedRooms } = await schoolAlertsAndRooms(deps, devices, reports, inputs);
      const row: SchoolSummary = {
        uai,
        name,
        departement: departementOfSchool(uai, departement),
        gateways: gatewayState(devices, reports),
        alerts,
        unzonedRooms,
        staleZones: alerts.filter((a) => a.code === 'salles-de-zone-absentes').length,
      };
      if (token !== null) rows.set(uai, { devices, token, row });
      return row;
    }),
  );
  // Schools gone from devices/ leave the cache with the next view of a list that held them.
  if (rows.size > summaries.length) {
    const listed = new Set(visible.map((d) => d.value.school.uai));
    for (const uai of rows.keys()) if (!listed.has(uai) && !deps.devices().has(uai)) rows.delete(uai);
  }
  return summaries;
}

/**
 * The overview's row of each school (issue 18), kept while every input of the row is unchanged
 * (its token): a region's overview then computes only the rows whose school changed (a new
 * timetable version, a gateway state, an alert, a new day) and the page renders its 50. Per
 * dashboard dependencies, so two services in one process (tests) do not share rows.
 */
interface CachedRow {
  devices: LoadedDevices;
  token: string;
  row: SchoolSummary;
}
const rowCaches = new WeakMap<DashboardDeps, Map<string, CachedRow>>();

/**
 * The school's gateways as one state: one never connected (no status ever received) says so
 * first, since nothing that school is sent is applied; else one not online now; else all online.
 */
function gatewayState(devices: LoadedDevices, reports: readonly GatewayReport[]): GatewayState {
  const byId = new Map(reports.map((r) => [r.gateway, r]));
  const states = devices.value.gateways.map((g) => byId.get(g.id));
  if (states.some((r) => r === undefined || r.last_seen === null)) return 'jamais-connectee';
  if (states.some((r) => r?.state !== 'online')) return 'hors-ligne';
  return 'en-ligne';
}

export interface ZoneView {
  id: string;
  name: string;
  functions: readonly string[];
  /** The heating state the plan holds now (what `desired` carries), or null without heating. */
  current: { mode: string; setpoint_c?: number; until: number } | null;
  /** The gateway's last report of the heating function. */
  reported: ZoneReportLike | null;
  day: TimelineInput;
  week: TimelineInput;
  /**
   * The heating preheats of the shown week's plan (docs/optimum-start.md, "Dashboard"), in time
   * order: recomputed with the learning of now, not read back from earlier plans.
   */
  preheats: PreheatView[];
}

/** One preheat of a plan: the occupancy start it prepares and how long before it comfort begins. */
export interface PreheatView {
  /** Occupancy start (the preheat segment's end), epoch ms. */
  start: number;
  minutes: number;
  rule: string;
  optimum?: OptimumStartReason;
}

/** The preheat segments of a zone's heating plan (one per occupancy start that has one). */
export function preheatsOf(heating: readonly Segment[]): PreheatView[] {
  const out: PreheatView[] = [];
  for (let k = 0; k < heating.length; k++) {
    const s = heating[k] as Segment;
    if (s.reason.kind !== 'preheat') continue;
    // A preheat eaten into by the lesson before it (a recess) is no warm-up: comfort goes on.
    const before = heating[k - 1]?.reason.kind;
    if (before === 'occupied' || before === 'merged-gap') continue;
    const last = out[out.length - 1];
    // A preheat split by a lesson boundary or a reason detail still prepares one start.
    if (last && last.start === s.from) {
      last.minutes += (s.to - s.from) / 60_000;
      last.start = s.to;
      continue;
    }
    out.push({
      start: s.to,
      minutes: (s.to - s.from) / 60_000,
      rule: s.reason.rule,
      ...(s.reason.optimum_start ? { optimum: s.reason.optimum_start } : {}),
    });
  }
  return out;
}

export interface SchoolView {
  uai: string;
  name: string;
  timezone: string;
  /** The local date shown (`?jour=`, default today). */
  date: string;
  today: string;
  monday: string;
  now: number;
  alerts: SchoolAlert[];
  /** Planning on the rules' fallback week (no timetable received). */
  fallback: boolean;
  /** Why plans could not be made (source down beyond the data held); zones are then empty. */
  planError: string | null;
  zones: ZoneView[];
  overrides: OverrideView[];
  savings: { ok: true; body: SchoolSavingsBody } | { ok: false; reason: string };
  /** The week's comfort report (issue 16), null without telemetry. */
  comfort: ComfortBody | null;
}

export async function schoolState(
  deps: DashboardDeps,
  devices: LoadedDevices,
  date?: string,
): Promise<SchoolView> {
  const school = devices.value.school;
  const { uai, timezone } = school;
  const now = deps.clock.now();
  const today = localDate(now, timezone);
  const shown = date ?? today;
  const monday = mondayOf(shown);
  const sunday = addDays(monday, 6);
  const dayRange = localDaysRange(shown, 1, timezone);
  const weekRange = localDaysRange(monday, 7, timezone);
  // The shown week's plan, made once for the view: the timelines, the savings estimate, and the
  // comfort report and alerts when their days are in it (comfortOf) read this one plan.
  let weekPlan: PlanForDates | SortieError;
  try {
    weekPlan = await deps.planFor(uai, monday, 7);
  } catch (error) {
    if (!(error instanceof SortieError)) throw error;
    weekPlan = error;
  }
  const planned = weekPlan instanceof SortieError ? undefined : weekPlan;
  const [alerts, overrides] = await Promise.all([
    schoolAlerts(deps, devices, planned),
    deps.overrides.list({ uais: [uai] }),
  ]);
  const base = {
    uai,
    name: school.name,
    timezone,
    date: shown,
    today,
    monday,
    now,
    alerts,
    overrides,
  };

  let week: SchoolPlan;
  let current: SchoolPlan;
  let occupancy: Occupancy | null;
  try {
    if (weekPlan instanceof SortieError) throw weekPlan;
    week = weekPlan.plan;
    current = now >= weekRange.from && now < weekRange.to ? week : (await deps.planFor(uai, today, 1)).plan;
    occupancy = (await deps.occupancy(uai, { from: monday, to: sunday }))?.occupancy ?? null;
  } catch (error) {
    if (!(error instanceof SortieError)) throw error;
    return {
      ...base,
      fallback: false,
      planError: `Le plan de cette semaine ne peut pas être calculé : l’occupation n’est pas disponible (${error.message}).`,
      zones: [],
      savings: { ok: false, reason: 'Plan indisponible pour cette semaine.' },
      comfort: null,
    };
  }

  const reports = new Map<string, ZoneReportLike>();
  for (const gateway of deps.gateways(uai)) {
    for (const zone of gateway.zones) if (zone.function === 'heating') reports.set(zone.zone, zone);
  }
  const measured = await weekTemperatures(deps, uai, weekRange);
  // By id once, rather than a search per zone (a region-sized devices file has hundreds).
  const weekOf = new Map(week.zones.map((z) => [z.zone, z]));
  const currentOf = new Map(current.zones.map((z) => [z.zone, z]));
  const zones: ZoneView[] = devices.value.zones.map((zone) => {
    const heating = weekOf.get(zone.id)?.functions.heating ?? [];
    const holding = currentOf.get(zone.id)?.functions.heating;
    const segment = holding ? segmentAt(holding, now) : undefined;
    const occupied = occupancy ? zoneOccupancy(occupancy.rooms, zone) : null;
    const timeline = (kind: 'day' | 'week'): TimelineInput => ({
      id: `frise-${kind === 'day' ? 'jour' : 'semaine'}-${zone.id}`,
      title:
        kind === 'day'
          ? `${zone.name}, ${longDate(shown)}`
          : `${zone.name}, semaine du ${frenchShortDate(monday)} au ${frenchShortDate(sunday)}`,
      kind,
      range: kind === 'day' ? dayRange : weekRange,
      timezone,
      occupancy: occupied,
      heating,
      now,
      ...(measured && zone.functions.includes('heating')
        ? { temperature: { samples: measured.byZone.get(zone.id) ?? [], holdMs: measured.holdMs } }
        : {}),
    });
    return {
      id: zone.id,
      name: zone.name,
      functions: zone.functions,
      current: segment
        ? {
            mode: segment.mode,
            ...(segment.setpoint_c === undefined ? {} : { setpoint_c: segment.setpoint_c }),
            until: segment.to,
          }
        : null,
      reported: reports.get(zone.id) ?? null,
      day: timeline('day'),
      week: timeline('week'),
      preheats: zone.functions.includes('heating') ? preheatsOf(heating) : [],
    };
  });

  return {
    ...base,
    fallback: week.fallback,
    planError: null,
    zones,
    savings: weekSavings(deps, devices, week, monday, sunday),
    comfort: deps.telemetry ? await comfortOf(deps, devices, monday, sunday, undefined, planned) : null,
  };
}

/** Valid heating reports of the week per zone (flagged ones are no facts), or null without telemetry. */
async function weekTemperatures(
  deps: DashboardDeps,
  uai: string,
  range: { from: number; to: number },
): Promise<{ byZone: Map<string, TemperaturePoint[]>; holdMs: number } | null> {
  const telemetry = deps.telemetry;
  if (!telemetry) return null;
  const holdMs = telemetry.settings.holdMs;
  const byZone = new Map<string, TemperaturePoint[]>();
  for (const s of await telemetry.repository.samplesOf(uai, range.from - holdMs, range.to)) {
    if (s.function !== 'heating' || s.flag !== null || s.measured_c === null) continue;
    const list = byZone.get(s.zone) ?? [];
    list.push({ ts: s.ts, measured_c: s.measured_c });
    byZone.set(s.zone, list);
  }
  return { byZone, holdMs };
}

/** The comfort report of local dates `from`..`to` (the API's, src/telemetry/comfort-report.ts). */
export async function comfortOf(
  deps: Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>,
  devices: LoadedDevices,
  from: string,
  to: string,
  where: { from: string; to: string } = { from: 'semaine', to: 'semaine' },
  /**
   * A plan the caller already made. When it covers `from`..`to`, the report reads it rather than
   * planning again: the report needs the plan's segments from `from`'s midnight on and its
   * occupancy 30 minutes before (`START_AFTER_UNOCCUPIED_MS`), which a plan holds a week either
   * side of its dates (`PLANNING_MARGIN_MS`); what a longer plan holds past `to` is not read.
   */
  known?: PlanForDates,
): Promise<ComfortBody | null> {
  const telemetry = deps.telemetry;
  if (!telemetry) return null;
  const school = devices.value.school;
  // A comfort report plans its days again and reads every sample. When that was slow (a big
  // timetable), a page viewed again within the same minute reuses it rather than holding the
  // event loop once more per view; cheap reports are always fresh.
  const cache = comfortCaches.get(telemetry.repository) ?? new Map<string, ComfortBody>();
  comfortCaches.set(telemetry.repository, cache);
  const key = `${school.uai}|${from}|${to}|${where.from}|${where.to}|${Math.floor(deps.clock.now() / COMFORT_REUSE_MS)}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const started = performance.now();
  const body = await comfortReport({
    repository: telemetry.repository,
    planFor:
      known &&
      known.plan.uai === school.uai &&
      from >= known.date &&
      to <= addDays(known.date, known.days - 1)
        ? async () => known
        : (uai, date, days) => deps.planFor(uai, date, days),
    settings: telemetry.settings,
    clock: deps.clock,
    school: { uai: school.uai, name: school.name, timezone: school.timezone },
    zones: heatedZones(devices),
    period: comfortPeriod(from, to, school.timezone, where),
  });
  if (performance.now() - started >= SLOW_COMFORT_MS) {
    if (cache.size >= COMFORT_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, body);
  }
  return body;
}

/** How long a slow comfort report is reused on the dashboard (gateways report every 5 min). */
const COMFORT_REUSE_MS = 60_000;
/** A report that took this long is worth reusing; under it, every view computes afresh. */
const SLOW_COMFORT_MS = 100;
const COMFORT_CACHE_MAX = 1_000;
const comfortCaches = new WeakMap<object, Map<string, ComfortBody>>();

/** The week's estimate (src/savings), from the very plan the timelines show. */
function weekSavings(
  deps: DashboardDeps,
  devices: LoadedDevices,
  plan: SchoolPlan,
  monday: string,
  sunday: string,
): SchoolView['savings'] {
  const school = devices.value.school;
  const calendar = deps.calendars.forSchool(school.uai, {
    departement: school.departement,
    timezone: school.timezone,
  });
  try {
    return {
      ok: true,
      body: estimateSchoolSavings({
        devices,
        calendar,
        plans: [plan],
        dates: savingsDates(monday, sunday, school.timezone, { from: 'semaine', to: 'semaine' }),
        baseline: DEFAULT_BASELINE,
        outdoor: outdoorForSchool(calendar, undefined, 'station'),
        ...(deps.zoneComfort ? { zoneComfort: deps.zoneComfort(school.uai) } : {}),
      }),
    };
  } catch (error) {
    if (!isInputError(error)) throw error;
    return {
      ok: false,
      reason: `Estimation impossible : aucune normale de température extérieure fournie pour le département ${calendar.departement}.`,
    };
  }
}

function frenchShortDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}
