/**
 * Occupancy of a zone = union of its rooms' intervals (rules.md: "a zone is occupied when any of
 * its rooms is"). Rooms are matched by timetable id or name, as devices/ allows either.
 *
 * A region's week unites ~14 k zones of ~250 intervals, so both functions avoid redoing work:
 * rooms' intervals come sorted (RoomOccupancy) and are merged as sorted lists, and an input that
 * is already a union is returned as it is. The result shares interval objects and lesson arrays
 * with the input where they are already in their final form: treat both as read-only.
 */
import type { Zone } from '../devices/schema.js';
import type { OccupancyInterval, RoomOccupancy } from '../domain/occupancy.js';

/** Sorted, merged intervals (touching ones joined), with their lesson ids united and sorted. */
export function zoneOccupancy(
  rooms: readonly RoomOccupancy[],
  zone: Pick<Zone, 'rooms'>,
): OccupancyInterval[] {
  const wanted = new Set(zone.rooms);
  const lists: (readonly OccupancyInterval[])[] = [];
  for (const room of rooms) {
    if (wanted.has(room.room) || wanted.has(room.name)) lists.push(room.intervals);
  }
  if (lists.length === 1) return unionIntervals(lists[0] as readonly OccupancyInterval[]);
  if (lists.every(isSortedByStart)) return known(uniteSortedLists(lists));
  return unionIntervals(lists.flat());
}

/** Sorted, merged intervals (touching ones joined), empty ones dropped, lesson ids united and sorted. */
export function unionIntervals(intervals: readonly OccupancyInterval[]): OccupancyInterval[] {
  // The planner unites what `zoneOccupancy` already united: checking costs far less than redoing.
  if (isUnion(intervals)) return known(intervals.slice());
  return known(uniteSortedLists([[...intervals].sort((a, b) => a.start - b.start || a.end - b.end)]));
}

/**
 * Arrays these functions returned: unions by construction, so the planner takes its window of
 * one with a binary search instead of checking and copying it whole (a region's week plans
 * ~14 k zones). Treated as read-only, like the intervals they share.
 */
const unions = new WeakSet<readonly OccupancyInterval[]>();

function known(union: OccupancyInterval[]): OccupancyInterval[] {
  unions.add(union);
  return union;
}

/**
 * The union of the intervals that end after `from - slack` and start before `to + slack`: the
 * same as `unionIntervals` of those intervals, found by binary search when `intervals` is already
 * a union (sorted and disjoint, so both starts and ends grow).
 */
export function unionWithin(
  intervals: readonly OccupancyInterval[],
  from: number,
  to: number,
  slack: number,
): OccupancyInterval[] {
  if (!unions.has(intervals) && !isUnion(intervals)) {
    return unionIntervals(intervals.filter((i) => i.end + slack > from && i.start - slack < to));
  }
  return known(windowOf(intervals, from - slack, to + slack));
}

/**
 * The intervals that end after `from` and start before `to`, in their order: found by binary
 * search in an array `zoneOccupancy` or `unionIntervals` returned, filtered otherwise.
 */
export function intervalsWithin(
  intervals: readonly OccupancyInterval[],
  from: number,
  to: number,
): OccupancyInterval[] {
  if (!unions.has(intervals)) return intervals.filter((i) => i.end > from && i.start < to);
  return windowOf(intervals, from, to);
}

/** `intervals` sorted with growing ends: those ending after `from` and starting before `to`. */
function windowOf(intervals: readonly OccupancyInterval[], from: number, to: number): OccupancyInterval[] {
  let lo = 0;
  let hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((intervals[mid] as OccupancyInterval).end > from) hi = mid;
    else lo = mid + 1;
  }
  const first = lo;
  hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((intervals[mid] as OccupancyInterval).start < to) lo = mid + 1;
    else hi = mid;
  }
  return intervals.slice(first, lo);
}

