/**
 * `GET /api/comfort` and `GET /api/telemetry/hourly` through `app.request()`, the real
 * Authenticator and bearer check, the demo lycée's devices (repository copy) and a real store on
 * both engines. The plan is a small hand-made one for the `atelier` zone so the figures can be
 * worked out by hand: Monday 7 December 2026, occupied 08:00–10:00 and 13:00–14:00 UTC, target
 * 19 °C 07:00–15:00 and 16 °C otherwise.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import { ManualClock } from '../../src/domain/clock.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import type { TelemetrySample } from '../../src/store/telemetry-repository.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import { comfortRoutes } from '../../src/telemetry/comfort-routes.js';
import { aggregateSchool } from '../../src/telemetry/hourly-aggregation.js';
import type { PlanFor } from '../../src/telemetry/plan-window.js';
import { bridgeClients, copySite, DEMO_UAI, NO_DATA_UAI, OUTSIDE_UAI } from '../bridge/bridge-fixtures.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted whole.
type Json = any;

const at = (hhmm: string, day = '2026-12-07') => Date.parse(`${day}T${hhmm}:00.000Z`);
const DAY_START = at('23:00', '2026-12-06'); // local midnight, Europe/Paris (UTC+1)
const DAY_END = at('23:00');

/** The stub planner: the same hand-made day for any date asked (only the 7th is reported on). */
const planFor: PlanFor = async () => ({
  plan: {
    uai: DEMO_UAI,
    zones: [
      {
        zone: 'atelier',
        name: 'Atelier',
        functions: {
          heating: [
            { from: DAY_START - 86_400_000, to: at('07:00'), setpoint_c: 16 },
            { from: at('07:00'), to: at('15:00'), setpoint_c: 19 },
            { from: at('15:00'), to: DAY_END + 86_400_000, setpoint_c: 16 },
          ],
        },
        occupied: [
          { start: at('08:00'), end: at('10:00') },
          { start: at('13:00'), end: at('14:00') },
        ],
      },
    ],
  } as unknown as SchoolPlan,
});

function sample(hhmm: string, measured: number): TelemetrySample {
  return {
    uai: DEMO_UAI,
    zone: 'atelier',
    function: 'heating',
    ts: at(hhmm),
    receivedAt: at(hhmm),
    measured_c: measured,
    mode: 'comfort',
    setpoint_c: 19,
    applied_rev: 3,
    source: 'bridge',
    flag: null,
  };
}

/**
 * Pieces (15 min hold): 17.0 07:55–08:10 (occupied 10, cold) · 18.5 08:10–08:25 (15) · unmeasured
 * 08:25–09:00 (35) · 20.5 09:00–09:15 (15, overheated: > 19 + 1) · unmeasured 09:15–10:00 (45) ·
 * 19.0 13:00–13:15 (15) · unmeasured 13:15–14:00 (45). Occupied 180, measured 55, unmeasured 125.
 * Starts 08:00 (17.0 < 19 − 1: cold) and 13:00 (19.0). Mean over the measured time: the four
 * values held 15 minutes each, (17 + 18.5 + 20.5 + 19) / 4.
 */
const ATELIER = {
  zone: 'atelier',
  name: 'Atelier',
  occupied_minutes: 180,
  measured_minutes: 55,
  cold_minutes: 10,
  overheated_minutes: 15,
  unmeasured_minutes: 125,
  starts: 2,
  cold_starts: 1,
  min_c: 17,
  mean_c: 18.75,
  max_c: 20.5,
  occupancy_starts: [
    { at: '2026-12-07T08:00:00.000Z', target_c: 19, measured_c: 17, cold: true },
    { at: '2026-12-07T13:00:00.000Z', target_c: 19, measured_c: 19, cold: false },
  ],
};

