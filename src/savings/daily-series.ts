/**
 * Daily series for measured savings (docs/savings.md, "Measured savings"): a meter's readings →
 * energy per local day, and outdoor readings (or the monthly normals) → heating degree-days per
 * local day. A day the data does not cover is `null` with the reason, never a guess. Pure.
 *
 * Index readings (a cumulative counter in kWh) are interpolated linearly to each local midnight
 * between the two readings around it, when they are at most `MAX_BRACKET_MS` apart; a day's energy
 * is the difference of its two midnights. A counter that goes down is a rollover when it wrapped
 * from just under a power of ten to near zero (the counter's capacity: the step is completed
 * across the wrap), else a reset (meter exchange, counter cleared): no day is computed across it.
 * Interval readings (the energy of `[period_from, ts)`, the shape of supplier exports) are shared
 * out in proportion to time over the days they overlap, when at most `MAX_BRACKET_MS` long.
 */
import { dayNumberOfIso, isoOfDayNumber, zoneDays } from '../calendar/index.js';

/** Longest gap bridged by interpolation, and longest interval shared out over days. */
export const MAX_BRACKET_MS = 48 * 3_600_000;
/**
 * Heating degree-days base (°C): 18 °C, the base of the French DJU "chauffage" (Météo-France,
 * COSTIC), the base docs/savings.md's model step 1 already uses.
 */
export const HDD_BASE_C = 18;
/** A day's outdoor mean from the sensor needs samples in at least this many of its hours. */
export const MIN_OUTDOOR_HOURS = 18;

export interface MeterReading {
  /** Epoch ms (UTC) of the reading, or of the end of the interval. */
  ts: number;
  kind: 'index' | 'interval';
  /** Index: the counter in kWh; interval: kWh consumed over `[periodFrom, ts)`. */
  valueKwh: number;
  /** Interval readings only: start of the interval, epoch ms. */
  periodFrom?: number | null;
}

export type DayGap = 'no-reading' | 'gap' | 'index-reset' | 'interval-too-long';

export interface DayEnergy {
  date: string;
  kwh: number | null;
  missing?: DayGap;
}

export interface IndexEvent {
  /** ISO 8601 UTC of the reading after the drop. */
  at: string;
  kind: 'reset' | 'rollover';
  from_kwh: number;
  to_kwh: number;
}

export interface MeterDays {
  days: DayEnergy[];
  /** Index drops found in the readings, flagged. */
  events: IndexEvent[];
}

interface Point {
  ts: number;
  /** Index with rollovers unwrapped. */
  value: number;
  /** Readings of one segment can be interpolated; a reset starts a new segment. */
  segment: number;
}

/** Energy per local day `from`..`to` (inclusive, YYYY-MM-DD) from one meter's readings. */
export function meterDays(
  readings: readonly MeterReading[],
  timezone: string,
  from: string,
  to: string,
): MeterDays {
  const first = dayNumberOfIso(from);
  const last = dayNumberOfIso(to);
  const table = zoneDays(timezone, first, last + 1);
  const midnights = Array.from({ length: last - first + 2 }, (_, i) => table.instant(i, 0));
  const { points, events } = unwrapIndex(readings.filter((r) => r.kind === 'index'));
  const index = midnights.map((m) => indexAt(points, m));
  const intervals = intervalDays(
    readings.filter((r) => r.kind === 'interval'),
    midnights,
  );
  const days: DayEnergy[] = [];
  for (let i = 0; i <= last - first; i++) {
    const date = isoOfDayNumber(first + i);
    const a = index[i] as IndexAt;
    const b = index[i + 1] as IndexAt;
    if (a.ok && b.ok && a.segment === b.segment) {
      days.push({ date, kwh: b.value - a.value });
      continue;
    }
    const fromIntervals = intervals[i] as DayEnergy['kwh'] | DayGap;
    if (typeof fromIntervals === 'number') {
      days.push({ date, kwh: fromIntervals });
      continue;
    }
    const reason: DayGap =
      a.ok && b.ok
        ? 'index-reset'
        : fromIntervals === 'interval-too-long'
          ? fromIntervals
          : !a.ok && a.reason === 'gap'
            ? 'gap'
            : !b.ok && b.reason === 'gap'
              ? 'gap'
              : 'no-reading';
    days.push({ date, kwh: null, missing: reason });
  }
  return { days, events };
}

function unwrapIndex(readings: readonly MeterReading[]): { points: Point[]; events: IndexEvent[] } {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const points: Point[] = [];
  const events: IndexEvent[] = [];
  let offset = 0;
  let segment = 0;
  let previous: MeterReading | undefined;
  for (const r of sorted) {
    if (previous && r.valueKwh < previous.valueKwh) {
      const capacity = 10 ** Math.ceil(Math.log10(previous.valueKwh + 1));
      const rollover = previous.valueKwh >= 0.9 * capacity && r.valueKwh < 0.1 * capacity;
      events.push({
        at: new Date(r.ts).toISOString(),
        kind: rollover ? 'rollover' : 'reset',
        from_kwh: previous.valueKwh,
        to_kwh: r.valueKwh,
      });
      if (rollover) offset += capacity;
      else {
        segment += 1;
        offset = 0;
      }
    }
    points.push({ ts: r.ts, value: r.valueKwh + offset, segment });
    previous = r;
  }
  return { points, events };
}

type IndexAt = { ok: true; value: number; segment: number } | { ok: false; reason: 'gap' | 'none' };

