/**
 * Leases that split the schools between bridge instances sharing one database (issue 8,
 * docs/deployment.md). Every instant is read from the DATABASE clock inside the statement that
 * uses it, so instances never compare their own clocks.
 *
 * - `heartbeat` keeps an instance in the live set for a TTL; the live set decides who SHOULD own
 *   a school (src/cluster/rendezvous.ts).
 * - `claim` takes a lease that is free, expired or already ours, in one
 *   `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` per batch: atomic on both dialects, so two
 *   instances can never both come out holding a school.
 * - The `epoch` is the fencing token: it grows each time a school changes hands (or an owner lets
 *   its own lease lapse), and writes on behalf of a school check it in their transaction
 *   (`assertLeaseHeld`), so a paused old owner cannot allocate a rev after losing the lease.
 */
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { StoreDialect } from './write-transaction.js';

/** The lease a write is made under. */
export interface LeaseFence {
  uai: string;
  owner: string;
  epoch: number;
}

export interface HeldLease {
  uai: string;
  epoch: number;
  /** Epoch ms, database clock. */
  expiresAt: number;
}

export interface LeaseRow extends HeldLease {
  owner: string;
  acquiredAt: number;
}

export interface InstanceRow {
  instanceId: string;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

export interface LeaseRepository {
  /**
   * Marks `instanceId` alive for `ttlMs`; answers the live instances (sorted) and the database's
   * now. `boot` identifies this process: while another process with the same id and another boot
   * is live, throws `DuplicateInstanceError` (both would otherwise hold the same leases).
   */
  heartbeat(instanceId: string, ttlMs: number, boot?: string): Promise<{ now: number; live: string[] }>;
  /** Removes an instance (this boot's row only, when given) from the live set at once. */
  leave(instanceId: string, boot?: string): Promise<void>;
  /**
   * Takes or renews, for `ttlMs`, the leases of these schools that are free, expired or already
   * `instanceId`'s; answers every lease it holds afterwards among them.
   */
  claim(instanceId: string, uais: readonly string[], ttlMs: number): Promise<HeldLease[]>;
  /** Ends these leases of `instanceId` now (the next claimant gets them at once). */
  release(instanceId: string, uais: readonly string[]): Promise<void>;
  leases(): Promise<LeaseRow[]>;
  instances(): Promise<InstanceRow[]>;
  /** The database clock's now, epoch ms (what expiries are compared with). */
  now(): Promise<number>;
}

/** Another live process runs under the same instance id. */
export class DuplicateInstanceError extends Error {
  constructor(readonly instanceId: string) {
    super(
      `another live process is bridge instance "${instanceId}": give each instance its own cluster.instance_id`,
    );
    this.name = 'DuplicateInstanceError';
  }
}

export function isDuplicateInstanceError(error: unknown): error is DuplicateInstanceError {
  return error instanceof DuplicateInstanceError;
}

/** A write on behalf of a school whose lease this instance no longer holds. */
export class LeaseLostError extends Error {
  constructor(readonly fence: LeaseFence) {
    super(`lease of ${fence.uai} lost by ${fence.owner} (epoch ${fence.epoch})`);
    this.name = 'LeaseLostError';
  }
}

export function isLeaseLostError(error: unknown): error is LeaseLostError {
  return error instanceof LeaseLostError;
}

/** Rows per multi-row INSERT (5 parameters each). */
const ROWS_PER_CLAIM = 500;

/** How long a claim waits for a row another session holds locked before skipping it. */
const CLAIM_LOCK_TIMEOUT_MS = 500;

/** PostgreSQL `lock_not_available` (55P03): a `lock_timeout` ran out. */
function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '55P03';
}

