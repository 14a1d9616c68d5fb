import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENERATED_SIGNING_KEY_FILE, loadSigningKey } from '../../src/auth/signing-key.js';
import { InputError } from '../../src/domain/problems.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scope-key-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadSigningKey', () => {
  it('generates a private key once in the data directory and reuses it', () => {
    const dataDir = join(dir, 'data');
    const first = loadSigningKey({ dataDir });
    const file = join(dataDir, GENERATED_SIGNING_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.length).toBe(86); // 64 random bytes, base64url
    expect(Buffer.from(first).toString()).toBe(readFileSync(file, 'utf8').trimEnd());
    expect(loadSigningKey({ dataDir })).toEqual(first);
  });

  it('narrows a generated key left readable by others to 0600, and leaves a configured file alone', () => {
    const dataDir = join(dir, 'data');
    const first = loadSigningKey({ dataDir });
    const file = join(dataDir, GENERATED_SIGNING_KEY_FILE);
    chmodSync(file, 0o644);
    expect(loadSigningKey({ dataDir })).toEqual(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const configured = join(dir, 'site.key');
    writeFileSync(configured, 'k'.repeat(40), { mode: 0o640 });
    loadSigningKey({ signingKeyFile: configured, dataDir });
    expect(statSync(configured).mode & 0o777).toBe(0o640);
  });

  it('reads a configured key file without its trailing newline', () => {
    const file = join(dir, 'jwt.key');
    writeFileSync(file, `${'k'.repeat(40)}\r\n`);
    expect(Buffer.from(loadSigningKey({ signingKeyFile: file, dataDir: dir })).toString()).toBe(
      'k'.repeat(40),
    );
  });

  it('refuses a key shorter than 32 bytes and a missing file', () => {
    const file = join(dir, 'short.key');
    writeFileSync(file, 'too-short\n');
    expect(() => loadSigningKey({ signingKeyFile: file, dataDir: dir })).toThrow(InputError);
    try {
      loadSigningKey({ signingKeyFile: file, dataDir: dir });
    } catch (error) {
      expect((error as InputError).problems).toEqual([
        {
          code: 'weak-signing-key',
          message: 'the JWT signing key has 9 bytes; HS256 needs at least 32',
          where: file,
        },
      ]);
    }
    const missing = join(dir, 'missing.key');
    expect(() => loadSigningKey({ signingKeyFile: missing, dataDir: dir })).toThrow(
      `auth.signing_key_file: signing key file ${missing} does not exist`,
    );
  });
});
