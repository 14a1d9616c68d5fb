/**
 * The dashboard's comfort routes through the real hono app (`createHttpApp` with a `dashboard`
 * dep and its telemetry) on a real store, the real PlanningService over the demo lycée: who may
 * read, 404 for a school outside the caller's list, the period's errors (French page, or the
 * problem body for a CSV), and the CSV exports' shape. Chromium covers the pages' use
 * (comfort.browser.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import type { SchoolSyncStatus } from '../../src/bridge/sync.js';
import { comfortOf } from '../../src/dashboard/dashboard-state.js';
import { ManualClock } from '../../src/domain/clock.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  OUTSIDE_UAI,
} from '../bridge/bridge-fixtures.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();
const BASE = 'http://localhost/tableau-de-bord';

const syncStatus = (uai: string): SchoolSyncStatus =>
  ({
    uai,
    state: 'ok',
    stale: false,
    fallback: false,
    version: 1,
    range: null,
    fetched_at: null,
    last_success_at: null,
    age_hours: 0,
    last_error: null,
  }) as unknown as SchoolSyncStatus;

describe.each(backends)('dashboard comfort routes on $name', (backend) => {
  // Wednesday 14 January 2026, 18:30 in Strasbourg.
  const clock = new ManualClock(Date.parse('2026-01-14T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder({ ...files, baseDir: files.dir });
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;
  let planningService: PlanningService;
  /** Every plan the dashboard asked for: `date days`. */
  const planned: string[] = [];

  beforeAll(async () => {
    store = await backend.open();
    let planning: PlanningService | undefined;
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning?.nextChange(...args) ?? null,
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
    const plans = planning;
    planningService = planning;
    // Monday 12 January: the B101–B103 circuit at 17 °C all day, a report every 5 minutes.
    const samples = [];
    for (let ts = Date.parse('2026-01-11T23:00:00Z'); ts < Date.parse('2026-01-12T23:00:00Z'); ts += 300_000)
      samples.push({
        uai: DEMO_UAI,
        zone: 'batiment-b-est',
        function: 'heating',
        ts,
        receivedAt: ts,
        measured_c: 17,
        mode: 'comfort',
        setpoint_c: 19,
        applied_rev: 1,
        source: 'bridge',
        flag: null,
      });
    await store.telemetry.writeBatch(samples);
    app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: {
        clock,
        devices: () => site.current.devices,
        calendars,
        planFor: (uai, date, days) => {
          planned.push(`${date} ${days}`);
          return plans.planFor(uai, date, days);
        },
        occupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
        syncStatus,
        gateways: () => [],
        timetable: async () => null,
        overrides,
        telemetry: { repository: store.telemetry, settings: DEFAULT_COMFORT_SETTINGS },
      },
    });
  });
  afterAll(() => backend.cleanup());

  const get = (path: string, who?: string) =>
    app.request(`${BASE}${path}`, { headers: { Accept: 'text/html', ...(who ? clients.bearer(who) : {}) } });

  it('managers, auditors and admins read the comfort page and its CSV; other roles 403; foreign school 404', async () => {
    for (const path of [
      `/${DEMO_UAI}/confort`,
      `/${DEMO_UAI}/confort.csv`,
      `/${DEMO_UAI}/telemetrie-horaire.csv`,
    ]) {
      for (const who of ['manager', 'auditor', 'admin'])
        expect((await get(path, who)).status, `${path} ${who}`).toBe(200);
      expect((await get(path, 'editor')).status, path).toBe(403);
      expect((await get(path, 'bridge')).status, path).toBe(403);
      expect((await get(path.replace(DEMO_UAI, OUTSIDE_UAI), 'other-manager')).status, path).toBe(404);
      expect((await get(path, 'other-manager')).status, path).toBe(404);
    }
  });

  it('the period defaults to the current week; the table has the zone’s cold start linking to its day', async () => {
    const html = await (await get(`/${DEMO_UAI}/confort`, 'auditor')).text();
    expect(html).toContain('value="2026-01-12"');
    expect(html).toContain('value="2026-01-18"');
    expect(html).toContain(`href="/tableau-de-bord/${DEMO_UAI}?jour=2026-01-12#frises-batiment-b-est"`);
    expect(html).toContain(`href="/tableau-de-bord/${DEMO_UAI}/confort.csv?du=2026-01-12&amp;au=2026-01-18"`);
    // The school page carries the same table for the week shown.
    const school = await (await get(`/${DEMO_UAI}?jour=2026-01-12`, 'manager')).text();
    expect(school).toContain('Confort mesuré de la semaine');
    expect(school).toContain('Température mesurée : 17 °C pendant 24 h.');
  });

  it('a bad period: 400, in French next to the field; the CSV answers the problem body', async () => {
    const reversed = await get(`/${DEMO_UAI}/confort?du=2026-01-14&au=2026-01-12`, 'manager');
    expect(reversed.status).toBe(400);
    const text = await reversed.text();
    expect(text).toContain('<p class="erreur" id="au-erreur">au : le dernier jour précède le premier.</p>');
    expect(text).toContain('aria-invalid="true"');
    const malformed = await get(`/${DEMO_UAI}/confort?du=14/01/2026`, 'manager');
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('du : une date AAAA-MM-JJ est attendue.');
    const csv = await get(`/${DEMO_UAI}/confort.csv?du=2026-02-30&au=2026-03-01`, 'manager');
    expect(csv.status).toBe(400);
    const body = (await csv.json()) as { errors: { where: string }[] };
    expect(body.errors.map((e) => e.where)).toEqual(['du']);
  });

  it('the CSV exports: spreadsheet CSV with the file name of the school and period', async () => {
    const res = await get(`/${DEMO_UAI}/confort.csv?du=2026-01-12&au=2026-01-12`, 'auditor');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="confort-${DEMO_UAI}-2026-01-12-2026-01-12.csv"`,
    );
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
    const lines = text.split('\r\n');
    expect(lines[0]?.startsWith('\uFEFFzone;name;occupied_minutes;')).toBe(true);
    // 17 °C all day against 19 °C: every occupied minute of the circuit is cold.
    const est = lines.find((l) => l.startsWith('batiment-b-est;'))?.split(';');
    expect(est?.[2]).toBe(est?.[4]);
    expect(est?.[2]).not.toBe('0,00');
    expect(lines.at(-1)).toBe('');
  });

  it('the school page plans its week once: the timelines, the savings, the comfort table and alerts read it', async () => {
    planned.length = 0;
    const html = await (await get(`/${DEMO_UAI}`, 'manager')).text();
    expect(html).toContain('Confort mesuré de la semaine');
    expect(planned).toEqual(['2026-01-12 7']);
    // Another week: its plan, and today's for the state now; the comfort alerts (yesterday and
    // today) are not in it and plan their own days, unless a view of this minute kept them.
    planned.length = 0;
    await get(`/${DEMO_UAI}?jour=2026-01-05`, 'manager');
    expect(planned.filter((p) => p !== '2026-01-12 3')).toEqual(['2026-01-05 7', '2026-01-14 1']);
  });

  it('a comfort report read from the view’s plan is the report planned for itself', async () => {
    const devices = site.current.devices.get(DEMO_UAI)!;
    const known = await planningService.planFor(DEMO_UAI, '2026-01-12', 7);
    // A repository object per report: comfortOf keeps slow reports per repository and minute.
    const repository = () => {
      const t = store.telemetry;
      return {
        hourlySums: t.hourlySums.bind(t),
        monthlySums: t.monthlySums.bind(t),
        startsOf: t.startsOf.bind(t),
        progressOf: t.progressOf.bind(t),
        samplesOf: t.samplesOf.bind(t),
        hourlyOf: t.hourlyOf.bind(t),
      };
    };
    const asked: string[] = [];
    const depsOf = () => ({
      clock,
      telemetry: { repository: repository(), settings: DEFAULT_COMFORT_SETTINGS },
      planFor: (uai: string, date: string, days: number) => {
        asked.push(`${date} ${days}`);
        return planningService.planFor(uai, date, days);
      },
    });
    for (const [from, to, where] of [
      ['2026-01-12', '2026-01-18', { from: 'semaine', to: 'semaine' }],
      ['2026-01-13', '2026-01-14', { from: 'hier', to: 'aujourdhui' }],
    ] as const) {
      asked.length = 0;
      const alone = await comfortOf(depsOf(), devices, from, to, where);
      expect(asked.length).toBeGreaterThan(0);
      asked.length = 0;
      const read = await comfortOf(depsOf(), devices, from, to, where, known);
      expect(asked).toEqual([]);
      expect(read).toEqual(alone);
    }
    // The week's report has the cold starts of Monday's 17 °C.
    const week = await comfortOf(depsOf(), devices, '2026-01-12', '2026-01-18', undefined, known);
    expect(week?.zones.find((z) => z.zone === 'batiment-b-est')?.occupancy_starts.some((s) => s.cold)).toBe(
      true,
    );
    // Days the plan does not hold (Sunday 11 January) are planned as before.
    asked.length = 0;
    await comfortOf(depsOf(), devices, '2026-01-11', '2026-01-12', undefined, known);
    expect(asked).not.toEqual([]);
  });
});
