/**
 * The contract of every format reader (src/formats/*): a pure function from bytes to a
 * normalised timetable plus warnings. Readers throw `InputError` for bad input and never do I/O.
 */
import type { Problem } from './problems.js';
import type { Timetable } from './timetable.js';

export interface ReaderOptions {
  /** File name as uploaded or on disk, when known (UDT takes the UAI from it). */
  fileName?: string;
  /** UAI the caller expects (URL path or --uai); readers may use it when the file has none. */
  expectedUai?: string;
  /** PEM private key of the ENT partner, for the EDT encrypted container. */
  partnerPrivateKeyPem?: string;
  /** Reports progress on long inputs: fraction 0..1. */
  onProgress?: (fraction: number) => void;
  /** Refuse what is otherwise a warning: unknown JSON fields, UTF-8 bytes under a Latin-1 declaration. */
  strict?: boolean;
  /** Bounds on the input (config `entree.*`); each missing one takes its default. */
  limits?: Partial<InputLimits>;
}

/**
 * What one import may cost, refused as soon as crossed so that the work stays linear in the bound
 * rather than in what the input claims (issue 13; defaults mirror config/default.yaml `entree`).
 */
export interface InputLimits {
  maxXmlDepth: number;
  maxXmlElements: number;
  /** Lesson occurrences of the whole import. */
  maxOccurrences: number;
  /** Occurrences of one ICS RRULE within its expansion window. */
  maxOccurrencesPerRule: number;
  /** Zip-bomb guards of UDT archives. */
  maxZipEntries: number;
  maxUncompressedBytes: number;
  /**
   * Heap a JSON document may take once parsed (estimated before parsing; absent: not checked).
   * An import worker sets it from its own free heap: `JSON.parse` cannot be interrupted, and a
   * worker that reaches its heap limit inside it takes the whole process down instead of ending
   * alone (measured on Node 20: 12 MB of `[[],[],…]` through a 64 MB worker aborted the process).
   */
  maxJsonHeapBytes?: number | undefined;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxXmlDepth: 64,
  maxXmlElements: 2_000_000,
  maxOccurrences: 500_000,
  maxOccurrencesPerRule: 2_000,
  maxZipEntries: 1_000,
  maxUncompressedBytes: 200 * 1024 * 1024,
};

export function inputLimits(options: { limits?: Partial<InputLimits> | undefined }): InputLimits {
  return { ...DEFAULT_INPUT_LIMITS, ...options.limits };
}

export interface ReadResult {
  timetable: Timetable;
  warnings: Problem[];
}

export type TimetableReader = (bytes: Uint8Array, options?: ReaderOptions) => ReadResult;
