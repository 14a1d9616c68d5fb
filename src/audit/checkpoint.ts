/**
 * A signed checkpoint of the audit log (issue 21, "Anchoring"): the head (seq, hash) at an
 * instant, signed with the service's Ed25519 key and kept outside the database. Any later rewrite
 * of an entry up to that seq changes the hash at that seq, and a truncation moves the head back
 * below it: `verify --against` a checkpoint catches both. Pure: no I/O.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../domain/audit-entry.js';
import type { AuditSigningKey } from './audit-signing-key.js';

export const CHECKPOINT_FORMAT = 'scope-energie/audit-checkpoint/v1';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits');

export const checkpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  seq: z.int().min(0),
  hash: hex64,
  /** ISO 8601 UTC instant of the checkpoint. */
  at: z.iso.datetime(),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  /** Base64 Ed25519 signature of the canonical JSON of the other fields. */
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

/** The bytes that are signed: the other fields as canonical JSON (keys sorted, no spaces). */
export function checkpointSignedText(checkpoint: Omit<Checkpoint, 'signature'>): string {
  const { format, seq, hash, at, key_id } = checkpoint;
  return canonicalJson({ format, seq, hash, at, key_id });
}

export function signCheckpoint(
  head: { seq: number; hash: string },
  at: number,
  key: AuditSigningKey,
): Checkpoint {
  const unsigned = {
    format: CHECKPOINT_FORMAT,
    seq: head.seq,
    hash: head.hash,
    at: new Date(at).toISOString(),
    key_id: key.keyId,
  } as const;
  const signature = sign(null, Buffer.from(checkpointSignedText(unsigned), 'utf8'), key.privateKey);
  return { ...unsigned, signature: signature.toString('base64') };
}

/** Whether `publicKey` signed exactly these fields. */
export function checkpointSignatureHolds(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  return verify(
    null,
    Buffer.from(checkpointSignedText(checkpoint), 'utf8'),
    publicKey,
    Buffer.from(checkpoint.signature, 'base64'),
  );
}
