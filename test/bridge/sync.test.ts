/**
 * The sync from SORTIE end to end: a real embedded hub (ENTRÉE + SORTIE over a socket), a real
 * store on every backend, the SORTIE client with the bridge's own consumer token, the planning
 * service and the plan feed, under a manual clock. Proves ETag reuse, the last good data kept
 * through a 48 h outage (with the stale alert and no zone dropping to frost), the fallback week of
 * a school that never had data, a restart during the outage, and the import → plan latency.
 * The tests run in order on one timeline (one clock, one hub, one store per backend).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import { SyncService } from '../../src/bridge/sync.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { TimetableInput } from '../../src/domain/timetable.js';
import type { Segment } from '../../src/rules/segment.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  embeddedClient,
  NO_DATA_UAI,
  startHub,
  winter,
} from './bridge-fixtures.js';

const HOUR = 3_600_000;
const backends: StoreBackend[] = await storeBackends();

function segmentAt(
  plan: SchoolPlan | undefined,
  zone: string,
  fn: 'heating' | 'lighting',
  at: number,
): Segment {
  const segments = plan?.zones.find((z) => z.zone === zone)?.functions[fn] ?? [];
  const found = segments.find((s) => s.from <= at && at < s.to);
  if (!found) throw new Error(`no ${fn} segment of ${zone} at ${new Date(at).toISOString()}`);
  return found;
}

/** Midpoints (UTC) of the demo's lessons on these local dates, per devices zone, from the timetable itself. */
function lessonMidpoints(
  timetable: TimetableInput,
  site: SiteHolder,
  dates: string[],
): Array<[zone: string, at: number]> {
  const zones = site.current.devices.get(DEMO_UAI)?.value.zones ?? [];
  const out: Array<[string, number]> = [];
  for (const date of dates) {
    const isoDay = new Date(`${date}T12:00:00Z`).getUTCDay() || 7;
    for (const lesson of timetable.lessons) {
      if (!('day' in lesson) || lesson.day !== isoDay) continue;
      const mid = (winter(`${date}T${lesson.start}`) + winter(`${date}T${lesson.end}`)) / 2;
      for (const zone of zones)
        if (lesson.rooms.some((r) => zone.rooms.includes(r))) out.push([zone.id, mid]);
    }
  }
  return out;
}

