/**
 * The dashboard with a timetable of 100,000 lessons in one room at one slot (issue 13): its
 * overview (whose alerts run VUE's data-quality check on the timetable) and the school's page
 * (plans and timelines from the real calendar expansion of that timetable) answer 200. Before,
 * the overlap check enumerated every pair and the server froze, then failed with a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { type HeldOccupancy, PlanningService } from '../../src/bridge/planning.js';
import { expandOccupancy } from '../../src/calendar/index.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { schoolCalendars } from '../../src/scope/sortie/school-calendars.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { bridgeClients, copySite, DEMO_UAI } from '../bridge/bridge-fixtures.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();
const BASE = 'http://localhost/tableau-de-bord';

describe.each(backends)('dashboard with 100,000 overlapping lessons on $name', (backend) => {
  // Monday 12 January 2026, 18:30 in Strasbourg.
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder({ ...files, baseDir: files.dir });
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  const timetable = timetableSchema.parse(buildDemoTimetable(clock.now()));
  const cdiRoom = site.current.devices.get(DEMO_UAI)?.value.zones.find((z) => z.id === 'cdi')
    ?.rooms[0] as string;
  for (let i = 0; i < 100_000; i++) {
    timetable.lessons.push({
      id: `pile-${i}`,
      rooms: [timetable.rooms.find((r) => r.id === cdiRoom || r.name === cdiRoom)?.id ?? cdiRoom],
      day: 1,
      start: '08:00',
      end: '09:55',
      weeks: ['2026-01-12'],
    });
  }
  const calendar = schoolCalendars({ zone: 'B' }).calendarOf(DEMO_UAI, timetable.timezone);
  const held = (dates: { from: string; to: string }): HeldOccupancy => ({
    occupancy: expandOccupancy(timetable, 1, DEMO_UAI, calendar, dates),
    ...dates,
  });
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;

  beforeAll(async () => {
    store = await backend.open();
    let planning: PlanningService | undefined;
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning?.nextChange(...args) ?? null,
    });
    const range = held({ from: '2026-01-05', to: '2026-02-02' });
    planning = new PlanningService({
      site,
      calendars,
      occupancy: { occupancyFor: (uai) => (uai === DEMO_UAI ? range : null), onChange: () => () => {} },
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? held(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
    });
    const plans = planning;
    app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: {
        clock,
        devices: () => site.current.devices,
        calendars,
        planFor: (uai, date, days) => plans.planFor(uai, date, days),
        occupancy: async (uai, dates) => (uai === DEMO_UAI ? held(dates) : null),
        syncStatus: (uai) => ({
          uai,
          state: 'ok',
          stale: false,
          fallback: false,
          version: 1,
          range: null,
          fetched_at: null,
          last_success_at: null,
          age_hours: 0.1,
          last_error: null,
        }),
        gateways: () => [],
        timetable: async (uai) => (uai === DEMO_UAI ? timetable : null),
        overrides,
      },
    });
  });
  afterAll(() => backend.cleanup());

  const get = (path: string) =>
    app.request(`${BASE}${path}`, { headers: { Accept: 'text/html', ...clients.bearer('manager') } });

  it('answers the overview and the school page with 200', async () => {
    expect((await get('')).status).toBe(200);
    const school = await get(`/${DEMO_UAI}?jour=2026-01-12`);
    expect(school.status).toBe(200);
    const text = await school.text();
    // The pile is one occupied interval of the CDI's Monday timeline.
    expect(text).toMatch(/<desc id="frise-jour-cdi-desc">Occupée : 08:00–09:55[,.]/);
  });
});
