/**
 * The school's wall clock for the dashboard's labels and ticks, fast enough to call thousands of
 * times per page. luxon's `DateTime.fromMillis(ms, {zone}).toFormat(…)` asks Intl for the zone's
 * offset at every call (~0.1 ms each): the day and week timelines of a school label hundreds of
 * spans, and that alone held the event loop ~100 ms per view (docs/performance.md, "Page cost").
 *
 * Here the offset is asked once per quarter of an hour and zone and kept: every real time zone
 * changes its offset on a quarter-hour boundary (IANA tz database: offsets and transitions are
 * whole minutes, and in practice on :00, :15, :30 or :45), so the offset at a quarter's start
 * holds for the whole quarter, DST switches included.
 */

const QUARTER_MS = 15 * 60_000;
/** Bounded: a year of quarters of one zone is 35,040 entries. */
const MAX_CACHED_QUARTERS = 50_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();

function formatterOf(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** Milliseconds to add to a UTC instant to read the zone's wall clock with `getUTC…`. */
export function offsetMs(ms: number, timezone: string): number {
  const quarter = Math.floor(ms / QUARTER_MS);
  let zone = offsets.get(timezone);
  if (!zone) {
    zone = new Map();
    offsets.set(timezone, zone);
  }
  const known = zone.get(quarter);
  if (known !== undefined) return known;
  const at = quarter * QUARTER_MS;
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timezone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts['year'] ?? 1970,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  const offset = wall - at;
  if (zone.size >= MAX_CACHED_QUARTERS) zone.clear();
  zone.set(quarter, offset);
  return offset;
}

export interface WallClock {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
}

/** The wall-clock fields of instant `ms` in `timezone`. */
export function wallClock(ms: number, timezone: string): WallClock {
  const local = new Date(ms + offsetMs(ms, timezone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    weekday: ((local.getUTCDay() + 6) % 7) + 1,
  };
}

export const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The first instant of each quarter of an hour in [from, to), in order. */
export function* quarters(from: number, to: number): Generator<number> {
  for (let at = Math.ceil(from / QUARTER_MS) * QUARTER_MS; at < to; at += QUARTER_MS) yield at;
}
