/**
 * The audit log (issue 7): entries are only ever appended, each chained to the previous one by
 * its hash (src/domain/audit-entry.ts). `append` reads and moves the one-row head inside a write
 * transaction (BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), so concurrent appenders,
 * in one process or several, produce one unbroken chain.
 */
import type { Kysely } from 'kysely';
import { DateTime } from 'luxon';
import {
  AUDIT_PURGE_EVENT,
  AUDIT_RETENTION_FLOOR_MONTHS,
  type AuditEntry,
  type AuditEntryInput,
  type AuditKind,
  canonicalJson,
  entryHash,
  GENESIS_HASH,
} from '../domain/audit-entry.js';
import type { AuditLogTable, Database } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface AuditFilter {
  /** One school. */
  uai?: string;
  /** The caller's schools: entries of these only (plus hub-wide ones with `withoutUai`). */
  uais?: readonly string[];
  /** With `uais`: also entries without a school (configuration reloads). */
  withoutUai?: boolean;
  /** Only entries of a school (none of the hub-wide ones). */
  schoolsOnly?: boolean;
  zone?: string;
  kind?: AuditKind;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** At most this many entries, in seq order. */
  limit?: number;
}

export type AuditBreak =
  /** A stored field differs from what was hashed. */
  | 'hash-mismatch'
  /** The row does not point to the hash of the row before it (reordered or replaced). */
  | 'prev-hash-mismatch'
  /** seq is not the previous seq + 1: rows were deleted. */
  | 'seq-gap'
  /** A row with a seq below the expected one (inserted by hand: seq 0, negative…). */
  | 'unexpected-seq'
  /** The head records more entries than the log holds: the last rows were deleted. */
  | 'truncated'
  /** Rows after the head's seq: written without the head, i.e. not by `append`. */
  | 'beyond-head'
  /** The last row's hash is not the head's: the last row was rewritten with a new hash. */
  | 'head-mismatch'
  /**
   * The row differs from what an anchor (a signed checkpoint, an export, the last verification)
   * recorded for this seq although the chain holds: rewritten with recomputed hashes since then.
   */
  | 'rewritten'
  /** The log ends before a seq an anchor recorded: truncated, with the head moved back. */
  | 'head-moved-back'
  /**
   * Entries up to the purge anchor are gone but no purge entry in the chain names that anchor and
   * its signed checkpoint (or the checkpoint is younger than the retention floor): a hand-made
   * purge, not the service's.
   */
  | 'unattested-purge';

/** Where the last audit purge stopped (migration 0017); seq 0 before any purge. */
export interface AuditPurgeAnchor {
  /** The last purged entry: the first kept one points to its hash. */
  seq: number;
  hash: string;
  /** The `config` entry that logged the purge. */
  purgeSeq: number;
}

export interface AuditPurgeRequest {
  /** The signed checkpoint the purge stops at (entries up to its seq go). */
  checkpoint: { seq: number; hash: string; at: string; [field: string]: unknown };
  /** Epoch ms of the purge. */
  at: number;
  actor: string;
  /** Facts added to the purge entry (policy, cutoff). */
  detail: Record<string, unknown>;
}

export interface AuditPurgeResult {
  /** The purge's own audit entry. */
  entry: AuditEntry;
  fromSeq: number;
  throughSeq: number;
  entries: number;
}

/**
 * What an earlier look at the log recorded outside of it: the head then (a checkpoint, an export's
 * head, the last verification), and optionally the hashes of the entries it held.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** seq → hash of entries the anchor holds (an export): names the first rewritten one. */
  entries?: ReadonlyMap<number, string>;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditVerifyOptions {
  /**
   * Start after this already verified point instead of seq 1 (incremental): its row must still
   * hold this hash, and only the rows after it are walked.
   */
  from?: AuditHead;
  /** Rows up to this anchor must be the ones it recorded. */
  against?: AuditAnchor;
  /**
   * Checks the signature of the checkpoint a purge entry stops at (the CLI and the service hold
   * the public key; the store does not).
   */
  checkpointHolds?: (checkpoint: unknown) => boolean;
}

