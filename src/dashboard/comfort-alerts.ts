/**
 * Comfort alerts of a school (issue 16, docs/dashboard.md "Alerts"): over yesterday and today
 * (local dates, up to now), a zone with a cold start (the measurement in force when the first
 * lesson after a break began was below its target − the cold tolerance) or with overheated
 * occupied time (above the legal cap + the overheat tolerance) for at least
 * `OVERHEAT_ALERT_MINUTES`. The figures are the comfort report's (docs/telemetry.md, "Comfort").
 */

import type { PlanForDates } from '../bridge/planning.js';
import { localDate } from '../bridge/school-plan.js';
import { SortieError } from '../bridge/sortie-client.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays } from '../domain/dates.js';
import { comfortPeriod, type comfortReport } from '../telemetry/comfort-report.js';
import { comfortOf } from './dashboard-state.js';
import type { DashboardDeps } from './deps.js';
import { formatCelsius, formatNumber, localTime, shortDay } from './labels.js';

/** A quarter of an hour over the cap: one missed report (5 min) or a sunny minute is not an alert. */
export const OVERHEAT_ALERT_MINUTES = 15;

export interface ComfortAlert {
  code: 'demarrage-froid' | 'surchauffe';
  message: string;
}

export async function comfortAlerts(
  deps: Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>,
  devices: LoadedDevices,
  /** A plan the view made already (the school page's week), read when it covers yesterday and today. */
  plan?: PlanForDates,
): Promise<ComfortAlert[]> {
  const telemetry = deps.telemetry;
  if (!telemetry) return [];
  const school = devices.value.school;
  const now = deps.clock.now();
  const today = localDate(now, school.timezone);
  if (!(await mayHaveMeasured(telemetry, school.uai, addDays(today, -1), today, school.timezone, now)))
    return [];
  let body: Awaited<ReturnType<typeof comfortReport>>;
  try {
    const report = await comfortOf(
      deps,
      devices,
      addDays(today, -1),
      today,
      { from: 'hier', to: 'aujourdhui' },
      plan,
    );
    if (!report) return [];
    body = report;
  } catch (error) {
    // No plan (the hub unreachable beyond the data held): the sync alert says it already.
    if (error instanceof SortieError) return [];
    throw error;
  }
  const alerts: ComfortAlert[] = [];
  for (const zone of body.zones) {
    const cold = zone.occupancy_starts.filter((s) => s.cold);
    if (cold.length > 0) {
      const when = cold
        .map((s) => {
          const at = Date.parse(s.at);
          return `${shortDay(at, school.timezone)} à ${localTime(at, school.timezone)} (${formatCelsius(
            s.measured_c as number,
          )} pour ${formatCelsius(s.target_c as number)})`;
        })
        .join(', ');
      alerts.push({
        code: 'demarrage-froid',
        message: `${zone.name} : ${cold.length === 1 ? 'démarrage froid' : `${cold.length} démarrages froids`} ${when}.`,
      });
    }
    if (zone.overheated_minutes >= OVERHEAT_ALERT_MINUTES) {
      alerts.push({
        code: 'surchauffe',
        message: `${zone.name} : ${formatNumber(zone.overheated_minutes, 0)} min de cours au-dessus de ${formatCelsius(
          body.definitions.overheat_cap_c + body.definitions.overheat_tolerance_c,
        )} depuis hier (maximum ${zone.max_c === null ? '—' : formatCelsius(zone.max_c)}).`,
      });
    }
  }
  return alerts;
}

/**
 * False when the school has nothing measured from `from` to now (no sample since `from`'s midnight
 * less the hold, nothing aggregated): then no comfort alert can hold (both need a measured
 * temperature), and the report, which plans the days, is not made. A school whose gateways
 * report no temperature (or have never connected) costs a query, not a plan.
 */
async function mayHaveMeasured(
  telemetry: NonNullable<DashboardDeps['telemetry']>,
  uai: string,
  from: string,
  to: string,
  timezone: string,
  now: number,
): Promise<boolean> {
  const repository = telemetry.repository;
  if (!repository.firstSampleOf) return true;
  const { range } = comfortPeriod(from, to, timezone, { from: 'hier', to: 'aujourdhui' });
  const end = Math.max(range.from, Math.min(range.to, now));
  const progress = await repository.progressOf(uai);
  if (progress !== undefined && progress > range.from) return true;
  const first = await repository.firstSampleOf(uai, range.from - telemetry.settings.holdMs);
  return first !== undefined && first < end;
}

