/**
 * A Mosquitto 2 of the test's own, with the dynamic-security plugin, no anonymous access, on a free
 * port of 127.0.0.1: never the shared broker on 1883. Its dynamic-security.json is created by
 * `mosquitto_ctrl dynsec init` with an admin account that may only administer the plugin.
 * Free of vitest: `npm run bench -- provisioning` starts its Mosquitto with it too.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { waitFor } from './wait.js';

const DYNSEC_PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
];

export interface DynsecMosquitto {
  url: string;
  port: number;
  admin: { username: string; password: string };
  /** Everything Mosquitto logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Why the Mosquitto cases cannot run here, or null. */
export function mosquittoSkipReason(): string | null {
  if (!pluginPath()) return 'the Mosquitto dynamic-security plugin is not installed';
  return null;
}

function pluginPath(): string | undefined {
  return DYNSEC_PLUGIN_PATHS.find((path) => existsSync(path));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startDynsecMosquitto(): Promise<DynsecMosquitto> {
  const plugin = pluginPath();
  if (!plugin) throw new Error('mosquitto_dynamic_security.so not found');
  const dir = await mkdtemp(join(tmpdir(), 'scope-mosquitto-'));
  const admin = { username: 'test-admin', password: `admin-${Math.random().toString(36).slice(2)}` };
  const dynsecFile = join(dir, 'dynamic-security.json');
  await promisify(execFile)('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, admin.username, admin.password]);
  // Started as root, Mosquitto drops to its own user, which must read and rewrite the plugin's file.
  if (process.getuid?.() === 0) {
    await promisify(execFile)('chown', ['-R', 'mosquitto:', dir]).catch(() => {});
  }
  // A port taken between freePort() and Mosquitto's bind is retried with another.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    await writeFile(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `plugin ${plugin}`,
        `plugin_opt_config_file ${dynsecFile}`,
        'persistence false',
        'log_dest stdout',
        'log_type error',
        'log_type warning',
        'log_type notice',
        '',
      ].join('\n'),
    );
    let output = '';
    const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `mqtt://127.0.0.1:${port}`;
    // Ready when the admin can log in (the plugin has loaded its file).
    const ready = waitFor(
      async () => {
        const client = await mqtt
          .connectAsync(url, { ...admin, reconnectPeriod: 0, connectTimeout: 1_000 })
          .catch(() => null);
        if (!client) return false;
        await client.endAsync(true);
        return true;
      },
      { timeoutMs: 5_000, intervalMs: 25, what: 'Mosquitto to accept the admin' },
    ).catch(() => false);
    const outcome = await Promise.race([ready, exited.then(() => 'exited' as const)]);
    if (outcome === true) {
      return {
        url,
        port,
        admin,
        log: () => output,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start on ${url}: ${output}`);
    }
  }
}
