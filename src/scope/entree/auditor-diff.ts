/**
 * The version diff as an auditor sees it (issue 21, data minimisation): auditors check energy
 * rules, not lessons (docs/api.md, "Roles and purposes"), so a lesson shows when and where it
 * meets, never who teaches it, which class attends or what subject it is. Built field by field
 * from an allow-list, like the energy purpose's occupancy (src/scope/sortie/schemas.ts): a field
 * added to lessons later stays out until it is listed here.
 */
import type { Lesson } from '../../domain/timetable.js';
import type { ChangedEntry, EntityDiff, TimetableDiff } from '../../domain/timetable-diff.js';

/** What an auditor sees of a lesson: its id, rooms and times. */
export const AUDITOR_LESSON_FIELDS = ['id', 'rooms', 'day', 'start', 'end', 'weeks', 'dates'] as const;
/** Named in the body so the reader knows what was left out, and that it was on purpose. */
export const WITHHELD_LESSON_FIELDS = ['subject', 'teachers', 'groups'] as const;

export type AuditorLesson = Pick<Lesson, (typeof AUDITOR_LESSON_FIELDS)[number]>;

export interface AuditorTimetableDiff {
  rooms: TimetableDiff['rooms'];
  lessons: EntityDiff<AuditorLesson>;
  withheld: { lessons: string[] };
}

const ALLOWED: ReadonlySet<string> = new Set(AUDITOR_LESSON_FIELDS);

function auditorLesson(lesson: Lesson): AuditorLesson {
  const out: Record<string, unknown> = {};
  for (const field of AUDITOR_LESSON_FIELDS) {
    if (lesson[field] !== undefined) out[field] = lesson[field];
  }
  return out as AuditorLesson;
}

/**
 * The diff without the withheld fields. A lesson whose only changes were in withheld fields
 * (a new teacher) is not listed as changed: saying so would still tell something about it.
 */
export function auditorDiff(diff: TimetableDiff): AuditorTimetableDiff {
  const changed: ChangedEntry<AuditorLesson>[] = [];
  for (const entry of diff.lessons.changed) {
    const changes = entry.changes.filter((c) => ALLOWED.has(c.field));
    if (changes.length > 0) changed.push({ id: entry.id, changes } as ChangedEntry<AuditorLesson>);
  }
  return {
    rooms: diff.rooms,
    lessons: {
      added: diff.lessons.added.map(auditorLesson),
      removed: diff.lessons.removed.map(auditorLesson),
      changed,
    },
    withheld: { lessons: [...WITHHELD_LESSON_FIELDS] },
  };
}
