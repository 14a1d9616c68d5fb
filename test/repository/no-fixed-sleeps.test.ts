import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No test waits a fixed time as synchronisation (issue 14): a negative check that "waits 300 ms
 * and expects nothing" passes when the bug is merely slow. Tests wait for the event, end a
 * "nothing arrives" check on a barrier, and drive timers through the injected clocks; real time
 * passes only through test/helpers/wait.ts (`waitFor` polls a condition, `elapse` lets a stated
 * duration pass where the duration is the subject).
 */
const ROOT = join(import.meta.dirname, '..', '..');
const ALLOWED = new Map([
  ['test/helpers/wait.ts', 'the two sanctioned ways to let real time pass'],
  [
    'test/hostile/probe-worker.mjs',
    'measures at fixed sampling periods on its own thread; plain JavaScript, it cannot import wait.ts',
  ],
]);

/** A promise settled by a timer, or a sleep helper: what a fixed wait looks like in this code base. */
const FIXED_WAIT_PATTERNS: readonly RegExp[] = [
  /\bsleep\s*\(/,
  /\bdelay\s*\(\s*\d/,
  /setTimeout\(\s*(?:r|res|resolve|done|next|wake)\s*,/,
  /setTimeout\(\s*\(\)\s*=>\s*(?:r|res|resolve|done|next|wake)\s*\(\s*\)\s*,/,
  /from\s+['"](?:node:)?timers\/promises['"]/,
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return /\.(?:ts|tsx|mts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

function fixedWaits(source: string): number[] {
  return source
    .split('\n')
    .flatMap((line, index) => (FIXED_WAIT_PATTERNS.some((p) => p.test(line)) ? [index + 1] : []));
}

describe('tests synchronise on events, not on fixed sleeps', () => {
  it('recognises the shapes of a fixed wait', () => {
    const samples = [
      'await sleep(150);',
      'await new Promise((r) => setTimeout(r, 25));',
      'await new Promise((resolve) => setTimeout(resolve, 100));',
      'await new Promise<void>((resolve) => setTimeout(() => resolve(), 50));',
      "import { setTimeout as delay } from 'node:timers/promises';",
    ];
    expect(samples.map((s) => fixedWaits(s).length)).toEqual([1, 1, 1, 1, 1]);
    // Deadlines that reject are not waits.
    expect(fixedWaits('const timer = setTimeout(() => reject(new Error("late")), 5_000);')).toEqual([]);
  });

  it('finds none outside the helpers allowed above', () => {
    const offenders = testFiles(join(ROOT, 'test'))
      .map((path) => relative(ROOT, path).replaceAll('\\', '/'))
      .filter((path) => !ALLOWED.has(path) && path !== 'test/repository/no-fixed-sleeps.test.ts')
      .flatMap((path) => fixedWaits(readFileSync(join(ROOT, path), 'utf8')).map((line) => `${path}:${line}`));
    expect(offenders).toEqual([]);
  });
});
