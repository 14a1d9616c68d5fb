/**
 * Issue 22, the store's side of "no fault exits the process", against the machine's PostgreSQL
 * (each case in its own schema; only this file's own sessions are terminated):
 * - a session killed while a transaction holds it checked out between two statements (what a
 *   server restart or failover does: 57P01) is reported, not an unhandled 'error' event that ends
 *   the process, and the transaction runs again on a fresh connection, once;
 * - statement_timeout and lock_timeout turn a stuck statement into an error within the setting;
 * - the LISTEN session comes back after its backend is killed, and hears the next signal.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store, type StoreOptions } from '../../src/store/store.js';
import { writeTransaction } from '../../src/store/write-transaction.js';
import { waitFor } from '../helpers/mqtt-contract.js';

const DATABASE_URL = process.env['DATABASE_URL'];
const schema = `faults_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const opened: Store[] = [];

async function open(options: Partial<StoreOptions> = {}): Promise<Store> {
  const store = await openStore({ databaseUrl: DATABASE_URL!, pgSchema: schema, ...options });
  opened.push(store);
  return store;
}

/** Ends one backend the way a server shutdown does (SIGTERM to it: 57P01 on its client). */
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (!DATABASE_URL) return;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe.skipIf(!DATABASE_URL)(
  `PostgreSQL connection loss${DATABASE_URL ? '' : ' (skipped: set DATABASE_URL; CI sets it)'}`,
  () => {
    it('survives a session killed inside an open transaction and runs the transaction again once', async () => {
      const errors: Array<{ code?: string; message: string }> = [];
      const store = await open({ onPoolError: (error) => errors.push(error as { code?: string } & Error) });
      await sql`create table if not exists fault_rows (id text primary key, attempt int not null)`.execute(
        store.db,
      );
      let attempts = 0;
      const result = await writeTransaction(store.db, 'postgres', async (trx) => {
        attempts += 1;
        await sql`insert into fault_rows (id, attempt) values (${`row-${attempts}`}, ${attempts})`.execute(
          trx,
        );
        if (attempts === 1) {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await terminate(rows[0]!.pid);
          // The client is checked out and idle between two statements when its server says goodbye.
          await waitFor(() => errors.some((e) => e.code === '57P01'), { timeoutMs: 5_000 });
        }
        await sql`update fault_rows set attempt = attempt where id = ${`row-${attempts}`}`.execute(trx);
        return attempts;
      });
      expect(result).toBe(2);
      expect(errors.map((e) => e.code)).toContain('57P01');
      // The first attempt's insert went with its session; the second committed.
      const { rows } = await sql<{ id: string }>`select id from fault_rows order by id`.execute(store.db);
      expect(rows.map((r) => r.id)).toEqual(['row-2']);
      // The pool dropped the broken client and serves the next query on a fresh one.
      const { rows: one } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(one).toEqual([{ one: 1 }]);
    });

    it('cancels a statement past statement_timeout (57014) instead of waiting on it', async () => {
      const store = await open({ pgTimeouts: { statementMs: 300 } });
      const started = performance.now();
      await expect(sql`select pg_sleep(5)`.execute(store.db)).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - started).toBeLessThan(3_000);
    });

    it('fails a statement waiting on a lock past lock_timeout (55P03)', async () => {
      const store = await open({ pgTimeouts: { lockMs: 300 } });
      await sql`create table if not exists fault_locks (id int primary key)`.execute(store.db);
      await sql`insert into fault_locks values (1) on conflict do nothing`.execute(store.db);
      const holder = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query('select * from fault_locks where id = 1 for update');
        await expect(sql`update fault_locks set id = 1 where id = 1`.execute(store.db)).rejects.toMatchObject(
          {
            code: '55P03',
          },
        );
      } finally {
        await holder.query('rollback');
        await holder.end();
      }
    });

    it('listens again after its LISTEN session is killed, and hears the next signal', async () => {
      const errors: Error[] = [];
      const store = await open({ onPoolError: (error) => errors.push(error) });
      const heard: string[] = [];
      const stop = await store.signals.listen((message) => heard.push(message));
      try {
        const listener = async () => {
          const { rows } = await sql<{ pid: number }>`
            select pid from pg_stat_activity where query like ${`listen "scope_energie_${schema}"%`}`.execute(
            store.db,
          );
          return rows[0]?.pid;
        };
        const first = await waitFor(listener, { timeoutMs: 5_000 });
        await terminate(first as number);
        await waitFor(() => errors.length > 0, { timeoutMs: 5_000 });
        const second = await waitFor(
          async () => {
            const pid = await listener();
            return pid !== undefined && pid !== first ? pid : undefined;
          },
          { timeoutMs: 10_000 },
        );
        expect(second).not.toBe(first);
        await store.signals.notify('after the loss');
        await waitFor(() => heard.includes('after the loss'), { timeoutMs: 5_000 });
        expect(heard).toEqual(['after the loss']);
      } finally {
        await stop();
      }
    });
  },
);
