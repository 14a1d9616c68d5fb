/**
 * The booking-feed worker's module: piscina loads it in each worker thread (compiled:
 * dist/bridge/booking-feed-worker.js; from sources: through booking-feed-worker.mjs).
 */
import { readBookingFeed } from '../events/booking-feed.js';
import { workerTask } from '../isolation/worker-pool.js';

export default workerTask(readBookingFeed);
