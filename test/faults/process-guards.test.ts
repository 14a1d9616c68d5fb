/**
 * Issue 22's invariant: no uncaughtException or unhandledRejection path ends `serve`; each is
 * logged as a bug and the process goes on. The only deliberate exit says why at level fatal.
 * Real child processes (the guards act on the whole process).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./guarded-child.ts', import.meta.url));

async function runChild(
  ...args: string[]
): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, lines };
}

describe('process guards of serve', () => {
  it('logs an unhandled rejection and an uncaught exception as bugs and keeps running', async () => {
    const { code, lines } = await runChild();
    expect(code).toBe(0);
    expect(lines.map((l) => [l['level'], l['guard'] ?? null, l['msg']])).toEqual([
      [50, 'unhandledRejection', 'unhandled promise rejection (a bug): logged, the service keeps running'],
      [50, 'uncaughtException', 'uncaught exception (a bug): logged, the service keeps running'],
      [30, null, 'still running after both faults'],
    ]);
    expect(lines[0]?.['err']).toMatchObject({ message: 'a rejection nobody awaits' });
    expect(lines[1]?.['err']).toMatchObject({ message: 'thrown from a timer' });
  });

  it('exits only through the deliberate fatal, with a line saying why', async () => {
    const { code, lines } = await runChild('fatal');
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 60, msg: 'deliberate fatal for the test', reason: 'test' });
  });
});
