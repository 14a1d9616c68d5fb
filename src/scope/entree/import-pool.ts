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
} from '../../isolation/worker-pool.js';
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

/** From sources (tsx, vitest) the .mjs entry registers tsx in the worker; compiled, the .js runs as is. */
function workerEntry(): string {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('./import-worker.mjs', here).href
    : new URL('./import-worker.js', here).href;
}

export function createImportPool(options: ImportPoolOptions): ImportPool {
  const pool = new WorkerPool<ImportTaskInput, ImportTaskResult>({
    filename: workerEntry(),
    threads: options.threads,
    maxHeapMb: options.maxHeapMb,
    taskTimeoutMs: options.taskTimeoutMs,
    ...(options.warm ? { warm: true } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    async run(input, onProgress) {
      // The body moves to the worker (no second copy); the worker hashes it.
      const { bytes, transferList } = transferable(input.bytes);
      try {
        return await pool.run({ ...input, bytes }, { transferList, ...(onProgress ? { onProgress } : {}) });
      } catch (error) {
        if (error instanceof TaskTimeLimitError) {
          throw InputError.of(
            'import-time-limit',
            `reading the import took longer than ${error.limitMs / 1000} s (entree.worker.task_timeout_s) and was stopped; nothing was stored`,
            'body',
            'invalid',
          );
        }
        if (error instanceof TaskMemoryLimitError) {
          throw InputError.of(
            'import-memory-limit',
            `reading the import needed more than ${error.limitMb} MB (entree.worker.max_heap_mb) and was stopped; nothing was stored`,
            'body',
            'too-large',
          );
        }
        throw error;
      }
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
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
