/**
 * The SQLite store's files are its user's only (issue 13): the database, created 0600 whatever
 * the umask, an older 0644 one narrowed at open, and the -wal and -shm files SQLite creates
 * beside it with the database's mode.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../../src/store/store.js';

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scope-modes-'));
  // The most common default: files readable by everyone unless the service narrows them.
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('SQLite file modes', () => {
  it('creates the database, its -wal and its -shm with mode 0600', async () => {
    const store = await openStore({ dataDir: dir });
    try {
      // A write, so that the WAL holds a frame (the files exist from the first migration anyway).
      await store.db
        .insertInto('revoked_sessions')
        .values({ sid: 'mode-test', expires_at: '2099-01-01T00:00:00.000Z' })
        .execute();
      const file = join(dir, SQLITE_FILE_NAME);
      expect(existsSync(`${file}-wal`)).toBe(true);
      expect(existsSync(`${file}-shm`)).toBe(true);
      expect([modeOf(file), modeOf(`${file}-wal`), modeOf(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    } finally {
      await store.close();
    }
  });

  it('narrows a database an older version left 0644', async () => {
    const first = await openStore({ dataDir: dir });
    await first.close();
    const file = join(dir, SQLITE_FILE_NAME);
    chmodSync(file, 0o644);
    const again = await openStore({ dataDir: dir });
    try {
      expect(modeOf(file)).toBe(0o600);
    } finally {
      await again.close();
    }
  });
});
