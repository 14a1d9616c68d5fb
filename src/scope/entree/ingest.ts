/**
 * SCOPE-ENTRÉE ingestion, shared by the HTTP route and the CLI: the untrusted part (detect,
 * read, check, hash, encode, compare with the current version) runs as one import task, in an
 * import worker when a runner is given (import-pool.ts), then one new version is stored in one
 * transaction, or nothing.
 */
import { InputError, type Problem } from '../../domain/problems.js';
import type { InputLimits } from '../../domain/reader.js';
import type { ImportFormat } from '../../domain/timetable.js';
import { requireUai } from '../../domain/uai.js';
import type { Store } from '../../store/store.js';
import { DestructiveImportError, destructiveDiff, summarise } from './destructive-import.js';
import type { ImportTaskRunner } from './import-pool.js';
import { type EncodedImport, type ImportTaskInput, runImportTask } from './import-task.js';
import type { ImportCounts } from './parse-import.js';

export { countTimetable, type ParsedImport, parseImport } from './parse-import.js';

export interface IngestRequest {
  bytes: Uint8Array;
  /** UAI from the URL or `--uai`; when absent the file's UAI is used. */
  uai?: string | undefined;
  format?: string | undefined;
  contentType?: string | undefined;
  fileName?: string | undefined;
  /** Client id (HTTP) or `cli:<user>`. */
  importedBy: string;
  /** Unknown JSON fields and UTF-8 under a Latin-1 declaration refuse the import. */
  strict?: boolean | undefined;
  partnerPrivateKeyPem?: string | undefined;
  limits?: Partial<InputLimits> | undefined;
  /** Replace even when the import loses the lessons or most rooms (`?confirm=replace`, `--force`). */
  confirmReplace?: boolean | undefined;
  /** How the caller confirms, for the `destructive-import` message. */
  confirmHint?: string;
  onProgress?: (fraction: number) => void;
}

export interface IngestOptions {
  /** Where the import task runs; in-process when absent (no isolation: trusted callers, tests). */
  runTask?: ImportTaskRunner | undefined;
}

export interface ImportReport {
  uai: string;
  version: number;
  sha256: string;
  unchanged: boolean;
  format: ImportFormat;
  counts: ImportCounts;
  /** The first 100 warnings. */
  warnings: Problem[];
  /** How many warnings there were in all. */
  warnings_total: number;
}

const inProcess: ImportTaskRunner = async (input, onProgress) => runImportTask(input, onProgress);

export async function ingestTimetable(
  store: Store,
  request: IngestRequest,
  now: number,
  options: IngestOptions = {},
): Promise<ImportReport> {
  const runTask = options.runTask ?? inProcess;
  // With the UAI known up front (always over HTTP) the worker compares with the current version;
  // else (CLI without --uai) the comparison happens here, once the file has named its school.
  const uai = request.uai === undefined ? undefined : requireUai(request.uai, 'uai (path)');
  const checkedEarly = uai !== undefined && !request.confirmReplace;
  const previous = checkedEarly ? await currentDocument(store, uai) : undefined;
  const input: ImportTaskInput = {
    bytes: request.bytes,
    uai,
    format: request.format,
    contentType: request.contentType,
    fileName: request.fileName,
    strict: request.strict,
    partnerPrivateKeyPem: request.partnerPrivateKeyPem,
    limits: request.limits,
    previous,
    confirmHint: request.confirmHint ?? 'confirmation',
  };
  const result = await runTask(input, request.onProgress);
  if (!result.ok) {
    if (result.diff) throw new DestructiveImportError(result.diff, request.confirmHint ?? 'confirmation');
    throw new InputError(result.problems, result.kind);
  }
  const parsed = result.parsed;
  if (!checkedEarly && !request.confirmReplace) await refuseDestructive(store, parsed, request);
  const stored = await store.timetables.importVersion({
    uai: parsed.uai,
    ...(parsed.name !== undefined ? { name: parsed.name } : {}),
    timezone: parsed.timezone,
    encodedDocument: parsed.document,
    sha256: parsed.sha256,
    format: parsed.format,
    importedBy: request.importedBy,
    counts: parsed.counts,
    warnings: parsed.warnings,
    warningsTotal: parsed.warnings_total,
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
    warnings_total: parsed.warnings_total,
  };
}

async function currentDocument(
  store: Store,
  uai: string,
): Promise<{ sha256: string; document: string } | undefined> {
  const current = await store.timetables.currentEncoded(uai);
  return current ? { sha256: current.sha256, document: current.document } : undefined;
}

/** The destructive check for a school named only by the file (the CLI's own process). */
async function refuseDestructive(store: Store, parsed: EncodedImport, request: IngestRequest): Promise<void> {
  const current = await store.timetables.current(parsed.uai);
  if (!current || current.sha256 === parsed.sha256) return;
  const diff = destructiveDiff(summarise(current.timetable), parsed.summary);
  if (diff) throw new DestructiveImportError(diff, request.confirmHint ?? 'confirmation');
}
