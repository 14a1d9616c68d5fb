/**
 * The bridge's durable state (migration 0002): per zone and function the last `desired` and its
 * rev, and what the gateways last reported.
 *
 * Revs: a proposal whose content hash equals the stored one keeps the stored rev and issue time
 * (a re-publication after a restart sends the same bytes); any other content gets stored rev + 1,
 * or 1 for a new zone. The allocation is one `INSERT … ON CONFLICT DO UPDATE … WHERE hash differs
 * RETURNING` per row, atomic on both dialects: two instances sharing a PostgreSQL database (issue 8)
 * never hand out the same rev for two contents, and a rev never goes back.
 */
import type { Kysely } from 'kysely';
import type { DesiredContent } from '../contract/desired-state.js';
import type { OnlineState, ReportedPayload } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import { assertLeaseHeld, type LeaseFence } from './lease-repository.js';
import type { Database } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface DesiredKey {
  uai: string;
  zone: string;
  function: ZoneFunction;
}

export interface StoredDesired extends DesiredKey {
  rev: number;
  contentHash: string;
  content: DesiredContent;
  /** Epoch ms at which this rev was first issued. */
  issuedAt: number;
}

export interface DesiredProposal {
  zone: string;
  function: ZoneFunction;
  contentHash: string;
  content: DesiredContent;
  /** Epoch ms; used only when the content is new. */
  issuedAt: number;
}

export interface StoredReported extends DesiredKey {
  payload: ReportedPayload;
  /** Epoch ms at which the bridge received it. */
  receivedAt: number;
}

export interface StoredGatewayStatus {
  uai: string;
  gateway: string;
  state: OnlineState;
  /** Epoch ms of the last message from this gateway. */
  lastSeen: number;
}

export interface BridgeStateRepository {
  /** Every stored desired state, or one school's. */
  loadDesired(uai?: string): Promise<StoredDesired[]>;
  /**
   * Records one school's proposals and answers, in the same order, what is stored afterwards:
   * the stored rev when the content is unchanged, else the next rev.
   */
  recordDesired(
    uai: string,
    proposals: readonly DesiredProposal[],
    fence?: LeaseFence,
  ): Promise<StoredDesired[]>;
  /**
   * Deletes the stored desired states of zone functions devices/ no longer declares, once their
   * retained topics were emptied, so they are neither re-published nor cleared again. Under the
   * school's lease, like `recordDesired`.
   */
  forgetDesired(
    uai: string,
    keys: readonly { zone: string; function: ZoneFunction }[],
    fence?: LeaseFence,
  ): Promise<void>;
  saveReported(reported: StoredReported): Promise<void>;
  loadReported(uai?: string): Promise<StoredReported[]>;
  /** Sets a gateway's state (when given) and its last-seen instant. */
  saveGatewayStatus(status: {
    uai: string;
    gateway: string;
    state?: OnlineState;
    lastSeen: number;
  }): Promise<void>;
  loadGatewayStatuses(uai?: string): Promise<StoredGatewayStatus[]>;
}

/** Rows per multi-row INSERT: 7 parameters each stays far below SQLite's 32,766-variable limit. */
const ROWS_PER_INSERT = 500;

const keyOf = (zone: string, fn: string): string => `${zone}\u0000${fn}`;

