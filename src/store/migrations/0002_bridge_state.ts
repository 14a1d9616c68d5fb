/**
 * Bridge state: the last `desired` per zone and function (its rev must stay monotonic across
 * restarts and across instances sharing a PostgreSQL database, issue 6 and issue 8), and what the
 * gateways last reported. Portable DDL only, like 0001.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bridge_desired')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('function', 'text', (c) => c.notNull())
    .addColumn('rev', 'integer', (c) => c.notNull())
    /** Hex SHA-256 of the content (all of `desired` but rev and issued_at). */
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('content_json', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bridge_desired_pk', ['uai', 'zone', 'function'])
    .addCheckConstraint('bridge_desired_rev_positive', sql`rev >= 1`)
    .execute();

  await db.schema
    .createTable('gateway_reported')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('function', 'text', (c) => c.notNull())
    .addColumn('applied_rev', 'integer', (c) => c.notNull())
    /** The validated `reported` payload, JSON. */
    .addColumn('payload_json', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_reported_pk', ['uai', 'zone', 'function'])
    .execute();

  await db.schema
    .createTable('gateway_status')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('gateway', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_status_pk', ['uai', 'gateway'])
    .addCheckConstraint('gateway_status_state', sql`state in ('online', 'offline')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('gateway_status').execute();
  await db.schema.dropTable('gateway_reported').execute();
  await db.schema.dropTable('bridge_desired').execute();
}
