/**
 * The timer the periodic audit jobs (checkpoints, self-verification) run on: real timers in the
 * service, a test's manual scheduler moved with its ManualClock.
 */
export interface AuditScheduler {
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const timeoutAuditScheduler: AuditScheduler = {
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    // A periodic audit job alone must not keep a CLI or a stopping process alive.
    timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Runs `job` every `periodMs` until the returned function is called; a run never overlaps the next. */
export function every(scheduler: AuditScheduler, periodMs: number, job: () => Promise<unknown>): () => void {
  let handle: unknown;
  let stopped = false;
  const arm = () => {
    handle = scheduler.setTimer(() => {
      void job()
        .catch(() => {
          // The job reports its own failures; the period goes on.
        })
        .finally(() => {
          if (!stopped) arm();
        });
    }, periodMs);
  };
  arm();
  return () => {
    stopped = true;
    scheduler.clearTimer(handle);
  };
}
