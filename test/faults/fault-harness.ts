/**
 * Dependencies a fault test may break (issue 22): a PRIVATE PostgreSQL (initdb + pg_ctl from the
 * machine's PostgreSQL 15, in a temporary directory, on an ephemeral port) and a PRIVATE Mosquitto
 * (the machine's binary, a temporary config, an ephemeral port) — the same binaries .ci/run starts,
 * never the shared services other suites use. They can be restarted, stopped, started again and
 * frozen (SIGSTOP of every PostgreSQL process); `destroy()` always leaves nothing running.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
export const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on the port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** Runs a command as the `postgres` user when this process is root (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[]): Promise<{ stdout: string }> {
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', command, ...args]);
  return run(command, args);
}

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust). */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m fast`: every session ends with 57P01, like a maintenance restart. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`: the database is down until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Thaws, stops immediately and removes the directory; safe to call twice. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'scope-faults-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgres(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const ctl = (...args: string[]) =>
    asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', ...args]);
  let frozen: number[] = [];
  let destroyed = false;

  const pids = async (): Promise<number[]> => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)]).catch(() => ({
      stdout: '',
    }));
    return [
      postmaster,
      ...stdout
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => n > 0),
    ];
  };
  const thaw = async () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    frozen = [];
  };

  await ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: async () => {
      await ctl('restart', '-m', 'fast');
    },
    stop: async () => {
      await ctl('stop', '-m', 'fast');
    },
    start: async () => {
      await ctl('start');
    },
    freeze: async () => {
      frozen = await pids();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await thaw();
      await ctl('stop', '-m', 'immediate').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateMosquitto {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for the exit: every client is disconnected, retained messages are gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateMosquitto(): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'scope-faults-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // As docker-compose.yml: Mosquitto's default limits would drop QoS 1 bursts to a slow subscriber.
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 100000\npersistence false\n`,
  );
  let child: ChildProcess | undefined;
  let destroyed = false;
  const start = async (): Promise<void> => {
    const next = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    child = next;
    await waitFor(
      async () => {
        if (next.exitCode !== null) throw new Error(`mosquitto exited with ${next.exitCode}`);
        return listening(port);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `mosquitto to listen on ${port}` },
    );
  };
  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
