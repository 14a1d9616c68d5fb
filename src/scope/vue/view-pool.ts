/**
 * Where VUE's and the dashboard's timetable-sized work runs (view-task.ts): a `WorkerPool` of its
 * own (an import never waits behind a page, nor a page behind an import), or in-process for
 * tests and tools that build the app without workers. Results are kept in a small LRU per
 * (school, stored version and hash, devices file, calendar, week): a stored version never
 * changes, so a repeated view costs a cache look-up.
 */
import { WorkerPool, workerEntryOf } from '../../isolation/worker-pool.js';
import type { OccupancyTaskRunner } from '../sortie/occupancy-task.js';
import { runViewTask, type ViewTaskInput, type ViewTaskResult } from './view-task.js';

export type ViewTaskRunner = (input: ViewTaskInput) => Promise<ViewTaskResult>;

export interface ViewPool {
  run: ViewTaskRunner;
  close(): Promise<void>;
}

export interface ViewPoolOptions {
  maxHeapMb: number;
  taskTimeoutMs: number;
  onError?: (error: unknown) => void;
}

/**
 * One thread, kept started (`warm`): from sources a cold worker takes a second or more to load,
 * which the first page view would wait for.
 */
export function createViewPool(options: ViewPoolOptions): ViewPool {
  const pool = new WorkerPool<ViewTaskInput, ViewTaskResult>({
    filename: workerEntryOf(import.meta.url, 'view-worker'),
    threads: 1,
    warm: true,
    maxHeapMb: options.maxHeapMb,
    taskTimeoutMs: options.taskTimeoutMs,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return { run: (input) => pool.run(input), close: () => pool.close() };
}

/** SORTIE's occupancy bodies through a view runner (the service's view pool). */
export function occupancyRunnerOf(run: ViewTaskRunner): OccupancyTaskRunner {
  return async (input) => {
    const result = await run({ kind: 'occupancy', ...input });
    if (result.kind !== 'occupancy') throw new Error('an occupancy body was expected');
    return result.text;
  };
}

/** The same task on this thread (tests, and apps built without a pool). */
export const inProcessViewRunner: ViewTaskRunner = async (input) => runViewTask(input);

/** A bounded map that forgets the least recently used entry. */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Forgets `key` if it still holds `value`. */
  delete(key: string, value: V): void {
    if (this.entries.get(key) === value) this.entries.delete(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/**
 * Tasks run through `runner`, their results kept by key (the key must name everything the result
 * depends on); concurrent views of one key share one run, and a failed run is forgotten.
 */
export class ViewCache {
  private readonly results: LruCache<Promise<ViewTaskResult>>;

  constructor(
    private readonly runner: ViewTaskRunner,
    capacity = 64,
  ) {
    this.results = new LruCache(capacity);
  }

  run(key: string, task: () => Promise<ViewTaskInput>): Promise<ViewTaskResult> {
    const known = this.results.get(key);
    if (known) return known;
    const running = task().then((input) => this.runner(input));
    this.results.set(key, running);
    running.catch(() => this.results.delete(key, running));
    return running;
  }
}
