/**
 * Signals between the processes sharing a store (src/store/store-signals.ts): PostgreSQL
 * LISTEN/NOTIFY on a channel named after the schema, in-process delivery on SQLite.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/mqtt-contract.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
// A second set: its PostgreSQL schema differs from the first's.
const elsewhere = await storeBackends();
afterAll(async () => {
  await Promise.all([...backends, ...elsewhere].map((b) => b.cleanup()));
});

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const postgres = backends.find((b) => b.name === 'postgres');
const otherSchema = elsewhere.find((b) => b.name === 'postgres');

async function listening(store: Store): Promise<{ heard: string[]; stop: () => Promise<void> }> {
  const heard: string[] = [];
  const stop = await store.signals.listen((message) => heard.push(message));
  return { heard, stop };
}

describe('store signals on sqlite (in process)', () => {
  it('delivers to every listener of the store until it stops listening', async () => {
    const store = await sqlite.open();
    const first = await listening(store);
    const second = await listening(store);
    await store.signals.notify('{"kind":"timetable","uai":"0670080Y","from":"a"}');
    await waitFor(() => first.heard.length === 1 && second.heard.length === 1, { timeoutMs: 1_000 });
    expect(first.heard).toEqual(['{"kind":"timetable","uai":"0670080Y","from":"a"}']);
    expect(second.heard).toEqual(['{"kind":"timetable","uai":"0670080Y","from":"a"}']);

    await first.stop();
    await store.signals.notify('after');
    // Barrier: one notification is handed to every listener in one delivery, so once the second
    // heard it the first would have too.
    await waitFor(() => second.heard.length === 2, { timeoutMs: 1_000 });
    expect(first.heard).toEqual(['{"kind":"timetable","uai":"0670080Y","from":"a"}']);
    expect(second.heard).toEqual(['{"kind":"timetable","uai":"0670080Y","from":"a"}', 'after']);
    await second.stop();
  });

  it('does not deliver a message notified before the listener stopped but not yet handed over', async () => {
    const store = await sqlite.open();
    const listener = await listening(store);
    const witness = await listening(store);
    // Not awaited: the delivery is still queued when the listener stops.
    void store.signals.notify('in flight');
    await listener.stop();
    // Barrier: the witness, still listening, receives it in the same delivery.
    await waitFor(() => witness.heard.length === 1, { timeoutMs: 1_000 });
    expect(witness.heard).toEqual(['in flight']);
    expect(listener.heard).toEqual([]);
    await witness.stop();
  });
});

describe.runIf(postgres !== undefined && otherSchema !== undefined)(
  'store signals on postgres (LISTEN/NOTIFY)',
  () => {
    it('two stores on one schema hear each other, a store on another schema does not', async () => {
      const a = await postgres!.open();
      const b = await postgres!.open();
      const c = await otherSchema!.open();
      const [onA, onB, onC] = await Promise.all([listening(a), listening(b), listening(c)]);
      const message = JSON.stringify({ kind: 'overrides', uai: '0670080Y', from: 'bridge-a' });
      await a.signals.notify(message);
      await waitFor(() => onA.heard.length === 1 && onB.heard.length === 1, { timeoutMs: 3_000 });
      expect(onB.heard).toEqual([message]);
      // The sender hears itself too (bridge.ts skips its own by `from`).
      expect(onA.heard).toEqual([message]);

      // PostgreSQL hands notifications to a listener in commit order: once C heard its own later
      // message, it would already have heard A's had it been on the same channel.
      await c.signals.notify('sentinel');
      await waitFor(() => onC.heard.length > 0, { timeoutMs: 3_000 });
      expect(onC.heard).toEqual(['sentinel']);

      await b.signals.notify('from b');
      await waitFor(() => onA.heard.length === 2 && onB.heard.length === 2, { timeoutMs: 3_000 });
      expect(onA.heard).toEqual([message, 'from b']);
      expect(onB.heard).toEqual([message, 'from b']);

      // Once B stops listening it hears nothing more; A, still listening, is the sentinel.
      await onB.stop();
      await a.signals.notify('after b stopped');
      await waitFor(() => onA.heard.length === 3, { timeoutMs: 3_000 });
      expect(onB.heard).toEqual([message, 'from b']);
      expect(onC.heard).toEqual(['sentinel']);
      await Promise.all([onA.stop(), onC.stop()]);
    });

    it('refuses a message too long for NOTIFY', async () => {
      const store = await postgres!.open();
      await expect(store.signals.notify('x'.repeat(8_000))).rejects.toThrow('signal message too long');
    });

    it('listens again after its connection is killed', async () => {
      const a = await postgres!.open();
      const b = await postgres!.open();
      const onB = await listening(b);
      const { rows: schema } = await sql<{ name: string }>`select current_schema() as name`.execute(b.db);
      const client = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
      await client.connect();
      // Only this schema's listener: other test files listen on their own channels meanwhile.
      const { rows } = await client
        .query<{ pid: number }>('select pid from pg_stat_activity where query = $1', [
          `listen "scope_energie_${schema[0]!.name}"`,
        ])
        .finally(() => client.end());
      expect(rows).toHaveLength(1);
      const killer = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
      await killer.connect();
      try {
        for (const { pid } of rows) await killer.query('select pg_terminate_backend($1)', [pid]);
      } finally {
        await killer.end();
      }
      // Messages sent while it reconnects are lost (best effort): send until one is heard.
      await waitFor(
        async () => {
          await a.signals.notify('back');
          return waitFor(() => onB.heard.includes('back'), { timeoutMs: 100 }).catch(() => false);
        },
        { timeoutMs: 5_000, what: 'the listener to reconnect' },
      );
      await onB.stop();
    });
  },
);