/**
 * The union of lists each sorted by start: a merge of the lists, no sort. A run made of one input
 * interval already in its final form is that interval (shared, not copied); other runs are built
 * once they are complete, as whole objects.
 */
function uniteSortedLists(lists: readonly (readonly OccupancyInterval[])[]): OccupancyInterval[] {
  const out: OccupancyInterval[] = [];
  const next = lists.map(() => 0);
  // The current run: its span, its first interval, and the lesson arrays of all of them.
  let runStart = Number.NaN; // NaN: no run yet
  let runEnd = Number.NaN;
  let single: OccupancyInterval | undefined;
  const sources: (readonly string[])[] = [];
  for (;;) {
    let pick = -1;
    let interval: OccupancyInterval | undefined;
    for (let l = 0; l < lists.length; l++) {
      const head = (lists[l] as readonly OccupancyInterval[])[next[l] as number];
      if (head && (!interval || head.start < interval.start)) {
        interval = head;
        pick = l;
      }
    }
    if (!interval) break;
    next[pick] = (next[pick] as number) + 1;
    if (!(interval.end > interval.start)) continue;
    if (interval.start <= runEnd) {
      runEnd = Math.max(runEnd, interval.end);
      single = undefined;
    } else {
      if (!Number.isNaN(runStart)) out.push(run(runStart, runEnd, single, sources));
      runStart = interval.start;
      runEnd = interval.end;
      single = interval;
    }
    if (interval.source) sources.push(interval.source);
  }
  if (!Number.isNaN(runStart)) out.push(run(runStart, runEnd, single, sources));
  return out;
}

/**
 * A complete run, with the union of its intervals' lessons if any of them named lessons; empties
 * `sources`. `single` is the run's only interval, if it had one.
 */
function run(
  start: number,
  end: number,
  single: OccupancyInterval | undefined,
  sources: (readonly string[])[],
): OccupancyInterval {
  if (sources.length === 0) return single && single.source === undefined ? single : { start, end };
  const [first, second] = sources as [readonly string[], readonly string[] | undefined];
  let source: string[];
  if (sources.length === 1 && isSortedUnique(first)) {
    if (single && single.source === first) {
      sources.length = 0;
      return single;
    }
    source = first as string[];
  } else if (sources.length === 2 && second && isSortedUnique(first) && isSortedUnique(second)) {
    // The common case of two rooms booked together: a linear merge of two sorted lists.
    source = uniteSorted(first, second);
  } else if (sources.every(isSortedUnique)) {
    // Lessons one after the other in two rooms: merged two lists at a time, no sort.
    source = sources.reduce(uniteSorted) as string[];
  } else {
    source = [...new Set(sources.flat())].sort();
  }
  sources.length = 0;
  return { start, end, source };
}

/** The sorted union of two sorted lists without duplicates (string order, as `sort()`). */
function uniteSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x <= y) {
      out.push(x);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++] as string);
  while (j < b.length) out.push(b[j++] as string);
  return out;
}

/** Already what `unionIntervals` returns: sorted, disjoint and not touching, sources sorted and unique. */
function isUnion(intervals: readonly OccupancyInterval[]): boolean {
  let previousEnd = Number.NEGATIVE_INFINITY;
  for (const i of intervals) {
    if (!(i.end > i.start) || !(i.start > previousEnd)) return false;
    if (i.source && !isSortedUnique(i.source)) return false;
    previousEnd = i.end;
  }
  return true;
}

function isSortedByStart(intervals: readonly OccupancyInterval[]): boolean {
  for (let n = 1; n < intervals.length; n++) {
    if ((intervals[n] as OccupancyInterval).start < (intervals[n - 1] as OccupancyInterval).start)
      return false;
  }
  return true;
}

function isSortedUnique(list: readonly string[]): boolean {
  for (let n = 1; n < list.length; n++) if (!((list[n - 1] as string) < (list[n] as string))) return false;
  return true;
}
