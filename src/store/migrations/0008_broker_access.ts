/**
 * External-broker access for EMQX (issue 19), PostgreSQL only: EMQX's built-in PostgreSQL
 * authentication and authorisation read the views `emqx_authn` and `emqx_acl`, which the service
 * keeps from devices/ (src/broker-access/emqx-access.ts). A replaced credential leaves
 * `emqx_authn` at its `valid_until` by the database clock, whether or not the service runs.
 * SQLite serves one process with its embedded broker: nothing to create there.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema
    .createTable('broker_logins')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('uai', 'text')
    .addColumn('gateway', 'text')
    /** PBKDF2-SHA256, hex, as EMQX compares it; null when devices/ has no EMQX hash yet. */
    .addColumn('password_hash', 'text')
    .addColumn('salt', 'text')
    /** ISO 8601 UTC; null for a current credential. */
    .addColumn('valid_until', 'text')
    .execute();
  await db.schema
    .createTable('broker_acl')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    /** Higher first: EMQX stops at the first rule that matches. */
    .addColumn('priority', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('broker_acl_username').on('broker_acl').columns(['username']).execute();
  await sql`
    create view emqx_authn as
      select username, password_hash, salt, false as is_superuser
      from broker_logins
      where password_hash is not null
        and (valid_until is null or valid_until::timestamptz > now())`.execute(db);
  await sql`
    create view emqx_acl as
      select a.username, a.permission, a.action, a.topic, a.priority
      from broker_acl a
      where exists (
        select 1 from broker_logins l
        where l.username = a.username and (l.valid_until is null or l.valid_until::timestamptz > now())
      )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop view if exists emqx_acl`.execute(db);
  await sql`drop view if exists emqx_authn`.execute(db);
  await db.schema.dropTable('broker_acl').execute();
  await db.schema.dropTable('broker_logins').execute();
}
