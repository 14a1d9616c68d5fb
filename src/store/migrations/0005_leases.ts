/**
 * Scale-out (issue 8): the bridge instances sharing this database and the lease each school is
 * planned and published under. Instants are epoch milliseconds of the DATABASE clock (never an
 * instance's), so instances whose clocks drift still agree on who holds what. A lease row is never
 * deleted: its `epoch` (the fencing token) only grows, across owners and releases.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bridge_instances')
    .addColumn('instance_id', 'text', (c) => c.primaryKey())
    /** Random per process start: two live processes configured with one id are told apart. */
    .addColumn('boot', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('school_leases')
    .addColumn('uai', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('school_leases_owner').on('school_leases').columns(['owner']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('school_leases').execute();
  await db.schema.dropTable('bridge_instances').execute();
}
