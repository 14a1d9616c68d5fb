/**
 * The Ed25519 key that signs audit checkpoints (docs/audit.md, "Anchoring"). From
 * `audit.signing_key_file` (PKCS#8 PEM) when set, else generated once in the data directory with
 * mode 0600, so the service and the CLI on that directory sign with one key. The public half is
 * published (`GET /api/audit/public-key`, every export) for auditors to pin.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/problems.js';

export const GENERATED_AUDIT_KEY_FILE = 'audit-signing-ed25519.pem';

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  /** First 16 hex digits of the SHA-256 of the public key (SPKI DER): which key signed. */
  keyId: string;
}

export function loadAuditSigningKey(options: {
  keyFile?: string | undefined;
  dataDir: string;
}): AuditSigningKey {
  if (options.keyFile !== undefined) {
    if (!existsSync(options.keyFile)) {
      throw InputError.of(
        'file-not-found',
        `audit signing key file ${options.keyFile} does not exist`,
        'audit.signing_key_file',
      );
    }
    return fromPem(readFileSync(options.keyFile, 'utf8'), options.keyFile);
  }
  const file = join(options.dataDir, GENERATED_AUDIT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(options.dataDir, { recursive: true });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, pem, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    try {
      // link, not rename: when the CLI and the service generate at once, the first key stays and
      // both sign with it.
      linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  return fromPem(readFileSync(file, 'utf8'), file);
}

function fromPem(pem: string, file: string): AuditSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw InputError.of(
      'bad-audit-key',
      `${file} is not a PEM private key: ${(error as Error).message}`,
      file,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw InputError.of(
      'bad-audit-key',
      `${file} holds a ${privateKey.asymmetricKeyType} key; audit checkpoints are signed with Ed25519`,
      file,
    );
  }
  return withPublic(privateKey);
}

function withPublic(privateKey: KeyObject): AuditSigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyId: keyIdOf(publicKey),
  };
}

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** A public key from its PEM (an auditor's pinned copy). Throws `InputError`. */
export function publicKeyFromPem(pem: string, where: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return key;
  } catch {
    // reported below
  }
  throw InputError.of('bad-public-key', 'expected an Ed25519 public key in PEM (SPKI)', where, 'malformed');
}
