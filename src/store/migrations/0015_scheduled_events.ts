/**
 * Scheduled events (issue 20, docs/events.md): meetings, lettings and exams entered by managers
 * or read from a school's booking feeds, and the state of each feed (validators for conditional
 * requests, last success, failure since). Portable DDL, like 0001 and 0003.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scheduled_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    /** Local wall-clock `YYYY-MM-DDTHH:mm` in the school's zone. */
    .addColumn('start_local', 'text', (c) => c.notNull())
    .addColumn('end_local', 'text', (c) => c.notNull())
    /** `{weekdays, until, except}` JSON, or null for a single occurrence. */
    .addColumn('recurrence_json', 'text')
    /** `{zone}` or `{rooms: […]}` JSON. */
    .addColumn('target_json', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('feed_id', 'text')
    /** The booking's key in its feed (UID, and the occurrence's start for a series). */
    .addColumn('feed_key', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('scheduled_events_source', sql`source in ('manual', 'feed')`)
    .addCheckConstraint(
      'scheduled_events_feed',
      sql`(source = 'feed') = (feed_id is not null and feed_key is not null)`,
    )
    .execute();
  await db.schema.createIndex('scheduled_events_uai').on('scheduled_events').columns(['uai']).execute();
  await db.schema
    .createIndex('scheduled_events_feed_key')
    .on('scheduled_events')
    .columns(['uai', 'feed_id', 'feed_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('booking_feed_state')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('feed_id', 'text', (c) => c.notNull())
    .addColumn('etag', 'text')
    .addColumn('last_modified', 'text')
    /** sha256 of the last body applied: an unchanged file (or a server without validators) costs no parse. */
    .addColumn('body_sha256', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('failing_since', 'text')
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('booking_feed_state_pk', ['uai', 'feed_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('booking_feed_state').execute();
  await db.schema.dropTable('scheduled_events').execute();
}
