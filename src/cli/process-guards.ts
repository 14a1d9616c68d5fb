/**
 * Process-level safety nets of `serve` (issue 22): a fault somewhere (a driver emitting an
 * unexpected 'error', a promise nobody awaited) must not end a process that controls a region's
 * heating. Node's default for both is to print and exit; the service logs them clearly as bugs and
 * keeps running, and a supervisor (systemd Restart=always, a container restart policy) is there
 * for the exits that remain. The only deliberate exits are `exitFatally` and the stop deadline.
 */
import type { Logger } from '../log/logger.js';

export interface ProcessGuards {
  /** Removes the handlers (tests, and a second `serve` in one process). */
  remove(): void;
}

export function installProcessGuards(logger: Logger, target: NodeJS.Process = process): ProcessGuards {
  const onRejection = (reason: unknown): void => {
    logger.error(
      { err: reason, guard: 'unhandledRejection' },
      'unhandled promise rejection (a bug): logged, the service keeps running',
    );
  };
  const onException = (error: Error, origin: string): void => {
    logger.error(
      { err: error, origin, guard: 'uncaughtException' },
      'uncaught exception (a bug): logged, the service keeps running',
    );
  };
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return {
    remove() {
      target.off('unhandledRejection', onRejection);
      target.off('uncaughtException', onException);
    },
  };
}

/** The one way `serve` ends itself on purpose: a line saying why at level fatal, then exit. */
export function exitFatally(logger: Logger, message: string, details: object = {}, code = 1): never {
  logger.fatal(details, message);
  logger.flush?.();
  process.exit(code);
}

/**
 * Bounds a stop: `stop()` runs, and the process exits when it is done or when `timeoutMs` passed,
 * whichever comes first — a handle some library left open (a socket, a timer) cannot keep a
 * stopped service alive, and an orchestrator's SIGKILL never has to come.
 */
export async function stopWithin(
  logger: Logger,
  stop: () => Promise<void>,
  timeoutMs: number,
): Promise<'stopped' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      stop().then(
        () => 'stopped' as const,
        (error: unknown) => {
          logger.error({ err: error }, 'stop failed');
          return 'stopped' as const;
        },
      ),
      deadline,
    ]);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}
