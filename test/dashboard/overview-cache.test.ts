/**
 * The overview's caches of issue 18 (src/dashboard/service-deps.ts, comfort-alerts.ts,
 * warm-up.ts): the current versions read in one query per event-loop turn and nothing kept
 * between turns; the overview's comfort alerts reused for a minute or two and refreshed behind a
 * view (injected clock); and the per-version caches warmed at start, a view served right after
 * the start of the real service and again after the warm-up event; the overview's rows kept
 * while their inputs hold.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { GatewayTracker } from '../../src/bridge/gateway-tracker.js';
import { SortieError } from '../../src/bridge/sortie-source.js';
import { configSchema } from '../../src/config/schema.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { OVERVIEW_COMFORT_REUSE_MS, overviewComfortAlerts } from '../../src/dashboard/comfort-alerts.js';
import { schoolsOverview } from '../../src/dashboard/dashboard-state.js';
import type { DashboardDeps } from '../../src/dashboard/deps.js';
import { batchedCurrentMeta } from '../../src/dashboard/service-deps.js';
import { DashboardWarmUp } from '../../src/dashboard/warm-up.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import type { LoadedDevices } from '../../src/devices/load.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { devicesFileSchema } from '../../src/devices/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { createLogger } from '../../src/log/logger.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { type RunningService, startService } from '../../src/service.js';
import type { Store } from '../../src/store/store.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import { embeddedTarget, UAI as GATEWAY_UAI, temporaryStore } from '../bridge/dispatch-fixtures.js';
import { connectRaw } from '../helpers/mqtt-contract.js';
import { waitFor } from '../helpers/wait.js';
import { storeBackends } from '../store/backends.js';
import { importInput } from '../store/synthetic-timetable.js';
import { regionDashboardDeps, SCHOOLS, uaiOf } from './region-fixture.js';

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const [sqlite] = await storeBackends();
const devices = loadDevicesFile(
  readFileSync(REPO(`devices/${DEMO_UAI}.yaml`), 'utf8'),
  'devices/0670999X.yaml',
);
const OTHER = '0671000A';

describe('batchedCurrentMeta', () => {
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
  });

  it('reads the schools asked within one turn in one query, and reads again at the next turn', async () => {
    store = await (sqlite as NonNullable<typeof sqlite>).open();
    const opened = store;
    const first = timetableSchema.parse(buildDemoTimetable(Date.parse('2026-01-12T07:00:00Z')));
    await opened.timetables.importVersion(importInput(first, { uai: DEMO_UAI, sha256: 'a'.repeat(64) }));
    const queries: string[][] = [];
    const currentMeta = batchedCurrentMeta({
      timetables: {
        currentMetas: (uais) => {
          queries.push([...uais]);
          return opened.timetables.currentMetas(uais);
        },
      },
    });
    const [demo, other, again] = await Promise.all([
      currentMeta(DEMO_UAI),
      currentMeta(OTHER),
      currentMeta(DEMO_UAI),
    ]);
    // One query for the turn, each school once, in the order first asked.
    expect(queries).toEqual([[DEMO_UAI, OTHER]]);
    expect(demo).toMatchObject({ version: 1, sha256: 'a'.repeat(64) });
    expect(other).toBeNull();
    expect(again).toEqual(demo);

    // A new version is seen at the next turn: nothing is kept between turns.
    await opened.timetables.importVersion(
      importInput({ ...first, lessons: first.lessons.slice(1) }, { uai: DEMO_UAI, sha256: 'b'.repeat(64) }),
    );
    expect(await currentMeta(DEMO_UAI)).toMatchObject({ version: 2, sha256: 'b'.repeat(64) });
    expect(queries).toEqual([[DEMO_UAI, OTHER], [DEMO_UAI]]);
  });

  it('rejects every waiter of a turn whose query failed', async () => {
    const currentMeta = batchedCurrentMeta({
      timetables: { currentMetas: async () => Promise.reject(new Error('database gone')) },
    });
    const results = await Promise.allSettled([currentMeta(DEMO_UAI), currentMeta(OTHER)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'resolved'))).toEqual([
      'database gone',
      'database gone',
    ]);
  });
});

afterAll(async () => {
  await sqlite?.cleanup();
});

describe('overviewComfortAlerts', () => {
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
  });

  it('reuses a school’s alerts for a minute, then serves them while one refresh runs behind', async () => {
    // Wednesday 14 January 2026, 10:00 in Strasbourg.
    const clock = new ManualClock(Date.parse('2026-01-14T09:00:00Z'));
    store = await (sqlite as NonNullable<typeof sqlite>).open();
    // One report this morning: something measured yesterday and today, and today and tomorrow
    // (a school with nothing measured has no comfort alert to compute: see below).
    await store.telemetry.writeBatch([
      {
        uai: DEMO_UAI,
        zone: 'batiment-b-est',
        function: 'heating',
        ts: Date.parse('2026-01-14T08:00:00Z'),
        receivedAt: Date.parse('2026-01-14T08:00:00Z'),
        measured_c: 19,
        mode: 'comfort',
        setpoint_c: 19,
        applied_rev: 1,
        source: 'bridge',
        flag: null,
      },
    ]);
    const planned: string[] = [];
    let release: (() => void) | null = null;
    const deps = {
      clock,
      // An empty telemetry store. Each comfort report plans its days; a refused plan gives no
      // comfort alert (the sync alert says it), so each computation is a new empty array.
      telemetry: { repository: store.telemetry, settings: DEFAULT_COMFORT_SETTINGS },
      planFor: async (uai: string, date: string, days: number) => {
        planned.push(`${uai} ${date} ${days} @${new Date(clock.now()).toISOString()}`);
        if (planned.length > 1) await new Promise<void>((resolve) => (release = resolve));
        throw new SortieError('network', 'hub down', { url: 'http://hub', attempts: 1 });
      },
    } as unknown as Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>;

    const first = await overviewComfortAlerts(deps, devices);
    expect(first).toEqual([]);
    expect(planned).toEqual(['0670999X 2026-01-12 3 @2026-01-14T09:00:00.000Z']);

    // Within the minute: the same alerts (the very array), no new report.
    clock.advance(OVERVIEW_COMFORT_REUSE_MS - 1);
    expect(await overviewComfortAlerts(deps, devices)).toBe(first);
    expect(planned).toHaveLength(1);

    // Past the school's reuse time (60–120 s): the old alerts at once, one refresh behind them.
    clock.advance(OVERVIEW_COMFORT_REUSE_MS + 1);
    expect(await overviewComfortAlerts(deps, devices)).toBe(first);
    // The refresh reaches the planning after reading the store's progress.
    await waitFor(() => planned.length === 2, { what: 'the background refresh' });
    expect(planned).toEqual([
      '0670999X 2026-01-12 3 @2026-01-14T09:00:00.000Z',
      '0670999X 2026-01-12 3 @2026-01-14T09:02:00.000Z',
    ]);
    // A view while it runs starts no second refresh.
    expect(await overviewComfortAlerts(deps, devices)).toBe(first);
    expect(planned).toHaveLength(2);
    (release as unknown as () => void)();
    // Once refreshed, the new alerts (a new array) are served.
    const refreshed = await waitFor(async () => {
      const alerts = await overviewComfortAlerts(deps, devices);
      return alerts !== first ? alerts : undefined;
    });
    expect(refreshed).toEqual([]);
    expect(planned).toHaveLength(2);

    // A new local day is a new key: computed for that view (yesterday and today move).
    clock.set(Date.parse('2026-01-15T07:00:00Z'));
    const nextDay = overviewComfortAlerts(deps, devices);
    await waitFor(() => planned.length === 3);
    (release as unknown as () => void)();
    expect(await nextDay).toEqual([]);
    expect(planned[2]).toBe('0670999X 2026-01-13 3 @2026-01-15T07:00:00.000Z');

    // Two days later nothing was measured since yesterday's midnight: no alert can hold, and
    // no plan is made for the report.
    clock.set(Date.parse('2026-01-17T07:00:00Z'));
    expect(await overviewComfortAlerts(deps, devices)).toEqual([]);
    expect(planned).toHaveLength(3);
  });
});

describe('overviewComfortAlerts refreshes', () => {
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
  });

  it('refreshes the schools found old one at a time, not all at once', async () => {
    const clock = new ManualClock(Date.parse('2026-01-14T09:00:00Z'));
    store = await (sqlite as NonNullable<typeof sqlite>).open();
    const schools = [DEMO_UAI, OTHER].map((uai) => ({
      ...devices,
      value: { ...devices.value, school: { ...devices.value.school, uai } },
    }));
    await store.telemetry.writeBatch(
      schools.map((school) => ({
        uai: school.value.school.uai,
        zone: 'batiment-b-est',
        function: 'heating' as const,
        ts: Date.parse('2026-01-14T08:00:00Z'),
        receivedAt: Date.parse('2026-01-14T08:00:00Z'),
        measured_c: 19,
        mode: 'comfort',
        setpoint_c: 19,
        applied_rev: 1,
        source: 'bridge' as const,
        flag: null,
      })),
    );
    const planned: string[] = [];
    const releases: Array<() => void> = [];
    const deps = {
      clock,
      telemetry: { repository: store.telemetry, settings: DEFAULT_COMFORT_SETTINGS },
      planFor: async (uai: string) => {
        planned.push(uai);
        // The first computations answer at once; the refreshes wait to be let go.
        if (planned.length > 2) await new Promise<void>((resolve) => releases.push(resolve));
        throw new SortieError('network', 'hub down', { url: 'http://hub', attempts: 1 });
      },
    } as unknown as Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>;
    for (const school of schools) expect(await overviewComfortAlerts(deps, school)).toEqual([]);
    expect(planned).toEqual([DEMO_UAI, OTHER]);

    // Both old (past 120 s): the view serves both at once, and one refresh runs.
    clock.advance(2 * OVERVIEW_COMFORT_REUSE_MS + 1);
    for (const school of schools) expect(await overviewComfortAlerts(deps, school)).toEqual([]);
    await waitFor(() => planned.length === 3, { what: 'the first refresh' });
    expect(planned[2]).toBe(DEMO_UAI);
    // The second waits for the first to end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(planned).toHaveLength(3);
    releases.shift()?.();
    await waitFor(() => planned.length === 4, { what: 'the second refresh' });
    expect(planned[3]).toBe(OTHER);
    releases.shift()?.();
  });
});

describe('DashboardWarmUp', () => {
  it('asks each school’s dates then unmapped rooms, a school per turn, and tells the result once', async () => {
    const asked: string[] = [];
    const results: unknown[] = [];
    const other = {
      ...devices,
      value: { ...devices.value, school: { ...devices.value.school, uai: OTHER } },
    };
    const warmUp = new DashboardWarmUp({
      deps: {
        timetableDates: async (uai) => {
          asked.push(`dates ${uai}`);
          if (uai === OTHER) throw new Error('no such version');
          return null;
        },
        unknownRooms: async (uai) => {
          asked.push(`rooms ${uai}`);
          return null;
        },
      },
      schools: () => [devices, other],
      onWarm: (result) => results.push(result),
      onError: (error, uai) => asked.push(`error ${uai}: ${(error as Error).message}`),
    });
    warmUp.start();
    // Nothing asked synchronously: the start returns before the first school.
    expect(asked).toEqual([]);
    expect(warmUp.warmed()).toBeNull();
    const done = await waitFor(() => warmUp.warmed() ?? undefined);
    expect(asked).toEqual([
      `dates ${DEMO_UAI}`,
      `rooms ${DEMO_UAI}`,
      `dates ${OTHER}`,
      `error ${OTHER}: no such version`,
    ]);
    expect(done).toEqual({ schools: 1, failed: 1, ms: expect.any(Number) });
    expect(results).toEqual([done]);
  });
});

describe('the service warms the dashboard at start', () => {
  let dataDir: string | undefined;
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the overview right after the start, and again after the warm-up event', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-warm-up-'));
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      demo: { enabled: true, gateway: false },
      paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
      clients_file: join(dataDir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    service = await startService({
      config,
      logger: createLogger('silent'),
      // Tuesday 1 December 2026, 10:00 in Strasbourg.
      clock: new ManualClock(Date.parse('2026-12-01T09:00:00Z')),
      baseDir: dataDir,
    });
    const running = service;
    const credentials = readFileSync(join(dataDir, 'initial-credentials.txt'), 'utf8');
    const token = /^demo-manager\s+manager\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
    const overview = async () => {
      const res = await fetch(`${running.url}/tableau-de-bord`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/html' },
      });
      return { status: res.status, body: await res.text() };
    };
    // Right after the start, whatever the warm-up has done: the view computes what it lacks.
    const early = await overview();
    expect(early.status).toBe(200);
    expect(early.body).toContain(`data-uai="${DEMO_UAI}"`);
    const warmed = await waitFor(() => running.dashboardWarmUp.warmed() ?? undefined, {
      timeoutMs: 60_000,
      what: 'the dashboard warm-up event',
    });
    expect(warmed).toEqual({ schools: 1, failed: 0, ms: expect.any(Number) });
    const after = await overview();
    expect(after.status).toBe(200);
    expect(after.body).toContain(`data-uai="${DEMO_UAI}"`);
  }, 120_000);
});

describe('the overview’s row cache', () => {
  it('keeps each school’s row while its inputs hold, and computes again the one whose version changed', async () => {
    const { deps } = regionDashboardDeps();
    const versions = new Map<string, string>();
    const read: string[] = [];
    const cached: typeof deps = {
      ...deps,
      timetable: (uai) => {
        read.push(uai);
        return deps.timetable(uai);
      },
      timetableVersion: async (uai) => versions.get(uai) ?? 'v1',
    };
    const admin: Principal = { clientId: 'admin', role: 'admin', uais: 'all' };
    const first = await schoolsOverview(cached as DashboardDeps, admin);
    const firstReads = read.length;
    expect(first).toHaveLength(SCHOOLS);
    expect(firstReads).toBeGreaterThan(0);

    // Nothing changed: every row is the one kept (the same objects), no timetable read.
    const second = await schoolsOverview(cached as DashboardDeps, admin);
    expect(second).toHaveLength(SCHOOLS);
    for (const [i, row] of second.entries()) expect(row).toBe(first[i]);
    expect(read).toHaveLength(firstReads);

    // A new version of one school: that row alone is computed again, equal in content here.
    versions.set(uaiOf(3), 'v2');
    read.length = 0;
    const third = await schoolsOverview(cached as DashboardDeps, admin);
    expect(new Set(read)).toEqual(new Set([uaiOf(3)]));
    const at = (rows: typeof first, uai: string) => rows.find((row) => row.uai === uai);
    expect(at(third, uaiOf(3))).not.toBe(at(first, uaiOf(3)));
    expect(at(third, uaiOf(3))).toEqual(at(first, uaiOf(3)));
    expect(at(third, uaiOf(4))).toBe(at(first, uaiOf(4)));

    // Without `timetableVersion`, every view computes every row (the fixture's own deps).
    const plain = await schoolsOverview(deps as DashboardDeps, admin);
    expect(plain).toEqual(third);
    expect(at(plain, uaiOf(4))).not.toBe(at(third, uaiOf(4)));
  });
});

describe('the overview’s gateway state after the caches', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('follows a status arriving over MQTT, and a lag the clock reaches, through the kept report and row', async () => {
    const target = await embeddedTarget();
    stops.push(() => target.close());
    const stores = await temporaryStore();
    stops.push(() => stores.cleanup());
    // Monday 12 January 2026, 18:30 in Strasbourg, as the region fixture.
    const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
    const school = (uai: string, gateway: string): LoadedDevices => ({
      file: `devices/${uai}.yaml`,
      value: devicesFileSchema.parse({
        school: { uai, name: `Lycée ${uai}`, timezone: 'Europe/Paris' },
        gateways: [
          {
            id: gateway,
            username: `gw-${uai}`,
            password_hash:
              'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          },
        ],
        zones: [
          {
            id: 'b-est',
            name: 'B est',
            gateway,
            rooms: ['R1'],
            functions: ['heating'],
            category: 'classroom',
            heating_type: 'hydronic',
          },
        ],
      }),
      lineOf: () => 1,
    });
    // The fixture's broker lets its gateway write the first school's topics only.
    const schools = new Map([
      [GATEWAY_UAI, school(GATEWAY_UAI, 'gw-tilleuls')],
      [uaiOf(1), school(uaiOf(1), 'gw')],
    ]);
    // Rev 1 of the first school's heating, issued now: lagging 5 minutes from now.
    const issuedAt = clock.now();
    const topics = new MqttTopics(target.prefix);
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: 'test',
      clock,
    });
    const tracker = new GatewayTracker({
      connection,
      topics,
      repository: stores.store.bridgeState,
      latest: (uai, zone) => (uai === GATEWAY_UAI && zone === 'b-est' ? { rev: 1, issuedAt } : undefined),
      zones: [...schools.values()].map((d) => ({
        uai: d.value.school.uai,
        zone: 'b-est',
        gateway: d.value.gateways[0]!.id,
        functions: ['heating' as const],
      })),
      clock,
    });
    await tracker.start();
    await connection.start();
    stops.push(async () => {
      await tracker.stop();
      await connection.stop();
    });
    const { deps } = regionDashboardDeps();
    const wired = {
      ...deps,
      clock,
      devices: () => schools,
      timetable: async () => null,
      // A stored version, so that rows are kept between views.
      timetableVersion: async () => 'v1',
      gateways: (uai: string) => tracker.schoolReport(uai),
      allGateways: () => tracker.report(),
    } as unknown as DashboardDeps;
    const admin: Principal = { clientId: 'admin', role: 'admin', uais: 'all' };
    const rowOf = async (uai: string) => (await schoolsOverview(wired, admin)).find((row) => row.uai === uai);

    const first = await rowOf(GATEWAY_UAI);
    expect(first).toMatchObject({ gateways: 'jamais-connectee' });
    expect(first?.alerts.map((a) => a.code)).toEqual(['passerelle-hors-ligne']);
    const other = await rowOf(uaiOf(1));
    // Nothing changed: the kept row and the tracker's kept report.
    expect(await rowOf(GATEWAY_UAI)).toBe(first);
    const report = tracker.schoolReport(GATEWAY_UAI);
    expect(tracker.schoolReport(GATEWAY_UAI)).toBe(report);

    // The gateway says it is online, over MQTT: the next view shows it, the other row is kept.
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    await gateway.publishAsync(topics.gatewayStatus(GATEWAY_UAI, 'gw-tilleuls').topic, '{"state":"online"}', {
      qos: 1,
    });
    await waitFor(() => tracker.stats().received === 1, { what: 'the status' });
    const online = await rowOf(GATEWAY_UAI);
    expect(online).toMatchObject({ gateways: 'en-ligne', alerts: [] });
    expect(await rowOf(uaiOf(1))).toBe(other);

    // No report of rev 1 for 5 minutes and a millisecond: the zone is unacknowledged, with no message.
    clock.advance(5 * 60_000);
    expect(await rowOf(GATEWAY_UAI)).toBe(online);
    clock.advance(1);
    const lagging = await rowOf(GATEWAY_UAI);
    expect(lagging?.alerts.map((a) => a.code)).toEqual(['zone-sans-acquittement']);

    // The gateway reports rev 1 applied: the alert goes.
    await gateway.publishAsync(
      topics.reported(GATEWAY_UAI, 'b-est', 'heating').topic,
      JSON.stringify({ applied_rev: 1, mode: 'eco', source: 'bridge', ts: '2026-01-12T17:35:00Z' }),
      { qos: 1 },
    );
    await waitFor(() => tracker.stats().received === 2, { what: 'the report' });
    expect((await rowOf(GATEWAY_UAI))?.alerts).toEqual([]);
  });
});
