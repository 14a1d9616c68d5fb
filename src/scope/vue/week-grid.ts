/**
 * The rooms × days grid of one week for VUE: every lesson occurrence of the week in its room's
 * cell (wall-clock times of the school, as the timetable gives them), one-off events converted to
 * the school's time zone, cancelled occurrences kept but marked, closed days named. Lessons
 * without a room get their own row, so that the data-quality panel can link to them. Pure.
 *
 * Linear in the lessons (plus a sort per cell): only the viewed week's dates of each lesson are
 * worked out, and a pile of more than `MAX_PILE_SHOWN` lessons overlapping in one cell (2,000
 * lessons at one slot imported from a broken export) becomes one `pile` entry that names how many
 * there are and carries only the first few, so the page stays the size of a normal week.
 */
import { DateTime } from 'luxon';
import type { SchoolCalendar } from '../../calendar/index.js';
import { addDays, mondayOf } from '../../domain/dates.js';
import type { Timetable } from '../../domain/timetable.js';
import { cancelledOccurrences } from './lesson-dates.js';

/** Lessons of a pile shown in full (the data-quality panel lists the overlap itself). */
export const MAX_PILE_SHOWN = 5;

export interface GridEntry {
  kind: 'lesson' | 'event';
  /** Lesson id, or the event's id (or index). */
  id: string;
  start: string;
  end: string;
  subject?: string;
  groups: string[];
  teachers: string[];
  label?: string;
  cancelled: boolean;
}

/** Lessons overlapping one another in one cell, more than `MAX_PILE_SHOWN` of them. */
export interface GridPile {
  kind: 'pile';
  start: string;
  /** The latest end in the pile. */
  end: string;
  /** Entries in the pile (all of them, not only those shown). */
  count: number;
  /** The first `MAX_PILE_SHOWN` entries in time order, and the highlighted lesson if it is in the pile. */
  shown: GridEntry[];
  /** Whether the highlighted lesson (`?cours=`) is in the pile. */
  highlighted: boolean;
}

export type GridItem = GridEntry | GridPile;

export interface GridDay {
  date: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** Why the school is closed that day, in French as the calendar names it. */
  closure: string | null;
}

export interface GridRow {
  /** null: the row of lessons without a room. */
  room: { id: string; name: string } | null;
  /** One list per day of `days`, sorted by start time, piles of overlapping lessons folded. */
  cells: GridItem[][];
}

export interface WeekGrid {
  monday: string;
  days: GridDay[];
  rows: GridRow[];
}

