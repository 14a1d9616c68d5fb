/**
 * The cross-process lock that keeps the heavy suites (heavy-suites.ts) from overlapping. Per
 * checkout (keyed by its path), so runs in other worktrees are not coupled.
 */
import { createHash } from 'node:crypto';
import { closeSync, type FSWatcher, openSync, readFileSync, unlinkSync, watch, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { ROOT } from './heavy-suites.js';

const LOCK = join(
  tmpdir(),
  `scope-energie-heavy-suite-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
);

/** Re-check for a holder that died without removing the lock (a killed worker). */
const STALE_CHECK_MS = 1_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(owner: string): boolean {
  let fd: number;
  try {
    fd = openSync(LOCK, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(LOCK, 'utf8').split(' ')[0]);
    } catch {
      return false; // removed meanwhile: the next event or check retries
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      try {
        unlinkSync(LOCK);
      } catch {}
    }
    return false;
  }
  writeSync(fd, `${process.pid} ${owner}`);
  closeSync(fd);
  return true;
}

/** Resolves once this process holds the lock: on the holder's release, not on a fixed sleep. */
async function take(owner: string): Promise<number> {
  const started = performance.now();
  if (tryTake(owner)) return 0;
  await new Promise<void>((done, fail) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const retry = (): void => {
      try {
        if (!tryTake(owner)) return;
      } catch (error) {
        fail(error);
      }
      watcher?.close();
      clearInterval(timer);
      done();
    };
    watcher = watch(dirname(LOCK), (_event, name) => {
      if (name === basename(LOCK)) retry();
    });
    timer = setInterval(retry, STALE_CHECK_MS);
    retry();
  });
  return performance.now() - started;
}

function release(): void {
  try {
    if (Number(readFileSync(LOCK, 'utf8').split(' ')[0]) === process.pid) unlinkSync(LOCK);
  } catch {}
}

/**
 * Registers, for the calling test file (pass `import.meta.url`), hooks that hold the heavy-suite lock from before its
 * first hook to after its last one. Call it at the top level of the file, before any describe.
 */
export function runAlone(fileUrl: string): void {
  const owner = relative(ROOT, fileURLToPath(fileUrl));
  beforeAll(async () => {
    process.once('exit', release);
    const waited = await take(owner);
    if (waited > 0) console.info(`${owner}: waited ${Math.round(waited)} ms for the other heavy suite`);
  }, 15 * 60_000);
  afterAll(() => {
    release();
    process.off('exit', release);
  });
}
