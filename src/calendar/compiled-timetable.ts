/**
 * A timetable turned into numbers once (day numbers, minutes, room indices), so that expanding
 * it over any range is arithmetic and binary search. Cached per Timetable object: the same
 * stored version is expanded again for every week the bridge or SORTIE asks for.
 */
import type { Timetable } from '../domain/timetable.js';
import { dayNumberOfIso, isoWeekdayOf, minutesOfWallTime } from './day-number.js';

export interface CompiledRoom {
  id: string;
  name: string;
}

/**
 * Lessons as parallel typed arrays (one object per school, not one per lesson: a region holds
 * close to a million lessons and the garbage collector would walk each), sorted by start time.
 * Every occurrence is indexed by day (compressed rows): the lessons of day number `firstDay + d`
 * are `occurrences[dayStart[d] … dayStart[d + 1] − 1]`, in start-time order, so a range costs
 * what it holds, not what the whole year holds.
 */
export interface CompiledTimetable {
  timezone: string;
  rooms: CompiledRoom[];
  lessonIds: string[];
  /** Wall-clock minutes since local midnight, per lesson. */
  startMinutes: Int32Array;
  endMinutes: Int32Array;
  /** Rooms of lesson l: `lessonRooms[roomStart[l] … roomStart[l + 1] − 1]` (room indices). */
  roomStart: Int32Array;
  lessonRooms: Int32Array;
  /** Lesson index → day numbers of its cancelled occurrences. */
  cancelled: Map<number, Set<number>>;
  firstDay: number;
  /** Length = days spanned + 1. */
  dayStart: Int32Array;
  /** Lesson indices; −1 marks a duplicate (a week listed twice) to skip. */
  occurrences: Int32Array;
}

const cache = new WeakMap<Timetable, CompiledTimetable>();

export function compileTimetable(timetable: Timetable): CompiledTimetable {
  const cached = cache.get(timetable);
  if (cached) return cached;

  const rooms: CompiledRoom[] = timetable.rooms.map((r) => ({ id: r.id, name: r.name }));
  const roomIndex = new Map<string, number>(rooms.map((r, i) => [r.id, i]));
  const indexOfRoom = (id: string): number => {
    let index = roomIndex.get(id);
    if (index === undefined) {
      // checkTimetable refuses undeclared rooms at import; should one still arrive, its
      // occupancy is kept under its id rather than dropped.
      index = rooms.length;
      rooms.push({ id, name: id });
      roomIndex.set(id, index);
    }
    return index;
  };

  const cancelledByLesson = new Map<string, Set<number>>();
  for (const c of timetable.cancellations) {
    const set = cancelledByLesson.get(c.lesson) ?? new Set<number>();
    set.add(dayNumberOfIso(c.date));
    cancelledByLesson.set(c.lesson, set);
  }

  // A lesson that does not end after it starts occupies nothing (checkTimetable refuses it).
  const kept = timetable.lessons
    .map((lesson) => ({
      lesson,
      startMinutes: minutesOfWallTime(lesson.start),
      endMinutes: minutesOfWallTime(lesson.end),
    }))
    .filter((l) => l.endMinutes > l.startMinutes)
    .sort((a, b) => a.startMinutes - b.startMinutes || a.endMinutes - b.endMinutes);

  // Day number of every occurrence, lesson by lesson (in start order).
  let total = 0;
  for (const { lesson } of kept) total += (lesson.weeks?.length ?? 0) + (lesson.dates?.length ?? 0);
  const occurrenceDay = new Int32Array(total);
  const occurrenceEnd = new Int32Array(kept.length); // exclusive end of each lesson's slice
  let count = 0;
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  // Occurrences outside the declared school year do not happen: EDT counts week 1 from
  // DatePremierJourSemaine1, a Monday that can precede the first day (DateDebut).
  const yearFirst = timetable.school_year
    ? dayNumberOfIso(timetable.school_year.start)
    : Number.NEGATIVE_INFINITY;
  const yearLast = timetable.school_year
    ? dayNumberOfIso(timetable.school_year.end)
    : Number.POSITIVE_INFINITY;
  const push = (day: number) => {
    if (Number.isNaN(day) || day < yearFirst || day > yearLast) return;
    occurrenceDay[count++] = day;
    if (day < firstDay) firstDay = day;
    if (day > lastDay) lastDay = day;
  };
  // The same few dozen week strings recur in every lesson: read each once (docs/performance.md, "luxon").
  const mondayOf = new Map<string, number>();
  const mondayOfWeek = (week: string): number => {
    let monday = mondayOf.get(week);
    if (monday === undefined) {
      const day = dayNumberOfIso(week);
      // A week given by another of its days still means its Monday.
      monday = day - (isoWeekdayOf(day) - 1);
      mondayOf.set(week, monday);
    }
    return monday;
  };
  const lessonCount = kept.length;
  const lessonIds: string[] = new Array(lessonCount);
  const startMinutes = new Int32Array(lessonCount);
  const endMinutes = new Int32Array(lessonCount);
  const roomStart = new Int32Array(lessonCount + 1);
  const roomList: number[] = [];
  const cancelled = new Map<number, Set<number>>();
  kept.forEach(({ lesson, startMinutes: start, endMinutes: end }, l) => {
    const offset = lesson.day - 1; // Monday + (day − 1)
    const weeks = lesson.weeks ?? [];
    for (let w = 0; w < weeks.length; w++) push(mondayOfWeek(weeks[w] as string) + offset);
    for (const date of lesson.dates ?? []) push(dayNumberOfIso(date));
    occurrenceEnd[l] = count;
    lessonIds[l] = lesson.id;
    startMinutes[l] = start;
    endMinutes[l] = end;
    for (const room of lesson.rooms) roomList.push(indexOfRoom(room));
    roomStart[l + 1] = roomList.length;
    const cancelledDays = cancelledByLesson.get(lesson.id);
    if (cancelledDays) cancelled.set(l, cancelledDays);
  });

  // Counting sort by day; filling lesson by lesson keeps each day in start-time order.
  if (count === 0) firstDay = lastDay = 0;
  const span = lastDay - firstDay + 1;
  const dayStart = new Int32Array(span + 1);
  for (let k = 0; k < count; k++) (dayStart[(occurrenceDay[k] as number) - firstDay + 1] as number)++;
  for (let d = 0; d < span; d++) dayStart[d + 1] = (dayStart[d + 1] as number) + (dayStart[d] as number);
  const fill = dayStart.slice(0, span);
  const occurrences = new Int32Array(count);
  let k = 0;
  for (let l = 0; l < lessonCount; l++) {
    for (const end = occurrenceEnd[l] as number; k < end; k++) {
      const d = (occurrenceDay[k] as number) - firstDay;
      const at = fill[d] as number;
      // The same lesson twice on a day (a week listed twice) sits just before: mark it skipped.
      occurrences[at] = at > (dayStart[d] as number) && occurrences[at - 1] === l ? -1 : l;
      fill[d] = at + 1;
    }
  }

  const compiled: CompiledTimetable = {
    timezone: timetable.timezone,
    rooms,
    lessonIds,
    startMinutes,
    endMinutes,
    roomStart,
    lessonRooms: Int32Array.from(roomList),
    cancelled,
    firstDay,
    dayStart,
    occurrences,
  };
  cache.set(timetable, compiled);
  return compiled;
}
