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
 * `SELECT … FOR UPDATE` (several bridge instances share the database).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

export type StoreDialect = 'sqlite' | 'postgres';

export async function writeTransaction<T>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') return db.transaction().execute(work);

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
