/** Runs the CLI in-process with captured output, in a temporary working directory. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REPO_CONFIG = join(REPO_ROOT, 'config');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function tempWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'scope-energie-cli-'));
}

export async function cli(
  argv: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, {
    stdout,
    stderr,
    cwd: options.cwd,
    // Only what the test gives: no DATABASE_URL or MQTT_URL leaking in from CI.
    env: { SCOPE_ENERGIE_CONFIG: REPO_CONFIG, SCOPE_ENERGIE_DATA: join(options.cwd, 'data'), ...options.env },
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
