/**
 * One audit log entry, its canonical serialisation and its hash (issue 7, "Audit"). Each entry
 * hashes its own fields together with the previous entry's hash, so changing, deleting or
 * reordering a stored row breaks the chain from that row on. Pure: no I/O.
 */
import { createHash } from 'node:crypto';

export const AUDIT_KINDS = ['import', 'plan', 'publish', 'ack', 'override', 'config'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The `prev_hash` of the first entry: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller records; the log assigns `seq` and the hashes. */
export interface AuditEntryInput {
  /** Epoch ms of the event (the caller's clock). */
  at: number;
  kind: AuditKind;
  /** The school concerned; null for hub-wide events (configuration reloads). */
  uai?: string | null;
  zone?: string | null;
  /** Client id, `cli:<user>` or `system`. */
  actor: string;
  /** Kind-specific facts (plan hash and rules version, topic and rev, override reason…). */
  detail: Record<string, unknown>;
}

/** A stored entry, as the repository returns it. */
export interface AuditEntry {
  seq: number;
  /** ISO 8601 UTC instant (`toISOString()`), exactly as hashed. */
  at: string;
  kind: AuditKind;
  uai: string | null;
  zone: string | null;
  actor: string;
  detail: unknown;
  prevHash: string;
  hash: string;
}

/** The fields that enter the hash, in their stored text form. */
export interface HashedFields {
  seq: number;
  at: string;
  kind: string;
  uai: string | null;
  zone: string | null;
  actor: string;
  /** The canonical JSON text stored in `detail_json`. */
  detailJson: string;
  prevHash: string;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values always give the
 * same text whatever order a caller built them in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) sorted[key] = sortKeys(source[key]);
    return sorted;
  }
  return value;
}

/**
 * The text that is hashed: a JSON array of the fields in a fixed order. A JSON array (not a
 * joined string) leaves no ambiguity between fields, whatever characters they contain.
 */
export function canonicalEntryText(fields: HashedFields): string {
  return JSON.stringify([
    fields.seq,
    fields.at,
    fields.kind,
    fields.uai,
    fields.zone,
    fields.actor,
    fields.detailJson,
    fields.prevHash,
  ]);
}

/** Hex SHA-256 of the canonical text (UTF-8). */
export function entryHash(fields: HashedFields): string {
  return createHash('sha256').update(canonicalEntryText(fields), 'utf8').digest('hex');
}

/** `detail.event` of the `config` entry that logs a purge of old audit entries (migration 0017). */
export const AUDIT_PURGE_EVENT = 'audit-purged';

/**
 * Audit entries are kept at least this long (docs/audit.md, "Retention": the five-year limitation
 * period of Code civil art. 2224); a purge entry stopping at a checkpoint younger than this does
 * not attest its purge.
 */
export const AUDIT_RETENTION_FLOOR_MONTHS = 60;
