/**
 * Start-up without a stand-in (issue 14): the HTTP server listens only once the app exists, so a
 * request during start-up is refused at the socket (ECONNREFUSED) and the first answer is the real
 * app's — never a 503 from a placeholder. The bridge reads SORTIE in process: no client of its own
 * exists to mint a token for. A port already in use stops the start before anything runs.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { waitFor } from '../helpers/wait.js';

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

async function configOn(port: number): Promise<{ config: Config; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-start-up-'));
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port },
    storage: { data_dir: dataDir },
    mqtt: { embedded: { port: 0 } },
    paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
    clients_file: join(dataDir, 'no-clients.yaml'),
    log: { level: 'silent' },
  });
  return { config, dataDir };
}

/** A debug logger whose composition lines (`part started`, `part stopped`, `part failed to start`) are kept. */
function lifecycleLog(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as { composition?: string; part?: string; msg?: string };
        if (line.composition && line.msg?.startsWith('part '))
          lines.push(`${line.composition} ${line.msg.slice('part '.length)}: ${line.part}`);
      }
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

const SERVICE_PARTS = [
  'store',
  'demo-seed',
  'event-loop-monitor',
  'view-workers',
  'import-workers',
  'reload-listeners',
  'clients',
  'site',
  'audit-anchoring',
  'audit-log',
  'retention',
  'broker-access',
  'telemetry-ingest',
  'bridge',
  'telemetry-aggregation',
  'meters',
  'savings-freezer',
  'calendar-alerts',
  'dashboard-warm-up',
  'http',
  'demo-gateway',
];
const BRIDGE_PARTS = [
  'broker',
  'mqtt-session',
  'audit-trail',
  'publisher',
  'ha-commands',
  'tracker',
  'broker-watch',
  'cluster-signals',
  'overrides',
  'held-occupancy',
  'leases',
  'site-reloads',
  'planning',
  'dispatcher',
  'booking-feeds',
  'status-watch',
  'connect',
  'sync',
  'handover',
];

describe('scope-energie serve start-up', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    for (const service of running) await service.stop();
  });

  it('refuses connections until the app exists, then answers with it; never a placeholder 503', async () => {
    const port = await freePort();
    const { config, dataDir } = await configOn(port);
    let started = false;
    const starting = startService({
      config,
      logger: createLogger('silent'),
      baseDir: dataDir,
      clock: CLOCK,
    }).then((service) => {
      started = true;
      running.push(service);
      return service;
    });
    // Ask again and again while the service starts: each attempt ends in a refused connection or
    // an answer of the app (the loop is paced by the attempts themselves, not by a timer).
    const outcomes: string[] = [];
    while (!started) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        outcomes.push(String(res.status));
        await res.body?.cancel();
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
        outcomes.push(code);
      }
    }
    const service = await starting;
    expect(new Set(outcomes.filter((o) => o !== 'ECONNREFUSED' && o !== '200'))).toEqual(new Set());
    expect(outcomes).toContain('ECONNREFUSED');
    expect(service.url).toBe(`http://127.0.0.1:${port}`);

    // Once started: the real app, its SORTIE and the bridge's plan, which came through SORTIE in process.
    const healthz = await fetch(`${service.url}/healthz`);
    expect([healthz.status, await healthz.json()]).toEqual([200, { status: 'ok' }]);
    await waitFor(() => service.bridge.sync.statusOf(DEMO_UAI).state === 'ok', {
      timeoutMs: 10_000,
      what: 'the demo lycée pulled from the in-process SORTIE',
    });
    expect(service.bridge.sync.statusOf(DEMO_UAI)).toMatchObject({ version: 1, last_error: null });

    // The embedded bridge has no client: nothing can obtain a token in its name.
    const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
    expect(credentials).not.toMatch(/bridge-interne/);
    const token = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from('bridge-interne:x').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(401);
    await token.body?.cancel();
  });

  it('stops before starting anything when its HTTP port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const { port } = taken.address() as { port: number };
    try {
      const { config, dataDir } = await configOn(port);
      await expect(
        startService({ config, logger: createLogger('silent'), baseDir: dataDir, clock: CLOCK }),
      ).rejects.toThrow(`HTTP port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise<void>((done) => taken.close(() => done()));
    }
  });

  it('starts its parts in the declared order and stops them in exactly the reverse order', async () => {
    const { config, dataDir } = await configOn(0);
    const { logger, lines } = lifecycleLog();
    const service = await startService({ config, logger, baseDir: dataDir, clock: CLOCK });
    await service.stop();
    const bridgeStarted = BRIDGE_PARTS.map((p) => `bridge started: ${p}`);
    const bridgeStopped = [...BRIDGE_PARTS].reverse().map((p) => `bridge stopped: ${p}`);
    const before = SERVICE_PARTS.slice(0, SERVICE_PARTS.indexOf('bridge'));
    expect(lines).toEqual([
      ...before.map((p) => `service started: ${p}`),
      // The bridge is one part of the service, with its own composition inside.
      ...bridgeStarted,
      ...SERVICE_PARTS.slice(SERVICE_PARTS.indexOf('bridge')).map((p) => `service started: ${p}`),
      ...[...SERVICE_PARTS]
        .reverse()
        .flatMap((p) =>
          p === 'bridge' ? [...bridgeStopped, 'service stopped: bridge'] : [`service stopped: ${p}`],
        ),
    ]);
  });

  it("rolls a failed start back: the failing part's own error, every part started before it stopped in reverse, the port never opened", async () => {
    const port = await freePort();
    const { config: base, dataDir } = await configOn(port);
    // EMQX reads its logins from PostgreSQL views: on SQLite the broker-access part refuses to start.
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port },
      storage: { data_dir: dataDir },
      mqtt: { url: 'mqtt://127.0.0.1:1', provisioning: { broker: 'emqx' } },
      paths: base.paths,
      clients_file: base.clients_file,
      log: { level: 'silent' },
    });
    const { logger, lines } = lifecycleLog();
    await expect(startService({ config, logger, baseDir: dataDir, clock: CLOCK })).rejects.toMatchObject({
      name: 'InputError',
      problems: [expect.objectContaining({ code: 'provisioning-needs-postgres' })],
    });
    const started = SERVICE_PARTS.slice(0, SERVICE_PARTS.indexOf('broker-access'));
    expect(lines).toEqual([
      ...started.map((p) => `service started: ${p}`),
      'service failed to start: broker-access',
      'service stopped: broker-access',
      ...[...started].reverse().map((p) => `service stopped: ${p}`),
    ]);
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (res) => String(res.status),
      (error: { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).toBe('ECONNREFUSED');
  });
});
