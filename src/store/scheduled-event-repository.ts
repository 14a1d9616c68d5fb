/**
 * Scheduled events and booking-feed state (migration 0015; docs/events.md). An event row holds
 * its local times and recurrence as written (the expansion to instants happens when planning, in
 * the school's zone); a feed's changes land in one transaction, so a crash never leaves half a
 * feed applied.
 */
import type { Kysely } from 'kysely';
import type { ScheduledEvent } from '../events/scheduled-event.js';
import type { BookingFeedStateTable, Database, ScheduledEventTable } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface BookingFeedState {
  uai: string;
  feedId: string;
  etag: string | null;
  lastModified: string | null;
  bodySha256: string | null;
  /** Epoch ms. */
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  failingSince: number | null;
  lastError: string | null;
}

/** What one poll of a feed changes, applied together. */
export interface FeedChanges {
  added: ScheduledEvent[];
  changed: ScheduledEvent[];
  /** Ids of events the feed no longer has. */
  removed: string[];
}

export interface ScheduledEventRepository {
  list(filter: { uais: readonly string[] }): Promise<ScheduledEvent[]>;
  get(id: string): Promise<ScheduledEvent | null>;
  count(uai: string): Promise<number>;
  create(event: ScheduledEvent): Promise<void>;
  /** Replaces the event's fields; false when it does not exist. */
  update(event: ScheduledEvent): Promise<boolean>;
  /** Deletes it; the deleted event or null. */
  delete(id: string): Promise<ScheduledEvent | null>;
  applyFeed(changes: FeedChanges, state: BookingFeedState): Promise<void>;
  feedState(uai: string, feedId: string): Promise<BookingFeedState | null>;
  feedStates(): Promise<BookingFeedState[]>;
  putFeedState(state: BookingFeedState): Promise<void>;
}

export function createScheduledEventRepository(
  db: Kysely<Database>,
  dialect: StoreDialect,
): ScheduledEventRepository {
  const putState = async (trx: Kysely<Database>, state: BookingFeedState) => {
    const row = stateRow(state);
    const { uai: _u, feed_id: _f, ...rest } = row;
    await trx
      .insertInto('booking_feed_state')
      .values(row)
      .onConflict((oc) => oc.columns(['uai', 'feed_id']).doUpdateSet(rest))
      .execute();
  };
  return {
    async list({ uais }) {
      if (uais.length === 0) return [];
      const rows = await db
        .selectFrom('scheduled_events')
        .selectAll()
        .where('uai', 'in', [...uais])
        .orderBy('start_local')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    async get(id) {
      const row = await db.selectFrom('scheduled_events').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : fromRow(row);
    },
    async count(uai) {
      const row = await db
        .selectFrom('scheduled_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('uai', '=', uai)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async create(event) {
      await db.insertInto('scheduled_events').values(toRow(event)).execute();
    },
    async update(event) {
      const { id, ...rest } = toRow(event);
      const result = await db
        .updateTable('scheduled_events')
        .set(rest)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async delete(id) {
      return writeTransaction(db, dialect, async (trx) => {
        const row = await trx
          .selectFrom('scheduled_events')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        if (row === undefined) return null;
        await trx.deleteFrom('scheduled_events').where('id', '=', id).execute();
        return fromRow(row);
      });
    },
    async applyFeed(changes, state) {
      await writeTransaction(db, dialect, async (trx) => {
        if (changes.removed.length > 0)
          await trx.deleteFrom('scheduled_events').where('id', 'in', changes.removed).execute();
        for (const event of changes.changed) {
          const { id, ...rest } = toRow(event);
          await trx.updateTable('scheduled_events').set(rest).where('id', '=', id).execute();
        }
        // Batches keep each statement under SQLite's bound-parameter limit.
        for (let i = 0; i < changes.added.length; i += 50) {
          await trx
            .insertInto('scheduled_events')
            .values(changes.added.slice(i, i + 50).map(toRow))
            .execute();
        }
        await putState(trx, state);
      });
    },
    async feedState(uai, feedId) {
      const row = await db
        .selectFrom('booking_feed_state')
        .selectAll()
        .where('uai', '=', uai)
        .where('feed_id', '=', feedId)
        .executeTakeFirst();
      return row === undefined ? null : stateFromRow(row);
    },
    async feedStates() {
      const rows = await db
        .selectFrom('booking_feed_state')
        .selectAll()
        .orderBy('uai')
        .orderBy('feed_id')
        .execute();
      return rows.map(stateFromRow);
    },
    async putFeedState(state) {
      await putState(db, state);
    },
  };
}

function toRow(e: ScheduledEvent): ScheduledEventTable {
  return {
    id: e.id,
    uai: e.uai,
    title: e.title,
    start_local: e.start,
    end_local: e.end,
    recurrence_json: e.recurrence ? JSON.stringify(e.recurrence) : null,
    target_json: JSON.stringify(e.target),
    source: e.source,
    feed_id: e.feed?.id ?? null,
    feed_key: e.feed?.key ?? null,
    created_by: e.created_by,
    created_at: iso(e.created_at),
    updated_by: e.updated_by,
    updated_at: iso(e.updated_at),
  };
}

function fromRow(row: ScheduledEventTable): ScheduledEvent {
  return {
    id: row.id,
    uai: row.uai,
    title: row.title,
    start: row.start_local,
    end: row.end_local,
    ...(row.recurrence_json === null ? {} : { recurrence: JSON.parse(row.recurrence_json) }),
    target: JSON.parse(row.target_json),
    source: row.source,
    ...(row.feed_id !== null && row.feed_key !== null
      ? { feed: { id: row.feed_id, key: row.feed_key } }
      : {}),
    created_by: row.created_by,
    created_at: Date.parse(row.created_at),
    updated_by: row.updated_by,
    updated_at: Date.parse(row.updated_at),
  };
}

function stateRow(s: BookingFeedState): BookingFeedStateTable {
  return {
    uai: s.uai,
    feed_id: s.feedId,
    etag: s.etag,
    last_modified: s.lastModified,
    body_sha256: s.bodySha256,
    last_success_at: s.lastSuccessAt === null ? null : iso(s.lastSuccessAt),
    last_attempt_at: s.lastAttemptAt === null ? null : iso(s.lastAttemptAt),
    failing_since: s.failingSince === null ? null : iso(s.failingSince),
    last_error: s.lastError,
  };
}

function stateFromRow(r: BookingFeedStateTable): BookingFeedState {
  const ms = (text: string | null) => (text === null ? null : Date.parse(text));
  return {
    uai: r.uai,
    feedId: r.feed_id,
    etag: r.etag,
    lastModified: r.last_modified,
    bodySha256: r.body_sha256,
    lastSuccessAt: ms(r.last_success_at),
    lastAttemptAt: ms(r.last_attempt_at),
    failingSince: ms(r.failing_since),
    lastError: r.last_error,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
