/**
 * Managers' overrides and their events (rules.md, "Overrides"): every start, cancellation and
 * expiry is an event row written in the same transaction as the change, so the history never
 * disagrees with the state. A cancelled override keeps its row; its effective end becomes the
 * cancellation instant, so a plan of the past still shows what held then.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ZoneFunction } from '../devices/schema.js';
import type { Override } from '../rules/overrides.js';
import type { PlanMode } from '../rules/segment.js';
import type { Database, OverrideEventTable, OverrideTable } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

/** How the manager said when the override ends. */
export type OverrideRequest = { until: string } | { duration: string } | { next_change: true };

export interface StoredOverride extends Override {
  uai: string;
  requested: OverrideRequest;
  /** Epoch ms: the end asked for (before any cancellation). */
  requestedUntil: number;
  cancelledAt: number | null;
  cancelledBy: string | null;
  /** Epoch ms when its end (expiry or cancellation) was recorded as an event. */
  endRecordedAt: number | null;
}

export type OverrideEventKind = OverrideEventTable['kind'];

export interface OverrideEvent {
  id: string;
  overrideId: string;
  uai: string;
  kind: OverrideEventKind;
  /** Epoch ms. */
  at: number;
  /** Client id of who did it; `system` for an expiry. */
  actor: string;
  detail: Record<string, unknown>;
}

export interface OverrideFilter {
  /** One school, or several (a manager's list). */
  uais?: readonly string[];
  /** Only overrides whose effective span `[from, until)` overlaps this range. */
  overlapping?: { from: number; to: number };
}

export type CancelResult =
  | { status: 'cancelled'; override: StoredOverride }
  | { status: 'already-ended'; override: StoredOverride }
  | { status: 'not-found' };

export interface OverrideRepository {
  /** Stores a new override and its `created` event in one transaction. */
  create(override: StoredOverride): Promise<void>;
  get(id: string): Promise<StoredOverride | null>;
  list(filter?: OverrideFilter): Promise<StoredOverride[]>;
  /** Ends an active override at `at` and records who did it. */
  cancel(id: string, at: number, by: string): Promise<CancelResult>;
  /** Records an `expired` event for every override that ran to its end by `now`; returns them. */
  recordExpired(now: number): Promise<StoredOverride[]>;
  /** The earliest end after `now` among overrides whose end is not recorded yet. */
  nextEnd(now: number): Promise<number | null>;
  events(filter?: { overrideId?: string; uai?: string }): Promise<OverrideEvent[]>;
}

const EVENT_ORDER: Record<OverrideEventKind, number> = { created: 0, cancelled: 1, expired: 2 };

