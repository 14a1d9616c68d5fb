import { describe, expect, it } from 'vitest';
import { createAuditBatcher } from '../../src/bridge/audit-batcher.js';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { waitFor } from '../helpers/wait.js';

const event = (n: number): AuditEvent => ({ kind: 'publish', at: n, actor: 'bridge', detail: { n } });

describe('audit batcher', () => {
  it('appends events in order, in batches, and keeps a failed batch for the next append', async () => {
    const stored: number[][] = [];
    let fail = true;
    const errors: unknown[] = [];
    const batcher = createAuditBatcher(
      async (events) => {
        if (fail) {
          fail = false;
          throw new Error('database busy');
        }
        stored.push(events.map((e) => e.at));
      },
      { flushMs: 10_000, onError: (e) => errors.push(e) },
    );
    batcher.sink([event(1), event(2)]);
    batcher.sink([event(3)]);
    await batcher.flush();
    expect(stored).toEqual([]);
    expect(errors).toHaveLength(1);
    batcher.sink([event(4)]);
    await batcher.stop();
    expect(stored).toEqual([[1, 2, 3, 4]]);
  });

  it('flushes by itself after the delay', async () => {
    const stored: number[] = [];
    const batcher = createAuditBatcher(async (events) => void stored.push(...events.map((e) => e.at)), {
      flushMs: 5,
    });
    batcher.sink([event(7)]);
    await waitFor(() => stored.length > 0, { what: 'the timed flush' });
    expect(stored).toEqual([7]);
    await batcher.stop();
  });
});
