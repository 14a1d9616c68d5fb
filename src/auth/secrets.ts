/**
 * Secrets are stored hashed, never in clear (developers' guide, "Security by default").
 * - Client secrets and gateway passwords, chosen by people, use scrypt (slow on purpose):
 *   `scrypt$N$r$p$saltB64$hashB64`.
 * - Static bearer tokens are 256-bit random strings we generate; a fast SHA-256 (`sha256$hex`)
 *   is enough for them (no dictionary to attack) and keeps per-request checks cheap.
 */
import { hash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 };

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** `hashSecret` off the event loop (scrypt on libuv's thread pool): for secrets made by a request. */
export async function hashSecretAsync(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time check of `secret` against a `scrypt$…` or `sha256$…` hash; false on any malformed hash. */
export function verifySecret(secret: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 2) {
    return safeEqual(Buffer.from(sha256Hex(secret), 'hex'), Buffer.from(parts[1] ?? '', 'hex'));
  }
  if (parts[0] !== 'scrypt' || parts.length !== 6) return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const N = Number(n);
  if (!Number.isInteger(N) || expected.length === 0) return false;
  const actual = scryptSync(secret, Buffer.from(saltB64, 'base64'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
  });
  return safeEqual(actual, expected);
}

/**
 * `verifySecret` off the event loop: scrypt runs on libuv's thread pool, so a server checking a
 * client secret (~40 ms of CPU here) keeps answering other requests meanwhile.
 */
export async function verifySecretAsync(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] !== 'scrypt') return verifySecret(secret, stored);
  if (parts.length !== 6) return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const N = Number(n);
  if (!Number.isInteger(N) || expected.length === 0) return false;
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      secret,
      Buffer.from(saltB64, 'base64'),
      expected.length,
      { N, r: Number(r), p: Number(p) },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
  return safeEqual(actual, expected);
}

export function isHashedSecret(stored: string): boolean {
  return (
    /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(stored) ||
    /^sha256\$[0-9a-f]{64}$/.test(stored)
  );
}

/** A new random token (URL-safe, 256 bits). */
export function generateToken(prefix = 'se'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return `sha256$${sha256Hex(token)}`;
}

/** One-shot `crypto.hash` (Node ≥ 20.12): no Hash object per call, which every bearer check pays. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
