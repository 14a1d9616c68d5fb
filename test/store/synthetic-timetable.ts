/**
 * Synthetic timetables for store tests (no personal data: invented rooms, teachers "T1"…),
 * and the import input a reader plus the ENTRÉE route would hand to the repository.
 */
import { createHash } from 'node:crypto';
import type { Timetable } from '../../src/domain/timetable.js';
import type { ImportVersionInput } from '../../src/store/timetable-repository.js';

/** Mondays of the 36 teaching weeks from 2025-09-01, ISO dates. */
function mondays(count: number): string[] {
  const first = Date.UTC(2025, 8, 1);
  // Calendar dates only, no instants: UTC days have no DST, so adding days is exact here.
  return Array.from({ length: count }, (_, i) =>
    new Date(first + i * 7 * 86_400_000).toISOString().slice(0, 10),
  );
}

export function syntheticTimetable(options: {
  uai: string;
  rooms: number;
  lessons: number;
  weeks?: number;
  /** Changes every subject so that two calls give different documents. */
  label?: string;
}): Timetable {
  const weeks = mondays(options.weeks ?? 36);
  const rooms = Array.from({ length: options.rooms }, (_, i) => ({
    id: `R${i + 1}`,
    name: `Salle ${i + 1}`,
  }));
  const lessons = Array.from({ length: options.lessons }, (_, i) => ({
    id: `L${i + 1}`,
    rooms: [`R${(i % options.rooms) + 1}`],
    day: (i % 5) + 1,
    start: `${String(8 + (i % 9)).padStart(2, '0')}:00`,
    end: `${String(9 + (i % 9)).padStart(2, '0')}:00`,
    weeks,
    subject: `Matière ${i % 12}${options.label ?? ''}`,
    teachers: [`T${i % 40}`],
    groups: [`2NDE${i % 10}`],
  }));
  return {
    format: 'scope-emploi-du-temps/v1',
    uai: options.uai,
    timezone: 'Europe/Paris',
    rooms,
    lessons,
    cancellations: [],
    events: [],
  };
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The input for a native JSON import of `timetable`, as its bytes would produce. */
export function importInput(
  timetable: Timetable,
  overrides: Partial<ImportVersionInput> = {},
): ImportVersionInput {
  const uai = timetable.uai ?? '0750654D';
  return {
    uai,
    name: `Lycée ${uai}`,
    timezone: timetable.timezone,
    timetable,
    sha256: sha256Hex(JSON.stringify(timetable)),
    format: 'json',
    importedBy: 'editor-test',
    counts: {
      rooms: timetable.rooms.length,
      lessons: timetable.lessons.length,
      occurrences: timetable.lessons.reduce((n, l) => n + (l.weeks?.length ?? 0) + (l.dates?.length ?? 0), 0),
    },
    warnings: [],
    at: Date.parse('2025-09-01T06:00:00Z'),
    ...overrides,
  };
}
