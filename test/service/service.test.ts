/**
 * The whole service as `npm start` runs it (hub + bridge + embedded broker, demo lycée), on
 * ephemeral ports: a gateway logging in with the demo credentials of devices/0670999X.yaml gets
 * every zone's retained desired state; a new ENTRÉE import reaches MQTT within 1 s; an override
 * changes the desired state and its cancellation resumes the plan.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ROUTES } from '../../src/bridge/gateway-routes.js';
import { configSchema } from '../../src/config/schema.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { expectDocumented } from '../helpers/documented.js';
import { type Collector, collectMessages, waitFor } from '../helpers/mqtt-contract.js';

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
const GATEWAY = { username: 'gw-tilleuls', password: 'demo-gateway-password' };

interface Desired {
  rev: number;
  mode: string;
  setpoint_c?: number;
  reason: { kind: string; rule: string; code?: string; override_id?: string };
  issued_at: string;
}

describe('scope-energie serve (embedded defaults, demo lycée)', () => {
  let service: RunningService;
  let tokens: Record<string, string>;
  let gateway: Collector;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-service-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    // A school day (Tuesday 1 December 2026, 10:00 in Strasbourg), whatever day the suite runs.
    service = await startService({ config, logger: createLogger('silent'), baseDir: dataDir, clock: CLOCK });
    const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
    tokens = Object.fromEntries(
      [...credentials.matchAll(/^(demo-[a-z]+|admin)\s.*?(se_\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    gateway = await collectMessages(service.mqttUrl, GATEWAY, `sobriete/v1/${DEMO_UAI}/+/+/desired`);
  });

  afterAll(async () => {
    await gateway?.close();
    await service?.stop();
  });

  const api = (path: string, init: RequestInit & { token: string }) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${init.token}`, 'Content-Type': 'application/json', ...init.headers },
    });
  const latest = (zone: string, fn: string): Desired | undefined =>
    gateway.messages.filter((m) => m.topic === `sobriete/v1/${DEMO_UAI}/${zone}/${fn}/desired`).at(-1)
      ?.payload as Desired | undefined;

  it('gives the demo gateway the retained desired state of every zone and function of devices/', async () => {
    const file = REPO('devices/0670999X.yaml');
    const devices = loadDevicesFile(await readFile(file, 'utf8'), file);
    const zones = devices.value.zones.flatMap((zone) =>
      zone.functions.map((fn) => `sobriete/v1/${DEMO_UAI}/${zone.id}/${fn}/desired`),
    );
    expect(zones.length).toBeGreaterThan(10);
    await waitFor(() => zones.every((t) => gateway.messages.some((m) => m.topic === t)), {
      timeoutMs: 10_000,
    });
    for (const topic of zones) {
      const message = gateway.messages.find((m) => m.topic === topic)!;
      expect(message.retain, topic).toBe(true);
      expect(message.qos, topic).toBe(1);
    }
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });

  it("runs the demo lycée's simulated gateway, whose acknowledgements reach /api/gateways", async () => {
    const gateways = await waitFor(
      async () => {
        const res = await api('/api/gateways', { token: tokens['demo-manager']! });
        await expectDocumented(GATEWAY_ROUTES.gateways, res);
        const body = (await res.json()) as {
          gateways: {
            gateway: string;
            state: string;
            zones: {
              zone: string;
              function: string;
              latest_rev: number;
              applied_rev: number | null;
              measured_c: number | null;
              lagging: boolean;
            }[];
          }[];
        };
        const gw = body.gateways.find((g) => g.gateway === 'gw-tilleuls');
        return gw && gw.state === 'online' && gw.zones.every((z) => z.applied_rev === z.latest_rev)
          ? gw
          : undefined;
      },
      { timeoutMs: 10_000, what: 'every zone acknowledged by the demo gateway' },
    );
    expect(gateways.zones.length).toBeGreaterThan(10);
    expect(gateways.zones.every((z) => !z.lagging)).toBe(true);
    const heating = gateways.zones.filter((z) => z.function === 'heating');
    expect(heating.every((z) => typeof z.measured_c === 'number')).toBe(true);
  });

  it('publishes a changed desired state within 1 s of an ENTRÉE import', async () => {
    // Wait for the first sync to settle (the first plan may be the fallback week).
    await waitFor(async () => (await api('/readyz', { token: tokens['admin']! })).status === 200, {
      timeoutMs: 10_000,
    });
    const before = latest('gymnase', 'heating');
    expect(before).toBeDefined();
    // The same week with the gym busy all day, every day: the gym's current state must change.
    const timetable = buildDemoTimetable(CLOCK.now());
    const weeks = timetable.lessons[0]!.weeks!;
    timetable.lessons.push({
      id: 'gym-all-day',
      rooms: ['GYMNASE'],
      day: 2,
      start: '00:00',
      end: '23:59',
      weeks,
    });
    const started = Date.now();
    const res = await api(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      token: tokens['demo-editor']!,
      body: JSON.stringify(timetable),
    });
    expect(res.status).toBe(201);
    await waitFor(() => (latest('gymnase', 'heating')?.rev ?? 0) > before!.rev, { timeoutMs: 5_000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1_000);
    expect(latest('gymnase', 'heating')).toMatchObject({ mode: 'comfort', reason: { kind: 'occupied' } });
  });

  it('applies an override at once and resumes the plan when it is cancelled', async () => {
    const res = await api('/api/overrides', {
      method: 'POST',
      token: tokens['demo-manager']!,
      body: JSON.stringify({
        uai: DEMO_UAI,
        zone: 'cdi',
        function: 'heating',
        mode: 'frost',
        setpoint_c: 8,
        duration: 'PT2H',
        reason: 'Radiateur en panne',
      }),
    });
    expect(res.status).toBe(201);
    const override = (await res.json()) as { id: string };
    await waitFor(() => latest('cdi', 'heating')?.reason.override_id === override.id, { timeoutMs: 3_000 });
    expect(latest('cdi', 'heating')).toMatchObject({ mode: 'frost', setpoint_c: 8 });
    // Gateways get a reason code and the override's id: neither the text nor its author (issue 21).
    expect(latest('cdi', 'heating')?.reason).toEqual({
      rule: `override:${override.id}`,
      kind: 'override',
      code: 'manual-override',
      override_id: override.id,
    });
    const sent = JSON.stringify(gateway.messages.filter((m) => m.topic.endsWith('/cdi/heating/desired')));
    expect(sent).not.toContain('Radiateur en panne');
    expect(sent).not.toContain('demo-manager');
    // The text and author stay in the API and the audit log.
    const view = await api(`/api/overrides/${override.id}`, { token: tokens['demo-manager']! });
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ reason: 'Radiateur en panne', author: 'demo-manager' });
    await waitFor(async () =>
      (await service.store.audit.list({ kind: 'override' })).some(
        (e) =>
          e.actor === 'demo-manager' &&
          JSON.stringify(e.detail).includes('Radiateur en panne') &&
          JSON.stringify(e.detail).includes(override.id),
      ),
    );
    const overriddenRev = latest('cdi', 'heating')!.rev;

    const cancelled = await api(`/api/overrides/${override.id}`, {
      method: 'DELETE',
      token: tokens['demo-manager']!,
    });
    expect(cancelled.status).toBe(200);
    await waitFor(() => (latest('cdi', 'heating')?.rev ?? 0) > overriddenRev, { timeoutMs: 3_000 });
    expect(latest('cdi', 'heating')?.reason.kind).not.toBe('override');
  });

  it('gives a comfort override without a setpoint the zone rule’s comfort setpoint, stored and published', async () => {
    // The gymnasium's comfort is 14 °C (rules/default.yaml, categories.gym), not the 19 °C default.
    const res = await api('/api/overrides', {
      method: 'POST',
      token: tokens['demo-manager']!,
      body: JSON.stringify({
        uai: DEMO_UAI,
        zone: 'gymnase',
        function: 'heating',
        mode: 'comfort',
        duration: 'PT1H',
        reason: 'Tournoi',
      }),
    });
    expect(res.status).toBe(201);
    const override = (await res.json()) as { id: string; setpoint_c?: number };
    expect(override.setpoint_c).toBe(14);
    const stored = await service.store.overrides.get(override.id);
    expect(stored?.setpoint_c).toBe(14);
    await waitFor(() => latest('gymnase', 'heating')?.reason.override_id === override.id, {
      timeoutMs: 3_000,
    });
    expect(latest('gymnase', 'heating')).toMatchObject({
      mode: 'comfort',
      setpoint_c: 14,
      reason: { kind: 'override', override_id: override.id },
    });
    const cancelled = await api(`/api/overrides/${override.id}`, {
      method: 'DELETE',
      token: tokens['demo-manager']!,
    });
    expect(cancelled.status).toBe(200);
  });

  it('keeps the files it creates in its data directory private (0600)', async () => {
    const files = [
      'scope-energie.sqlite',
      'scope-energie.sqlite-wal',
      'scope-energie.sqlite-shm',
      'jwt-signing.key',
      'clients.generated.yaml',
      'initial-credentials.txt',
    ];
    const modes = await Promise.all(files.map(async (f) => (await stat(join(dataDir, f))).mode & 0o777));
    expect(Object.fromEntries(files.map((f, i) => [f, modes[i]?.toString(8)]))).toEqual(
      Object.fromEntries(files.map((f) => [f, '600'])),
    );
  });

  it('refuses a 200 MB body to /api/overrides over the socket after about 64 kB, memory flat', async () => {
    const before = process.memoryUsage().rss;
    const url = new URL(`${service.url}/api/overrides`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const total = 200 * 1024 * 1024;
    const outcome = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            Authorization: `Bearer ${tokens['demo-manager']}`,
            'Content-Type': 'application/json',
            'Transfer-Encoding': 'chunked',
          },
        },
        (response) => {
          answered = true;
          let body = '';
          response.on('data', (data: Buffer) => {
            body += data.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body, sent }));
        },
      );
      // Once the server has answered and closed, the rest of the upload fails: expected.
      request.on('error', (error) => (answered ? undefined : reject(error)));
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
        if (!answered) request.end();
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toEqual({
      errors: [
        {
          code: 'body-too-large',
          message: 'the request body is larger than the limit of 65536 bytes for this route',
          where: 'body',
        },
      ],
    });
    // What left the client before the answer: socket buffers, far from 200 MB.
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('sends the security headers over the socket', async () => {
    const res = await fetch(`${service.url}/connexion`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Referrer-Policy')).toBe('same-origin');
  });

  it('serves Prometheus metrics to an auditor: requests, sync age, publishes, gateways', async () => {
    expect((await fetch(`${service.url}/metrics`)).status).toBe(401);
    expect((await api('/metrics', { token: tokens['demo-editor']! })).status).toBe(403);
    const res = await api('/metrics', { token: tokens['demo-auditor']! });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(
      /^scope_energie_http_requests_total\{method="PUT",route="\/scope\/entree\/v1\/etablissements\/:uai\/emploi-du-temps",status="201"\} [1-9]/m,
    );
    expect(text).toMatch(new RegExp(`^scope_energie_sync_age_seconds\\{uai="${DEMO_UAI}"\\} \\d+$`, 'm'));
    expect(text).toMatch(new RegExp(`^scope_energie_sync_stale\\{uai="${DEMO_UAI}"\\} 0$`, 'm'));
    expect(text).toMatch(/^scope_energie_mqtt_publishes\{outcome="sent"\} [1-9]\d*$/m);
    expect(text).toMatch(/^scope_energie_mqtt_publishes\{outcome="fenced"\} 0$/m);
    // Alone on its store, the instance holds the one school of the site.
    expect(text).toMatch(/^scope_energie_leases_held\{instance="[^"]+"\} 1$/m);
    expect(text).toMatch(/^scope_energie_cluster_live_instances 1$/m);
    expect(text).toMatch(/^scope_energie_lease_renewals_failed 0$/m);
    expect(text).toMatch(
      new RegExp(`^scope_energie_gateway_online\\{uai="${DEMO_UAI}",gateway="gw-tilleuls"\\} 1$`, 'm'),
    );
    expect(text).toMatch(
      new RegExp(`^scope_energie_gateway_lagging_zones\\{uai="${DEMO_UAI}",gateway="gw-tilleuls"\\} 0$`, 'm'),
    );
  });

  it('estimates the demo lycée’s savings for a week, labelled as an estimate', async () => {
    const res = await api(`/api/savings?uai=${DEMO_UAI}&from=2026-11-30&to=2026-12-06`, {
      token: tokens['demo-auditor']!,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      estimate: boolean;
      uai: string;
      totals: { saving_kwh: number };
      method: string;
    };
    expect(body).toMatchObject({ estimate: true, uai: DEMO_UAI });
    expect(body.totals.saving_kwh).toBeGreaterThan(0);
    expect(body.method.length).toBeGreaterThan(20);
  });

  it('records imports, plan changes, publishes and overrides in a verifiable audit chain', async () => {
    const entries = await waitFor(
      async () => {
        const res = await api(`/api/audit?uai=${DEMO_UAI}`, { token: tokens['demo-auditor']! });
        const body = (await res.json()) as {
          entries: { kind: string; actor: string; detail: Record<string, unknown> }[];
        };
        const kinds = new Set(body.entries.map((e) => e.kind));
        return ['import', 'plan', 'publish', 'override', 'ack'].every((k) => kinds.has(k))
          ? body.entries
          : undefined;
      },
      { timeoutMs: 5_000, what: 'import, plan, publish and override entries' },
    );
    // The demo seed's first import is attributed too (issue 21).
    expect(entries.filter((e) => e.kind === 'import').map((e) => e.actor)).toEqual([
      'demo-seed',
      'demo-editor',
    ]);
    expect(entries.find((e) => e.kind === 'plan')?.detail).toMatchObject({
      rules_version: expect.any(String),
      hash: expect.any(String),
    });
    expect(entries.find((e) => e.kind === 'override')?.actor).toBe('demo-manager');
    // Plans and publishes name the bridge instance that made them (several may share the store).
    expect(entries.find((e) => e.kind === 'plan')?.actor).toMatch(/^bridge\/[A-Za-z0-9][\w.-]*$/);
    expect(entries.find((e) => e.kind === 'publish')?.actor).toBe(
      entries.find((e) => e.kind === 'plan')?.actor,
    );
    expect(entries.find((e) => e.kind === 'ack')).toMatchObject({
      actor: 'gw-tilleuls',
      detail: { source: 'bridge' },
    });
    expect(await service.store.audit.verify()).toMatchObject({ ok: true });
    const csv = await api(`/api/audit?uai=${DEMO_UAI}&format=csv`, { token: tokens['demo-auditor']! });
    expect(new Uint8Array(await csv.arrayBuffer()).slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
  });
});
