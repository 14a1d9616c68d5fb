/**
 * The import workers: `runImportTask` in a `WorkerPool`, with the task's limits turned into the
 * problems of the ENTRÉE contract (docs/api.md): over the wall-clock budget 422
 * `import-time-limit`, over the heap limit 413 `import-memory-limit`. Nothing is stored then: the
 * store is only reached with a parsed result.
 */
import type { Config } from '../../config/schema.js';
import { InputError } from '../../domain/problems.js';
import type { InputLimits } from '../../domain/reader.js';
import {
  TaskMemoryLimitError,
  TaskTimeLimitError,
  transferable,
  WorkerPool,
  type WorkerPoolStats,
  workerEntryOf,
} from '../../isolation/worker-pool.js';
import type { Part } from '../../lifecycle/part.js';
import type { ImportTaskInput, ImportTaskResult } from './import-task.js';

export interface ImportPoolOptions {
  threads: number;
  maxHeapMb: number;
  taskTimeoutMs: number;
  /** Start one worker now rather than at the first import (the service; not the one-shot CLI). */
  warm?: boolean;
  onError?: (error: unknown) => void;
}

/** Runs one import task somewhere (a worker, or in-process); same contract either way. */
export type ImportTaskRunner = (
  input: ImportTaskInput,
  onProgress?: (fraction: number) => void,
) => Promise<ImportTaskResult>;

export interface ImportPool {
  run: ImportTaskRunner;
  stats(): WorkerPoolStats;
  close(): Promise<void>;
}

export function createImportPool(options: ImportPoolOptions): ImportPool {
  const pool = new WorkerPool<ImportTaskInput, ImportTaskResult>({
    filename: workerEntryOf(import.meta.url, 'import-worker'),
    threads: options.threads,
    maxHeapMb: options.maxHeapMb,
    taskTimeoutMs: options.taskTimeoutMs,
    ...(options.warm ? { warm: true } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const run: ImportTaskRunner = async (input, onProgress) => {
    // The body moves to the worker (no second copy); the worker hashes it.
    const { bytes, transferList } = transferable(input.bytes);
    let result: ImportTaskResult;
    try {
      result = await pool.run({ ...input, bytes }, { transferList, ...(onProgress ? { onProgress } : {}) });
    } catch (error) {
      throw asInputError(error);
    }
    // Refused before parsing for want of heap (src/domain/reader.ts, `maxJsonHeapBytes`): the same
    // answer as a worker ended at its heap limit.
    if (!result.ok && result.problems.some((p) => p.code === 'import-memory-limit'))
      throw asInputError(new TaskMemoryLimitError(options.maxHeapMb));
    return result;
  };
  if (options.warm) {
    // A first small import loads and compiles the reading path in the warm worker, so that the
    // first real import is not slowed by a cold isolate (a few hundred ms under load). Sent on
    // the next turn: piscina announces its first worker in a microtask, and a task sent before
    // that finds no idle worker and starts a second, cold one.
    setImmediate(() => {
      void run({ bytes: new TextEncoder().encode(WARM_UP_TIMETABLE), uai: WARM_UP_UAI }).catch((error) => {
        if (!closed) options.onError?.(error);
      });
    });
  }
  let closed = false;
  return {
    run,
    stats: () => pool.stats(),
    close: () => {
      closed = true;
      return pool.close();
    },
  };
}

const WARM_UP_UAI = '0670999X';
const WARM_UP_TIMETABLE = JSON.stringify({
  uai: WARM_UP_UAI,
  rooms: [{ id: 'A', name: 'A' }],
  lessons: [{ id: 'L', rooms: ['A'], day: 1, start: '08:00', end: '09:00', weeks: ['2025-09-01'] }],
});

function asInputError(error: unknown): unknown {
  if (error instanceof TaskTimeLimitError) {
    return InputError.of(
      'import-time-limit',
      `reading the import took longer than ${error.limitMs / 1000} s (entree.worker.task_timeout_s) and was stopped; nothing was stored`,
      'body',
      'invalid',
    );
  }
  if (error instanceof TaskMemoryLimitError) {
    return InputError.of(
      'import-memory-limit',
      `reading the import needed more than ${error.limitMb} MB (entree.worker.max_heap_mb) and was stopped; nothing was stored`,
      'body',
      'too-large',
    );
  }
  return error;
}

/** The input bounds of the `entree` settings. */
export function entreeLimits(entree: Config['entree']): InputLimits {
  return {
    maxXmlDepth: entree.max_xml_depth,
    maxXmlElements: entree.max_xml_elements,
    maxOccurrences: entree.max_occurrences,
    maxOccurrencesPerRule: entree.max_occurrences_per_rule,
    maxZipEntries: entree.max_zip_entries,
    maxUncompressedBytes: entree.max_uncompressed_mb * 1024 * 1024,
  };
}

/**
 * The import pool as a part of the service: created (and, with `warm`, its first worker loaded)
 * at start, so that loading a worker does not compete with the parts started before it; closed
 * at stop. `run` before start or after stop rejects.
 */
export class ImportWorkers implements Part {
  private pool: ImportPool | null = null;

  constructor(private readonly options: ImportPoolOptions) {}

  readonly run: ImportTaskRunner = (input, onProgress) => {
    if (!this.pool) return Promise.reject(new Error('the import workers are not running'));
    return this.pool.run(input, onProgress);
  };

  start(): void {
    this.pool ??= createImportPool(this.options);
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
