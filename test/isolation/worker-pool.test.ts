/**
 * The import worker pool itself (real worker threads loading the TypeScript sources through
 * tsx): progress crosses back on the task's port, the body is moved rather than copied, bytes
 * that share a pooled buffer are copied instead, and a terminated worker is replaced.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { transferable } from '../../src/isolation/worker-pool.js';
import { createImportPool } from '../../src/scope/entree/import-pool.js';
import { generateSyntheticEdt } from '../fixtures/edt/synthetic.js';

describe('the import pool', () => {
  const pool = createImportPool({ threads: 1, maxHeapMb: 256, taskTimeoutMs: 30_000 });
  afterAll(() => pool.close());

  it('reports progress from the worker up to 1, and moves the body (detached here)', async () => {
    const bytes = new Uint8Array(Buffer.from(generateSyntheticEdt({ lessons: 10_000, rooms: 40, seed: 2 })));
    const size = bytes.byteLength;
    const fractions: number[] = [];
    const result = await pool.run({ bytes, uai: '0679999E' }, (f) => fractions.push(f));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.parsed.counts.lessons).toBeGreaterThan(100);
    // One report per decoded megabyte, then the end.
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    // Moved: this thread's view is empty now, and the worker hashed all `size` bytes.
    expect(bytes.byteLength).toBe(0);
    expect(size).toBeGreaterThan(500_000);
  });

  it('copies bytes that share a pooled buffer instead of detaching their neighbours', () => {
    const pooled = Buffer.from('small');
    const neighbour = Buffer.from('other');
    const { bytes, transferList } = transferable(pooled);
    expect(bytes).not.toBe(pooled);
    expect(transferList).toEqual([bytes.buffer]);
    expect(Buffer.from(bytes).toString()).toBe('small');
    expect(neighbour.toString()).toBe('other');
    const own = new Uint8Array(8);
    expect(transferable(own).bytes).toBe(own);
  });

  it('gives the problems of a refused input back as data, and ends the worker of a task over its budget', async () => {
    const refused = await pool.run({
      bytes: new TextEncoder().encode('<ExportEmploiDuTemps><a>'),
      format: 'edt',
    });
    expect(refused).toMatchObject({ ok: false, kind: 'malformed', problems: [{ code: 'xml-malformed' }] });

    const strict = createImportPool({ threads: 1, maxHeapMb: 256, taskTimeoutMs: 1 });
    try {
      const slow = new Uint8Array(Buffer.from(generateSyntheticEdt({ lessons: 20_000, rooms: 40, seed: 4 })));
      await expect(strict.run({ bytes: slow, limits: { maxOccurrences: 1e8 } })).rejects.toMatchObject({
        problems: [{ code: 'import-time-limit' }],
        kind: 'invalid',
      });
      expect(strict.stats().threads).toBe(0);
    } finally {
      await strict.close();
    }
  });
});