/** An entry as served, flagged when its stored fields no longer give its hash. */
export type CheckedAuditEntry = AuditEntry & { tampered?: AuditBreak };

export interface AuditVerification {
  ok: boolean;
  /** Entries checked before the first break (all of them when ok). */
  checked: number;
  firstBad?: { seq: number; reason: AuditBreak };
  /** The head the walk ended on (when it got that far). */
  head?: AuditHead;
  /** After a purge: the walk started from this anchor, attested by the purge entry at `purgeSeq`. */
  purged?: AuditPurgeAnchor;
}

export interface AuditRepository {
  /** Appends the entries in order, in one transaction; returns them with seq and hashes. */
  append(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /**
   * Entries in seq order; an entry whose stored fields no longer give its hash, or that does not
   * point to the entry before it, carries `tampered`.
   */
  list(filter?: AuditFilter): Promise<CheckedAuditEntry[]>;
  /** The last seq and hash, as `append` left them. */
  head(): Promise<AuditHead>;
  /**
   * Walks the chain in seq order (from seq 1, or after `from`) and reports the first entry that
   * does not hold, or that differs from the anchor `against`.
   */
  verify(options?: AuditVerifyOptions): Promise<AuditVerification>;
  /** Where the last purge stopped (seq 0: never purged). */
  anchor(): Promise<AuditPurgeAnchor>;
  /** The highest seq of an entry before `instant` (epoch ms); 0 when none. */
  lastSeqBefore(instant: number): Promise<number>;
  /**
   * Deletes the entries after the current anchor up to the checkpoint's seq, in one transaction
   * with the purge's own `config` entry and the anchor moved to the checkpoint (the only DELETE the
   * triggers of migration 0017 allow); null when the checkpoint is not past the anchor. Throws when
   * the log no longer holds the checkpoint's entry with its hash.
   */
  purge(request: AuditPurgeRequest): Promise<AuditPurgeResult | null>;
}

/** Rows read per query while verifying: bounded memory on a log of millions of publishes. */
const VERIFY_PAGE_SIZE = 1000;

export function createAuditRepository(db: Kysely<Database>, dialect: StoreDialect): AuditRepository {
  const readHead = async (): Promise<AuditHead> => {
    const head = await db
      .selectFrom('audit_head')
      .select(['seq', 'hash'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return { seq: Number(head.seq), hash: head.hash };
  };

  const readAnchor = async (): Promise<AuditPurgeAnchor> => {
    const row = await db
      .selectFrom('audit_anchor')
      .select(['seq', 'hash', 'purge_seq'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return { seq: Number(row.seq), hash: row.hash, purgeSeq: Number(row.purge_seq) };
  };

  /** One walk of the chain from `anchor` (read by the caller: verify() compares it afterwards). */
  const walk = async (options: AuditVerifyOptions, anchor: AuditPurgeAnchor): Promise<AuditVerification> => {
    const { against } = options;
    let { from } = options;
    // After a purge the walk starts at the anchor (the entries before it are gone); the purge
    // entry met on the way must attest it.
    const purged = anchor.seq > 0 && (from === undefined || from.seq <= anchor.seq) ? anchor : undefined;
    if (purged) {
      const recorded =
        against?.entries?.get(purged.seq) ?? (against?.seq === purged.seq ? against.hash : undefined);
      if (
        (from?.seq === purged.seq && from.hash !== purged.hash) ||
        (recorded !== undefined && recorded !== purged.hash)
      )
        return { ok: false, checked: purged.seq - 1, firstBad: { seq: purged.seq, reason: 'rewritten' } };
      from = undefined;
    }
    let attested = purged === undefined;
    let checked = purged?.seq ?? from?.seq ?? 0;
    let expectedSeq = checked + 1;
    // No lower bound on a full walk's first page: a hand-inserted seq 0 or below must be seen too.
    let after: number | undefined = from?.seq;
    let prevHash = purged?.hash ?? from?.hash ?? GENESIS_HASH;
    const bad = (seq: number, reason: AuditBreak): AuditVerification => ({
      ok: false,
      checked,
      firstBad: { seq, reason },
    });
    let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
    if (from !== undefined && from.seq > 0) {
      const row = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', from.seq)
        .executeTakeFirst();
      if (!row)
        return { ok: false, checked: from.seq - 1, firstBad: { seq: from.seq, reason: 'head-moved-back' } };
      if (row.hash !== from.hash) {
        return { ok: false, checked: from.seq - 1, firstBad: { seq: from.seq, reason: 'rewritten' } };
      }
    }
    let emptyPageAfterHead = false;
    for (;;) {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .$if(after !== undefined, (q) => q.where('seq', '>', after ?? 0))
        .orderBy('seq')
        .limit(VERIFY_PAGE_SIZE)
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq < expectedSeq) return bad(seq, 'unexpected-seq');
        if (seq > expectedSeq) return bad(expectedSeq, 'seq-gap');
        if (row.prev_hash !== prevHash) return bad(seq, 'prev-hash-mismatch');
        if (hashOf(row) !== row.hash) return bad(seq, 'hash-mismatch');
        const recorded = against?.entries?.get(seq) ?? (seq === against?.seq ? against.hash : undefined);
        if (recorded !== undefined && recorded !== row.hash) return bad(seq, 'rewritten');
        if (purged && seq === purged.purgeSeq) {
          if (!purgeAttests(row, purged, options.checkpointHolds)) return bad(purged.seq, 'unattested-purge');
          attested = true;
        }
        prevHash = row.hash;
        after = seq;
        expectedSeq += 1;
        checked += 1;
      }
      if (rows.length === VERIFY_PAGE_SIZE) {
        // better-sqlite3 answers synchronously: without a turn between pages, a walk of a large
        // log (~22 µs an entry: 22 s for a million) would hold the event loop, its MQTT and
        // timers, from start to end. One page is ~20 ms.
        if (dialect === 'sqlite') await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Read after the rows: appends move rows and head together, so a head ahead of the walk
      // is either entries appended meanwhile (the next page has them) or a deleted tail. An
      // empty page is read once more after such a head before calling the tail deleted: another
      // instance may have appended between that page and the head.
      head = await readHead();
      if (head.seq <= checked) break;
      if (rows.length === 0) {
        if (emptyPageAfterHead) break;
        emptyPageAfterHead = true;
      } else emptyPageAfterHead = false;
    }
    if (head.seq > checked) return bad(checked + 1, 'truncated');
    if (head.seq < checked) return bad(head.seq + 1, 'beyond-head');
    if (head.hash !== prevHash) return bad(checked, 'head-mismatch');
    if (against !== undefined && checked < against.seq) return bad(checked + 1, 'head-moved-back');
    if (purged && !attested) return bad(purged.seq, 'unattested-purge');
    return { ok: true, checked, head, ...(purged ? { purged } : {}) };
  };

  return {
    async append(entries) {
      if (entries.length === 0) return [];
      return writeTransaction(db, dialect, (trx) => appendIn(trx, dialect, entries));
    },

    anchor: readAnchor,

    async lastSeqBefore(instant) {
      // ISO instants of one width compare as text (schema.ts); `at` grows with seq (one clock per
      // appender), so the entries before the last one found are older too.
      const row = await db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('at', '<', new Date(instant).toISOString())
        .executeTakeFirst();
      return row?.seq === null || row?.seq === undefined ? 0 : Number(row.seq);
    },

    async purge(request) {
      const { checkpoint } = request;
      return writeTransaction(db, dialect, async (trx) => {
        const anchor = await trx
          .selectFrom('audit_anchor')
          .select(['seq', 'hash'])
          .where('id', '=', 1)
          .$if(dialect === 'postgres', (q) => q.forUpdate())
          .executeTakeFirstOrThrow();
        const anchorSeq = Number(anchor.seq);
        if (checkpoint.seq <= anchorSeq) return null;
        const row = await trx
          .selectFrom('audit_log')
          .select('hash')
          .where('seq', '=', checkpoint.seq)
          .executeTakeFirst();
        if (!row || row.hash !== checkpoint.hash) {
          throw new Error(
            `audit purge refused: the log no longer holds entry ${checkpoint.seq} as the checkpoint recorded it`,
          );
        }
        const range = await trx
          .selectFrom('audit_log')
          .select((eb) => [
            eb.fn.min('at').as('from_at'),
            eb.fn.max('at').as('to_at'),
            eb.fn.countAll().as('n'),
          ])
          .where('seq', '>', anchorSeq)
          .where('seq', '<=', checkpoint.seq)
          .executeTakeFirstOrThrow();
        const entries = Number(range.n);
        const [entry] = await appendIn(trx, dialect, [
          {
            at: request.at,
            kind: 'config',
            uai: null,
            actor: request.actor,
            detail: {
              ...request.detail,
              event: AUDIT_PURGE_EVENT,
              object: 'audit-log',
              from_seq: anchorSeq + 1,
              through_seq: checkpoint.seq,
              anchor_hash: checkpoint.hash,
              entries,
              from_at: range.from_at,
              to_at: range.to_at,
              checkpoint,
            },
          },
        ]);
        if (!entry) throw new Error('audit purge: the purge entry was not appended');
        // Order matters to the triggers (migration 0017): the head moved past the anchor (append),
        // then the anchor, then only rows at or below it may go.
        await trx
          .updateTable('audit_anchor')
          .set({ seq: checkpoint.seq, hash: checkpoint.hash, purge_seq: entry.seq })
          .where('id', '=', 1)
          .execute();
        await trx
          .deleteFrom('audit_log')
          .where('seq', '>', anchorSeq)
          .where('seq', '<=', checkpoint.seq)
          .execute();
        return { entry, fromSeq: anchorSeq + 1, throughSeq: checkpoint.seq, entries };
      });
    },

    async list(filter = {}) {
      let query = db.selectFrom('audit_log').selectAll();
      if (filter.uai !== undefined) query = query.where('uai', '=', filter.uai);
      if (filter.uais !== undefined) {
        const uais = [...filter.uais];
        if (uais.length === 0 && filter.withoutUai !== true) return [];
        query = query.where((eb) => {
          const ors = [];
          if (uais.length > 0) ors.push(eb('uai', 'in', uais));
          if (filter.withoutUai === true) ors.push(eb('uai', 'is', null));
          return eb.or(ors);
        });
      }
      if (filter.schoolsOnly === true) query = query.where('uai', 'is not', null);
      if (filter.zone !== undefined) query = query.where('zone', '=', filter.zone);
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
      // ISO instants of one width compare as text (schema.ts).
      if (filter.from !== undefined) query = query.where('at', '>=', new Date(filter.from).toISOString());
      if (filter.to !== undefined) query = query.where('at', '<', new Date(filter.to).toISOString());
      query = query.orderBy('seq');
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      let previous: AuditLogTable | undefined;
      return (await query.execute()).map((row) => {
        const entry: CheckedAuditEntry = fromRow(row);
        if (hashOf(row) !== row.hash) entry.tampered = 'hash-mismatch';
        else if (previous && Number(previous.seq) + 1 === Number(row.seq) && previous.hash !== row.prev_hash)
          entry.tampered = 'prev-hash-mismatch';
        previous = row;
        return entry;
      });
    },

    head: readHead,

    async verify(options = {}) {
      // A retention purge committed during a walk moves the anchor and deletes rows the walk has
      // not reached yet: the walk, which started from the anchor before, would see a seq gap
      // exactly like a hand-made deletion. A failed walk is therefore told only once the anchor
      // has not moved during it; otherwise it starts again from the new anchor (a purge is daily
      // at most, so three walks are plenty).
      let anchor = await readAnchor();
      for (let attempt = 1; ; attempt++) {
        const result = await walk(options, anchor);
        if (result.ok || attempt === 3) return result;
        const now = await readAnchor();
        if (now.seq === anchor.seq) return result;
        anchor = now;
      }
    },
  };
}

/** Appends inside the caller's write transaction: reads the head (locked), chains, moves it. */
async function appendIn(
  trx: Kysely<Database>,
  dialect: StoreDialect,
  entries: readonly AuditEntryInput[],
): Promise<AuditEntry[]> {
  const head = await trx
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .$if(dialect === 'postgres', (q) => q.forUpdate())
    .executeTakeFirstOrThrow();
  let seq = Number(head.seq);
  let prevHash = head.hash;
  const rows: AuditLogTable[] = entries.map((entry) => {
    seq += 1;
    const fields = {
      seq,
      at: new Date(entry.at).toISOString(),
      kind: entry.kind,
      uai: entry.uai ?? null,
      zone: entry.zone ?? null,
      actor: entry.actor,
      detailJson: canonicalJson(entry.detail),
      prevHash,
    };
    const hash = entryHash(fields);
    const row: AuditLogTable = {
      seq,
      at: fields.at,
      kind: fields.kind,
      uai: fields.uai,
      zone: fields.zone,
      actor: fields.actor,
      detail_json: fields.detailJson,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  // Chunks keep each INSERT under SQLite's 32766 bound parameters (9 per row).
  for (let i = 0; i < rows.length; i += 500) {
    await trx
      .insertInto('audit_log')
      .values(rows.slice(i, i + 500))
      .execute();
  }
  await trx.updateTable('audit_head').set({ seq, hash: prevHash }).where('id', '=', 1).execute();
  return rows.map(fromRow);
}

/**
 * Whether the purge entry at the anchor's `purge_seq` names exactly this anchor, stops at a
 * checkpoint of it (signed, when the caller can check the signature) and came at least the
 * retention floor after that checkpoint: a purge made by hand (rows deleted, the anchor moved)
 * has no such entry in the chain, and one cannot be forged without rewriting the chain, which the
 * checkpoints catch.
 */
function purgeAttests(
  row: AuditLogTable,
  anchor: AuditPurgeAnchor,
  checkpointHolds: ((checkpoint: unknown) => boolean) | undefined,
): boolean {
  if (row.kind !== 'config') return false;
  const detail = JSON.parse(row.detail_json) as Record<string, unknown>;
  const checkpoint = detail.checkpoint as { seq?: unknown; hash?: unknown; at?: unknown } | undefined;
  if (
    detail.event !== AUDIT_PURGE_EVENT ||
    detail.through_seq !== anchor.seq ||
    detail.anchor_hash !== anchor.hash ||
    checkpoint?.seq !== anchor.seq ||
    checkpoint.hash !== anchor.hash ||
    typeof checkpoint.at !== 'string'
  )
    return false;
  const floor = DateTime.fromISO(checkpoint.at, { zone: 'utc' }).plus({
    months: AUDIT_RETENTION_FLOOR_MONTHS,
  });
  if (!floor.isValid || floor.toMillis() > Date.parse(row.at)) return false;
  return checkpointHolds === undefined || checkpointHolds(checkpoint);
}

/** The hash the row's stored fields give. */
function hashOf(row: AuditLogTable): string {
  return entryHash({
    seq: Number(row.seq),
    at: row.at,
    kind: row.kind,
    uai: row.uai,
    zone: row.zone,
    actor: row.actor,
    detailJson: row.detail_json,
    prevHash: row.prev_hash,
  });
}

function fromRow(row: AuditLogTable): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    // The check constraint admits only these kinds.
    kind: row.kind as AuditKind,
    uai: row.uai,
    zone: row.zone,
    actor: row.actor,
    detail: JSON.parse(row.detail_json) as unknown,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
