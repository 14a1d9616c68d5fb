/**
 * Collects audit events and appends them to the log in batches (one write transaction per
 * batch, in order), so a region's transition of thousands of zones costs a few appends, not
 * thousands. A failed append is logged and retried with the next batch: events are never
 * dropped silently while the process lives.
 */
import type { AuditEvent, AuditSink } from './audit-events.js';

export interface AuditBatcher {
  sink: AuditSink;
  /** Appends what is pending now; resolves when it is stored. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createAuditBatcher(
  append: (events: AuditEvent[]) => Promise<void>,
  options: { flushMs?: number; onError?: (error: unknown) => void } = {},
): AuditBatcher {
  const flushMs = options.flushMs ?? 200;
  let pending: AuditEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return chain;
    chain = chain.then(() =>
      append(batch).catch((error: unknown) => {
        options.onError?.(error);
        pending = [...batch, ...pending];
      }),
    );
    return chain;
  };

  return {
    sink(events) {
      if (events.length === 0) return;
      pending.push(...events);
      timer ??= setTimeout(() => void flush(), flushMs);
    },
    flush,
    async stop() {
      await flush();
    },
  };
}
