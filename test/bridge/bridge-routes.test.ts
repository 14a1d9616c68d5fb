/**
 * `/api/overrides` and `/api/etablissements/{uai}/plan` through `app.request()`, the real
 * Authenticator and bearer check, a real store on every backend and the real planning service.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { bridgeRoutes } from '../../src/bridge/bridge-routes.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { ManualClock } from '../../src/domain/clock.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  NO_DATA_UAI,
  OUTSIDE_UAI,
} from './bridge-fixtures.js';

const backends: StoreBackend[] = await storeBackends();
// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;

describe.each(backends)('bridge API on $name', (backend) => {
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: Hono<AuthEnv>;
  let planning: PlanningService;
  let overrides: OverridesService;

  beforeAll(async () => {
    store = await backend.open();
    overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning.nextChange(...args),
    });
    planning = new PlanningService({
      site,
      calendars,
      occupancy: fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) }),
      // Other weeks, as SORTIE would answer them.
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
    });
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      bridgeRoutes({
        overrides,
        planning,
        clock,
        timezoneOf: (uai) => site.current.devices.get(uai)?.value.school.timezone,
      }),
    );
  });
  afterAll(() => backend.cleanup());

  const post = (body: unknown, who = 'manager') =>
    app.request('/api/overrides', {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...clients.bearer(who) },
    });
  const get = (path: string, who = 'manager') => app.request(path, { headers: clients.bearer(who) });
  const del = (id: string, who = 'manager') =>
    app.request(`/api/overrides/${id}`, { method: 'DELETE', headers: clients.bearer(who) });
  const json = async (res: Response): Promise<Json> => res.json();
  const valid = {
    uai: DEMO_UAI,
    zone: 'cdi',
    function: 'heating',
    mode: 'comfort',
    setpoint_c: 19,
    until: '2026-01-12T20:00:00+01:00',
    reason: 'Réunion parents-professeurs',
  };

  let createdId = '';

  it('POST creates an override (201) with author, expiry and its location', async () => {
    const res = await post(valid);
    expect(res.status).toBe(201);
    const body = await json(res);
    createdId = body.id;
    expect(res.headers.get('Location')).toBe(`/api/overrides/${createdId}`);
    expect(body).toEqual({
      id: createdId,
      uai: DEMO_UAI,
      zone: 'cdi',
      function: 'heating',
      mode: 'comfort',
      setpoint_c: 19,
      from: '2026-01-12T17:30:00.000Z',
      until: '2026-01-12T19:00:00.000Z',
      requested: { until: '2026-01-12T20:00:00+01:00' },
      requested_until: '2026-01-12T19:00:00.000Z',
      author: 'manager',
      reason: 'Réunion parents-professeurs',
      created_at: '2026-01-12T17:30:00.000Z',
      status: 'active',
      shadowed_by: [],
    });
  });

  it('refuses malformed bodies with 400 naming the field', async () => {
    const cases: Array<[unknown, string, string]> = [
      ['{"uai": ', 'json-malformed', 'body'],
      [{ ...valid, reason: undefined }, 'field-missing', '$.reason'],
      [{ ...valid, colour: 'red' }, 'field-unknown', '$.colour'],
      [{ ...valid, until: undefined }, 'end-missing', '$.until'],
      [{ ...valid, duration: 'PT1H' }, 'end-ambiguous', '$.duration'],
      [{ ...valid, until: undefined, duration: 'two hours' }, 'bad-duration', '$.duration'],
      [{ ...valid, until: undefined, duration: true }, 'field-invalid-union', '$.duration'],
      [{ ...valid, until: '2026-01-12 20:00' }, 'invalid-date', '$.until'],
      [{ ...valid, until: '9999-12-31T00:00:00Z' }, 'date-out-of-range', '$.until'],
      [{ ...valid, function: 'cooling' }, 'field-invalid-value', '$.function'],
      [{ ...valid, uai: '0670999Y' }, 'bad-uai', '$.uai'],
    ];
    for (const [body, code, where] of cases) {
      const res = await post(body);
      const errors = (await json(res)).errors;
      expect([JSON.stringify(body), res.status, errors.map((e: Json) => [e.code, e.where])]).toEqual([
        JSON.stringify(body),
        400,
        [[code, where]],
      ]);
    }
  });

  it('refuses overrides that break a rule with 422 naming the field', async () => {
    const cases: Array<[unknown, string, string, RegExp]> = [
      [
        { ...valid, setpoint_c: 20 },
        'setpoint-above-legal-cap',
        '$.setpoint_c',
        /20 °C is above the legal cap of 19 °C \(Code de l'énergie R241-26\)/,
      ],
      [
        { ...valid, until: undefined, duration: 'P15D' },
        'override-too-long',
        '$.duration',
        /at most 14 days/,
      ],
      [{ ...valid, until: '2026-01-27T17:30:00.001Z' }, 'override-too-long', '$.until', /at most 14 days/],
      [{ ...valid, until: '2026-01-12T17:00:00Z' }, 'until-not-future', '$.until', /not after now/],
      [
        { ...valid, mode: 'on', setpoint_c: undefined },
        'field-invalid',
        '$.mode',
        /mode must be one of comfort, comfort_1, comfort_2, eco, frost, off for heating/,
      ],
      [
        { ...valid, function: 'ventilation', mode: 'on', setpoint_c: undefined },
        'function-not-in-zone',
        '$.function',
        /zone cdi has no ventilation/,
      ],
      [
        { ...valid, function: 'lighting', mode: 'on' },
        'setpoint-not-applicable',
        '$.setpoint_c',
        /lighting takes no setpoint/,
      ],
    ];
    for (const [body, code, where, message] of cases) {
      const res = await post(body);
      const errors = (await json(res)).errors;
      expect([JSON.stringify(body), res.status, errors.map((e: Json) => [e.code, e.where])]).toEqual([
        JSON.stringify(body),
        422,
        [[code, where]],
      ]);
      expect(errors[0].message).toMatch(message);
    }
    // Exactly 14 days is allowed.
    const res = await post({ ...valid, until: '2026-01-26T17:30:00Z' });
    expect(res.status).toBe(201);
    expect((await del((await json(res)).id)).status).toBe(200);
  });

  it('answers 404 for a school outside the caller’s list or an unknown zone, 403 for other roles', async () => {
    const outside = await post({ ...valid, uai: OUTSIDE_UAI });
    expect([outside.status, (await json(outside)).errors]).toEqual([
      404,
      [{ code: 'not-found', message: `establishment ${OUTSIDE_UAI} not found`, where: '$.uai' }],
    ]);
    const otherManager = await post(valid, 'other-manager');
    expect(otherManager.status).toBe(404);
    const zone = await post({ ...valid, zone: 'piscine' });
    expect([zone.status, (await json(zone)).errors]).toEqual([
      404,
      [{ code: 'not-found', message: `zone piscine of ${DEMO_UAI} not found`, where: '$.zone' }],
    ]);
    // In the client's list but no devices file: nothing to override either.
    const adminUnknown = await post({ ...valid, uai: OUTSIDE_UAI }, 'admin');
    expect(adminUnknown.status).toBe(404);
    expect((await post(valid, 'auditor')).status).toBe(403);
    expect(
      (await app.request('/api/overrides', { method: 'POST', body: JSON.stringify(valid) })).status,
    ).toBe(401);
  });

  it('GET lists the caller’s overrides, filters active ones, and hides others’', async () => {
    const list = await json(await get('/api/overrides'));
    // This one and the 14-day one created (and cancelled) by the 422 test at the same instant.
    expect(list.overrides.map((o: Json) => o.status).sort()).toEqual(['active', 'cancelled']);
    expect(list.overrides.find((o: Json) => o.status === 'active').id).toBe(createdId);
    expect(
      (await json(await get(`/api/overrides?uai=${DEMO_UAI}&active=true`))).overrides.map((o: Json) => o.id),
    ).toEqual([createdId]);
    expect(
      (await json(await get(`/api/overrides?active=false`))).overrides.map((o: Json) => o.status),
    ).toEqual(['cancelled']);
    expect((await json(await get('/api/overrides', 'auditor'))).overrides).toHaveLength(2);
    expect((await json(await get('/api/overrides', 'other-manager'))).overrides).toEqual([]);
    expect((await get(`/api/overrides?uai=${DEMO_UAI}`, 'other-manager')).status).toBe(404);
    const bad = await get('/api/overrides?active=maybe');
    expect([bad.status, (await json(bad)).errors[0].where]).toEqual([400, 'active (query)']);
    expect((await json(await get(`/api/overrides/${createdId}`))).id).toBe(createdId);
    expect((await get(`/api/overrides/${createdId}`, 'other-manager')).status).toBe(404);
    expect((await get('/api/overrides/unknown')).status).toBe(404);
  });

  it('DELETE ends an override now and records who; a second DELETE is 409', async () => {
    expect((await del(createdId, 'other-manager')).status).toBe(404);
    expect((await del(createdId, 'auditor')).status).toBe(403);
    clock.set('2026-01-12T18:00:00Z');
    const res = await del(createdId);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: createdId,
      status: 'cancelled',
      until: '2026-01-12T18:00:00.000Z',
      cancelled_at: '2026-01-12T18:00:00.000Z',
      cancelled_by: 'manager',
    });
    const again = await del(createdId);
    expect([again.status, (await json(again)).errors[0].code]).toEqual([409, 'override-ended']);
    expect((await overrides.events({ overrideId: createdId })).map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'manager'],
      ['cancelled', 'manager'],
    ]);
  });

  it('GET plan: the day of each zone, midnight to midnight local, with reasons; a fallback school is flagged', async () => {
    const res = await get(`/api/etablissements/${NO_DATA_UAI}/plan?date=2026-01-13`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      uai: NO_DATA_UAI,
      date: '2026-01-13',
      days: 1,
      timezone: 'Europe/Paris',
      rules_version: expect.stringMatching(/^2026\.1\+[0-9a-f]{12}$/),
      timetable_version: null,
      fallback: true,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      zones: [
        {
          zone: 'salles',
          name: 'Salles de cours',
          segments: [
            {
              from: '2026-01-12T23:00:00Z',
              to: '2026-01-13T06:00:00Z',
              function: 'heating',
              mode: 'eco',
              setpoint_c: 16,
              reason: {
                kind: 'short-gap',
                rule: 'defaults.heating.unoccupied_under_24h',
                basis:
                  'local decision: 16 °C for gaps under 24 h (plan de sobriété 2022, 16 °C at night; docs/regulation.md, Control practice)',
                gap_hours: 13,
              },
            },
            {
              from: '2026-01-13T06:00:00Z',
              to: '2026-01-13T17:00:00Z',
              function: 'heating',
              mode: 'comfort',
              setpoint_c: 19,
              reason: {
                kind: 'fallback',
                rule: 'fallback_week',
                temperature_rule: 'defaults.heating.occupied',
                basis:
                  'local decision: conservative week while no timetable was ever received (docs/regulation.md, Control practice)',
              },
            },
            {
              from: '2026-01-13T17:00:00Z',
              to: '2026-01-13T23:00:00Z',
              function: 'heating',
              mode: 'eco',
              setpoint_c: 16,
              reason: {
                kind: 'short-gap',
                rule: 'defaults.heating.unoccupied_under_24h',
                basis:
                  'local decision: 16 °C for gaps under 24 h (plan de sobriété 2022, 16 °C at night; docs/regulation.md, Control practice)',
                gap_hours: 13,
              },
            },
            expect.objectContaining({
              from: '2026-01-12T23:00:00Z',
              to: '2026-01-13T06:00:00Z',
              function: 'lighting',
              mode: 'off',
            }),
            expect.objectContaining({
              from: '2026-01-13T06:00:00Z',
              to: '2026-01-13T17:00:00Z',
              function: 'lighting',
              mode: 'on',
            }),
            expect.objectContaining({
              from: '2026-01-13T17:00:00Z',
              to: '2026-01-13T23:00:00Z',
              function: 'lighting',
              mode: 'off',
            }),
          ],
        },
      ],
    });
  });

  it('GET plan of a DST day covers 23 hours, from occupancy loaded for those dates', async () => {
    const res = await get(`/api/etablissements/${DEMO_UAI}/plan?date=2026-03-30&days=1`, 'auditor');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect([body.timetable_version, body.fallback]).toEqual([1, false]);
    for (const zone of body.zones) {
      const heating = zone.segments.filter((s: Json) => s.function === 'heating');
      expect([zone.zone, heating[0].from, heating.at(-1).to]).toEqual([
        zone.zone,
        '2026-03-29T22:00:00Z',
        '2026-03-30T22:00:00Z',
      ]);
    }
    const sunday = await json(await get(`/api/etablissements/${DEMO_UAI}/plan?date=2026-03-29`));
    const cdi = sunday.zones
      .find((z: Json) => z.zone === 'cdi')
      .segments.filter((s: Json) => s.function === 'heating');
    // Sunday 29 March: 00:00 CET is 23:00Z, 24:00 CEST is 22:00Z; the CDI has no Saturday lessons,
    // so the whole day is in the ≥ 48 h gap from Friday 15:25 to Monday's preheat at 07:00.
    expect(cdi).toEqual([
      {
        from: '2026-03-28T23:00:00Z',
        to: '2026-03-29T22:00:00Z',
        function: 'heating',
        mode: 'frost',
        setpoint_c: 8,
        reason: {
          kind: 'holiday',
          rule: 'defaults.heating.unoccupied_48h_or_more',
          basis: "Code de l'énergie R241-27: 8 °C when unoccupied 48 h or more",
          gap_hours: 62.58,
        },
      },
    ]);
  });

  it('GET plan refuses bad dates (400) and hides schools outside the list (404)', async () => {
    const cases: Array<[string, string, number, string, string]> = [
      [`/api/etablissements/${DEMO_UAI}/plan?date=2026-02-30`, 'manager', 400, 'invalid-date', 'date'],
      // Each answered 500 before issue 13.
      [`/api/etablissements/${DEMO_UAI}/plan?date=0020-02-29`, 'manager', 400, 'date-out-of-range', 'date'],
      [`/api/etablissements/${DEMO_UAI}/plan?date=0000-01-01`, 'manager', 400, 'date-out-of-range', 'date'],
      [`/api/etablissements/${DEMO_UAI}/plan?date=9999-12-31`, 'manager', 400, 'date-out-of-range', 'date'],
      [
        `/api/etablissements/${DEMO_UAI}/plan?date=2026-01-13&days=0`,
        'manager',
        400,
        'bad-days',
        'days (query)',
      ],
      [
        `/api/etablissements/${DEMO_UAI}/plan?date=2026-01-13&days=x`,
        'manager',
        400,
        'bad-days',
        'days (query)',
      ],
      [
        `/api/etablissements/${DEMO_UAI}/plan?date=2026-01-13`,
        'other-manager',
        404,
        'not-found',
        'uai (path)',
      ],
      [`/api/etablissements/${OUTSIDE_UAI}/plan?date=2026-01-13`, 'admin', 404, 'not-found', 'uai (path)'],
      [`/api/etablissements/0670999Y/plan?date=2026-01-13`, 'manager', 400, 'bad-uai', 'uai (path)'],
      [
        `/api/etablissements/${DEMO_UAI}/plan?date=2026-01-13&days=32`,
        'manager',
        400,
        'bad-days',
        'days (query)',
      ],
      // A query parameter is named as one (issue 14: this said `uai (path)`).
      ['/api/overrides?uai=0670999Y', 'manager', 400, 'bad-uai', 'uai (query)'],
      ['/api/overrides?active=maybe', 'manager', 400, 'bad-active', 'active (query)'],
      [`/api/overrides?uai=${OUTSIDE_UAI}`, 'manager', 404, 'not-found', 'uai (query)'],
    ];
    for (const [path, who, status, code, where] of cases) {
      const res = await get(path, who);
      expect([path, res.status, (await json(res)).errors.map((e: Json) => [e.code, e.where])]).toEqual([
        path,
        status,
        [[code, where]],
      ]);
    }
    expect((await get(`/api/etablissements/${DEMO_UAI}/plan?date=2026-01-13`, 'editor')).status).toBe(403);
  });
});
