/**
 * Tampering as an attacker with full control of the database would do it, past the append-only
 * triggers of migration 0006: on SQLite (anyone who can write the file) by dropping the triggers
 * and putting them back; on PostgreSQL as a superuser, with `session_replication_role = replica`,
 * which skips ordinary triggers for that transaction only (the table owner could also
 * `ALTER TABLE audit_log DISABLE TRIGGER USER`). What the checkpoints must catch.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';

export async function asAttacker(store: Store, work: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  if (store.dialect === 'postgres') {
    await store.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await work(trx);
    });
    return;
  }
  // Every trigger guarding the audit tables (migrations 0006 and 0017), dropped and put back as
  // they were.
  const triggers = await sql<{ name: string; sql: string }>`
    select name, sql from sqlite_master
    where type = 'trigger' and tbl_name in ('audit_log', 'audit_head', 'audit_anchor')`.execute(store.db);
  for (const trigger of triggers.rows) await sql`drop trigger ${sql.id(trigger.name)}`.execute(store.db);
  try {
    await work(store.db);
  } finally {
    for (const trigger of triggers.rows) await sql.raw(trigger.sql).execute(store.db);
  }
}

/** Runs raw SQL as the attacker. */
export function tamper(store: Store, query: ReturnType<typeof sql>): Promise<void> {
  return asAttacker(store, async (db) => {
    await query.execute(db);
  });
}
