/**
 * What changed between two timetable versions (`GET …/versions/{v}/diff/{w}`, docs/api.md):
 * rooms matched by id, lessons matched by id. Pure and deterministic: entries sorted by id
 * (code-unit order, not locale), changed fields in schema order.
 *
 * Lists whose order carries no meaning (a lesson's rooms, weeks, dates, teachers, groups) are
 * compared as sets, so a reader emitting them in another order is not a change.
 */
import type { Lesson, Room, Timetable } from './timetable.js';

export interface FieldChange<T> {
  field: keyof T & string;
  /** The value in the older timetable; null when the field was absent (JSON keeps null). */
  before: unknown;
  /** The value in the newer timetable; null when the field was absent. */
  after: unknown;
}

export interface ChangedEntry<T> {
  id: string;
  changes: FieldChange<T>[];
}

export interface EntityDiff<T> {
  added: T[];
  removed: T[];
  changed: ChangedEntry<T>[];
}

export interface TimetableDiff {
  rooms: EntityDiff<Room>;
  lessons: EntityDiff<Lesson>;
}

const ROOM_FIELDS = ['name', 'building'] as const satisfies readonly (keyof Room)[];
const LESSON_FIELDS = [
  'rooms',
  'day',
  'start',
  'end',
  'weeks',
  'dates',
  'subject',
  'teachers',
  'groups',
] as const satisfies readonly (keyof Lesson)[];
const UNORDERED_LESSON_FIELDS: ReadonlySet<string> = new Set([
  'rooms',
  'weeks',
  'dates',
  'teachers',
  'groups',
]);

/** `a` is the older timetable, `b` the newer. */
export function diffTimetables(a: Timetable, b: Timetable): TimetableDiff {
  return {
    rooms: diffById(a.rooms, b.rooms, ROOM_FIELDS, new Set()),
    lessons: diffById(a.lessons, b.lessons, LESSON_FIELDS, UNORDERED_LESSON_FIELDS),
  };
}

function diffById<T extends { id: string }>(
  before: readonly T[],
  after: readonly T[],
  fields: readonly (keyof T & string)[],
  unordered: ReadonlySet<string>,
): EntityDiff<T> {
  const oldById = indexById(before);
  const newById = indexById(after);
  const result: EntityDiff<T> = { added: [], removed: [], changed: [] };

  for (const id of [...new Set([...oldById.keys(), ...newById.keys()])].sort(compareCodeUnits)) {
    const old = oldById.get(id);
    const next = newById.get(id);
    if (old === undefined) {
      if (next !== undefined) result.added.push(next);
    } else if (next === undefined) {
      result.removed.push(old);
    } else {
      const changes: FieldChange<T>[] = [];
      for (const field of fields) {
        const isSet = unordered.has(field);
        if (!sameValue(old[field], next[field], isSet)) {
          changes.push({ field, before: old[field] ?? null, after: next[field] ?? null });
        }
      }
      if (changes.length > 0) result.changed.push({ id, changes });
    }
  }
  return result;
}

/**
 * Ids are unique by the schema's contract; should a document repeat one anyway, the first
 * entry stands for the id so that the result stays deterministic.
 */
function indexById<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  const byId = new Map<string, T>();
  for (const item of items) if (!byId.has(item.id)) byId.set(item.id, item);
  return byId;
}

function sameValue(a: unknown, b: unknown, asSet: boolean): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const left = asSet ? [...a].map(String).sort(compareCodeUnits) : a;
    const right = asSet ? [...b].map(String).sort(compareCodeUnits) : b;
    return left.every((value, i) => value === right[i]);
  }
  return a === b;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
