/**
 * Local wall-clock time → UTC instant, fast and exact (architecture.md "Time model",
 * docs/performance.md, "luxon"). luxon is used once per day of a range to learn the zone's UTC offset; a
 * lesson instant is then plain arithmetic: the day's wall-clock midnight read as UTC, plus the
 * minutes, minus the day's offset. Only on days whose offset changes (the two DST switch days of
 * a year in Europe/Paris) does each time go through the exact rule below.
 *
 * Rule for wall-clock times that do not exist or exist twice (docs/calendar.md):
 * - a time inside a spring-forward gap moves forward by the gap (02:30 → 03:30 CEST);
 * - a time inside an autumn overlap takes the earlier instant (the first 02:30, still CEST).
 * luxon's own `fromObject` answers the overlap from a guess that depends on the current date, so
 * the rule is applied here explicitly with the zone's offset function.
 */
import { DateTime, IANAZone } from 'luxon';
import { type CivilDate, civilOf, MS_PER_DAY, MS_PER_MINUTE } from './day-number.js';

/** UTC offset in minutes of `zone` at an instant. */
function offsetAt(zone: IANAZone, instant: number): number {
  return zone.offset(instant);
}

/**
 * The exact instant of a local wall-clock time: `wall` is the local date-time read as if it were
 * UTC (day number × day + minutes). Tries the offsets in force a day before and a day after (a
 * zone changes offset at most once in 48 hours): a candidate is valid when the zone really has
 * that offset at the resulting instant.
 */
export function exactInstant(zone: IANAZone, wall: number): number {
  const before = offsetAt(zone, wall - MS_PER_DAY);
  const after = offsetAt(zone, wall + MS_PER_DAY);
  const first = wall - before * MS_PER_MINUTE;
  const firstValid = offsetAt(zone, first) === before;
  if (before === after) return firstValid ? first : wall - offsetAt(zone, first) * MS_PER_MINUTE;
  const second = wall - after * MS_PER_MINUTE;
  const secondValid = offsetAt(zone, second) === after;
  if (firstValid && secondValid) return Math.min(first, second); // overlap: the earlier instant
  if (firstValid) return first;
  if (secondValid) return second;
  // Gap: read with the offset before the switch, which lands after it (moved forward by the gap).
  return first;
}

const zones = new Map<string, IANAZone>();

/** A validated IANA zone, cached (luxon's zone objects are immutable). */
export function ianaZone(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = IANAZone.create(name);
    if (!zone.isValid) throw new RangeError(`unknown time zone: ${name}`);
    zones.set(name, zone);
  }
  return zone;
}

/**
 * The local days `firstDay` … `lastDay` (day numbers) of one zone: each day's UTC offset when it
 * is the same all day, or a flag sending its times through `exactInstant`. Built once per
 * (zone, range) and shared by every school of the zone.
 */
export class ZoneDays {
  readonly timezone: string;
  readonly firstDay: number;
  readonly length: number;
  /** Offset in ms for uniform days; NaN on switch days. */
  private readonly offsetMs: Float64Array;
  private readonly zone: IANAZone;
  /** Instant of the first local moment of `firstDay` (inclusive bound of the range). */
  readonly startMs: number;
  /** Instant of the first local moment of the day after `lastDay` (exclusive bound). */
  readonly endMs: number;

  constructor(timezone: string, firstDay: number, lastDay: number) {
    this.timezone = timezone;
    this.zone = ianaZone(timezone);
    this.firstDay = firstDay;
    this.length = Math.max(0, lastDay - firstDay + 1);
    this.offsetMs = new Float64Array(this.length);
    // luxon at the edge: the offset in force at each local midnight, day after the range included.
    const midnight = (day: number) => {
      const civil: CivilDate = civilOf(day);
      return DateTime.fromObject(
        { year: civil.year, month: civil.month, day: civil.day },
        { zone: this.zone },
      );
    };
    let current = midnight(firstDay);
    for (let i = 0; i < this.length; i++) {
      const next = midnight(firstDay + i + 1);
      // Uniform when midnight exists (not skipped by a switch at 00:00) and the next midnight has
      // the same offset: the offset cannot have changed in between (one change per 48 h at most).
      const uniform = current.hour === 0 && current.minute === 0 && current.offset === next.offset;
      this.offsetMs[i] = uniform ? current.offset * MS_PER_MINUTE : Number.NaN;
      current = next;
    }
    this.startMs = exactInstant(this.zone, firstDay * MS_PER_DAY);
    this.endMs = exactInstant(this.zone, (firstDay + this.length) * MS_PER_DAY);
  }

  /** Whether day `index` (0-based from `firstDay`) has one UTC offset all day. */
  isUniform(index: number): boolean {
    return !Number.isNaN(this.offsetMs[index] as number);
  }

  /** UTC instant of local wall-clock `minutes` (0–1439, or 1440 for the end of the day) on day `index`. */
  instant(index: number, minutes: number): number {
    const offset = this.offsetMs[index] as number;
    const wall = (this.firstDay + index) * MS_PER_DAY + minutes * MS_PER_MINUTE;
    // NaN marks a switch day: the exact rule, for that day only.
    return Number.isNaN(offset) ? exactInstant(this.zone, wall) : wall - offset;
  }
}

const tables = new Map<string, ZoneDays>();
const MAX_TABLES = 32;

/** The shared table of a (zone, range): built on first use, kept for the next schools. */
export function zoneDays(timezone: string, firstDay: number, lastDay: number): ZoneDays {
  const key = `${timezone}|${firstDay}|${lastDay}`;
  let table = tables.get(key);
  if (!table) {
    table = new ZoneDays(timezone, firstDay, lastDay);
    if (tables.size >= MAX_TABLES) tables.delete(tables.keys().next().value as string);
    tables.set(key, table);
  } else {
    // Refresh recency so the oldest unused table is the one dropped.
    tables.delete(key);
    tables.set(key, table);
  }
  return table;
}
