/**
 * `scope-energie … | head -1`: the CLI, spawned as `bin/scope-energie.js` runs it, writes into a
 * pipe whose reader has already gone. It must end with exit 0 and nothing on stderr (issue 13),
 * not die of an unhandled EPIPE with a stack trace.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

const BIN = join(REPO_ROOT, 'bin', 'scope-energie.js');

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tempWorkDir(),
      env: { ...process.env, SCOPE_ENERGIE_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader closes before the CLI writes its first byte: that write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('output into a closed pipe', () => {
  it('ends quietly with exit 0', async () => {
    const result = await runWithClosedStdout(['--help']);
    expect(result).toEqual({ code: 0, stderr: '' });
  }, 30_000);

  it('ends quietly with exit 0 when a command prints JSON', async () => {
    const result = await runWithClosedStdout(['hash-secret', '--token', '--json']);
    expect(result).toEqual({ code: 0, stderr: '' });
  }, 30_000);
});