export function createBridgeStateRepository(
  db: Kysely<Database>,
  dialect: StoreDialect,
): BridgeStateRepository {
  const toStored = (row: Database['bridge_desired']): StoredDesired => ({
    uai: row.uai,
    zone: row.zone,
    function: row.function as ZoneFunction,
    rev: row.rev,
    contentHash: row.content_hash,
    content: JSON.parse(row.content_json) as DesiredContent,
    issuedAt: Date.parse(row.issued_at),
  });

  return {
    async loadDesired(uai) {
      let query = db.selectFrom('bridge_desired').selectAll();
      if (uai !== undefined) query = query.where('uai', '=', uai);
      return (await query.execute()).map(toStored);
    },

    async recordDesired(uai, proposals, fence) {
      if (proposals.length === 0) return [];
      // One commit per school: SQLite syncs once, not once per zone.
      return writeTransaction(db, dialect, async (trx) => {
        // Fencing (issue 8): a rev is allocated only under the school's live lease.
        if (fence) await assertLeaseHeld(trx, dialect, fence);
        const stored = new Map<string, StoredDesired>();
        for (const row of await trx
          .selectFrom('bridge_desired')
          .selectAll()
          .where('uai', '=', uai)
          .execute()) {
          stored.set(keyOf(row.zone, row.function), toStored(row));
        }
        // PostgreSQL refuses to update one row twice in a statement: last proposal per key wins.
        const changed = new Map<string, DesiredProposal>();
        for (const proposal of proposals) {
          const key = keyOf(proposal.zone, proposal.function);
          if (stored.get(key)?.contentHash !== proposal.contentHash) changed.set(key, proposal);
          else changed.delete(key);
        }
        const rows = [...changed.values()].map((p) => ({
          uai,
          zone: p.zone,
          function: p.function,
          rev: 1,
          content_hash: p.contentHash,
          content_json: JSON.stringify(p.content),
          issued_at: new Date(p.issuedAt).toISOString(),
        }));
        for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
          const written = await trx
            .insertInto('bridge_desired')
            .values(rows.slice(start, start + ROWS_PER_INSERT))
            .onConflict((conflict) =>
              conflict
                .columns(['uai', 'zone', 'function'])
                .doUpdateSet((eb) => ({
                  rev: eb('bridge_desired.rev', '+', 1),
                  content_hash: eb.ref('excluded.content_hash'),
                  content_json: eb.ref('excluded.content_json'),
                  issued_at: eb.ref('excluded.issued_at'),
                }))
                // Another instance may have stored this very content since our read: keep its rev.
                .where('bridge_desired.content_hash', '<>', (eb) => eb.ref('excluded.content_hash')),
            )
            .returningAll()
            .execute();
          for (const row of written) stored.set(keyOf(row.zone, row.function), toStored(row));
        }
        const missing = [...changed.keys()].filter((key) => {
          const proposal = changed.get(key)!;
          return stored.get(key)?.contentHash !== proposal.contentHash;
        });
        if (missing.length > 0) {
          // Rows the WHERE skipped (same content stored concurrently): read what is there now.
          for (const row of await trx
            .selectFrom('bridge_desired')
            .selectAll()
            .where('uai', '=', uai)
            .execute()) {
            stored.set(keyOf(row.zone, row.function), toStored(row));
          }
        }
        return proposals.map((p) => {
          const result = stored.get(keyOf(p.zone, p.function));
          if (!result)
            throw new Error(`bridge_desired: no row for ${uai}/${p.zone}/${p.function} after upsert`);
          return result;
        });
      });
    },

    async forgetDesired(uai, keys, fence) {
      if (keys.length === 0) return;
      await writeTransaction(db, dialect, async (trx) => {
        if (fence) await assertLeaseHeld(trx, dialect, fence);
        for (const key of keys) {
          await trx
            .deleteFrom('bridge_desired')
            .where('uai', '=', uai)
            .where('zone', '=', key.zone)
            .where('function', '=', key.function)
            .execute();
        }
      });
    },

    async saveReported(reported) {
      const row = {
        uai: reported.uai,
        zone: reported.zone,
        function: reported.function,
        applied_rev: reported.payload.applied_rev,
        payload_json: JSON.stringify(reported.payload),
        received_at: new Date(reported.receivedAt).toISOString(),
      };
      await db
        .insertInto('gateway_reported')
        .values(row)
        .onConflict((conflict) =>
          conflict.columns(['uai', 'zone', 'function']).doUpdateSet({
            applied_rev: row.applied_rev,
            payload_json: row.payload_json,
            received_at: row.received_at,
          }),
        )
        .execute();
    },

    async loadReported(uai) {
      let query = db.selectFrom('gateway_reported').selectAll();
      if (uai !== undefined) query = query.where('uai', '=', uai);
      return (await query.execute()).map((row) => ({
        uai: row.uai,
        zone: row.zone,
        function: row.function as ZoneFunction,
        payload: JSON.parse(row.payload_json) as ReportedPayload,
        receivedAt: Date.parse(row.received_at),
      }));
    },

    async saveGatewayStatus(status) {
      const lastSeen = new Date(status.lastSeen).toISOString();
      await db
        .insertInto('gateway_status')
        .values({
          uai: status.uai,
          gateway: status.gateway,
          state: status.state ?? 'online',
          last_seen: lastSeen,
        })
        .onConflict((conflict) =>
          conflict
            .columns(['uai', 'gateway'])
            .doUpdateSet(
              status.state === undefined
                ? { last_seen: lastSeen }
                : { state: status.state, last_seen: lastSeen },
            ),
        )
        .execute();
    },

    async loadGatewayStatuses(uai) {
      let query = db.selectFrom('gateway_status').selectAll();
      if (uai !== undefined) query = query.where('uai', '=', uai);
      return (await query.execute()).map((row) => ({
        uai: row.uai,
        gateway: row.gateway,
        state: row.state,
        lastSeen: Date.parse(row.last_seen),
      }));
    },
  };
}
