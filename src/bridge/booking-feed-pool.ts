/**
 * Where booking feeds are parsed (docs/events.md, "Booking feeds"): a `WorkerPool` of one thread,
 * started on demand, so that a large or hostile feed costs a worker's heap and time budget, never
 * the event loop of the API, the broker and the dispatcher (docs/architecture.md, "Import workers").
 */
import type { BookingFeedInput, BookingFeedResult } from '../events/booking-feed.js';
import { WorkerPool, workerEntryOf } from '../isolation/worker-pool.js';
import type { FeedParser } from './booking-feeds.js';

export interface BookingFeedPool {
  parse: FeedParser;
  close(): Promise<void>;
}

export function createBookingFeedPool(options: {
  maxHeapMb: number;
  taskTimeoutMs: number;
  onError?: (error: unknown) => void;
}): BookingFeedPool {
  const pool = new WorkerPool<BookingFeedInput, BookingFeedResult>({
    filename: workerEntryOf(import.meta.url, 'booking-feed-worker'),
    threads: 1,
    maxHeapMb: options.maxHeapMb,
    taskTimeoutMs: options.taskTimeoutMs,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return { parse: (input) => pool.run(input), close: () => pool.close() };
}