describe.each(backends)('sync from SORTIE on $name', (backend) => {
  const t0 = Date.parse('2026-01-12T05:00:00Z'); // Monday 06:00 in Strasbourg
  const clock = new ManualClock(t0);
  const clients = bridgeClients(clock);
  const demo = buildDemoTimetable(t0);
  const siteFiles = copySite();
  const site = new SiteHolder(siteFiles);
  const calendars = new CalendarSource({ zone: 'B', dataDir: siteFiles.dir });
  let store: Store;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let sync: SyncService;
  let planning: PlanningService;
  const feed = new MutablePlanFeed();
  const planningErrors: object[] = [];

  function makeSync(s: Store) {
    return new SyncService({
      client: embeddedClient(hub.url, clients, clock),
      repository: s.sync,
      site,
      clock,
      cron: '0 0 1 1 *',
      staleAfterHours: 24,
    });
  }
  function makePlanning(source: SyncService, target: MutablePlanFeed) {
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: () => null,
    });
    return new PlanningService({
      site,
      calendars,
      occupancy: source,
      overrides,
      feed: target,
      clock,
      cron: '0 0 1 1 *',
      logger: { warn: () => {}, error: (obj) => planningErrors.push(obj) },
    });
  }

  beforeAll(async () => {
    store = await backend.open();
    hub = await startHub({ store, clock, clients, onImported: (uai) => void sync?.syncNow(uai) });
    expect((await hub.put(demo)).status).toBe(201);
    sync = makeSync(store);
    planning = makePlanning(sync, feed);
  });
  afterEach(() => expect(planningErrors).toEqual([]));
  afterAll(async () => {
    await planning.stop();
    await sync.stop();
    await hub.close();
    await backend.cleanup();
  });

  it('pulls the window of local dates, stores the body, then revalidates with If-None-Match → 304', async () => {
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'updated', version: 1 }]);
    const first = hub.log.at(-1);
    expect(first).toEqual({
      method: 'GET',
      path: `/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?from=2026-01-05&to=2026-02-02`,
      status: 200,
      ifNoneMatch: null,
    });
    const stored = await store.sync.get(DEMO_UAI);
    expect(stored).toMatchObject({
      version: 1,
      rangeFrom: '2026-01-05',
      rangeTo: '2026-02-02',
      fetchedAt: t0,
      lastSuccessAt: t0,
    });
    expect(stored?.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    clock.advance(15 * 60_000);
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'not-modified', version: 1 }]);
    expect(hub.log.at(-1)).toEqual({ ...first, status: 304, ifNoneMatch: stored?.etag });
    expect(await store.sync.get(DEMO_UAI)).toMatchObject({ fetchedAt: t0, lastSuccessAt: t0 + 15 * 60_000 });
    clock.set(t0);
  });

  it('a school SORTIE has no timetable for plans on the fallback week, flagged, without alert', async () => {
    expect(await sync.syncNow(NO_DATA_UAI)).toEqual([{ uai: NO_DATA_UAI, result: 'no-timetable' }]);
    expect(sync.statusOf(NO_DATA_UAI)).toEqual({
      uai: NO_DATA_UAI,
      state: 'no-timetable',
      stale: false,
      fallback: true,
      version: null,
      range: null,
      fetched_at: null,
      last_success_at: '2026-01-12T05:00:00.000Z',
      age_hours: 0,
      last_error: null,
    });
    await planning.start();
    const plan = feed.plan(NO_DATA_UAI);
    expect([plan?.fallback, plan?.timetableVersion]).toEqual([true, null]);
    // rules/default.yaml fallback_week: comfort 07:00–18:00 local, Monday to Friday.
    const monday = segmentAt(plan, 'salles', 'heating', winter('2026-01-12T07:00'));
    expect(monday).toMatchObject({
      from: winter('2026-01-12T07:00'),
      to: winter('2026-01-12T18:00'),
      mode: 'comfort',
      setpoint_c: 19,
      reason: { kind: 'fallback', rule: 'fallback_week' },
    });
    expect(segmentAt(plan, 'salles', 'heating', winter('2026-01-12T18:00')).mode).toBe('eco');
    expect(segmentAt(plan, 'salles', 'heating', winter('2026-01-13T07:00'))).toMatchObject({
      from: winter('2026-01-13T07:00'),
      to: winter('2026-01-13T18:00'),
      mode: 'comfort',
    });
    const demoPlan = feed.plan(DEMO_UAI);
    expect([demoPlan?.fallback, demoPlan?.timetableVersion]).toEqual([false, 1]);
  });

  it('SORTIE down for 48 h: plans from the last good data, alerts after 24 h, no zone drops to frost', async () => {
    const staleAt: number[] = [];
    for (let hour = 1; hour <= 48; hour++) {
      // The first day it answers 503, the second it refuses connections.
      if (hour === 1) await hub.setState('503');
      if (hour === 25) await hub.setState('refuse');
      clock.advance(HOUR);
      const outcomes = await sync.syncNow();
      expect(outcomes.map((o) => [o.uai, o.result, 'kind' in o ? o.kind : null])).toEqual(
        [
          [NO_DATA_UAI, 'failed', hour <= 24 ? 'http' : 'network'],
          [DEMO_UAI, 'failed', hour <= 24 ? 'http' : 'network'],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      await planning.replanAll();
      if (sync.statusOf(DEMO_UAI).stale) staleAt.push(hour);
    }
    // Last success: the 304 at t0 + 15 min; more than 24 h from hour 25 (24.75 h) on.
    expect(staleAt).toEqual(Array.from({ length: 24 }, (_, i) => 25 + i));
    const status = sync.statusOf(DEMO_UAI);
    expect(status).toMatchObject({
      state: 'stale',
      stale: true,
      fallback: false,
      version: 1,
      range: { from: '2026-01-05', to: '2026-02-02' },
      last_success_at: '2026-01-12T05:15:00.000Z',
      age_hours: 47.75,
      last_error: { kind: 'network', since: '2026-01-12T06:00:00.000Z' },
    });
    expect(status.last_error?.message).toContain('ECONNREFUSED');
    expect(sync.readinessProblems()).toEqual(
      [
        `sync ${NO_DATA_UAI}: last success 48 h ago, over 24 h (${sync.statusOf(NO_DATA_UAI).last_error?.message})`,
        `sync ${DEMO_UAI}: last success 47.75 h ago, over 24 h (${status.last_error?.message})`,
      ].sort(),
    );

    // Wednesday 05:00Z: the live plan still comes from timetable version 1.
    const plan = feed.plan(DEMO_UAI);
    expect([plan?.fallback, plan?.timetableVersion, plan?.horizon]).toEqual([
      false,
      1,
      { from: Date.parse('2026-01-14T04:00:00Z'), to: Date.parse('2026-01-16T08:00:00Z') },
    ]);
    const checks = lessonMidpoints(demo, site, ['2026-01-14', '2026-01-15']);
    expect(checks.length).toBeGreaterThan(40);
    for (const [zone, at] of checks) {
      const heating = segmentAt(plan, zone, 'heating', at);
      expect([zone, new Date(at).toISOString(), heating.mode, heating.reason.kind]).toEqual([
        zone,
        new Date(at).toISOString(),
        'comfort',
        'occupied',
      ]);
    }
    // Frost only where the timetable itself has a ≥ 48 h gap (AMPHI is used on Tuesdays only,
    // ATELIER not on Wednesdays or Fridays), never an open-ended gap at the edge of missing data.
    const frost = (plan?.zones ?? []).flatMap((z) =>
      (z.functions.heating ?? [])
        .filter((s) => s.mode === 'frost')
        .map((s) => [z.zone, s.reason.kind, s.reason.gap_open_ended ?? false]),
    );
    expect(frost).toEqual([
      ['atelier', 'holiday', false],
      ['amphi', 'holiday', false],
    ]);
    // The school without data keeps its fallback week too.
    expect(
      segmentAt(feed.plan(NO_DATA_UAI), 'salles', 'heating', winter('2026-01-14T10:00')).reason.kind,
    ).toBe('fallback');
  });

  it('after a restart during the outage, the stored last good data is used at once', async () => {
    const restartedStore = await backend.open();
    const restarted = makeSync(restartedStore);
    await restarted.load();
    expect(restarted.occupancyFor(DEMO_UAI)).toMatchObject({
      from: '2026-01-05',
      to: '2026-02-02',
      occupancy: { version: 1 },
    });
    expect(restarted.occupancyFor(NO_DATA_UAI)).toBeNull();
    const restartedFeed = new MutablePlanFeed();
    const replanning = makePlanning(restarted, restartedFeed);
    await replanning.replanAll();
    expect(restartedFeed.plan(DEMO_UAI)?.hash).toBe(feed.plan(DEMO_UAI)?.hash);
    expect(restartedFeed.plan(DEMO_UAI)?.fallback).toBe(false);
  });

  it('when SORTIE is back, the window moves on and the alert clears', async () => {
    await hub.setState('up');
    expect(await sync.syncNow(DEMO_UAI)).toEqual([{ uai: DEMO_UAI, result: 'updated', version: 1 }]);
    expect(hub.log.at(-1)?.path).toBe(
      `/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?from=2026-01-07&to=2026-02-04`,
    );
    expect(sync.statusOf(DEMO_UAI)).toMatchObject({
      state: 'ok',
      stale: false,
      range: { from: '2026-01-07', to: '2026-02-04' },
      last_success_at: '2026-01-14T05:00:00.000Z',
      age_hours: 0,
      last_error: null,
    });
  });

  it('an import through ENTRÉE over HTTP reaches the live plan within 1 s, without the cron', async () => {
    const withEvent: TimetableInput = {
      ...demo,
      events: [
        {
          id: 'conseil',
          rooms: ['AMPHI'],
          start: '2026-01-14T17:00:00Z',
          end: '2026-01-14T19:00:00Z',
          label: 'Conseil',
        },
      ],
    };
    const replanned = new Promise<number>((resolve) => {
      const off = feed.subscribe((uai) => {
        if (uai === DEMO_UAI && feed.plan(DEMO_UAI)?.timetableVersion === 2) {
          off();
          resolve(performance.now());
        }
      });
    });
    const started = performance.now();
    const res = await hub.put(withEvent);
    expect(res.status).toBe(201);
    // Bounded wait, so that a miss fails with what happened instead of hanging.
    const arrived = await Promise.race([
      replanned,
      new Promise<null>((r) => setTimeout(() => r(null), 5000)),
    ]);
    expect(
      arrived === null
        ? { log: hub.log.slice(-3), status: sync.statusOf(DEMO_UAI), errors: planningErrors }
        : 'arrived',
    ).toBe('arrived');
    const latency = (arrived as number) - started;
    console.info(`[sync] ENTRÉE import → live plan: ${latency.toFixed(1)} ms (${backend.name})`);
    expect(latency).toBeLessThan(1000);
    const amphi = segmentAt(feed.plan(DEMO_UAI), 'amphi', 'heating', Date.parse('2026-01-14T18:00:00Z'));
    expect([amphi.mode, amphi.setpoint_c, amphi.reason.kind]).toEqual(['comfort', 19, 'occupied']);
    expect(sync.statusOf(DEMO_UAI).version).toBe(2);
  });
  it('an instance that does not hold a school reads its sync state from the store, not from its start', async () => {
    // Another instance (not holding the school) loaded the state at its start, before any pull.
    const bystander = new SyncService({
      client: embeddedClient(hub.url, clients, clock),
      repository: store.sync,
      site,
      clock,
      cron: '0 0 1 1 *',
      staleAfterHours: 24,
      owns: () => false,
    });
    await bystander.load();
    const before = bystander.statusOf(DEMO_UAI);
    const resume = clock.now();
    clock.advance(60 * 60_000);
    await sync.syncNow(DEMO_UAI);
    // statusOf is what it holds in memory; currentStatus asks the store where the holder wrote.
    expect(bystander.statusOf(DEMO_UAI).last_success_at).toBe(before.last_success_at);
    const current = await bystander.currentStatus(DEMO_UAI);
    expect(current).toEqual(sync.statusOf(DEMO_UAI));
    expect(current).toMatchObject({ uai: DEMO_UAI, state: 'ok', stale: false });
    expect(current.last_success_at).toBe(new Date(clock.now()).toISOString());
    expect(before.last_success_at).not.toBe(current.last_success_at);
    // It never pulls for a school it does not hold.
    expect(await bystander.syncNow()).toEqual([]);
    clock.set(resume);
  });
});