/** The database's current instant in epoch ms, read when the statement runs. */
export function databaseNowMs(dialect: StoreDialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast(round((julianday('now') - 2440587.5) * 86400000) as integer)`;
}

/**
 * Throws `LeaseLostError` unless `fence` is still the live lease of its school. On PostgreSQL the
 * row is locked FOR SHARE until the transaction ends, so a takeover (an UPDATE of that row) waits
 * for this write to commit and the new owner then reads what it wrote; SQLite's write transaction
 * is exclusive already.
 */
export async function assertLeaseHeld(
  trx: Kysely<Database> | Transaction<Database>,
  dialect: StoreDialect,
  fence: LeaseFence,
): Promise<void> {
  let query = trx
    .selectFrom('school_leases')
    .select('epoch')
    .where('uai', '=', fence.uai)
    .where('owner', '=', fence.owner)
    .where('epoch', '=', fence.epoch)
    .where('expires_at', '>', databaseNowMs(dialect));
  if (dialect === 'postgres') query = query.forShare();
  const row = await query.executeTakeFirst();
  if (!row) throw new LeaseLostError(fence);
}

export function createLeaseRepository(db: Kysely<Database>, dialect: StoreDialect): LeaseRepository {
  const now = () => databaseNowMs(dialect);
  return {
    async heartbeat(instanceId, ttlMs, boot = '') {
      const ttl = Math.round(ttlMs);
      const mine = await db
        .insertInto('bridge_instances')
        .values({
          instance_id: instanceId,
          boot,
          started_at: now(),
          heartbeat_at: now(),
          expires_at: sql<number>`${now()} + ${ttl}`,
        })
        .onConflict((conflict) =>
          conflict
            .column('instance_id')
            .doUpdateSet((eb) => ({
              boot: eb.ref('excluded.boot'),
              // A new boot after the previous one's row lapsed is a new start.
              started_at: sql<number>`case when bridge_instances.boot = excluded.boot then bridge_instances.started_at else excluded.started_at end`,
              heartbeat_at: now(),
              expires_at: sql<number>`${now()} + ${ttl}`,
            }))
            .where((eb) =>
              eb.or([
                eb('bridge_instances.boot', '=', eb.ref('excluded.boot')),
                eb('bridge_instances.expires_at', '<=', now()),
              ]),
            ),
        )
        .returning('instance_id')
        .execute();
      if (mine.length === 0) throw new DuplicateInstanceError(instanceId);
      const rows = await db
        .selectFrom('bridge_instances')
        .select(['instance_id', sql<number | string>`${now()}`.as('now')])
        .where('expires_at', '>', now())
        .orderBy('instance_id')
        .execute();
      const nowMs = rows[0] ? Number(rows[0].now) : Date.now();
      return { now: nowMs, live: rows.map((r) => r.instance_id) };
    },

    async leave(instanceId, boot) {
      let query = db.deleteFrom('bridge_instances').where('instance_id', '=', instanceId);
      if (boot !== undefined) query = query.where('boot', '=', boot);
      await query.execute();
    },

    async claim(instanceId, unordered, ttlMs) {
      const ttl = Math.round(ttlMs);
      // One row order for every instance: two claims of overlapping schools listed in different
      // orders lock their rows in opposite orders, and PostgreSQL aborts one as a deadlock.
      const uais = [...new Set(unordered)].sort();
      const held: HeldLease[] = [];
      for (let start = 0; start < uais.length; start += ROWS_PER_CLAIM) {
        const batch = uais.slice(start, start + ROWS_PER_CLAIM);
        if (dialect !== 'postgres') {
          held.push(...(await upsertLeases(db, batch)));
          continue;
        }
        // A row can be locked by a paused old owner's fenced write (FOR SHARE until its session
        // dies): waiting on it would stall this whole claim, renewals included, and with them the
        // cluster. Give up on such rows after a moment and take the others one by one.
        try {
          held.push(...(await upsertWithLockTimeout(batch)));
        } catch (error) {
          if (!isLockTimeout(error)) throw error;
          for (const uai of batch) {
            try {
              held.push(...(await upsertWithLockTimeout([uai])));
            } catch (rowError) {
              if (!isLockTimeout(rowError)) throw rowError;
            }
          }
        }
      }
      return held;

      function upsertWithLockTimeout(batch: readonly string[]): Promise<HeldLease[]> {
        return db.transaction().execute(async (trx) => {
          await sql`set local lock_timeout = ${sql.lit(`${CLAIM_LOCK_TIMEOUT_MS}ms`)}`.execute(trx);
          return upsertLeases(trx, batch);
        });
      }

      async function upsertLeases(
        target: Kysely<Database> | Transaction<Database>,
        batch: readonly string[],
      ): Promise<HeldLease[]> {
        const rows = batch.map((uai) => ({
          uai,
          owner: instanceId,
          epoch: 1,
          acquired_at: now(),
          expires_at: sql<number>`${now()} + ${ttl}`,
        }));
        const written = await target
          .insertInto('school_leases')
          .values(rows)
          .onConflict((conflict) =>
            conflict
              .column('uai')
              .doUpdateSet((eb) => {
                // Still ours and live: a renewal keeps the epoch; anything else is a new tenure.
                const renewal = sql<boolean>`school_leases.owner = excluded.owner and school_leases.expires_at > ${now()}`;
                return {
                  owner: eb.ref('excluded.owner'),
                  epoch: sql<number>`case when ${renewal} then school_leases.epoch else school_leases.epoch + 1 end`,
                  acquired_at: sql<number>`case when ${renewal} then school_leases.acquired_at else excluded.acquired_at end`,
                  expires_at: eb.ref('excluded.expires_at'),
                };
              })
              .where((eb) =>
                eb.or([
                  eb('school_leases.owner', '=', eb.ref('excluded.owner')),
                  eb('school_leases.expires_at', '<=', now()),
                ]),
              ),
          )
          .returning(['uai', 'epoch', 'expires_at'])
          .execute();
        return written.map((row) => ({
          uai: row.uai,
          epoch: Number(row.epoch),
          expiresAt: Number(row.expires_at),
        }));
      }
    },

    async release(instanceId, uais) {
      for (let start = 0; start < uais.length; start += ROWS_PER_CLAIM) {
        await db
          .updateTable('school_leases')
          .set({ expires_at: now() })
          .where('owner', '=', instanceId)
          .where('uai', 'in', uais.slice(start, start + ROWS_PER_CLAIM))
          .execute();
      }
    },

    async leases() {
      const rows = await db.selectFrom('school_leases').selectAll().orderBy('uai').execute();
      return rows.map((row) => ({
        uai: row.uai,
        owner: row.owner,
        epoch: Number(row.epoch),
        acquiredAt: Number(row.acquired_at),
        expiresAt: Number(row.expires_at),
      }));
    },

    async now() {
      const { rows } = await sql<{ now: number | string }>`select ${now()} as now`.execute(db);
      return Number(rows[0]?.now);
    },

    async instances() {
      const rows = await db.selectFrom('bridge_instances').selectAll().orderBy('instance_id').execute();
      return rows.map((row) => ({
        instanceId: row.instance_id,
        startedAt: Number(row.started_at),
        heartbeatAt: Number(row.heartbeat_at),
        expiresAt: Number(row.expires_at),
      }));
    },
  };
}
