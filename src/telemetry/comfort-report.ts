import { localDatePeriod } from '../calendar/local-date-period.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { LEGAL_CAPS } from '../rules/schema.js';
import {
  addMonths,
  monthKey,
  monthStart,
  type StoredStart,
  type TelemetryFigures,
  type TelemetryRepository,
} from '../store/telemetry-repository.js';
import { type ComfortSettings, computeComfort, START_AFTER_UNOCCUPIED_MS } from './comfort.js';
import { type PlanFor, planWindow } from './plan-window.js';

/** Longest period: a school year with its margins. */
export const MAX_COMFORT_DAYS = 366;

export interface ComfortPeriod {
  from: string;
  /** Inclusive. */
  to: string;
  range: { from: number; to: number };
}

/** Local dates `from`..`to` (inclusive) as `[midnight of from, midnight after to)`; `where` names the inputs. */
export function comfortPeriod(
  from: string | undefined,
  to: string | undefined,
  timezone: string,
  where: { from: string; to: string },
): ComfortPeriod {
  const { days: _days, ...period } = localDatePeriod(from, to, timezone, where, MAX_COMFORT_DAYS);
  return period;
}

export interface ComfortStartBody {
  at: string;
  target_c: number | null;
  measured_c: number | null;
  cold: boolean;
}

export interface ZoneComfortBody {
  zone: string;
  name: string;
  occupied_minutes: number;
  measured_minutes: number;
  cold_minutes: number;
  overheated_minutes: number;
  unmeasured_minutes: number;
  starts: number;
  cold_starts: number;
  min_c: number | null;
  mean_c: number | null;
  max_c: number | null;
  occupancy_starts: ComfortStartBody[];
}

export interface ComfortBody {
  uai: string;
  name: string;
  from: string;
  to: string;
  timezone: string;
  function: 'heating';
  definitions: {
    hold_minutes: number;
    cold_tolerance_c: number;
    overheat_tolerance_c: number;
    overheat_cap_c: number;
    start_after_unoccupied_minutes: number;
  };
  /** Figures cover the period up to this instant (now, for a period not over yet). */
  computed_until: string;
  /** Hours before this instant come from the stored hourly aggregates; null: none yet. */
  aggregated_until: string | null;
  zones: ZoneComfortBody[];
}

export interface ComfortReportInput {
  repository: Pick<
    TelemetryRepository,
    'hourlySums' | 'monthlySums' | 'startsOf' | 'progressOf' | 'samplesOf'
  >;
  planFor: PlanFor;
  settings: ComfortSettings;
  clock: Clock;
  school: { uai: string; name: string; timezone: string };
  /** Zones with heating, in devices/ order. */
  zones: readonly { id: string; name: string }[];
  period: ComfortPeriod;
  zone?: string;
}

/** The zones of a school with heating, in devices/ order: the zones a comfort report covers. */
export function heatedZones(devices: LoadedDevices): { id: string; name: string }[] {
  return devices.value.zones
    .filter((z) => z.functions.includes('heating'))
    .map((z) => ({ id: z.id, name: z.name }));
}

/** `zone` when it names a heated zone of the school; InputError at `where` otherwise. */
export function heatedZoneOf(
  devices: LoadedDevices,
  zone: string | undefined,
  where: string,
): string | undefined {
  if (zone === undefined) return undefined;
  if (!devices.value.zones.some((z) => z.id === zone && z.functions.includes('heating')))
    throw InputError.of(
      'unknown-zone',
      `no heated zone ${zone} in ${devices.value.school.uai}`,
      where,
      'invalid',
    );
  return zone;
}

/** Minutes with two decimals. */
export const minutes = (ms: number): number => Math.round(ms / 600) / 100;
const tenth = (c: number | null): number | null => (c === null ? null : Math.round(c * 100) / 100);

/**
 * The stored figures of the aggregated `[from, to)` (hour-aligned): whole UTC months from the
 * monthly roll-up (written with their hours, in one transaction), the hours before the first and
 * after the last whole month from the hourly rows. Each is a list per zone, to be added.
 */
async function storedSums(
  repository: ComfortReportInput['repository'],
  uai: string,
  from: number,
  to: number,
  zones: string | readonly string[],
): Promise<TelemetryFigures[]> {
  const zone = typeof zones === 'string' ? zones : undefined;
  const firstMonth = monthStart(from) === from ? from : addMonths(from, 1);
  const lastMonth = monthStart(to);
  if (!(firstMonth < lastMonth)) return repository.hourlySums(uai, 'heating', from, to, zones);
  const parts = await Promise.all([
    from < firstMonth ? repository.hourlySums(uai, 'heating', from, firstMonth, zones) : [],
    repository.monthlySums(uai, 'heating', monthKey(firstMonth), monthKey(lastMonth), zone),
    lastMonth < to ? repository.hourlySums(uai, 'heating', lastMonth, to, zones) : [],
  ]);
  return parts.flat();
}

