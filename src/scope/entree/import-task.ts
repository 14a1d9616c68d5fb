/**
 * The part of an import whose cost depends on the untrusted bytes, as one task: detect, read,
 * normalise, check, hash, encode the document for the store, and compare with the current
 * version. It runs in an import worker (src/scope/entree/import-worker.ts) so that a hostile
 * export costs the worker, never the event loop of the API, the broker and the bridge; it also
 * runs in-process for callers without a pool. Input and result are plain data (structured clone).
 */
import type { InputErrorKind, Problem } from '../../domain/problems.js';
import { isInputError } from '../../domain/problems.js';
import type { ImportFormat } from '../../domain/timetable.js';
import { decodeDocument, encodeDocument } from '../../store/document-codec.js';
import {
  DestructiveImportError,
  destructiveDiff,
  type ImportDiff,
  summarise,
  type TimetableSummary,
} from './destructive-import.js';
import { type ImportCounts, type ParseRequest, parseImport } from './parse-import.js';

/** Warnings kept in an answer and a stored version; the rest are counted (`warnings_total`). */
export const MAX_KEPT_WARNINGS = 100;

/** What the worker reads: the parse request (progress goes over the task's port instead). */
export interface ImportTaskInput extends Omit<ParseRequest, 'onProgress'> {
  /** The school's current version, to refuse a destructive replacement (absent: not checked). */
  previous?: { sha256: string; document: string } | undefined;
  /** How the caller confirms a destructive import, for the message (`?confirm=replace`, `--force`). */
  confirmHint?: string;
}

/** A parsed import, ready for the store: the document is already encoded. */
export interface EncodedImport {
  uai: string;
  format: ImportFormat;
  sha256: string;
  name: string | undefined;
  timezone: string;
  counts: ImportCounts;
  /** The first `MAX_KEPT_WARNINGS`. */
  warnings: Problem[];
  warnings_total: number;
  /** `encodeDocument` of the normalised timetable. */
  document: string;
  summary: TimetableSummary;
}

export type ImportTaskResult =
  | { ok: true; parsed: EncodedImport }
  | { ok: false; problems: Problem[]; kind: InputErrorKind; diff?: ImportDiff };

export function runImportTask(
  input: ImportTaskInput,
  onProgress?: (fraction: number) => void,
): ImportTaskResult {
  try {
    const parsed = parseImport({
      bytes: input.bytes,
      uai: input.uai,
      format: input.format,
      contentType: input.contentType,
      fileName: input.fileName,
      strict: input.strict,
      partnerPrivateKeyPem: input.partnerPrivateKeyPem,
      limits: input.limits,
      ...(onProgress ? { onProgress } : {}),
    });
    const summary = summarise(parsed.timetable);
    const previous = input.previous;
    if (previous && previous.sha256 !== parsed.sha256) {
      const diff = destructiveDiff(summarise(decodeDocument(previous.document)), summary);
      if (diff) return destructiveResult(diff, input.confirmHint ?? 'confirmation');
    }
    return {
      ok: true,
      parsed: {
        uai: parsed.uai,
        format: parsed.format,
        sha256: parsed.sha256,
        name: parsed.timetable.name,
        timezone: parsed.timetable.timezone,
        counts: parsed.counts,
        warnings: parsed.warnings.slice(0, MAX_KEPT_WARNINGS),
        warnings_total: parsed.warnings.length,
        document: encodeDocument(parsed.timetable),
        summary,
      },
    };
  } catch (error) {
    if (isInputError(error)) return { ok: false, problems: error.problems, kind: error.kind };
    throw error;
  }
}

function destructiveResult(diff: ImportDiff, confirmHint: string): ImportTaskResult {
  const error = new DestructiveImportError(diff, confirmHint);
  return { ok: false, problems: error.problems, kind: error.kind, diff };
}