const bodyOf = (aggregatedUntil: string | null, zones: Json[]) => ({
  uai: DEMO_UAI,
  name: 'Lycée des Tilleuls (démonstration)',
  from: '2026-12-07',
  to: '2026-12-07',
  timezone: 'Europe/Paris',
  function: 'heating',
  definitions: {
    hold_minutes: 15,
    cold_tolerance_c: 1,
    overheat_tolerance_c: 1,
    overheat_cap_c: 19,
    start_after_unoccupied_minutes: 30,
  },
  computed_until: '2026-12-07T23:00:00.000Z',
  aggregated_until: aggregatedUntil,
  zones,
});

const backends = await storeBackends();

describe.each(backends)('comfort routes ($name)', (backend: StoreBackend) => {
  const clock = new ManualClock(at('12:00', '2026-12-08'));
  const clients = bridgeClients(clock);
  const site = new SiteHolder(copySite());
  let store: Store;
  let app: Hono<AuthEnv>;

  beforeAll(async () => {
    store = await backend.open();
    await store.telemetry.writeBatch([
      sample('07:55', 17.0),
      sample('08:10', 18.5),
      sample('09:00', 20.5),
      sample('13:00', 19.0),
    ]);
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      comfortRoutes({
        repository: store.telemetry,
        planFor,
        devicesOf: (uai) => site.current.devices.get(uai),
        settings: DEFAULT_COMFORT_SETTINGS,
        clock,
      }),
    );
  });
  afterAll(() => backend.cleanup());

  const get = (path: string, who?: string) =>
    app.request(path, { headers: who === undefined ? {} : clients.bearer(who) });
  const day = `uai=${DEMO_UAI}&from=2026-12-07&to=2026-12-07`;

  it('the exact JSON of the day, from raw samples and the plan', async () => {
    const res = await get(`/api/comfort?${day}&zone=atelier`, 'manager');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(bodyOf(null, [ATELIER]));
    // Without `zone`: every heated zone of devices/, in its order; unplanned ones count nothing.
    const all: Json = await (await get(`/api/comfort?${day}`, 'auditor')).json();
    expect(all.zones.map((z: Json) => z.zone)).toEqual([
      'batiment-b-est',
      'batiment-b-ouest',
      'batiment-c',
      'laboratoires',
      'atelier',
      'gymnase',
      'cdi',
      'amphi',
    ]);
    expect(all.zones[4]).toEqual(ATELIER);
    expect(all.zones[0]).toMatchObject({ occupied_minutes: 0, starts: 0, min_c: null, occupancy_starts: [] });
  });

  it('roles: manager and auditor (and admin) read; editor and consumers are refused 403; no token 401', async () => {
    for (const path of [`/api/comfort?${day}`, `/api/telemetry/hourly?${day}`]) {
      const statuses = await Promise.all(
        ['manager', 'auditor', 'admin', 'editor', 'bridge', undefined].map(
          async (who) => (await get(path, who)).status,
        ),
      );
      expect(statuses).toEqual([200, 200, 200, 403, 403, 401]);
      const refused: Json = await (await get(path, 'editor')).json();
      expect(refused.errors[0].code).toBe('forbidden');
    }
  });

  it('UAI scope: a school outside the caller’s list is 404 (as if it did not exist), so is an unknown one', async () => {
    for (const path of ['/api/comfort', '/api/telemetry/hourly']) {
      const other = await get(`${path}?${day}`, 'other-manager');
      expect(other.status).toBe(404);
      expect(await other.json()).toEqual({
        errors: [{ code: 'not-found', message: `establishment ${DEMO_UAI} not found`, where: 'uai (query)' }],
      });
      const auditorElsewhere = await get(
        `${path}?uai=${NO_DATA_UAI}&from=2026-12-07&to=2026-12-07`,
        'auditor',
      );
      expect(auditorElsewhere.status).toBe(404);
      const unknown = await get(`${path}?uai=${OUTSIDE_UAI}&from=2026-12-07&to=2026-12-07`, 'admin');
      expect(unknown.status).toBe(404);
    }
  });

  it('400 naming the parameter: a malformed date, a missing one, a reversed or too long period', async () => {
    const problem = async (query: string, path = '/api/comfort') => {
      const res = await get(`${path}?${query}`, 'manager');
      const body: Json = await res.json();
      return [res.status, body.errors.map((e: Json) => e.where)];
    };
    for (const path of ['/api/comfort', '/api/telemetry/hourly']) {
      expect(await problem(`uai=${DEMO_UAI}&from=2026-12-32&to=2026-12-07`, path)).toEqual([400, ['from']]);
      expect(await problem(`uai=${DEMO_UAI}&from=2026-12-07&to=07/12/2026`, path)).toEqual([400, ['to']]);
      expect(await problem(`uai=${DEMO_UAI}&to=2026-12-07`, path)).toEqual([400, ['from']]);
      expect(await problem(`uai=${DEMO_UAI}&from=2026-12-07&to=2026-12-06`, path)).toEqual([400, ['to']]);
      expect(await problem(`uai=${DEMO_UAI}&from=2025-01-01&to=2026-12-07`, path)).toEqual([400, ['to']]);
      expect(await problem(`from=2026-12-07&to=2026-12-07`, path)).toEqual([400, ['uai (query)']]);
      expect(await problem(`${day}&zone=nowhere`, path)).toEqual([422, ['zone (query)']]);
    }
    expect(await problem(`${day}&format=xml`)).toEqual([400, ['format (query)']]);
  });

  it('comfort CSV: UTF-8 BOM, ";", decimal comma, CRLF, one line per zone', async () => {
    const res = await get(`/api/comfort?${day}&zone=atelier&format=csv`, 'auditor');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="confort-${DEMO_UAI}-2026-12-07-2026-12-07.csv"`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe(
      '\uFEFFzone;name;occupied_minutes;measured_minutes;cold_minutes;overheated_minutes;unmeasured_minutes;starts;cold_starts;min_c;mean_c;max_c\r\n' +
        'atelier;Atelier;180,00;55,00;10,00;15,00;125,00;2;1;17,00;18,75;20,50\r\n',
    );
  });

  it('after the hourly aggregation: the same figures from the stored hours, and the hourly CSV', async () => {
    const devices = site.current.devices.get(DEMO_UAI)!;
    await aggregateSchool(
      { repository: store.telemetry, planFor, settings: DEFAULT_COMFORT_SETTINGS },
      { uai: DEMO_UAI, timezone: 'Europe/Paris', zones: devices.value.zones },
      DAY_START,
      DAY_END,
    );
    const res = await get(`/api/comfort?${day}&zone=atelier`, 'manager');
    expect(await res.json()).toEqual(bodyOf('2026-12-07T23:00:00.000Z', [ATELIER]));

    const csv = await get(`/api/telemetry/hourly?${day}&zone=atelier`, 'manager');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="telemetrie-horaire-${DEMO_UAI}-2026-12-07-2026-12-07.csv"`,
    );
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await csv.arrayBuffer());
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(1).split('\r\n').slice(0, -1);
    // The zone's every function is aggregated (lighting, ventilation too); heating: 24 hours.
    expect(lines[0]).toBe(
      'zone;function;hour;samples;flagged;min_c;mean_c;max_c;occupied_minutes;measured_minutes;cold_minutes;overheated_minutes;unmeasured_minutes;starts;cold_starts',
    );
    const heating = lines.filter((l) => l.startsWith('atelier;heating;'));
    expect(heating).toHaveLength(24);
    expect(heating.find((l) => l.includes('T07:00'))).toBe(
      'atelier;heating;2026-12-07T07:00:00.000Z;1;0;17,00;17,00;17,00;0,00;0,00;0,00;0,00;0,00;0;0',
    );
    // 08:00–09:00: 17.0 for 10 min (cold), 18.5 for 15, then 35 unmeasured; mean (170 + 277.5) / 25.
    expect(heating.find((l) => l.includes('T08:00'))).toBe(
      'atelier;heating;2026-12-07T08:00:00.000Z;1;0;17,00;17,90;18,50;60,00;25,00;10,00;0,00;35,00;1;1',
    );
    expect(heating.find((l) => l.includes('T12:00'))).toBe(
      'atelier;heating;2026-12-07T12:00:00.000Z;0;0;;;;0,00;0,00;0,00;0,00;0,00;0;0',
    );
  });
});
