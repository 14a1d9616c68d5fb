/**
 * Rules every normalised timetable must satisfy, whatever format it came from. Readers give the
 * shape; these checks give the meaning (a lesson ending before it starts, a room
 * id used but not declared, are refused: docs/api.md, "SCOPE-ENTRÉE imports"). Errors refuse the import; warnings are reported.
 */
import { isoWeekday } from './dates.js';
import type { Problem } from './problems.js';
import type { Lesson, Timetable } from './timetable.js';

export interface TimetableCheck {
  errors: Problem[];
  warnings: Problem[];
}

const MAX_PROBLEMS = 50;

export function checkTimetable(
  timetable: Timetable,
  where: (path: string) => string = (p) => p,
): TimetableCheck {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const error = (code: string, message: string, path: string) => {
    if (errors.length < MAX_PROBLEMS) errors.push({ code, message, where: where(path) });
  };
  const warn = (code: string, message: string, path: string) => {
    if (warnings.length < MAX_PROBLEMS) warnings.push({ code, message, where: where(path) });
  };

  const roomIds = new Set<string>();
  timetable.rooms.forEach((room, i) => {
    if (roomIds.has(room.id))
      error('room-duplicate', `room id "${room.id}" is declared twice`, `$.rooms[${i}].id`);
    roomIds.add(room.id);
  });

  // Exports repeat the same few dozen week dates in every lesson: compute each weekday once.
  const weekdays = new Map<string, number>();
  const weekdayOf = (date: string): number => {
    let day = weekdays.get(date);
    if (day === undefined) {
      day = isoWeekday(date);
      weekdays.set(date, day);
    }
    return day;
  };
  const lessonIds = new Set<string>();
  const neverMeets: string[] = [];
  const checkedWeeks = new Set<readonly string[]>();
  // A plain loop and paths built only for a problem: this runs once per lesson of a 100k-lesson export.
  const lessons = timetable.lessons;
  for (let i = 0; i < lessons.length; i++) {
    const lesson = lessons[i] as Lesson;
    if (lessonIds.has(lesson.id))
      error('lesson-duplicate', `lesson id "${lesson.id}" is used twice`, `$.lessons[${i}].id`);
    lessonIds.add(lesson.id);
    if (lesson.end <= lesson.start) {
      error(
        'lesson-ends-before-start',
        `lesson "${lesson.id}" ends at ${lesson.end}, not after its start ${lesson.start}`,
        `$.lessons[${i}].end`,
      );
    }
    const rooms = lesson.rooms;
    for (let j = 0; j < rooms.length; j++) {
      const room = rooms[j] as string;
      if (!roomIds.has(room)) {
        error(
          'room-undeclared',
          `lesson "${lesson.id}" uses room "${room}", which is not declared in rooms`,
          `$.lessons[${i}].rooms[${j}]`,
        );
      }
    }
    const weeks = lesson.weeks;
    // Readers share one week list between many lessons: a list already checked is not again.
    if (weeks && !checkedWeeks.has(weeks)) {
      let allMondays = true;
      for (let j = 0; j < weeks.length; j++) {
        const week = weeks[j] as string;
        if (weekdayOf(week) !== 1) {
          allMondays = false;
          error(
            'week-not-monday',
            `week ${week} of lesson "${lesson.id}" is not a Monday`,
            `$.lessons[${i}].weeks[${j}]`,
          );
        }
      }
      if (allMondays) checkedWeeks.add(weeks);
    }
    const dates = lesson.dates;
    if (dates) {
      for (let j = 0; j < dates.length; j++) {
        const date = dates[j] as string;
        if (weekdayOf(date) !== lesson.day) {
          error(
            'date-not-on-day',
            `date ${date} of lesson "${lesson.id}" is not on its day ${lesson.day} (ISO weekday)`,
            `$.lessons[${i}].dates[${j}]`,
          );
        }
      }
    }
    if ((weeks?.length ?? 0) + (dates?.length ?? 0) === 0) neverMeets.push(lesson.id);
  }
  // One summary, not one warning per lesson: real EDT exports hold many unscheduled Cours.
  if (neverMeets.length > 0) {
    warn(
      'lesson-never-meets',
      `${neverMeets.length} lesson(s) have no week and no date (kept, never occupy a room): ${neverMeets.slice(0, 5).join(', ')}${neverMeets.length > 5 ? ', …' : ''}`,
      '$.lessons',
    );
  }

  timetable.cancellations.forEach((c, i) => {
    if (!lessonIds.has(c.lesson)) {
      warn(
        'cancellation-unknown-lesson',
        `cancellation refers to unknown lesson "${c.lesson}"`,
        `$.cancellations[${i}]`,
      );
    }
  });
  timetable.events.forEach((event, i) => {
    if (Date.parse(event.end) <= Date.parse(event.start)) {
      error(
        'event-ends-before-start',
        `event ends at ${event.end}, not after its start ${event.start}`,
        `$.events[${i}].end`,
      );
    }
    event.rooms.forEach((room, j) => {
      if (!roomIds.has(room)) {
        error(
          'room-undeclared',
          `event uses room "${room}", which is not declared in rooms`,
          `$.events[${i}].rooms[${j}]`,
        );
      }
    });
  });
  if (timetable.school_year && timetable.school_year.end < timetable.school_year.start) {
    error('school-year-reversed', 'school_year.end is before school_year.start', '$.school_year.end');
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: timetable.timezone });
  } catch {
    error('timezone-unknown', `unknown time zone "${timetable.timezone}"`, '$.timezone');
  }
  return { errors, warnings };
}
