/**
 * The append-only, hash-chained audit log (issue 7) and its one-row head: the last seq and hash,
 * locked with FOR UPDATE on PostgreSQL so that instances appending together chain one after the
 * other, and compared by `verify` with the last row so that a deleted tail is detected too.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('uai', 'text')
    .addColumn('zone', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addCheckConstraint(
      'audit_log_kind',
      sql`kind in ('import', 'plan', 'publish', 'ack', 'override', 'config')`,
    )
    .execute();
  await db.schema.createIndex('audit_log_uai_at').on('audit_log').columns(['uai', 'at']).execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at']).execute();

  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addCheckConstraint('audit_head_single_row', sql`id = 1`)
    .execute();
  await sql`insert into audit_head (id, seq, hash) values (1, 0, ${'0'.repeat(64)})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropTable('audit_log').execute();
}
