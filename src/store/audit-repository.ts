/**
 * The audit log (issue 7): entries are only ever appended, each chained to the previous one by
 * its hash (src/audit/audit-entry.ts). `append` reads and moves the one-row head inside a write
 * transaction (BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), so concurrent appenders,
 * in one process or several, produce one unbroken chain.
 */
import type { Kysely } from 'kysely';
import {
  type AuditEntry,
  type AuditEntryInput,
  type AuditKind,
  canonicalJson,
  entryHash,
  GENESIS_HASH,
} from '../audit/audit-entry.js';
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
  | 'head-mismatch';

export interface AuditVerification {
  ok: boolean;
  /** Entries checked before the first break (all of them when ok). */
  checked: number;
  firstBad?: { seq: number; reason: AuditBreak };
}

export interface AuditRepository {
  /** Appends the entries in order, in one transaction; returns them with seq and hashes. */
  append(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Walks the whole chain in seq order and reports the first entry that does not hold. */
  verify(): Promise<AuditVerification>;
}

/** Rows read per query while verifying: bounded memory on a log of millions of publishes. */
const VERIFY_PAGE_SIZE = 1000;

export function createAuditRepository(db: Kysely<Database>, dialect: StoreDialect): AuditRepository {
  return {
    async append(entries) {
      if (entries.length === 0) return [];
      return writeTransaction(db, dialect, async (trx) => {
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
      return (await query.execute()).map(fromRow);
    },

    async verify() {
      let checked = 0;
      let expectedSeq = 1;
      // No lower bound on the first page: a hand-inserted seq 0 or below must be seen too.
      let after: number | undefined;
      let prevHash = GENESIS_HASH;
      const bad = (seq: number, reason: AuditBreak): AuditVerification => ({
        ok: false,
        checked,
        firstBad: { seq, reason },
      });
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
          const hash = entryHash({
            seq,
            at: row.at,
            kind: row.kind,
            uai: row.uai,
            zone: row.zone,
            actor: row.actor,
            detailJson: row.detail_json,
            prevHash: row.prev_hash,
          });
          if (hash !== row.hash) return bad(seq, 'hash-mismatch');
          prevHash = row.hash;
          after = seq;
          expectedSeq += 1;
          checked += 1;
        }
        if (rows.length < VERIFY_PAGE_SIZE) break;
      }
      const head = await db
        .selectFrom('audit_head')
        .select(['seq', 'hash'])
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      const headSeq = Number(head.seq);
      if (headSeq > checked) return bad(checked + 1, 'truncated');
      if (headSeq < checked) return bad(headSeq + 1, 'beyond-head');
      if (head.hash !== prevHash) return bad(checked, 'head-mismatch');
      return { ok: true, checked };
    },
  };
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
