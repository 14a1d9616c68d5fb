/**
 * The rooms × days grid of one week for VUE: every lesson occurrence of the week in its room's
 * cell (wall-clock times of the school, as the timetable gives them), one-off events converted to
 * the school's time zone, cancelled occurrences kept but marked, closed days named. Lessons
 * without a room get their own row, so that the data-quality panel can link to them. Pure.
 */
import { DateTime } from 'luxon';
import type { SchoolCalendar } from '../../calendar/index.js';
import { addDays } from '../../domain/dates.js';
import type { Timetable } from '../../domain/timetable.js';
import { cancelledOccurrences, lessonDates } from './lesson-dates.js';

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
  /** One list per day of `days`, sorted by start time. */
  cells: GridEntry[][];
}

export interface WeekGrid {
  monday: string;
  days: GridDay[];
  rows: GridRow[];
}

export function weekGrid(timetable: Timetable, monday: string, calendar: SchoolCalendar): WeekGrid {
  const sunday = addDays(monday, 6);
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
    for (const date of lessonDates(lesson)) {
      if (date < monday || date > sunday) continue;
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
    days.map((day) =>
      [...(byRoom.get(room)?.get(day.date) ?? [])].sort(
        (a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end) || a.id.localeCompare(b.id),
      ),
    );
  const rows: GridRow[] = timetable.rooms.map((room) => ({
    room: { id: room.id, name: room.name },
    cells: cellsOf(room.id),
  }));
  if (byRoom.has('')) rows.push({ room: null, cells: cellsOf('') });
  return { monday, days, rows };
}
