/**
 * Timetable version → room occupancy over a range of local dates (inclusive): every lesson
 * occurrence becomes a UTC interval, cancelled occurrences and closed dates (zone holidays and
 * public holidays) are removed, one-off events are added, and each room's intervals are merged
 * (overlapping or touching intervals become one). Pure; see docs/calendar.md.
 *
 * Hot-path shape (docs/performance.md, "luxon"): the timetable is compiled once to numbers (occurrences
 * indexed by day), the zone's days come from a shared table, and the loop over the range's
 * occurrences is arithmetic on epoch ms.
 */
import type { Occupancy, OccupancyInterval, RoomOccupancy } from '../domain/occupancy.js';
import { InputError } from '../domain/problems.js';
import type { Timetable } from '../domain/timetable.js';
import { compileTimetable } from './compiled-timetable.js';
import { dayNumberOfIso } from './day-number.js';
import type { SchoolCalendar } from './school-calendar.js';
import { zoneDays } from './zone-days.js';

export interface OccupancyRange {
  /** First local date, `YYYY-MM-DD`, inclusive. */
  from: string;
  /** Last local date, inclusive. */
  to: string;
}

export interface ExpandOptions {
  /** Keep the lesson ids (and `event:<id>`) behind each interval: purpose `ent` and audit only. */
  includeSources?: boolean;
}

/** One room's intervals while expanding: parallel arrays, merged on the fly while in order. */
class RoomIntervals {
  starts: number[] = [];
  ends: number[] = [];
  sources: Array<Set<string>> | null;
  /** False once an interval arrived before the previous one (switch days, events). */
  ordered = true;

  constructor(withSources: boolean) {
    this.sources = withSources ? [] : null;
  }

  add(start: number, end: number, source: string | null): void {
    const last = this.starts.length - 1;
    if (last >= 0 && this.ordered) {
      const lastStart = this.starts[last] as number;
      if (start >= lastStart && start <= (this.ends[last] as number)) {
        if (end > (this.ends[last] as number)) this.ends[last] = end;
        if (source !== null) this.sources?.[last]?.add(source);
        return;
      }
      if (start < lastStart) this.ordered = false;
    }
    this.starts.push(start);
    this.ends.push(end);
    if (this.sources && source !== null) this.sources.push(new Set([source]));
  }

  /** Sorted, merged intervals: the union of everything added. */
  finish(): OccupancyInterval[] {
    const count = this.starts.length;
    let order: number[] | null = null;
    if (!this.ordered) {
      order = Array.from({ length: count }, (_, i) => i);
      order.sort((a, b) => (this.starts[a] as number) - (this.starts[b] as number));
    }
    const intervals: OccupancyInterval[] = [];
    let merged: Set<string> | null = null;
    for (let n = 0; n < count; n++) {
      const i = order ? (order[n] as number) : n;
      const start = this.starts[i] as number;
      const end = this.ends[i] as number;
      const previous = intervals[intervals.length - 1];
      if (previous && start <= previous.end) {
        if (end > previous.end) previous.end = end;
        if (merged) for (const s of this.sources?.[i] ?? []) merged.add(s);
        continue;
      }
      if (previous && merged) previous.source = [...merged].sort();
      intervals.push({ start, end });
      merged = this.sources ? new Set(this.sources[i]) : null;
    }
    const last = intervals[intervals.length - 1];
    if (last && merged) last.source = [...merged].sort();
    return intervals;
  }
}

function parseRange(range: OccupancyRange): { firstDay: number; lastDay: number } {
  const firstDay = dayNumberOfIso(range.from);
  const lastDay = dayNumberOfIso(range.to);
  if (Number.isNaN(firstDay))
    throw InputError.of('bad-range', `"${range.from}" is not a date YYYY-MM-DD`, 'from', 'malformed');
  if (Number.isNaN(lastDay))
    throw InputError.of('bad-range', `"${range.to}" is not a date YYYY-MM-DD`, 'to', 'malformed');
  if (lastDay < firstDay)
    throw InputError.of('bad-range', `"to" (${range.to}) is before "from" (${range.from})`, 'to', 'invalid');
  return { firstDay, lastDay };
}

export function expandOccupancy(
  timetable: Timetable,
  version: number,
  uai: string,
  calendar: SchoolCalendar,
  range: OccupancyRange,
  options: ExpandOptions = {},
): Occupancy {
  const { firstDay, lastDay } = parseRange(range);
  const withSources = options.includeSources === true;
  const compiled = compileTimetable(timetable);
  const days = zoneDays(compiled.timezone, firstDay, lastDay);
  const dayCount = days.length;

  const open = new Uint8Array(dayCount);
  for (let i = 0; i < dayCount; i++) open[i] = calendar.closureOfDay(firstDay + i) === null ? 1 : 0;

  const { occurrences, dayStart, startMinutes, endMinutes, roomStart, lessonRooms, cancelled } = compiled;
  const anyCancelled = cancelled.size > 0;
  const rooms = compiled.rooms.map(() => new RoomIntervals(withSources));
  let unassigned = 0;
  for (let i = 0; i < dayCount; i++) {
    const day = firstDay + i;
    const d = day - compiled.firstDay;
    if (open[i] === 0 || d < 0 || d >= dayStart.length - 1) continue;
    for (let k = dayStart[d] as number, end = dayStart[d + 1] as number; k < end; k++) {
      const l = occurrences[k] as number;
      if (l < 0) continue;
      if (anyCancelled && cancelled.get(l)?.has(day)) continue;
      const start = days.instant(i, startMinutes[l] as number);
      const stop = days.instant(i, endMinutes[l] as number);
      // A lesson inside a spring-forward gap can become empty: it occupies nothing.
      if (stop <= start) continue;
      const firstRoom = roomStart[l] as number;
      const lastRoom = roomStart[l + 1] as number;
      if (firstRoom === lastRoom) {
        unassigned++;
        continue;
      }
      const source = withSources ? (compiled.lessonIds[l] as string) : null;
      for (let r = firstRoom; r < lastRoom; r++)
        (rooms[lessonRooms[r] as number] as RoomIntervals).add(start, stop, source);
    }
  }

  // One-off events are instants already: clipped to the range, never removed by closures (a
  // booking during the holidays is deliberate).
  const roomIndex = timetable.events.length > 0 ? new Map(compiled.rooms.map((r, i) => [r.id, i])) : null;
  timetable.events.forEach((event, e) => {
    const start = Math.max(Date.parse(event.start), days.startMs);
    const end = Math.min(Date.parse(event.end), days.endMs);
    if (!(end > start)) return;
    const source = withSources ? `event:${event.id ?? e}` : null;
    for (const id of event.rooms) {
      const index = roomIndex?.get(id);
      if (index !== undefined) (rooms[index] as RoomIntervals).add(start, end, source);
    }
  });

  const occupancy: RoomOccupancy[] = compiled.rooms.map((room, i) => ({
    room: room.id,
    name: room.name,
    intervals: (rooms[i] as RoomIntervals).finish(),
  }));
  return {
    uai,
    version,
    timezone: compiled.timezone,
    from: range.from,
    to: range.to,
    rooms: occupancy,
    unassigned,
  };
}
