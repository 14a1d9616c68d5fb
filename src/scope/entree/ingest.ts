/**
 * SCOPE-ENTRÉE ingestion, shared by the HTTP route and the CLI: detect the format, read, check,
 * verify the UAI, then store one new version in one transaction (or nothing).
 */
import { sha256Hex } from '../../auth/secrets.js';
import { addDays } from '../../domain/dates.js';
import { InputError, type Problem } from '../../domain/problems.js';
import type { ImportFormat, Timetable } from '../../domain/timetable.js';
import { checkTimetable } from '../../domain/timetable-checks.js';
import { describeUaiProblem, normaliseUai, requireUai } from '../../domain/uai.js';
import { detectFormat } from '../../formats/detect.js';
import { READERS } from '../../formats/readers.js';
import type { Store } from '../../store/store.js';

export interface IngestRequest {
  bytes: Uint8Array;
  /** UAI from the URL or `--uai`; when absent the file's UAI is used. */
  uai?: string | undefined;
  format?: string | undefined;
  contentType?: string | undefined;
  fileName?: string | undefined;
  /** Client id (HTTP) or `cli:<user>`. */
  importedBy: string;
  strictJson?: boolean;
  partnerPrivateKeyPem?: string | undefined;
  onProgress?: (fraction: number) => void;
}

export interface ImportReport {
  uai: string;
  version: number;
  sha256: string;
  unchanged: boolean;
  format: ImportFormat;
  counts: { rooms: number; lessons: number; occurrences: number };
  warnings: Problem[];
}

export interface ParsedImport {
  uai: string;
  format: ImportFormat;
  sha256: string;
  timetable: Timetable;
  counts: ImportReport['counts'];
  warnings: Problem[];
}

/** Everything but storage: pure apart from the clock-free hashing. Throws `InputError`. */
export function parseImport(request: IngestRequest): ParsedImport {
  const pathUai = request.uai === undefined ? undefined : requireUai(request.uai, 'uai (path)');
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
    ...(request.strictJson ? { strict: true } : {}),
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
  const check = checkTimetable(timetable);
  if (check.errors.length > 0) throw new InputError(check.errors, 'invalid');
  const normalised: Timetable = { ...timetable, uai };
  return {
    uai,
    format,
    sha256: sha256Hex(request.bytes),
    timetable: normalised,
    counts: countTimetable(normalised),
    warnings: [...read.warnings, ...check.warnings],
  };
}

export function countTimetable(timetable: Timetable): ImportReport['counts'] {
  const cancelledByLesson = new Map<string, Set<string>>();
  for (const c of timetable.cancellations) {
    const dates = cancelledByLesson.get(c.lesson) ?? new Set<string>();
    dates.add(c.date);
    cancelledByLesson.set(c.lesson, dates);
  }
  let occurrences = 0;
  for (const lesson of timetable.lessons) {
    const cancelled = cancelledByLesson.get(lesson.id);
    const weeks = lesson.weeks ?? [];
    const dates = lesson.dates ?? [];
    occurrences += weeks.length + dates.length;
    if (!cancelled) continue;
    for (const week of weeks) if (cancelled.has(addDays(week, lesson.day - 1))) occurrences--;
    for (const date of dates) if (cancelled.has(date)) occurrences--;
  }
  return {
    rooms: timetable.rooms.length,
    lessons: timetable.lessons.length,
    occurrences: occurrences + timetable.events.length,
  };
}

export async function ingestTimetable(
  store: Store,
  request: IngestRequest,
  now: number,
): Promise<ImportReport> {
  const parsed = parseImport(request);
  const stored = await store.timetables.importVersion({
    uai: parsed.uai,
    name: parsed.timetable.name,
    timezone: parsed.timetable.timezone,
    timetable: parsed.timetable,
    sha256: parsed.sha256,
    format: parsed.format,
    importedBy: request.importedBy,
    counts: parsed.counts,
    warnings: parsed.warnings,
    at: now,
  });
  return {
    uai: parsed.uai,
    version: stored.version,
    sha256: parsed.sha256,
    unchanged: stored.unchanged,
    format: parsed.format,
    counts: parsed.counts,
    warnings: parsed.warnings,
  };
}
