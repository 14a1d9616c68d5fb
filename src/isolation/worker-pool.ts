/**
 * A pool of worker threads (piscina) for work whose cost depends on untrusted input, so that it
 * never runs on the event loop of the control plane (the API, the broker, the bridge's timers).
 * Each worker has a heap limit (`resourceLimits`): a task over it ends that worker only, and the
 * pool starts another for the next task. Each task has a wall-clock budget counted from the
 * moment a worker starts it (not while queued): over it the task is aborted and piscina
 * terminates the worker running it. Progress and the start signal travel on a MessagePort per task.
 * Workers start on demand (one at once when `warm`) and stop when idle; `close()` ends them all.
 */
import { MessageChannel, type MessagePort, type Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';

/**
 * The worker file beside `moduleUrl` named `name`: from sources (tsx, vitest) the `.mjs` entry,
 * which registers tsx in the worker thread (loader hooks are per thread); compiled, the `.js`.
 */
export function workerEntryOf(moduleUrl: string, name: string): string {
  return new URL(`./${name}.${moduleUrl.endsWith('.ts') ? 'mjs' : 'js'}`, moduleUrl).href;
}

export interface WorkerPoolOptions {
  /** URL or path of the worker module; its default export is a `workerTask(…)`. */
  filename: string;
  threads: number;
  maxHeapMb: number;
  taskTimeoutMs: number;
  /** Idle workers stop after this long (they are started again on demand). */
  idleTimeoutMs?: number;
  /**
   * Keep one worker started from the beginning (and again after one is ended), so the first
   * task does not wait for a worker to load its modules (a second or more from sources).
   */
  warm?: boolean;
  /** Errors of the pool itself (a worker lost between tasks); never thrown. */
  onError?: (error: unknown) => void;
}

/** The task ran over its wall-clock budget; its worker was terminated. */
export class TaskTimeLimitError extends Error {
  constructor(readonly limitMs: number) {
    super(`the task ran over its ${limitMs} ms budget and was stopped`);
    this.name = 'TaskTimeLimitError';
  }
}

/** The task's worker ran out of its heap limit and was terminated. */
export class TaskMemoryLimitError extends Error {
  constructor(readonly limitMb: number) {
    super(`the task went over the ${limitMb} MB heap limit of its worker`);
    this.name = 'TaskMemoryLimitError';
  }
}

/** What crosses to the worker: the input and the task's own port. */
export interface WorkerMessage<I> {
  input: I;
  port: MessagePort;
}

/** From the worker on the task's port. */
export type WorkerSignal = { type: 'started' } | { type: 'progress'; fraction: number };

export interface RunOptions {
  /** Buffers moved to the worker rather than copied (they are unusable here afterwards). */
  transferList?: Transferable[];
  onProgress?: (fraction: number) => void;
}

export interface WorkerPoolStats {
  threads: number;
  queued: number;
  completed: number;
}

export class WorkerPool<I, O> {
  private readonly pool: Piscina<WorkerMessage<I>, O>;

  constructor(private readonly options: WorkerPoolOptions) {
    this.pool = new Piscina({
      filename: options.filename,
      minThreads: options.warm ? 1 : 0,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeoutMs ?? 60_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
      // No shared-memory wake-ups: a worker waits for tasks on its message port like any thread.
      atomics: 'disabled',
    });
    // Piscina emits 'error' when a worker dies with no task on it; unhandled, that would throw.
    this.pool.on('error', (error: unknown) => options.onError?.(error));
  }

  async run(input: I, options: RunOptions = {}): Promise<O> {
    const { port1, port2 } = new MessageChannel();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    port1.on('message', (signal: WorkerSignal) => {
      if (signal.type === 'started') {
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, this.options.taskTimeoutMs);
      } else options.onProgress?.(signal.fraction);
    });
    try {
      return await this.pool.run(
        { input, port: port2 },
        { transferList: [...(options.transferList ?? []), port2], signal: controller.signal },
      );
    } catch (error) {
      if (timedOut) throw new TaskTimeLimitError(this.options.taskTimeoutMs);
      if ((error as NodeJS.ErrnoException | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new TaskMemoryLimitError(this.options.maxHeapMb);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  }

  stats(): WorkerPoolStats {
    return { threads: this.pool.threads.length, queued: this.pool.queueSize, completed: this.pool.completed };
  }

  /** Ends every worker, running tasks included. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * The worker side: wraps `run` as a piscina handler that says when it starts (the budget
 * begins then), reports progress at most once per percent, and closes the task's port.
 */
export function workerTask<I, O>(
  run: (input: I, onProgress: (fraction: number) => void) => O,
): (message: WorkerMessage<I>) => O {
  return ({ input, port }) => {
    port.postMessage({ type: 'started' } satisfies WorkerSignal);
    let reported = -1;
    try {
      return run(input, (fraction) => {
        const percent = Math.floor(fraction * 100);
        if (percent === reported) return;
        reported = percent;
        port.postMessage({ type: 'progress', fraction } satisfies WorkerSignal);
      });
    } finally {
      port.close();
    }
  };
}

/**
 * Bytes that may be moved to a worker: a Buffer from a pool shares its ArrayBuffer with other
 * Buffers, which moving would break; such bytes are copied once instead.
 */
export function transferable(bytes: Uint8Array): { bytes: Uint8Array; transferList: Transferable[] } {
  const owned =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  const own = owned ? bytes : new Uint8Array(bytes);
  return { bytes: own, transferList: [own.buffer as ArrayBuffer] };
}
