/**
 * Issue 21 in the running service: the demo seed and the devices/rules it starts on are in the
 * log with their actors, and so is an import over HTTP; a refused override (21 °C) is logged; the self-verification starts at
 * once (gauge 0), and a break made behind the service's back shows in `GET /api/audit/verify`,
 * `scope_energie_audit_chain_broken` and `/readyz`.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ROUTES } from '../../src/audit/audit-routes.js';
import { configSchema } from '../../src/config/schema.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { expectDocumented } from '../helpers/documented.js';
import { type Collector, collectMessages, waitFor } from '../helpers/mqtt-contract.js';
import { tamper } from '../store/audit-tamper.js';

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
const GATEWAY = { username: 'gw-tilleuls', password: 'demo-gateway-password' };

describe('the audit log in the running service', () => {
  let service: RunningService;
  let tokens: Record<string, string>;
  let gateway: Collector | undefined;

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-audit-service-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      demo: { gateway: false },
      log: { level: 'silent' },
    });
    service = await startService({ config, logger: createLogger('silent'), baseDir: dataDir, clock: CLOCK });
    const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
    tokens = Object.fromEntries(
      [...credentials.matchAll(/^(demo-[a-z]+|admin)\s.*?(se_\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
  });

  afterAll(async () => {
    await gateway?.close();
    await service?.stop();
  });

  const api = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    });
  const gauge = async () => {
    const text = await (await api('/metrics', tokens['demo-auditor']!)).text();
    return /^scope_energie_audit_chain_broken (\d)$/m.exec(text)?.[1];
  };

  it('logs the demo seed and the files it starts on, with their actors', async () => {
    const [seed] = await service.store.audit.list({ kind: 'import' });
    expect(seed).toMatchObject({
      seq: 1,
      actor: 'demo-seed',
      uai: DEMO_UAI,
      detail: { version: 1, format: 'json', via: 'seed' },
    });
    await expect.poll(async () => (await service.store.audit.list({ kind: 'config' })).length).toBe(1);
    const [loaded] = await service.store.audit.list({ kind: 'config' });
    expect(loaded?.actor).toMatch(/^(git:|os:|unknown$)/);
    expect(loaded?.detail).toMatchObject({
      applied: true,
      rules_version: expect.stringMatching(/^2026\.1\+[0-9a-f]{12}$/),
      files: expect.arrayContaining([
        {
          path: expect.stringMatching(/rules\/default\.yaml$/),
          change: 'added',
          sha256_after: expect.any(String),
        },
      ]),
    });
  });

  it('traces a desired a gateway receives to its plan, timetable version and rules version by content alone', async () => {
    const topic = `sobriete/v1/${DEMO_UAI}/batiment-b-est/heating/desired`;
    gateway = await collectMessages(service.mqttUrl, GATEWAY, topic);
    await waitFor(() => gateway!.messages.some((m) => m.topic === topic));
    const desired = gateway.messages.find((m) => m.topic === topic)!.payload as {
      rev: number;
      trace: { plan_hash: string; timetable_version: number | null; rules_version: string };
    };
    expect(desired.trace).toEqual({
      plan_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      timetable_version: 1,
      rules_version: expect.stringMatching(/^2026\.1\+[0-9a-f]{12}$/),
    });
    const { plan_hash, timetable_version, rules_version } = desired.trace;
    const detail = (e: { detail: unknown }) => e.detail as Record<string, unknown>;
    // Nothing positional: each link is found by the values the message carries.
    // Entries are appended in batches: the plan's may land just after the message.
    const planEntry = await waitFor(async () =>
      (await service.store.audit.list({ kind: 'plan' })).find(
        (e) => e.uai === DEMO_UAI && detail(e)['hash'] === plan_hash,
      ),
    );
    expect(planEntry.detail).toMatchObject({ hash: plan_hash, timetable_version, rules_version });
    const imports = await service.store.audit.list({ kind: 'import' });
    expect(
      imports.filter((e) => e.uai === DEMO_UAI && detail(e)['version'] === timetable_version),
    ).toHaveLength(1);
    const configs = await service.store.audit.list({ kind: 'config' });
    expect(configs.some((e) => detail(e)['rules_version'] === rules_version)).toBe(true);
    await expect
      .poll(async () =>
        (await service.store.audit.list({ kind: 'publish' }))
          .filter((e) => e.zone === 'batiment-b-est' && detail(e)['function'] === 'heating')
          .map((e) => [detail(e)['rev'], detail(e)['trace']]),
      )
      .toContainEqual([desired.rev, desired.trace]);
    const plan = await api(`/api/etablissements/${DEMO_UAI}/plan`, tokens['demo-auditor']!);
    expect(plan.status).toBe(200);
    expect(await plan.json()).toMatchObject({ timetable_version, rules_version });
  });

  it('logs a refused override with its reason', async () => {
    const res = await api('/api/overrides', tokens['demo-manager']!, {
      method: 'POST',
      body: JSON.stringify({
        uai: DEMO_UAI,
        zone: 'gymnase',
        function: 'heating',
        mode: 'comfort',
        setpoint_c: 21,
        duration: 'PT2H',
        reason: 'Tournoi',
      }),
    });
    expect(res.status).toBe(422);
    await expect
      .poll(async () =>
        (await service.store.audit.list({ kind: 'override' })).map((e) => [e.actor, e.detail]),
      )
      .toContainEqual([
        'demo-manager',
        expect.objectContaining({ event: 'refused', code: 'setpoint-above-legal-cap' }),
      ]);
  });

  it('logs an ENTRÉE import over HTTP with the client that sent it, via http', async () => {
    // The seed's timetable less one lesson: a new version.
    const seed = buildDemoTimetable(CLOCK.now());
    const changed = { ...seed, lessons: seed.lessons.slice(1) };
    const res = await api(
      `/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`,
      tokens['demo-editor']!,
      {
        method: 'PUT',
        body: JSON.stringify(changed),
      },
    );
    expect(res.status).toBe(201);
    const stored = await service.store.timetables.listVersions(DEMO_UAI);
    const latest = stored.reduce((a, b) => (b.version > a.version ? b : a));
    // The audit log appends in batches (src/bridge/audit-batcher.ts): wait for the entry to land.
    const imports = await waitFor(async () => {
      const entries = await service.store.audit.list({ kind: 'import' });
      return entries.length >= 2 ? entries : undefined;
    });
    expect(imports.map((e) => [e.actor, (e.detail as { via: string }).via])).toEqual([
      ['demo-seed', 'seed'],
      ['demo-editor', 'http'],
    ]);
    expect(imports[1]).toMatchObject({
      uai: DEMO_UAI,
      detail: { version: latest.version, sha256: latest.sha256, format: 'json', via: 'http' },
    });
  });

  it('verifies itself: gauge 0, then a break behind its back shows in verify, the gauge and /readyz', async () => {
    await expect.poll(gauge).toBe('0');
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    await tamper(service.store, sql`update audit_log set actor = 'someone-else' where seq = 1`);
    const verified = await api('/api/audit/verify', tokens['demo-auditor']!);
    expect(verified.status).toBe(200);
    await expectDocumented(AUDIT_ROUTES.verify, verified);
    expect(await verified.json()).toMatchObject({
      ok: false,
      checked: 0,
      firstBad: { seq: 1, reason: 'hash-mismatch' },
    });
    expect(await gauge()).toBe('1');
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('audit chain broken at seq 1 (hash-mismatch)');
  });
});
