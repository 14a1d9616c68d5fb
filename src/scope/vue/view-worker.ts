/**
 * The view worker's module: piscina loads it in each worker thread (compiled: dist/…/view-worker.js;
 * from sources: through view-worker.mjs, which registers tsx first).
 */
import { workerTask } from '../../isolation/worker-pool.js';
import { runViewTask } from './view-task.js';

export default workerTask(runViewTask);
