/**
 * The school page's optimum-start table (issue 17, docs/optimum-start.md "Dashboard"), through the
 * real hono app, a real store and a real PlanningService planning with a learned snapshot: per
 * heated zone, the preheat of the next occupancy start (learned, or fixed with its reason), what it
 * was learned from, and the week's preheats as the plan has them now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import type { SchoolSyncStatus } from '../../src/bridge/sync.js';
import { ManualClock } from '../../src/domain/clock.js';
import { optimumStartSnapshot } from '../../src/rules/optimum-start.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { bridgeClients, copySite, DEMO_UAI, fixedOccupancy, heldDemo } from '../bridge/bridge-fixtures.js';
import { storeBackends } from '../store/backends.js';

const backend = (await storeBackends())[0]!;

const syncStatus = (uai: string): SchoolSyncStatus => ({
  uai,
  state: 'ok',
  stale: false,
  fallback: false,
  version: 1,
  range: null,
  fetched_at: null,
  last_success_at: null,
  age_hours: 1,
  last_error: null,
});

describe('school page: optimum start per zone', () => {
  // Monday 12 January 2026, 18:30 in Strasbourg.
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder({ ...files, baseDir: files.dir });
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  // The CDI learned from 7 starts (g 3 K/h, τ 12 h); the gym from 2 only (fixed preheat).
  const snapshot = optimumStartSnapshot(
    Date.parse('2026-01-12T17:00:00Z'),
    { source: 'sensor', c: 2, at: '2026-01-12T17:00:00.000Z' },
    {
      cdi: {
        starts: 7,
        cool_downs: 9,
        heat_gain_k_per_h: 3,
        time_constant_h: 12,
        last_sample_at: '2026-01-12T16:55:00.000Z',
      },
      gymnase: {
        starts: 2,
        cool_downs: 3,
        heat_gain_k_per_h: 1.5,
        time_constant_h: 30,
        last_sample_at: '2026-01-12T16:55:00.000Z',
      },
    },
  );
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
    planning = new PlanningService({
      site,
      calendars,
      occupancy: fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) }),
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
      optimumStart: async () => snapshot,
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
        occupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
        syncStatus,
        gateways: () => [],
        timetable: async () => null,
        overrides,
      },
    });
  });
  afterAll(() => backend.cleanup());

  const get = (path: string) =>
    app.request(`http://localhost/tableau-de-bord${path}`, {
      headers: { Accept: 'text/html', ...clients.bearer('auditor') },
    });

  it('shows the learned preheat of the next start, the fallback and its reason, and the week', async () => {
    const res = await get(`/${DEMO_UAI}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<h2 id="prechauffage-titre">Préchauffage optimisé</h2>');
    const rows = new Map(
      [...text.matchAll(/<tr data-prechauffage="([^"]+)">(.*?)<\/tr>/g)].map((m) => [
        m[1],
        [...(m[2] ?? '').replace(/<svg.*?<\/svg>/, '').matchAll(/<t[hd][^>]*>([^<]*)<\/t[hd]>/g)].map(
          (c) => c[1],
        ),
      ]),
    );
    // Learned: outdoor 2 °C, T_eq = 2 + 3 × 12 = 38 °C; from the 16 °C setback (the night's free
    // fall from 19 °C ends below it) to 19 °C takes 12 × ln(22/19) = 1.760 h; × 1.1 + 5 min =
    // 121.2 min, rounded up to 122. Monday follows a weekend with no comfort before it: from the
    // setback of the weekend, capped at 180 min.
    expect(rows.get('cdi')).toEqual([
      'CDI',
      '13/01/2026 08:00',
      '122 min',
      'Optimisé (appris)',
      '7',
      '3 K/h / 12 h',
      'lun. 12/01 08:00 : 180 min ; mar. 13/01 08:00 : 122 min ; mer. 14/01 08:00 : 122 min ; jeu. 15/01 08:00 : 122 min ; ven. 16/01 08:00 : 122 min',
    ]);
    // The same week as a line: 180 min at the top (y 2), 122 min at 22 − 122/180 × 20 = 8.4.
    expect(text).toContain('<tr data-prechauffage="cdi">');
    expect(/<tr data-prechauffage="cdi">.*?(<svg.*?<\/svg>)/.exec(text)?.[1]).toBe(
      '<svg class="etincelle" width="120" height="24" viewBox="0 0 120 24" aria-hidden="true" focusable="false"><polyline points="0,2 30,8.4 60,8.4 90,8.4 120,8.4" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>',
    );
    // Two starts learned: the rules' fixed 60 min, and why.
    expect(rows.get('gymnase')).toEqual([
      'Gymnase',
      '13/01/2026 08:00',
      '60 min',
      'Fixe : trop peu de relances apprises',
      '2',
      '—',
      'lun. 12/01 08:00 : 60 min ; mar. 13/01 08:00 : 60 min ; mer. 14/01 08:00 : 60 min ; jeu. 15/01 08:00 : 60 min ; ven. 16/01 08:00 : 60 min',
    ]);
    // Not in the snapshot at all: the zone's own fixed lead (120 min, underfloor heating).
    expect(rows.get('amphi')).toEqual([
      'Amphithéâtre',
      '13/01/2026 10:10',
      '120 min',
      'Fixe : trop peu de relances apprises',
      '0',
      '—',
      'mar. 13/01 10:10 : 120 min',
    ]);
    expect([...rows.keys()]).toEqual([
      'batiment-b-est',
      'batiment-b-ouest',
      'batiment-c',
      'laboratoires',
      'atelier',
      'gymnase',
      'cdi',
      'amphi',
    ]);
  });
});
