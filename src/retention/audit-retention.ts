/**
 * Audit-entry retention (docs/audit.md, "Retention"): entries older than
 * `retention.audit.keep_months` leave the log, but only up to a signed checkpoint taken before the
 * cutoff, after the chain was verified against it, and in the store's one controlled purge
 * (migration 0017): the purge is itself an audit entry (who, the range, the checkpoint), and the
 * verifier then starts from the checkpoint's (seq, hash).
 */
import type { KeyObject } from 'node:crypto';
import { DateTime } from 'luxon';
import { type Checkpoint, checkpointSchema, checkpointSignatureHolds } from '../audit/checkpoint.js';
import type { Clock } from '../domain/clock.js';
import type { AuditPurgeResult, AuditRepository } from '../store/audit-repository.js';

export const AUDIT_RETENTION_ACTOR = 'system:retention';

export interface AuditRetentionOptions {
  keepMonths: number;
  audit: Pick<AuditRepository, 'anchor' | 'lastSeqBefore' | 'verify' | 'purge'>;
  /** The stored checkpoints (the directory sink). */
  checkpoints: { newestWithin(afterSeq: number, maxSeq: number, beforeMs: number): Checkpoint | null };
  publicKey: KeyObject;
  clock: Clock;
  actor?: string;
}

export type AuditRetentionOutcome =
  | { purged: AuditPurgeResult; checkpoint: Checkpoint; cutoff: string }
  | {
      purged: null;
      /** Why nothing left the log. */
      why: 'nothing-older' | 'no-checkpoint' | 'chain-broken';
      cutoff: string;
      firstBad?: { seq: number; reason: string };
    };

/** A checkpoint's signature by this key, for `verify({ checkpointHolds })`. */
export function checkpointHoldsWith(publicKey: KeyObject): (checkpoint: unknown) => boolean {
  return (checkpoint) => {
    const parsed = checkpointSchema.safeParse(checkpoint);
    return parsed.success && checkpointSignatureHolds(parsed.data, publicKey);
  };
}

export async function purgeOldAuditEntries(options: AuditRetentionOptions): Promise<AuditRetentionOutcome> {
  const { audit, keepMonths } = options;
  const now = options.clock.now();
  const cutoffMs = DateTime.fromMillis(now, { zone: 'utc' }).minus({ months: keepMonths }).toMillis();
  const cutoff = new Date(cutoffMs).toISOString();
  const anchor = await audit.anchor();
  const last = await audit.lastSeqBefore(cutoffMs);
  if (last <= anchor.seq) return { purged: null, why: 'nothing-older', cutoff };
  // Only a checkpoint of this key, taken before the cutoff, ends a purge: its entries and the
  // checkpoint itself are older than the policy.
  let checkpoint: Checkpoint | null = null;
  let maxSeq = last;
  while (checkpoint === null) {
    const candidate = options.checkpoints.newestWithin(anchor.seq, maxSeq, cutoffMs);
    if (candidate === null) break;
    if (checkpointSignatureHolds(candidate, options.publicKey)) checkpoint = candidate;
    else maxSeq = candidate.seq - 1;
  }
  if (checkpoint === null) return { purged: null, why: 'no-checkpoint', cutoff };
  const checkpointHolds = checkpointHoldsWith(options.publicKey);
  const verification = await audit.verify({
    against: { seq: checkpoint.seq, hash: checkpoint.hash },
    checkpointHolds,
  });
  if (!verification.ok) {
    return {
      purged: null,
      why: 'chain-broken',
      cutoff,
      ...(verification.firstBad ? { firstBad: verification.firstBad } : {}),
    };
  }
  const purged = await audit.purge({
    checkpoint,
    at: now,
    actor: options.actor ?? AUDIT_RETENTION_ACTOR,
    detail: { policy: { keep_months: keepMonths }, cutoff },
  });
  if (purged === null) return { purged: null, why: 'nothing-older', cutoff };
  return { purged, checkpoint, cutoff };
}