export function createOverrideRepository(db: Kysely<Database>, dialect: StoreDialect): OverrideRepository {
  const event = (
    o: StoredOverride,
    kind: OverrideEventKind,
    at: number,
    actor: string,
    detail: Record<string, unknown>,
  ): OverrideEventTable => ({
    id: randomUUID(),
    override_id: o.id,
    uai: o.uai,
    kind,
    at: iso(at),
    actor,
    detail_json: JSON.stringify(detail),
  });

  return {
    async create(override) {
      await writeTransaction(db, dialect, async (trx) => {
        await trx.insertInto('overrides').values(toRow(override)).execute();
        await trx
          .insertInto('override_events')
          .values(
            event(override, 'created', override.created_at, override.author, {
              zone: override.zone,
              function: override.function,
              mode: override.mode,
              ...(override.setpoint_c === undefined ? {} : { setpoint_c: override.setpoint_c }),
              from: iso(override.from),
              until: iso(override.until),
              requested: override.requested,
              reason: override.reason,
            }),
          )
          .execute();
      });
    },

    async get(id) {
      const row = await db.selectFrom('overrides').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : fromRow(row);
    },

    async list(filter = {}) {
      let query = db.selectFrom('overrides').selectAll();
      if (filter.uais !== undefined) {
        if (filter.uais.length === 0) return [];
        query = query.where('uai', 'in', [...filter.uais]);
      }
      if (filter.overlapping) {
        // ISO instants of one width compare as text (schema.ts).
        query = query
          .where('until_at', '>', iso(filter.overlapping.from))
          .where('from_at', '<', iso(filter.overlapping.to));
      }
      const rows = await query.orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },

    async cancel(id, at, by) {
      return writeTransaction(db, dialect, async (trx) => {
        const row = await trx
          .selectFrom('overrides')
          .selectAll()
          .where('id', '=', id)
          .$if(dialect === 'postgres', (q) => q.forUpdate())
          .executeTakeFirst();
        if (row === undefined) return { status: 'not-found' } as const;
        const current = fromRow(row);
        if (current.cancelledAt !== null || current.until <= at) {
          return { status: 'already-ended', override: current } as const;
        }
        const until = Math.max(current.from, at);
        await trx
          .updateTable('overrides')
          .set({ until_at: iso(until), cancelled_at: iso(at), cancelled_by: by, ended_recorded_at: iso(at) })
          .where('id', '=', id)
          .execute();
        const cancelled: StoredOverride = {
          ...current,
          until,
          cancelledAt: at,
          cancelledBy: by,
          endRecordedAt: at,
        };
        await trx
          .insertInto('override_events')
          .values(
            event(cancelled, 'cancelled', at, by, {
              until: iso(until),
              requested_until: iso(current.requestedUntil),
            }),
          )
          .execute();
        return { status: 'cancelled', override: cancelled } as const;
      });
    },

    async recordExpired(now) {
      return writeTransaction(db, dialect, async (trx) => {
        const rows = await trx
          .selectFrom('overrides')
          .selectAll()
          .where('ended_recorded_at', 'is', null)
          .where('until_at', '<=', iso(now))
          .orderBy('until_at')
          .orderBy('id')
          .execute();
        const ended = rows.map(fromRow);
        for (const o of ended) {
          await trx
            .updateTable('overrides')
            .set({ ended_recorded_at: iso(now) })
            .where('id', '=', o.id)
            .execute();
          // The event is dated at the override's end, not at when we noticed it.
          await trx
            .insertInto('override_events')
            .values(event(o, 'expired', o.until, 'system', { until: iso(o.until) }))
            .execute();
          o.endRecordedAt = now;
        }
        return ended;
      });
    },

    async nextEnd(now) {
      const row = await db
        .selectFrom('overrides')
        .select((eb) => eb.fn.min('until_at').as('next'))
        .where('ended_recorded_at', 'is', null)
        .where('until_at', '>', iso(now))
        .executeTakeFirst();
      const next = row?.next;
      return typeof next === 'string' ? Date.parse(next) : null;
    },

    async events(filter = {}) {
      let query = db.selectFrom('override_events').selectAll();
      if (filter.overrideId !== undefined) query = query.where('override_id', '=', filter.overrideId);
      if (filter.uai !== undefined) query = query.where('uai', '=', filter.uai);
      const rows = await query.orderBy('at').execute();
      return rows
        .map(
          (r): OverrideEvent => ({
            id: r.id,
            overrideId: r.override_id,
            uai: r.uai,
            kind: r.kind,
            at: Date.parse(r.at),
            actor: r.actor,
            detail: JSON.parse(r.detail_json) as Record<string, unknown>,
          }),
        )
        .sort((a, b) => a.at - b.at || EVENT_ORDER[a.kind] - EVENT_ORDER[b.kind]);
    },
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const msOrNull = (text: string | null): number | null => (text === null ? null : Date.parse(text));

function toRow(o: StoredOverride): OverrideTable {
  return {
    id: o.id,
    uai: o.uai,
    zone: o.zone,
    function: o.function,
    mode: o.mode,
    setpoint_c: o.setpoint_c ?? null,
    from_at: iso(o.from),
    until_at: iso(o.until),
    requested_json: JSON.stringify(o.requested),
    requested_until_at: iso(o.requestedUntil),
    author: o.author,
    reason: o.reason,
    created_at: iso(o.created_at),
    cancelled_at: o.cancelledAt === null ? null : iso(o.cancelledAt),
    cancelled_by: o.cancelledBy,
    ended_recorded_at: o.endRecordedAt === null ? null : iso(o.endRecordedAt),
  };
}

function fromRow(row: OverrideTable): StoredOverride {
  return {
    id: row.id,
    uai: row.uai,
    zone: row.zone,
    // Written by this repository from validated overrides only.
    function: row.function as ZoneFunction,
    mode: row.mode as PlanMode,
    ...(row.setpoint_c === null ? {} : { setpoint_c: Number(row.setpoint_c) }),
    from: Date.parse(row.from_at),
    until: Date.parse(row.until_at),
    author: row.author,
    reason: row.reason,
    created_at: Date.parse(row.created_at),
    requested: JSON.parse(row.requested_json) as OverrideRequest,
    requestedUntil: Date.parse(row.requested_until_at),
    cancelledAt: msOrNull(row.cancelled_at),
    cancelledBy: row.cancelled_by,
    endRecordedAt: msOrNull(row.ended_recorded_at),
  };
}
