/**
 * "No silent loss" (issue 13): an import that would replace a timetable that has lessons by one
 * with none, or drop more than half of its rooms, is refused (409 `destructive-import`) unless
 * confirmed (`?confirm=replace`, `--force`). An ICS feed whose events all ended before they
 * started once replaced a school's timetable by an empty one and the bridge then planned every
 * room as unoccupied. Pure: summaries in, the diff out.
 */
import { InputError, type Problem } from '../../domain/problems.js';
import type { Timetable } from '../../domain/timetable.js';

/** What the check needs of a timetable: cheap to send between threads. */
export interface TimetableSummary {
  roomIds: string[];
  lessons: number;
}

export interface ImportDiff {
  rooms_before: number;
  rooms_after: number;
  lessons_before: number;
  lessons_after: number;
  /** The first 50 room ids that the import would remove. */
  rooms_removed: string[];
}

const LISTED_ROOMS = 50;

export function summarise(timetable: Timetable): TimetableSummary {
  return { roomIds: timetable.rooms.map((r) => r.id), lessons: timetable.lessons.length };
}

/** The diff when replacing `before` by `after` loses too much, else null. */
export function destructiveDiff(before: TimetableSummary, after: TimetableSummary): ImportDiff | null {
  const kept = new Set(after.roomIds);
  const removed = before.roomIds.filter((id) => !kept.has(id));
  const emptied = before.lessons > 0 && after.lessons === 0;
  if (!emptied && removed.length * 2 <= before.roomIds.length) return null;
  return {
    rooms_before: before.roomIds.length,
    rooms_after: after.roomIds.length,
    lessons_before: before.lessons,
    lessons_after: after.lessons,
    rooms_removed: removed.slice(0, LISTED_ROOMS),
  };
}

/** The refusal, carrying the diff for the 409 body and the CLI. */
export class DestructiveImportError extends InputError {
  readonly diff: ImportDiff;

  constructor(diff: ImportDiff, confirmHint: string) {
    super([destructiveProblem(diff, confirmHint)], 'invalid');
    this.name = 'DestructiveImportError';
    this.diff = diff;
  }
}

function destructiveProblem(diff: ImportDiff, confirmHint: string): Problem {
  const what =
    diff.lessons_before > 0 && diff.lessons_after === 0
      ? `would replace ${diff.lessons_before} lesson(s) by none`
      : `would remove more than half of the ${diff.rooms_before} room(s) (${diff.rooms_removed.slice(0, 5).join(', ')}${diff.rooms_removed.length > 5 ? ', …' : ''})`;
  return {
    code: 'destructive-import',
    message: `this import ${what}; nothing was stored: check the export, or confirm with ${confirmHint}`,
    where: 'body',
  };
}
