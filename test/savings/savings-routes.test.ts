/**
 * `GET /api/savings` through `app.request()`, the real Authenticator and bearer check, the real
 * planning service over the demo lycée (devices/ and rules/ of the repository) and a real SQLite
 * store for the overrides.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { ManualClock } from '../../src/domain/clock.js';
import { savingsRoutes } from '../../src/savings/savings-routes.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  NO_DATA_UAI,
  OUTSIDE_UAI,
} from '../bridge/bridge-fixtures.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;

const sqlite = (await storeBackends()).find((b) => b.name === 'sqlite') as StoreBackend;

/** Demo zones and their loss coefficients (devices/0670999X.yaml). */
const DEMO_H: Record<string, number> = {
  'batiment-b-est': 180,
  'batiment-b-ouest': 180,
  'batiment-c': 150,
  laboratoires: 120,
  atelier: 220,
  gymnase: 400,
  cdi: 90,
  amphi: 160,
};

describe('GET /api/savings', () => {
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: Hono<AuthEnv>;
  let planCalls = 0;

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
      occupancy: fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) }),
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
    });
    const service = planning;
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      savingsRoutes({
        planFor: (uai, date, days) => {
          planCalls++;
          return service.planFor(uai, date, days);
        },
        devicesOf: (uai) => site.current.devices.get(uai),
        calendars,
      }),
    );
  });
  afterAll(() => sqlite.cleanup());

  const get = (query: string, who = 'manager') =>
    app.request(`/api/savings?${query}`, { headers: clients.bearer(who) });
  const json = async (res: Response): Promise<Json> => res.json();

  it('estimates a week of the demo lycée with its inputs, method and assumptions', async () => {
    const res = await get(`uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      uai: DEMO_UAI,
      name: 'Lycée des Tilleuls (démonstration)',
      from: '2026-01-12',
      to: '2026-01-18',
      timezone: 'Europe/Paris',
      estimate: true,
      fallback: false,
      timetable_versions: [1],
      period: { from: '2026-01-11T23:00:00.000Z', to: '2026-01-18T23:00:00.000Z', hours: 168 },
      method_reference: 'docs/savings.md, "Model and sources"',
    });
    expect(body.inputs.outdoor).toMatchObject({
      kind: 'monthly-normals',
      station: 'strasbourg',
      station_name: 'Strasbourg-Entzheim',
    });
    expect(body.inputs.outdoor.monthly_mean_c[0]).toBe(1.9);
    expect(body.assumptions.length).toBe(5);
    expect(body.zones.map((z: Json) => z.zone)).toEqual(Object.keys(DEMO_H));
    // Baseline, hand-computed: no closure that week, Strasbourg January normal 1.9 °C.
    // Mon–Fri 5 × 12 h = 60 h at 19 °C: 60 × 17.1 = 1026 K·h; 108 h at 16 °C: 108 × 14.1 = 1522.8 K·h;
    // total 2548.8 K·h, i.e. 2.5488 kWh per W/K of loss coefficient.
    for (const zone of body.zones) {
      const h = DEMO_H[zone.zone] as number;
      expect(zone.loss_coefficient_w_per_k).toBe(h);
      expect(zone.baseline_heated_hours).toEqual({ comfort: 60, setback: 108, holiday: 0 });
      expect(zone.degree_hours.baseline).toBe(2548.8);
      expect(zone.kwh.baseline).toBeCloseTo(h * 2.5488, 3);
      // The plan covers every hour of the week (no `uncovered`), in its modes.
      const hours = Object.values(zone.heated_hours as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(hours).toBeCloseTo(168, 6);
      expect(zone.heated_hours.uncovered).toBeUndefined();
      expect(zone.kwh.plan).toBeCloseTo((h * zone.degree_hours.plan) / 1000, 3);
      expect(zone.saving_kwh).toBeCloseTo(zone.kwh.baseline - zone.kwh.plan, 3);
    }
    const sum = (key: 'plan' | 'baseline') => body.zones.reduce((a: number, z: Json) => a + z.kwh[key], 0);
    expect(body.totals.kwh_baseline).toBeCloseTo(2.5488 * 1500, 3);
    expect(body.totals.kwh_plan).toBeCloseTo(sum('plan'), 3);
    expect(body.totals.zones_estimated).toBe(8);
    // The timetable heats less than the fixed programme (weekends at 8 °C, Wednesday afternoon).
    expect(body.totals.saving_kwh).toBeGreaterThan(0);
  });

  it('plans a period longer than a month in chunks that cover it without gaps', async () => {
    const before = planCalls;
    // 2026-01-05 .. 2026-02-13: 40 days, no DST switch: 960 h; 31 + 9 days → two plans.
    const res = await get(`uai=${DEMO_UAI}&from=2026-01-05&to=2026-02-13`, 'auditor');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(planCalls - before).toBe(2);
    expect(body.period).toEqual({
      from: '2026-01-04T23:00:00.000Z',
      to: '2026-02-13T23:00:00.000Z',
      hours: 960,
    });
    for (const zone of body.zones) {
      const hours = Object.values(zone.heated_hours as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(hours).toBeCloseTo(960, 6);
      expect(zone.heated_hours.uncovered).toBeUndefined();
    }
  });

  it('flags a school planned on the fallback week and lists its zone without loss coefficient', async () => {
    const res = await get(`uai=${NO_DATA_UAI}&from=2026-01-12&to=2026-01-12&station=nancy`, 'admin');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.fallback).toBe(true);
    expect(body.timetable_versions).toEqual([]);
    expect(body.assumptions.at(-1)).toBe(
      'Part of the period has no timetable: the plan there is the fallback week of the rules, not the lessons.',
    );
    expect(body.inputs.outdoor.station).toBe('nancy');
    expect(body.zones).toHaveLength(1);
    expect(body.zones[0]).toMatchObject({
      zone: 'salles',
      loss_coefficient_w_per_k: null,
      kwh: null,
      saving_kwh: null,
      excluded_reason: 'no loss_coefficient_w_per_k in devices/: kWh cannot be estimated',
      // Monday, Nancy January normal 2.0 °C: 12 × 17 + 12 × 14 = 204 + 168 = 372 K·h.
      degree_hours: { baseline: 372 },
    });
    expect(body.totals).toEqual({
      kwh_plan: 0,
      kwh_baseline: 0,
      saving_kwh: 0,
      saving_percent: null,
      zones_estimated: 0,
      zones_excluded: 1,
    });
  });

  it('answers 400 for bad input, naming the query parameter', async () => {
    const cases: Array<[string, { code: string; message: string; where: string }]> = [
      [
        `from=2026-01-12&to=2026-01-18`,
        { code: 'option-missing', message: 'uai is required', where: 'uai (query)' },
      ],
      [
        `uai=${DEMO_UAI}&to=2026-01-18`,
        {
          code: 'option-missing',
          message: 'from is required (a date YYYY-MM-DD)',
          where: 'from',
        },
      ],
      [
        `uai=${DEMO_UAI}&from=2026-13-01&to=2026-01-18`,
        { code: 'invalid-date', message: '"2026-13-01" is not a date YYYY-MM-DD', where: 'from' },
      ],
      [
        `uai=${DEMO_UAI}&from=9999-12-31&to=9999-12-31`,
        {
          code: 'date-out-of-range',
          message: '9999-12-31 is outside the supported dates 2000-01-01 to 2099-12-31',
          where: 'from',
        },
      ],
      [
        `uai=${DEMO_UAI}&from=2026-01-18&to=2026-01-12`,
        { code: 'bad-period', message: 'to is before from', where: 'to' },
      ],
      [
        `uai=${DEMO_UAI}&from=2025-01-01&to=2026-01-02`,
        { code: 'bad-period', message: 'the period is 367 days; at most 366', where: 'to' },
      ],
      [
        `uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18&station=paris`,
        {
          code: 'bad-station',
          message: 'unknown station "paris"; shipped: strasbourg, nancy, reims',
          where: 'station (query)',
        },
      ],
    ];
    for (const [query, problem] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(await json(res), query).toEqual({ errors: [problem] });
    }
    const badUai = await get('uai=0670999A&from=2026-01-12&to=2026-01-18');
    expect(badUai.status).toBe(400);
    expect((await json(badUai)).errors[0]).toMatchObject({ code: 'bad-uai', where: 'uai (query)' });
  });

  it('answers 404 for a school outside the caller list or without devices, 403 to other roles, 401 without a token', async () => {
    const notFound = (uai: string) => ({
      errors: [{ code: 'not-found', message: `establishment ${uai} not found`, where: 'uai (query)' }],
    });
    const outside = await get(`uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`, 'other-manager');
    expect(outside.status).toBe(404);
    expect(await json(outside)).toEqual(notFound(DEMO_UAI));
    const noDevices = await get(`uai=${OUTSIDE_UAI}&from=2026-01-12&to=2026-01-18`, 'admin');
    expect(noDevices.status).toBe(404);
    expect(await json(noDevices)).toEqual(notFound(OUTSIDE_UAI));
    const editor = await get(`uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`, 'editor');
    expect(editor.status).toBe(403);
    expect((await json(editor)).errors[0].code).toBe('forbidden');
    const anonymous = await app.request(`/api/savings?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`);
    expect(anonymous.status).toBe(401);
  });
});
