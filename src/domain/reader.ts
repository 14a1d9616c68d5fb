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
}

export interface ReadResult {
  timetable: Timetable;
  warnings: Problem[];
}

export type TimetableReader = (bytes: Uint8Array, options?: ReaderOptions) => ReadResult;
