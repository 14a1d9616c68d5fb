import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const child = fileURLToPath(new URL('./audit-append-child.ts', import.meta.url));
const BATCHES = 40;

describe('audit appends from two processes on one SQLite file', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('keep one unbroken chain with every batch contiguous', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'scope-energie-audit-procs-'));
    // Migrate first, so the children do not race on creating the schema.
    await (await openStore({ dataDir })).close();
    await Promise.all(
      ['one', 'two'].map((actor) =>
        run(process.execPath, ['--import', 'tsx', child, dataDir!, actor, String(BATCHES)], {
          cwd: repoRoot,
        }),
      ),
    );
    const store = await openStore({ dataDir });
    try {
      expect(await store.audit.verify()).toMatchObject({ ok: true, checked: 4 * BATCHES });
      const entries = await store.audit.list();
      for (let i = 0; i < entries.length; i += 2) {
        const [a, b] = [entries[i]!, entries[i + 1]!];
        expect([b.actor, b.detail]).toEqual([a.actor, { ...(a.detail as object), part: 2 }]);
      }
      expect(entries.filter((e) => e.actor === 'one').length).toBe(2 * BATCHES);
    } finally {
      await store.close();
    }
  }, 60_000);
});