export function weekGrid(
  timetable: Timetable,
  monday: string,
  calendar: SchoolCalendar,
  highlight?: string,
): WeekGrid {
  const sunday = addDays(monday, 6);
  const weekDates = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  // The same few dozen week strings recur in every lesson: each is read once.
  const inWeek = new Map<string, boolean>();
  const isThisWeek = (week: string): boolean => {
    let yes = inWeek.get(week);
    if (yes === undefined) {
      yes = mondayOf(week) === monday;
      inWeek.set(week, yes);
    }
    return yes;
  };
  const cancelled = cancelledOccurrences(timetable);
  const byRoom = new Map<string, Map<string, GridEntry[]>>();
  const push = (room: string, date: string, entry: GridEntry) => {
    let days = byRoom.get(room);
    if (!days) {
      days = new Map();
      byRoom.set(room, days);
    }
    const list = days.get(date);
    if (list) list.push(entry);
    else days.set(date, [entry]);
  };

  for (const lesson of timetable.lessons) {
    const dates = new Set<string>();
    for (const date of lesson.dates ?? []) if (date >= monday && date <= sunday) dates.add(date);
    if (lesson.weeks?.some(isThisWeek)) dates.add(weekDates[lesson.day - 1] as string);
    for (const date of dates) {
      const entry: GridEntry = {
        kind: 'lesson',
        id: lesson.id,
        start: lesson.start,
        end: lesson.end,
        ...(lesson.subject === undefined ? {} : { subject: lesson.subject }),
        groups: lesson.groups ?? [],
        teachers: lesson.teachers ?? [],
        cancelled: cancelled.has(`${lesson.id}|${date}`),
      };
      if (lesson.rooms.length === 0) push('', date, entry);
      for (const room of lesson.rooms) push(room, date, entry);
    }
  }
  timetable.events.forEach((event, index) => {
    const start = DateTime.fromISO(event.start, { zone: timetable.timezone });
    const end = DateTime.fromISO(event.end, { zone: timetable.timezone });
    const date = start.toISODate();
    if (date === null || date < monday || date > sunday) return;
    const sameDay = end.toISODate() === date;
    for (const room of event.rooms) {
      push(room, date, {
        kind: 'event',
        id: event.id ?? `evenement-${index}`,
        start: start.toFormat('HH:mm'),
        end: sameDay ? end.toFormat('HH:mm') : end.toFormat('dd/MM HH:mm'),
        groups: [],
        teachers: [],
        ...(event.label === undefined ? {} : { label: event.label }),
        cancelled: false,
      });
    }
  });

  // Monday to Saturday always (lycées teach on Saturday mornings); Sunday only when used.
  const sundayUsed = [...byRoom.values()].some((days) => days.has(sunday));
  const days: GridDay[] = [];
  for (let i = 0; i < (sundayUsed ? 7 : 6); i++) {
    const date = addDays(monday, i);
    const closure = calendar.closure(date);
    days.push({ date, weekday: i + 1, closure: closure?.name ?? null });
  }
  const cellsOf = (room: string) =>
    days.map((day) => foldPiles((byRoom.get(room)?.get(day.date) ?? []).sort(byTime), highlight));
  const rows: GridRow[] = timetable.rooms.map((room) => ({
    room: { id: room.id, name: room.name },
    cells: cellsOf(room.id),
  }));
  if (byRoom.has('')) rows.push({ room: null, cells: cellsOf('') });
  return { monday, days, rows };
}

const collator = new Intl.Collator();

/** Times `HH:MM` compare as strings; an event ending on a later day (`dd/MM HH:mm`) sorts last. */
const endKey = (entry: GridEntry): string => (entry.end.includes('/') ? '99' : entry.end);

function byTime(a: GridEntry, b: GridEntry): number {
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  const ae = endKey(a);
  const be = endKey(b);
  if (ae !== be) return ae < be ? -1 : 1;
  return collator.compare(a.id, b.id);
}

/** Runs of entries overlapping one another (sorted by start), longer than `MAX_PILE_SHOWN`, become piles. */
function foldPiles(entries: GridEntry[], highlight: string | undefined): GridItem[] {
  if (entries.length <= MAX_PILE_SHOWN) return entries;
  const out: GridItem[] = [];
  let first = 0;
  // The latest end so far, as a sort key and as written.
  let endKeyMax = '';
  let endLabel = '';
  const close = (stop: number): void => {
    if (stop - first <= MAX_PILE_SHOWN) {
      for (let i = first; i < stop; i++) out.push(entries[i] as GridEntry);
      return;
    }
    const run = entries.slice(first, stop);
    const shown = run.slice(0, MAX_PILE_SHOWN);
    const marked = highlight === undefined ? undefined : run.find((e) => e.id === highlight);
    if (marked && !shown.includes(marked)) shown.push(marked);
    out.push({
      kind: 'pile',
      start: (entries[first] as GridEntry).start,
      end: endLabel,
      count: run.length,
      shown,
      highlighted: marked !== undefined,
    });
  };
  entries.forEach((entry, i) => {
    if (i > first && entry.start >= endKeyMax) {
      close(i);
      first = i;
      endKeyMax = '';
    }
    const key = endKey(entry);
    if (key > endKeyMax) {
      endKeyMax = key;
      endLabel = entry.end;
    }
  });
  close(entries.length);
  return out;
}