/**
 * The overview's comfort alerts of one school (issue 18): a region's overview asks for every
 * school at each view, and each report plans the school's two days and reads their samples
 * (milliseconds each, seconds for 350). So the overview serves the alerts computed at most
 * `OVERVIEW_COMFORT_REUSE_MS` (+ up to as much again, spread by school so that a region's
 * refreshes do not all fall on one view) ago, and an older one while a refresh runs behind it;
 * the first view of a school, or of a new day, computes them. The school's own page computes them
 * afresh (`comfortAlerts`). Gateways report every 5 minutes: a minute or two is within one report.
 */
export async function overviewComfortAlerts(
  deps: Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>,
  devices: LoadedDevices,
): Promise<ComfortAlert[]> {
  const telemetry = deps.telemetry;
  if (!telemetry) return [];
  const school = devices.value.school;
  const now = deps.clock.now();
  const key = `${school.uai}|${localDate(now, school.timezone)}|${devices.file}`;
  const cache = overviewCaches.get(telemetry.repository) ?? new Map<string, OverviewEntry>();
  overviewCaches.set(telemetry.repository, cache);
  const known = cache.get(key);
  if (known) {
    if (!known.refreshing && now - known.at >= reuseMsOf(school.uai)) {
      known.refreshing = true;
      refreshInTurn(cache, () =>
        comfortAlerts(deps, devices).then(
          (alerts) =>
            remember(cache, key, {
              at: deps.clock.now(),
              alerts: Promise.resolve(alerts),
              refreshing: false,
            }),
          // The stale alerts stay; the next view tries again (the school's page shows the error).
          () => {
            known.refreshing = false;
          },
        ),
      );
    }
    return known.alerts;
  }
  const alerts = comfortAlerts(deps, devices);
  // Concurrent first views share one computation; a failed one is forgotten.
  const entry: OverviewEntry = { at: now, alerts, refreshing: false };
  remember(cache, key, entry);
  alerts.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return alerts;
}

interface OverviewEntry {
  at: number;
  alerts: Promise<ComfortAlert[]>;
  refreshing: boolean;
}

export const OVERVIEW_COMFORT_REUSE_MS = 60_000;
/** Entries kept per telemetry store: a region's schools (and yesterday's keys until evicted). */
const OVERVIEW_COMFORT_ENTRIES = 2_048;
const overviewCaches = new WeakMap<object, Map<string, OverviewEntry>>();

function remember(cache: Map<string, OverviewEntry>, key: string, entry: OverviewEntry): void {
  cache.delete(key);
  cache.set(key, entry);
  while (cache.size > OVERVIEW_COMFORT_ENTRIES) cache.delete(cache.keys().next().value as string);
}

/**
 * The refreshes behind the views, one school at a time with a turn of the event loop between
 * them: a view after a few quiet minutes finds every school's alerts old, and 350 refreshes
 * started at once (each plans two or three days) held that view 7–16 s on a loaded machine
 * (docs/performance.md, "Region dashboard"); in turn, a view waits for one at most.
 */
function refreshInTurn(cache: object, refresh: () => Promise<void>): void {
  let queue = refreshQueues.get(cache);
  if (!queue) {
    queue = { pending: [], running: false };
    refreshQueues.set(cache, queue);
  }
  queue.pending.push(refresh);
  if (queue.running) return;
  queue.running = true;
  const turn = queue;
  void (async () => {
    for (let next = turn.pending.shift(); next !== undefined; next = turn.pending.shift()) {
      await next();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    turn.running = false;
  })();
}

const refreshQueues = new WeakMap<object, { pending: Array<() => Promise<void>>; running: boolean }>();

/** 60 to 120 s, fixed per school (a hash of its UAI). */
function reuseMsOf(uai: string): number {
  let hash = 0;
  for (let i = 0; i < uai.length; i++) hash = (hash * 31 + uai.charCodeAt(i)) >>> 0;
  return OVERVIEW_COMFORT_REUSE_MS + (hash % 60) * 1_000;
}
