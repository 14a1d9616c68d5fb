/**
 * The import worker's module: piscina loads it in each worker thread (compiled: dist/…/import-worker.js;
 * from sources: through import-worker.mjs, which registers tsx first).
 */
import { workerTask } from '../../isolation/worker-pool.js';
import { runImportTask } from './import-task.js';

export default workerTask(runImportTask);
