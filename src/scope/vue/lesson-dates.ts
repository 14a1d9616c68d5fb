/**
 * The local dates a lesson meets, read the way the calendar expansion reads them: `weeks` are the
 * Mondays of its weeks (its `day` gives the date in each), `dates` are exact dates.
 */
import { addDays, mondayOf } from '../../domain/dates.js';
import type { Lesson, Timetable } from '../../domain/timetable.js';

export function lessonDates(lesson: Lesson): string[] {
  const dates = new Set<string>(lesson.dates ?? []);
  for (const week of lesson.weeks ?? []) dates.add(addDays(mondayOf(week), lesson.day - 1));
  return [...dates].sort();
}

/** `lessonId|date` of every cancelled occurrence. */
export function cancelledOccurrences(timetable: Timetable): Set<string> {
  return new Set(timetable.cancellations.map((c) => `${c.lesson}|${c.date}`));
}

/** An HTML id for a lesson (ids may hold spaces and any character the source allowed). */
export function lessonAnchor(lessonId: string): string {
  return `cours-${lessonId.replace(/[^A-Za-z0-9_-]/g, (ch) => `_${ch.codePointAt(0)?.toString(16)}_`)}`;
}
