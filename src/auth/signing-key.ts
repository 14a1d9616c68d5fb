/**
 * The HS256 key that signs the service's JWTs. From `auth.signing_key_file` when set, else
 * generated once in the data directory (mode 0600) so tokens survive a restart and are shared by
 * every instance using that directory.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/problems.js';

export const GENERATED_SIGNING_KEY_FILE = 'jwt-signing.key';
/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits. */
export const MIN_SIGNING_KEY_BYTES = 32;

export function loadSigningKey(options: {
  signingKeyFile?: string | undefined;
  dataDir: string;
}): Uint8Array {
  if (options.signingKeyFile !== undefined) {
    const file = options.signingKeyFile;
    if (!existsSync(file)) {
      throw InputError.of(
        'file-not-found',
        `signing key file ${file} does not exist`,
        'auth.signing_key_file',
      );
    }
    return checked(readFileSync(file), file);
  }
  const file = join(options.dataDir, GENERATED_SIGNING_KEY_FILE);
  if (existsSync(file)) return checked(readFileSync(file), file);
  mkdirSync(options.dataDir, { recursive: true });
  const key = Buffer.from(`${randomBytes(MIN_SIGNING_KEY_BYTES * 2).toString('base64url')}\n`);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, key, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return checked(key, file);
}

/** The file's bytes without a trailing newline an editor may add. */
function checked(bytes: Buffer, file: string): Uint8Array {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  const key = new Uint8Array(bytes.subarray(0, end));
  if (key.length < MIN_SIGNING_KEY_BYTES) {
    throw InputError.of(
      'weak-signing-key',
      `the JWT signing key has ${key.length} bytes; HS256 needs at least ${MIN_SIGNING_KEY_BYTES}`,
      file,
    );
  }
  return key;
}
