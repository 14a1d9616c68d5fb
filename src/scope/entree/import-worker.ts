/**
 * The import worker's module: piscina loads it in each worker thread (compiled: dist/…/import-worker.js;
 * from sources: through import-worker.mjs, which registers tsx first).
 */
import { getHeapStatistics } from 'node:v8';
import { workerTask } from '../../isolation/worker-pool.js';
import { runImportTask } from './import-task.js';

/**
 * Half this worker's heap limit: what a JSON document may take once parsed. Reaching the limit
 * inside `JSON.parse` (which cannot be interrupted) would abort the whole process rather than this
 * worker (src/domain/reader.ts, `maxJsonHeapBytes`); half leaves room for the rest of the import.
 * The limit, not the heap free now: a previous refused import may still be garbage not yet
 * collected, and it must not make the next small one refused.
 */
function jsonHeapBudget(): number {
  return getHeapStatistics().heap_size_limit / 2;
}

export default workerTask<Parameters<typeof runImportTask>[0], ReturnType<typeof runImportTask>>(
  (input, onProgress) =>
    runImportTask({ ...input, limits: { ...input.limits, maxJsonHeapBytes: jsonHeapBudget() } }, onProgress),
);