/** Figures of disjoint periods added (min/max kept, the mean weighted by measured time). */
function addSums(a: TelemetryFigures, b: TelemetryFigures): TelemetryFigures {
  const measuredMs = a.measuredMs + b.measuredMs;
  const pick = (x: number | null, y: number | null, f: (u: number, v: number) => number) =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    ...a,
    minC: pick(a.minC, b.minC, Math.min),
    maxC: pick(a.maxC, b.maxC, Math.max),
    meanC:
      measuredMs > 0 ? ((a.meanC ?? 0) * a.measuredMs + (b.meanC ?? 0) * b.measuredMs) / measuredMs : null,
    occupiedMs: a.occupiedMs + b.occupiedMs,
    measuredMs,
    occupiedMeasuredMs: a.occupiedMeasuredMs + b.occupiedMeasuredMs,
    coldMs: a.coldMs + b.coldMs,
    overheatedMs: a.overheatedMs + b.overheatedMs,
    unmeasuredMs: a.unmeasuredMs + b.unmeasuredMs,
    starts: a.starts + b.starts,
    coldStarts: a.coldStarts + b.coldStarts,
  };
}

export async function comfortReport(input: ComfortReportInput): Promise<ComfortBody> {
  const { repository, settings, school, period } = input;
  const end = Math.max(period.range.from, Math.min(period.range.to, input.clock.now()));
  const progress = await repository.progressOf(school.uai);
  const split = Math.min(Math.max(progress ?? period.range.from, period.range.from), end);
  const zones = input.zone === undefined ? input.zones : input.zones.filter((z) => z.id === input.zone);

  const stored = new Map<string, TelemetryFigures>();
  const starts = new Map<string, StoredStart[]>();
  if (split > period.range.from) {
    const zoneIds = input.zone ?? zones.map((z) => z.id);
    for (const sums of await storedSums(repository, school.uai, period.range.from, split, zoneIds)) {
      const before = stored.get(sums.zone);
      stored.set(sums.zone, before ? addSums(before, sums) : sums);
    }
    for (const start of await repository.startsOf(
      school.uai,
      'heating',
      period.range.from,
      split,
      input.zone,
    )) {
      const list = starts.get(start.zone) ?? [];
      list.push({ at: start.at, target_c: start.target_c, measured_c: start.measured_c, cold: start.cold });
      starts.set(start.zone, list);
    }
  }
  const live = new Map<string, ReturnType<typeof computeComfort>>();
  if (end > split) {
    const windows = await planWindow(input.planFor, school.uai, school.timezone, {
      from: split - START_AFTER_UNOCCUPIED_MS,
      to: end,
    });
    const samples = await repository.samplesOf(school.uai, split - settings.holdMs, end, input.zone);
    for (const zone of zones) {
      const window = windows.get(zone.id);
      live.set(
        zone.id,
        computeComfort({
          range: { from: split, to: end },
          occupied: window?.occupied ?? [],
          segments: window?.segments.get('heating') ?? [],
          samples: samples.filter((s) => s.zone === zone.id && s.function === 'heating'),
          settings,
        }),
      );
    }
  }

  return {
    uai: school.uai,
    name: school.name,
    from: period.from,
    to: period.to,
    timezone: school.timezone,
    function: 'heating',
    definitions: {
      hold_minutes: settings.holdMs / 60_000,
      cold_tolerance_c: settings.coldToleranceC,
      overheat_tolerance_c: settings.overheatToleranceC,
      overheat_cap_c: LEGAL_CAPS.occupied.max_c,
      start_after_unoccupied_minutes: START_AFTER_UNOCCUPIED_MS / 60_000,
    },
    computed_until: new Date(end).toISOString(),
    aggregated_until: progress === undefined ? null : new Date(progress).toISOString(),
    zones: zones.map((zone) => {
      const a = stored.get(zone.id);
      const b = live.get(zone.id);
      const startList: StoredStart[] = [...(starts.get(zone.id) ?? []), ...(b?.starts ?? [])];
      const measuredA = a?.measuredMs ?? 0;
      const measuredB = b?.measuredMs ?? 0;
      const pick = (
        x: number | null | undefined,
        y: number | null | undefined,
        f: (u: number, v: number) => number,
      ) => (x === null || x === undefined ? (y ?? null) : y === null || y === undefined ? x : f(x, y));
      return {
        zone: zone.id,
        name: zone.name,
        occupied_minutes: minutes((a?.occupiedMs ?? 0) + (b?.occupiedMs ?? 0)),
        measured_minutes: minutes((a?.occupiedMeasuredMs ?? 0) + (b?.occupiedMeasuredMs ?? 0)),
        cold_minutes: minutes((a?.coldMs ?? 0) + (b?.coldMs ?? 0)),
        overheated_minutes: minutes((a?.overheatedMs ?? 0) + (b?.overheatedMs ?? 0)),
        unmeasured_minutes: minutes((a?.unmeasuredMs ?? 0) + (b?.unmeasuredMs ?? 0)),
        starts: startList.length,
        cold_starts: startList.filter((s) => s.cold).length,
        min_c: tenth(pick(a?.minC, b?.minC, Math.min)),
        mean_c: tenth(
          measuredA + measuredB > 0
            ? ((a?.meanC ?? 0) * measuredA + (b?.meanC ?? 0) * measuredB) / (measuredA + measuredB)
            : null,
        ),
        max_c: tenth(pick(a?.maxC, b?.maxC, Math.max)),
        occupancy_starts: startList.map((s) => ({
          at: new Date(s.at).toISOString(),
          target_c: s.target_c,
          measured_c: s.measured_c,
          cold: s.cold,
        })),
      };
    }),
  };
}
