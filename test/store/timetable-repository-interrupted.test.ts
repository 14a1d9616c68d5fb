/**
 * A real interruption: a child process imports a big timetable into a SQLite file and is
 * SIGKILLed inside the transaction, after the new version's pages reached the WAL file but
 * before COMMIT. Reopening the file must show the previous version current and intact.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDocument } from '../../src/store/document-codec.js';
import { openStore, SQLITE_FILE_NAME } from '../../src/store/store.js';
import { importInput, syntheticTimetable } from './synthetic-timetable.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const childScript = fileURLToPath(new URL('./import-child.ts', import.meta.url));
const UAI = '0134567U';
/** About 6 MB of JSON, stored compressed: well over the child's 64 kB page cache, so pages spill to the WAL. */
const BIG_LESSONS = 10_000;

describe('an import killed mid-transaction (SQLite file)', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves the previous version current and byte-identical after SIGKILL', {
    timeout: 60_000,
  }, async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'scope-energie-kill-'));
    const v1 = syntheticTimetable({ uai: UAI, rooms: 3, lessons: 4, weeks: 2, label: ' v1' });
    const before = await openStore({ dataDir });
    await before.timetables.importVersion(importInput(v1));
    await before.close();

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, dataDir, UAI, String(BIG_LESSONS)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const documentBytes = Number((await lineStartingWith(child, 'inside-transaction ')).split(' ')[1]);
    const walBytes = statSync(path.join(dataDir, `${SQLITE_FILE_NAME}-wal`)).size;
    child.kill('SIGKILL');

    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The uncommitted version really was on disk when the process died.
    expect(documentBytes).toBeGreaterThan(100_000);
    expect(walBytes).toBeGreaterThan(documentBytes / 2);

    const after = await openStore({ dataDir });
    try {
      expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(after.db)).rows).toEqual(
        [{ integrity_check: 'ok' }],
      );
      const rows = await after.db
        .selectFrom('timetable_versions')
        .select(['uai', 'version', 'document_json'])
        .execute();
      expect(rows.map((r) => ({ ...r, document_json: decodeDocument(r.document_json) }))).toEqual([
        { uai: UAI, version: 1, document_json: JSON.parse(JSON.stringify(v1)) },
      ]);
      expect(
        await after.db
          .selectFrom('establishments')
          .select(['uai', 'current_version', 'updated_at'])
          .execute(),
      ).toEqual([{ uai: UAI, current_version: 1, updated_at: '2025-09-01T06:00:00.000Z' }]);
      expect((await after.timetables.current(UAI))?.timetable).toEqual(v1);
    } finally {
      await after.close();
    }
  });
});

/** Resolves with the first stdout line that starts with `prefix`; rejects if the child exits first. */
function lineStartingWith(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith(prefix));
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) before "${prefix}": ${stderr.slice(-2000)}`)),
    );
  });
}
