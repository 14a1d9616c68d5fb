/**
 * Frozen savings (issue 21) and measured savings (issue 16) through `app.request()`: the real
 * Authenticator, the real planning service over the demo lycée and a real SQLite store.
 * - A closed week, once frozen, is answered with its stored figures and the versions used, even
 *   after the timetable changed; a range that is not a frozen period is computed afresh.
 * - `GET /api/savings/measured` fits the stored meter readings, puts the estimate beside them,
 *   and refuses with the missing data named.
 */
import { Hono } from 'hono';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { type HeldOccupancy, PlanningService } from '../../src/bridge/planning.js';
import { addDaysIso } from '../../src/calendar/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import { zoneComfortSetpoints } from '../../src/savings/baseline.js';
import { monthlyNormals } from '../../src/savings/outdoor.js';
import { lastClosedPeriods, SavingsFreezer } from '../../src/savings/savings-freezer.js';
import { savingsRoutes } from '../../src/savings/savings-routes.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { bridgeClients, copySite, DEMO_UAI, heldDemo, OUTSIDE_UAI } from '../bridge/bridge-fixtures.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;

const sqlite = (await storeBackends()).find((b) => b.name === 'sqlite') as StoreBackend;

describe('frozen and measured savings', () => {
  // Monday 19 January 2026, 08:00 in Paris: the week of the 12th and December are closed.
  const clock = new ManualClock(Date.parse('2026-01-19T07:00:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: Hono<AuthEnv>;
  let freezer: SavingsFreezer;
  /** The timetable the planner sees: version 1 (the demo), then a version 2 without lessons. */
  let version = 1;
  const held = (dates: { from: string; to: string }): HeldOccupancy => {
    const demo = heldDemo(dates);
    return version === 1 ? demo : { ...demo, occupancy: { ...demo.occupancy, version, rooms: [] } };
  };

  beforeAll(async () => {
    store = await sqlite.open();
    let planning: PlanningService | undefined;
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => (planning as PlanningService).nextChange(...args),
    });
    planning = new PlanningService({
      site,
      calendars,
      occupancy: { occupancyFor: () => null, onChange: () => () => {} },
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? held(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
    });
    const service = planning;
    const zoneComfort = (uai: string) =>
      zoneComfortSetpoints(site.current.ruleSet, uai, site.current.devices.get(uai)?.value.zones ?? []);
    freezer = new SavingsFreezer({
      schools: () => site.current.devices.values(),
      calendars,
      planFor: (uai, date, days) => service.planFor(uai, date, days),
      repository: store.frozenSavings,
      clock,
      zoneComfort,
    });
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      savingsRoutes({
        planFor: (uai, date, days) => service.planFor(uai, date, days),
        devicesOf: (uai) => site.current.devices.get(uai),
        calendars,
        zoneComfort,
        meters: store.meters,
        frozen: store.frozenSavings,
      }),
    );
  });
  afterAll(() => sqlite.cleanup());

  const get = (path: string, who = 'manager') => app.request(path, { headers: clients.bearer(who) });
  const json = async (res: Response): Promise<Json> => res.json();

  it('names the last closed week (Monday–Sunday) and month', () => {
    expect(lastClosedPeriods('2026-01-19')).toEqual([
      { kind: 'week', from: '2026-01-12', to: '2026-01-18' },
      { kind: 'month', from: '2025-12-01', to: '2025-12-31' },
    ]);
    expect(lastClosedPeriods('2026-03-01')[0]).toEqual({
      kind: 'week',
      from: '2026-02-16',
      to: '2026-02-22',
    });
  });

  it('serves a closed week as frozen with the versions used, after the timetable changed', async () => {
    const frozen = (await freezer.runOnce()).filter((f) => f.uai === DEMO_UAI);
    expect(frozen.map((f) => [f.kind, f.from, f.to, f.timetableVersions, f.frozenAt])).toEqual([
      ['week', '2026-01-12', '2026-01-18', [1], '2026-01-19T07:00:00.000Z'],
      ['month', '2025-12-01', '2025-12-31', [1], '2026-01-19T07:00:00.000Z'],
    ]);
    expect(await freezer.runOnce()).toEqual([]);
    const before = await json(await get(`/api/savings?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`));

    version = 2;
    const res = await get(`/api/savings?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`, 'auditor');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.frozen).toEqual({
      period: 'week',
      frozen_at: '2026-01-19T07:00:00.000Z',
      rules_version: frozen[0]?.rulesVersion,
      timetable_versions: [1],
      plan_hashes: frozen[0]?.planHashes,
    });
    expect(body.timetable_versions).toEqual([1]);
    expect(body.totals).toEqual(before.totals);
    // Not a frozen period: computed now, from version 2 (no lessons: a larger saving).
    const fresh = await json(await get(`/api/savings?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-17`));
    expect(fresh.frozen).toBeUndefined();
    expect(fresh.timetable_versions).toEqual([2]);
    version = 1;
  });

  /** Daily index at local midnight: 200 kWh + 10 kWh per degree-day of the Strasbourg normals. */
  async function storeMeter(from: string, days: number) {
    const normals = monthlyNormals('strasbourg');
    const readings = [];
    let index = 50_000;
    for (let i = 0; i <= days; i++) {
      const date = addDaysIso(from, i);
      const ts = DateTime.fromISO(date, { zone: 'Europe/Paris' }).toMillis();
      readings.push({
        meter: 'gaz',
        ts,
        kind: 'index' as const,
        valueKwh: index,
        periodFrom: null,
        source: 'test',
      });
      const hdd = Math.max(0, 18 - (normals[Number(date.slice(5, 7)) - 1] as number));
      const pilot = date >= '2025-09-01' ? 0.75 : 1;
      index += pilot * (200 + 10 * hdd) + (i % 2 === 0 ? 15 : -15);
    }
    const result = await store.meters.putMeterReadings(DEMO_UAI, readings, 0);
    expect(result.conflicts).toEqual([]);
  }

  it('answers measured savings with the model, its statistics and the estimate beside it', async () => {
    await storeMeter('2024-09-01', 365 + 133);
    const res = await get(
      `/api/savings/measured?uai=${DEMO_UAI}&baseline_from=2024-09-01&baseline_to=2025-08-31&from=2025-09-01&to=2026-01-11`,
    );
    const body = await json(res);
    expect([res.status, body.errors]).toEqual([200, undefined]);
    expect(body).toMatchObject({
      uai: DEMO_UAI,
      meters: ['gaz'],
      ok: true,
      model: { kind: 'hdd', n: 365, parameters: 2, hdd_base_c: 18 },
      baseline: {
        from: '2024-09-01',
        to: '2025-08-31',
        days: 365,
        days_used: 365,
        outdoor_sources: { sensor: 0, normals: 365 },
      },
      reporting: { from: '2025-09-01', to: '2026-01-11', days: 133, days_used: 133 },
      estimate: { available: true, timetable_versions: [1] },
    });
    expect(body.model.coefficients.intercept_kwh_per_day.value).toBeCloseTo(200, 0);
    expect(body.model.coefficients.kwh_per_degree_day.value).toBeCloseTo(10, 1);
    expect(body.savings.percent).toBeCloseTo(25, 0);
    expect(body.savings.uncertainty.map((u: Json) => u.confidence)).toEqual([68, 90]);
    expect(typeof body.estimate.totals.saving_kwh).toBe('number');
  });

  it('refuses with the missing data named, never a number', async () => {
    const res = await get(
      `/api/savings/measured?uai=${DEMO_UAI}&baseline_from=2024-06-01&baseline_to=2024-08-31&from=2025-09-01&to=2025-09-30`,
    );
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.errors).toEqual([
      expect.objectContaining({ code: 'measured-data-missing', where: 'baseline meter-readings' }),
    ]);
    expect(body.missing[0]).toMatchObject({ period: 'baseline', what: 'meter-readings', missing_days: 92 });
    expect(body.savings).toBeUndefined();
  });

  it('checks its parameters and hides other schools', async () => {
    const bad = await get(
      `/api/savings/measured?uai=${DEMO_UAI}&baseline_from=2025-09-01&baseline_to=2025-10-31&from=2025-10-01&to=2025-10-31`,
    );
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors[0]).toMatchObject({ code: 'bad-period', where: 'baseline_to' });
    const missing = await get(
      `/api/savings/measured?uai=${DEMO_UAI}&baseline_from=2025-09-01&from=2025-10-01&to=2025-10-31`,
    );
    expect((await json(missing)).errors[0]).toMatchObject({ code: 'option-missing', where: 'baseline_to' });
    const outside = await get(
      `/api/savings/measured?uai=${OUTSIDE_UAI}&baseline_from=2024-09-01&baseline_to=2025-08-31&from=2025-09-01&to=2025-10-31`,
    );
    expect(outside.status).toBe(404);
    const editor = await get(
      `/api/savings/measured?uai=${DEMO_UAI}&baseline_from=2024-09-01&baseline_to=2025-08-31&from=2025-09-01&to=2025-10-31`,
      'editor',
    );
    expect(editor.status).toBe(403);
  });
});
