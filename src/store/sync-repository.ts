/**
 * Per school, the last good occupancy the bridge pulled from SORTIE and how its sync is going.
 * One row per school, replaced whole: a failed pull keeps the body and only updates the error
 * columns, so the last good data survives any outage and any restart (docs/rules.md, "Fallback").
 */
import type { Kysely } from 'kysely';
import type { Database, SyncStateTable } from './schema.js';

export interface SyncRecord {
  uai: string;
  /** The SORTIE occupancy body as received (JSON text); null until a first 200. */
  bodyJson: string | null;
  etag: string | null;
  version: number | null;
  /** Local dates covered by `bodyJson`, inclusive. */
  rangeFrom: string | null;
  rangeTo: string | null;
  /** Epoch ms of the last 200 with a body. */
  fetchedAt: number | null;
  /** Epoch ms of the last answer of the source (200, 304, or 404 = it has no timetable). */
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  /** Epoch ms of the first failure since the last success. */
  failingSince: number | null;
  lastError: string | null;
  lastErrorKind: string | null;
}

export interface SyncRepository {
  all(): Promise<SyncRecord[]>;
  get(uai: string): Promise<SyncRecord | null>;
  /** Inserts or replaces the school's row. */
  put(record: SyncRecord): Promise<void>;
}

export function createSyncRepository(db: Kysely<Database>): SyncRepository {
  return {
    async all() {
      const rows = await db.selectFrom('sync_state').selectAll().orderBy('uai').execute();
      return rows.map(fromRow);
    },
    async get(uai) {
      const row = await db.selectFrom('sync_state').selectAll().where('uai', '=', uai).executeTakeFirst();
      return row === undefined ? null : fromRow(row);
    },
    async put(record) {
      const row = toRow(record);
      const { uai: _key, ...rest } = row;
      await db
        .insertInto('sync_state')
        .values(row)
        .onConflict((oc) => oc.column('uai').doUpdateSet(rest))
        .execute();
    },
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const ms = (text: string | null): number | null => (text === null ? null : Date.parse(text));

function toRow(r: SyncRecord): SyncStateTable {
  return {
    uai: r.uai,
    body_json: r.bodyJson,
    etag: r.etag,
    version: r.version,
    range_from: r.rangeFrom,
    range_to: r.rangeTo,
    fetched_at: iso(r.fetchedAt),
    last_success_at: iso(r.lastSuccessAt),
    last_attempt_at: iso(r.lastAttemptAt),
    failing_since: iso(r.failingSince),
    last_error: r.lastError,
    last_error_kind: r.lastErrorKind,
  };
}

function fromRow(row: SyncStateTable): SyncRecord {
  return {
    uai: row.uai,
    bodyJson: row.body_json,
    etag: row.etag,
    version: row.version,
    rangeFrom: row.range_from,
    rangeTo: row.range_to,
    fetchedAt: ms(row.fetched_at),
    lastSuccessAt: ms(row.last_success_at),
    lastAttemptAt: ms(row.last_attempt_at),
    failingSince: ms(row.failing_since),
    lastError: row.last_error,
    lastErrorKind: row.last_error_kind,
  };
}