/** The index at `instant`, interpolated between the readings around it (binary search). */
function indexAt(points: readonly Point[], instant: number): IndexAt {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as Point).ts < instant) lo = mid + 1;
    else hi = mid;
  }
  const after = points[lo];
  if (after && after.ts === instant) return { ok: true, value: after.value, segment: after.segment };
  const before = points[lo - 1];
  if (!before || !after) return { ok: false, reason: 'none' };
  if (after.ts - before.ts > MAX_BRACKET_MS || before.segment !== after.segment)
    return { ok: false, reason: 'gap' };
  const f = (instant - before.ts) / (after.ts - before.ts);
  return { ok: true, value: before.value + f * (after.value - before.value), segment: before.segment };
}

/** Per day: kWh when intervals cover it (≥ 99.9 % of its length), else why not. */
function intervalDays(
  readings: readonly MeterReading[],
  midnights: readonly number[],
): Array<number | DayGap> {
  const days = midnights.length - 1;
  const energy = new Float64Array(days);
  const covered = new Float64Array(days);
  const tooLong = new Uint8Array(days);
  const start = midnights[0] as number;
  const end = midnights[days] as number;
  // Days are at most 25 h: find a day from an instant by a walk, intervals sorted by start.
  const sorted = readings
    .filter((r) => r.periodFrom !== null && r.periodFrom !== undefined && r.ts > (r.periodFrom as number))
    .sort((a, b) => (a.periodFrom as number) - (b.periodFrom as number));
  let day = 0;
  for (const r of sorted) {
    const from = r.periodFrom as number;
    if (r.ts <= start || from >= end) continue;
    while (day > 0 && (midnights[day] as number) > from) day--;
    while (day < days - 1 && (midnights[day + 1] as number) <= from) day++;
    const length = r.ts - from;
    for (let d = day; d < days && (midnights[d] as number) < r.ts; d++) {
      const a = Math.max(from, midnights[d] as number);
      const b = Math.min(r.ts, midnights[d + 1] as number);
      if (b <= a) continue;
      if (length > MAX_BRACKET_MS) {
        tooLong[d] = 1;
        continue;
      }
      energy[d] = (energy[d] as number) + (r.valueKwh * (b - a)) / length;
      covered[d] = (covered[d] as number) + (b - a);
    }
  }
  return Array.from({ length: days }, (_, d) => {
    const span = (midnights[d + 1] as number) - (midnights[d] as number);
    if ((covered[d] as number) >= span * 0.999) return energy[d] as number;
    return tooLong[d] ? 'interval-too-long' : 'no-reading';
  });
}

/** Several meters summed: a day is known only when every meter knows it. */
export function sumMeterDays(series: readonly DayEnergy[][]): DayEnergy[] {
  const first = series[0];
  if (!first) return [];
  return first.map((day, i) => {
    let kwh: number | null = 0;
    let missing: DayGap | undefined;
    for (const s of series) {
      const d = s[i] as DayEnergy;
      if (d.kwh === null) {
        kwh = null;
        missing ??= d.missing;
      } else if (kwh !== null) kwh += d.kwh;
    }
    return kwh === null
      ? { date: day.date, kwh: null, missing: missing ?? 'no-reading' }
      : { date: day.date, kwh };
  });
}

export interface OutdoorReading {
  ts: number;
  temperatureC: number;
}

export interface DayOutdoor {
  date: string;
  /** Daily mean °C, or null when neither the sensor nor normals give one. */
  meanC: number | null;
  /** Heating degree-days, base {@link HDD_BASE_C}: max(0, 18 − mean). */
  hdd: number | null;
  source: 'sensor' | 'normals' | null;
}

/**
 * Daily outdoor means over local days `from`..`to`: the sensor's mean of hourly means when its
 * samples cover at least {@link MIN_OUTDOOR_HOURS} hours of the day, else the month's normal
 * (`normals`: twelve monthly means, January first), else null.
 */
export function outdoorDays(
  readings: readonly OutdoorReading[],
  timezone: string,
  from: string,
  to: string,
  normals: readonly number[] | null,
): DayOutdoor[] {
  const first = dayNumberOfIso(from);
  const last = dayNumberOfIso(to);
  const table = zoneDays(timezone, first, last + 1);
  const midnights = Array.from({ length: last - first + 2 }, (_, i) => table.instant(i, 0));
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const out: DayOutdoor[] = [];
  let k = 0;
  for (let i = 0; i <= last - first; i++) {
    const date = isoOfDayNumber(first + i);
    const a = midnights[i] as number;
    const b = midnights[i + 1] as number;
    while (k < sorted.length && (sorted[k] as OutdoorReading).ts < a) k++;
    // Mean of hourly means, so a sensor reporting every minute at noon does not outweigh the night.
    const hours = new Map<number, { sum: number; n: number }>();
    for (let j = k; j < sorted.length && (sorted[j] as OutdoorReading).ts < b; j++) {
      const r = sorted[j] as OutdoorReading;
      const h = Math.floor((r.ts - a) / 3_600_000);
      const cell = hours.get(h) ?? { sum: 0, n: 0 };
      cell.sum += r.temperatureC;
      cell.n += 1;
      hours.set(h, cell);
    }
    let meanC: number | null = null;
    let source: DayOutdoor['source'] = null;
    if (hours.size >= MIN_OUTDOOR_HOURS) {
      meanC = [...hours.values()].reduce((s, c) => s + c.sum / c.n, 0) / hours.size;
      source = 'sensor';
    } else if (normals) {
      meanC = normals[Number(date.slice(5, 7)) - 1] ?? null;
      source = meanC === null ? null : 'normals';
    }
    out.push({ date, meanC, hdd: meanC === null ? null : Math.max(0, HDD_BASE_C - meanC), source });
  }
  return out;
}
