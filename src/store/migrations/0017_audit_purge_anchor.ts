/**
 * Audit-entry retention (issue 21, "Data minimisation"; docs/audit.md, "Retention"): entries older
 * than the policy may leave the log, but only through one controlled purge that keeps the chain
 * verifiable. A one-row `audit_anchor` holds the last purged entry (seq, hash: the `prev_hash` the
 * first kept entry points to) and the seq of the purge's own audit entry, which names that range
 * and the signed checkpoint it stops at. The triggers of migration 0006 are narrowed accordingly:
 * a DELETE of `audit_log` is refused unless the row is at or below the anchor, and the anchor only
 * moves forward, to a row that exists with that hash, below the head, attested by a later `config`
 * entry. Everything else stays refused as before.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const GENESIS = '0'.repeat(64);
const REFUSED_DELETE = 'audit_log is append-only: DELETE refused outside an audit purge';
const REFUSED_ANCHOR =
  'audit_anchor only moves forward, to an existing entry below the head, attested by its purge entry';

const ANCHOR_MOVE_INVALID = (n: string, o: string) =>
  sql.raw(`
  ${n}.id <> ${o}.id or ${n}.seq <= ${o}.seq or ${n}.purge_seq <= ${n}.seq
  or ${n}.seq >= (select seq from audit_head where id = 1)
  or not exists (select 1 from audit_log where seq = ${n}.seq and hash = ${n}.hash)
  or not exists (select 1 from audit_log where seq = ${n}.purge_seq and kind = 'config')`);

const SQLITE_UP = [
  sql`drop trigger audit_log_no_delete`,
  sql`create trigger audit_log_delete_only_purged before delete on audit_log
      when old.seq > (select seq from audit_anchor where id = 1)
      begin select raise(abort, ${sql.lit(REFUSED_DELETE)}); end`,
  sql`create trigger audit_anchor_forward_only before update on audit_anchor
      when ${ANCHOR_MOVE_INVALID('new', 'old')}
      begin select raise(abort, ${sql.lit(REFUSED_ANCHOR)}); end`,
  sql`create trigger audit_anchor_no_delete before delete on audit_anchor
      begin select raise(abort, ${sql.lit(REFUSED_ANCHOR)}); end`,
  sql`create trigger audit_anchor_no_insert before insert on audit_anchor
      when (select count(*) from audit_anchor) > 0
      begin select raise(abort, ${sql.lit(REFUSED_ANCHOR)}); end`,
];

const POSTGRES_UP = [
  sql`drop trigger audit_log_append_only on audit_log`,
  sql`create trigger audit_log_no_update before update on audit_log
      for each row execute function audit_log_refuse_change()`,
  sql`create function audit_log_delete_only_purged() returns trigger language plpgsql as $$
      begin
        if old.seq > (select seq from audit_anchor where id = 1) then
          raise exception '${sql.raw(REFUSED_DELETE)}' using errcode = 'P0001';
        end if;
        return old;
      end $$`,
  sql`create trigger audit_log_delete_only_purged before delete on audit_log
      for each row execute function audit_log_delete_only_purged()`,
  sql`create function audit_anchor_forward_only() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'UPDATE' or ${ANCHOR_MOVE_INVALID('new', 'old')} then
          raise exception '${sql.raw(REFUSED_ANCHOR)} (% refused)', tg_op using errcode = 'P0001';
        end if;
        return new;
      end $$`,
  sql`create trigger audit_anchor_forward_only before update or delete on audit_anchor
      for each row execute function audit_anchor_forward_only()`,
  sql`create trigger audit_anchor_no_truncate before truncate on audit_anchor
      for each statement execute function audit_anchor_forward_only()`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_anchor')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('purge_seq', 'integer', (c) => c.notNull())
    .addCheckConstraint('audit_anchor_single_row', sql`id = 1`)
    .execute();
  await sql`insert into audit_anchor (id, seq, hash, purge_seq) values (1, 0, ${GENESIS}, 0)`.execute(db);
  for (const statement of isPostgres(db) ? POSTGRES_UP : SQLITE_UP) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop trigger audit_anchor_no_truncate on audit_anchor`.execute(db);
    await sql`drop trigger audit_anchor_forward_only on audit_anchor`.execute(db);
    await sql`drop function audit_anchor_forward_only()`.execute(db);
    await sql`drop trigger audit_log_delete_only_purged on audit_log`.execute(db);
    await sql`drop function audit_log_delete_only_purged()`.execute(db);
    await sql`drop trigger audit_log_no_update on audit_log`.execute(db);
    await sql`create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_refuse_change()`.execute(db);
  } else {
    for (const name of [
      'audit_anchor_no_insert',
      'audit_anchor_no_delete',
      'audit_anchor_forward_only',
      'audit_log_delete_only_purged',
    ]) {
      await sql`drop trigger ${sql.id(name)}`.execute(db);
    }
    await sql`create trigger audit_log_no_delete before delete on audit_log
      begin select raise(abort, 'audit_log is append-only: DELETE refused'); end`.execute(db);
  }
  await db.schema.dropTable('audit_anchor').execute();
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
