/**
 * The audit log becomes append-only in the database itself (issue 21, "Anchoring"): triggers
 * refuse every UPDATE and DELETE of `audit_log` (and TRUNCATE on PostgreSQL), and let `audit_head`
 * change only the way `append` moves it: forward, to a row that exists with that hash. The
 * service never needed more, so nothing it does is refused; a hand-made edit now needs a deliberate
 * step (dropping the triggers on SQLite, `session_replication_role = replica` or `ALTER TABLE …
 * DISABLE TRIGGER` as superuser or owner on PostgreSQL), which the signed checkpoints
 * (docs/audit.md) then catch.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const REFUSED_LOG = 'audit_log is append-only';
const REFUSED_HEAD = 'audit_head only moves forward, to the last appended entry';

/** SQLite: BEFORE triggers that abort the statement. */
const SQLITE_TRIGGERS = [
  sql`create trigger audit_log_no_update before update on audit_log
      begin select raise(abort, ${sql.lit(`${REFUSED_LOG}: UPDATE refused`)}); end`,
  sql`create trigger audit_log_no_delete before delete on audit_log
      begin select raise(abort, ${sql.lit(`${REFUSED_LOG}: DELETE refused`)}); end`,
  sql`create trigger audit_head_forward_only before update on audit_head
      when new.id <> old.id or new.seq <= old.seq
        or not exists (select 1 from audit_log where seq = new.seq and hash = new.hash)
      begin select raise(abort, ${sql.lit(REFUSED_HEAD)}); end`,
  sql`create trigger audit_head_no_delete before delete on audit_head
      begin select raise(abort, ${sql.lit(REFUSED_HEAD)}); end`,
];

/** PostgreSQL: functions in the store's schema (its search_path), row and TRUNCATE triggers. */
const POSTGRES_STATEMENTS = [
  sql`create function audit_log_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception '${sql.raw(REFUSED_LOG)}: % refused', tg_op using errcode = 'P0001';
      end $$`,
  sql`create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_refuse_change()`,
  sql`create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_refuse_change()`,
  sql`create function audit_head_forward_only() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'UPDATE' or new.id <> old.id or new.seq <= old.seq
           or not exists (select 1 from audit_log where seq = new.seq and hash = new.hash) then
          raise exception '${sql.raw(REFUSED_HEAD)} (% refused)', tg_op using errcode = 'P0001';
        end if;
        return new;
      end $$`,
  sql`create trigger audit_head_forward_only before update or delete on audit_head
      for each row execute function audit_head_forward_only()`,
  sql`create trigger audit_head_no_truncate before truncate on audit_head
      for each statement execute function audit_head_forward_only()`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = isPostgres(db) ? POSTGRES_STATEMENTS : SQLITE_TRIGGERS;
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop trigger audit_head_no_truncate on audit_head`.execute(db);
    await sql`drop trigger audit_head_forward_only on audit_head`.execute(db);
    await sql`drop function audit_head_forward_only()`.execute(db);
    await sql`drop trigger audit_log_no_truncate on audit_log`.execute(db);
    await sql`drop trigger audit_log_append_only on audit_log`.execute(db);
    await sql`drop function audit_log_refuse_change()`.execute(db);
    return;
  }
  for (const name of [
    'audit_head_no_delete',
    'audit_head_forward_only',
    'audit_log_no_delete',
    'audit_log_no_update',
  ]) {
    await sql`drop trigger ${sql.id(name)}`.execute(db);
  }
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
