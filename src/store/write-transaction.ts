/**
 * Runs a read-then-write unit of work as one transaction on either dialect.
 *
 * SQLite: `BEGIN IMMEDIATE` takes the write lock before the first read. A plain (deferred)
 * `BEGIN` would read under a snapshot and then fail with SQLITE_BUSY_SNAPSHOT when another
 * process (the CLI next to the server) committed in between; the busy timeout cannot wait that
 * out. Within one process, kysely's SQLite driver holds its single connection for the whole
 * callback, so concurrent calls queue.
 *
 * PostgreSQL: a READ COMMITTED transaction; callers lock the rows they read-then-write with
 * `SELECT … FOR UPDATE` (several bridge instances share the database). A transaction whose
 * connection died before COMMIT (a server restart or failover: 57P01, a reset socket) had no
 * effect, so it runs again on a fresh connection, a few times over a few seconds; one whose
 * COMMIT was under way when the link broke may or may not have committed, so it is never re-run:
 * the caller gets the error and re-derives its state from the store (revs, plans, leases).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

export type StoreDialect = 'sqlite' | 'postgres';

export async function writeTransaction<T>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') return postgresTransaction(db, work);

  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      // A failed COMMIT (I/O error) can leave the transaction open; never hand the shared
      // connection back mid-transaction.
      await sql`rollback`.execute(connection).catch(() => {
        // "no transaction is active": the failed statement already rolled it back.
      });
      throw error;
    }
  });
}

/** Attempts of a transaction whose connection died before COMMIT, and the pause before each retry. */
const RETRY_DELAYS_MS = [250, 1_000, 2_500];

async function postgresTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let workDone = false;
    try {
      return await db.transaction().execute(async (trx) => {
        const result = await work(trx);
        workDone = true;
        return result;
      });
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (workDone || delay === undefined || !isConnectionLoss(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The session is gone, so its open transaction was rolled back by the server: SQLSTATE class 08
 * (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now), or a
 * socket-level failure reported by pg without a SQLSTATE. Not a timeout: a frozen server may still
 * run the statement, and retrying would only stretch the failure.
 */
export function isConnectionLoss(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT')
      return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|Client has encountered a connection error/i.test(message)
  );
}
