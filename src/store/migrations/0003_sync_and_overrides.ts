/**
 * Bridge state: the last good occupancy pulled from SORTIE per school (kept while the source is
 * down, docs/rules.md, "Fallback"), and managers' overrides with their start/change/end events
 * (rules.md "Overrides"). Portable DDL only, like 0001.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sync_state')
    .addColumn('uai', 'text', (c) => c.primaryKey())
    // The SORTIE occupancy body as received (JSON), its ETag and version: null until a first 200.
    .addColumn('body_json', 'text')
    .addColumn('etag', 'text')
    .addColumn('version', 'integer')
    .addColumn('range_from', 'text')
    .addColumn('range_to', 'text')
    /** Last 200 with a body. */
    .addColumn('fetched_at', 'text')
    /** Last answer from the source (200, 304, or 404 = no timetable there). */
    .addColumn('last_success_at', 'text')
    .addColumn('last_attempt_at', 'text')
    /** First failure since the last success: a school that never synced goes stale from there. */
    .addColumn('failing_since', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_error_kind', 'text')
    .execute();

  await db.schema
    .createTable('overrides')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('function', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('setpoint_c', 'double precision')
    .addColumn('from_at', 'text', (c) => c.notNull())
    /** Effective end: the requested end, or the cancellation instant. */
    .addColumn('until_at', 'text', (c) => c.notNull())
    /** What the manager asked for (`{until}`, `{duration}` or `{next_change: true}`), JSON. */
    .addColumn('requested_json', 'text', (c) => c.notNull())
    .addColumn('requested_until_at', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'text')
    .addColumn('cancelled_by', 'text')
    /** When the end (expiry or cancellation) was recorded as an event. */
    .addColumn('ended_recorded_at', 'text')
    .addCheckConstraint('overrides_until_after_from', sql`until_at >= from_at`)
    .execute();
  await db.schema.createIndex('overrides_uai_until').on('overrides').columns(['uai', 'until_at']).execute();

  await db.schema
    .createTable('override_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('override_id', 'text', (c) => c.notNull().references('overrides.id'))
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addCheckConstraint('override_events_kind', sql`kind in ('created', 'cancelled', 'expired')`)
    .execute();
  await db.schema
    .createIndex('override_events_override')
    .on('override_events')
    .columns(['override_id', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('override_events').execute();
  await db.schema.dropTable('overrides').execute();
  await db.schema.dropTable('sync_state').execute();
}
