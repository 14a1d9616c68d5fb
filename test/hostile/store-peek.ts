/**
 * Reads the running service's database from the test, read-only (SQLite in WAL mode allows a
 * reader beside the writer; PostgreSQL through the run's search_path): "nothing stored" is
 * checked where things are stored, not only through the API that could hide them.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_FILE_NAME } from '../../src/store/store.js';
import type { HostileService } from './service-harness.js';

/** One number from a constant query (`select count(*) as n …`); no parameters, no user input. */
export async function countOf(service: HostileService, query: string): Promise<number> {
  if (service.backend === 'sqlite') {
    const db = new Database(join(service.dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare(query).get() as { n: number | bigint };
      return Number(row.n);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: service.databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: string | number }>(query);
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
