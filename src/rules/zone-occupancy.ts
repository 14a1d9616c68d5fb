/**
 * Occupancy of a zone = union of its rooms' intervals (rules.md: "a zone is occupied when any of
 * its rooms is"). Rooms are matched by timetable id or name, as devices/ allows either.
 */
import type { Zone } from '../devices/schema.js';
import type { OccupancyInterval, RoomOccupancy } from '../domain/occupancy.js';

/** Sorted, merged intervals (touching ones joined), with their lesson ids united and sorted. */
export function zoneOccupancy(
  rooms: readonly RoomOccupancy[],
  zone: Pick<Zone, 'rooms'>,
): OccupancyInterval[] {
  const wanted = new Set(zone.rooms);
  const all: OccupancyInterval[] = [];
  for (const room of rooms) {
    if (wanted.has(room.room) || wanted.has(room.name)) all.push(...room.intervals);
  }
  return unionIntervals(all);
}

export function unionIntervals(intervals: readonly OccupancyInterval[]): OccupancyInterval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: { start: number; end: number; source?: Set<string> }[] = [];
  for (const interval of sorted) {
    const last = out[out.length - 1];
    if (last && interval.start <= last.end) {
      last.end = Math.max(last.end, interval.end);
      if (interval.source) {
        last.source ??= new Set();
        for (const s of interval.source) last.source.add(s);
      }
    } else {
      const next: { start: number; end: number; source?: Set<string> } = {
        start: interval.start,
        end: interval.end,
      };
      if (interval.source) next.source = new Set(interval.source);
      out.push(next);
    }
  }
  return out.map((i) =>
    i.source ? { start: i.start, end: i.end, source: [...i.source].sort() } : { start: i.start, end: i.end },
  );
}
