/**
 * Bytes → a checked, normalised timetable for one school: detect the format, read, check the
 * UAI, check the timetable, bound its occurrences. Pure apart from hashing; throws `InputError`.
 * Runs inside an import worker (import-task.ts), or in-process without a pool.
 */
import { sha256Hex } from '../../auth/secrets.js';
import { addDays } from '../../domain/dates.js';
import { InputError, type Problem } from '../../domain/problems.js';
import { type InputLimits, inputLimits } from '../../domain/reader.js';
import type { ImportFormat, Timetable } from '../../domain/timetable.js';
import { checkTimetable } from '../../domain/timetable-checks.js';
import { describeUaiProblem, normaliseUai, requireUai } from '../../domain/uai.js';
import { detectFormat } from '../../formats/detect.js';
import { READERS } from '../../formats/readers.js';

export interface ParseRequest {
  bytes: Uint8Array;
  /** UAI from the URL or `--uai`; when absent the file's UAI is used. */
  uai?: string | undefined;
  format?: string | undefined;
  contentType?: string | undefined;
  fileName?: string | undefined;
  /** Unknown JSON fields and UTF-8 under a Latin-1 declaration are errors, not warnings. */
  strict?: boolean | undefined;
  partnerPrivateKeyPem?: string | undefined;
  limits?: Partial<InputLimits> | undefined;
  onProgress?: ((fraction: number) => void) | undefined;
}

export interface ImportCounts {
  rooms: number;
  lessons: number;
  occurrences: number;
}

export interface ParsedImport {
  uai: string;
  format: ImportFormat;
  sha256: string;
  timetable: Timetable;
  counts: ImportCounts;
  /** Every warning (the caller keeps the first 100 and counts the rest). */
  warnings: Problem[];
}

export function parseImport(request: ParseRequest): ParsedImport {
  const pathUai = request.uai === undefined ? undefined : requireUai(request.uai, 'uai (path)');
  const limits = inputLimits(request);
  const format = detectFormat(request.bytes, {
    format: request.format,
    contentType: request.contentType,
    fileName: request.fileName,
  });
  const read = READERS[format](request.bytes, {
    ...(request.fileName ? { fileName: request.fileName } : {}),
    ...(pathUai ? { expectedUai: pathUai } : {}),
    ...(request.partnerPrivateKeyPem ? { partnerPrivateKeyPem: request.partnerPrivateKeyPem } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    ...(request.strict ? { strict: true } : {}),
    limits,
  });
  const timetable = read.timetable;
  const fileUai = timetable.uai === undefined ? undefined : normaliseUai(timetable.uai);
  if (fileUai !== undefined) {
    const problem = describeUaiProblem(fileUai);
    if (problem) throw InputError.of('bad-uai', problem, 'UAI in the file', 'invalid');
    if (pathUai !== undefined && fileUai !== pathUai) {
      throw InputError.of(
        'uai-mismatch',
        `the file is for UAI ${fileUai} but was sent for ${pathUai}`,
        'UAI in the file',
        'invalid',
      );
    }
  }
  const uai = pathUai ?? fileUai;
  if (uai === undefined) {
    throw InputError.of(
      'uai-missing',
      'the file names no UAI: pass it (URL path or --uai)',
      'uai',
      'invalid',
    );
  }
  // Before the checks: their cost grows with the lessons, which this bounds.
  const counts = countTimetable(timetable);
  if (counts.occurrences > limits.maxOccurrences) {
    throw InputError.of(
      'too-many-occurrences',
      `the timetable expands to ${counts.occurrences} occurrences, more than ${limits.maxOccurrences} (entree.max_occurrences)`,
      'body',
      'invalid',
    );
  }
  const check = checkTimetable(timetable);
  if (check.errors.length > 0) throw new InputError(check.errors, 'invalid');
  const normalised: Timetable = { ...timetable, uai };
  return {
    uai,
    format,
    sha256: sha256Hex(request.bytes),
    timetable: normalised,
    counts,
    warnings: [...read.warnings, ...check.warnings],
  };
}

export function countTimetable(timetable: Timetable): ImportCounts {
  const cancelledByLesson = new Map<string, Set<string>>();
  for (const c of timetable.cancellations) {
    const dates = cancelledByLesson.get(c.lesson) ?? new Set<string>();
    dates.add(c.date);
    cancelledByLesson.set(c.lesson, dates);
  }
  // Exports repeat a few dozen week dates: each (week, day) date is computed once.
  const dayOfWeek = new Map<string, string[]>();
  const dateOf = (week: string, day: number): string => {
    let days = dayOfWeek.get(week);
    if (!days) {
      days = [];
      dayOfWeek.set(week, days);
    }
    let date = days[day];
    if (date === undefined) {
      date = addDays(week, day - 1);
      days[day] = date;
    }
    return date;
  };
  let occurrences = 0;
  for (const lesson of timetable.lessons) {
    const weeks = lesson.weeks;
    const dates = lesson.dates;
    occurrences += (weeks?.length ?? 0) + (dates?.length ?? 0);
    if (cancelledByLesson.size === 0) continue;
    const cancelled = cancelledByLesson.get(lesson.id);
    if (!cancelled) continue;
    if (weeks) for (const week of weeks) if (cancelled.has(dateOf(week, lesson.day))) occurrences--;
    if (dates) for (const date of dates) if (cancelled.has(date)) occurrences--;
  }
  return {
    rooms: timetable.rooms.length,
    lessons: timetable.lessons.length,
    occurrences: occurrences + timetable.events.length,
  };
}
