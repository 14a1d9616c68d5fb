/**
 * `GET /api/compliance` over a week of the demo lycée (12–18 January 2026) through `app.request()`,
 * the real bearer check, the real planning service over the repository's devices/ and rules/ (the
 * CDI at 20 °C under a governed exception), a real SQLite store holding two overrides (one
 * cancelled), a refused override, and the audit entries of a gateway that ignored rev 5 of the
 * `batiment-c` heating and applied rev 7 of the CDI at another setpoint. Checked field by field.
 */
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { complianceCsv } from '../../src/compliance/compliance-csv.js';
import { complianceRoutes } from '../../src/compliance/compliance-routes.js';
import { createComplianceService } from '../../src/compliance/compliance-service.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Segment } from '../../src/rules/segment.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  OUTSIDE_UAI,
} from '../bridge/bridge-fixtures.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';
import { CDI_EXCEPTION, rulesWithCdiException } from './compliance-fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;

const sqlite = (await storeBackends()).find((b) => b.name === 'sqlite') as StoreBackend;

const at = (iso: string) => Date.parse(iso);

describe('GET /api/compliance', () => {
  const clock = new ManualClock(at('2026-01-14T09:00:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  rulesWithCdiException(join(files.rulesDir, 'default.yaml'));
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  let store: Store;
  let app: Hono<AuthEnv>;
  let planning: PlanningService;
  let tournoi: string;
  let eclairage: string;

  beforeAll(async () => {
    store = await sqlite.open();
    const overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning.nextChange(...args),
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
    // Wednesday 14 January, 10:00 Paris: a tournament in the gym for 2 h.
    tournoi = (
      await overrides.create(
        {
          uai: DEMO_UAI,
          zone: 'gymnase',
          function: 'heating',
          mode: 'comfort',
          setpoint_c: 14,
          duration: 'PT2H',
          reason: 'Tournoi UNSS',
        },
        'manager',
      )
    ).id;
    // Lights of building C on for 3 h, cancelled after 1 h by the auditor's colleague.
    eclairage = (
      await overrides.create(
        {
          uai: DEMO_UAI,
          zone: 'batiment-c',
          function: 'lighting',
          mode: 'on',
          duration: 'PT3H',
          reason: 'Ménage',
        },
        'manager',
      )
    ).id;
    clock.advance(3_600_000);
    await overrides.cancel(eclairage, 'admin');

    const entry = (
      iso: string,
      kind: 'publish' | 'ack' | 'override',
      zone: string,
      actor: string,
      detail: object,
    ) => ({
      at: at(iso),
      kind,
      uai: DEMO_UAI,
      zone,
      actor,
      detail: detail as Record<string, unknown>,
    });
    await store.audit.append([
      // A refused 21 °C override (issue 21: refused actions are logged).
      entry('2026-01-13T08:00:00.000Z', 'override', 'cdi', 'manager', {
        event: 'refused',
        code: 'legal-cap-exceeded',
        refusal: '21 °C is above the legal cap of 19 °C',
      }),
      // batiment-c heating: rev 4 applied; rev 5 ignored (never reported); rev 6 applied within the lag.
      entry('2026-01-12T05:00:00.000Z', 'publish', 'batiment-c', 'bridge/a', {
        function: 'heating',
        rev: 4,
        mode: 'comfort',
        setpoint_c: 19,
      }),
      entry('2026-01-12T05:00:20.000Z', 'ack', 'batiment-c', 'gw-tilleuls', {
        function: 'heating',
        applied_rev: 4,
        mode: 'comfort',
        setpoint_c: 19,
      }),
      entry('2026-01-12T16:00:00.000Z', 'publish', 'batiment-c', 'bridge/a', {
        function: 'heating',
        rev: 5,
        mode: 'eco',
        setpoint_c: 16,
      }),
      entry('2026-01-13T05:00:00.000Z', 'publish', 'batiment-c', 'bridge/a', {
        function: 'heating',
        rev: 6,
        mode: 'comfort',
        setpoint_c: 19,
      }),
      entry('2026-01-13T05:01:00.000Z', 'ack', 'batiment-c', 'gw-tilleuls', {
        function: 'heating',
        applied_rev: 6,
        mode: 'comfort',
        setpoint_c: 19,
      }),
      // cdi heating: rev 7 reported applied, but at 22 °C instead of 20 °C (changed at the device).
      entry('2026-01-13T06:00:00.000Z', 'publish', 'cdi', 'bridge/a', {
        function: 'heating',
        rev: 7,
        mode: 'comfort',
        setpoint_c: 20,
      }),
      entry('2026-01-13T06:00:30.000Z', 'ack', 'cdi', 'gw-tilleuls', {
        function: 'heating',
        applied_rev: 7,
        mode: 'comfort',
        setpoint_c: 22,
      }),
      // Replaced within the lag by rev 9, which was applied: not a deviation.
      entry('2026-01-15T05:00:00.000Z', 'publish', 'cdi', 'bridge/a', {
        function: 'lighting',
        rev: 8,
        mode: 'on',
      }),
      entry('2026-01-15T05:02:00.000Z', 'publish', 'cdi', 'bridge/a', {
        function: 'lighting',
        rev: 9,
        mode: 'off',
      }),
      entry('2026-01-15T05:03:00.000Z', 'ack', 'cdi', 'gw-tilleuls', {
        function: 'lighting',
        applied_rev: 9,
        mode: 'off',
      }),
      // Sunday 23:58 Paris, inside the week, not judged yet at the report's instant: pending.
      entry('2026-01-18T22:58:00.000Z', 'publish', 'amphi', 'bridge/a', {
        function: 'heating',
        rev: 3,
        mode: 'eco',
        setpoint_c: 16,
      }),
      // The week after: outside the period.
      entry('2026-01-19T06:00:00.000Z', 'publish', 'amphi', 'bridge/a', {
        function: 'heating',
        rev: 4,
        mode: 'comfort',
        setpoint_c: 19,
      }),
    ]);
    // The report is made on Sunday 23:59 Paris: rev 3 of the amphi was published a minute ago.
    clock.set(at('2026-01-18T22:59:00.000Z'));
    app = new Hono<AuthEnv>();
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      complianceRoutes(
        createComplianceService({
          planFor: (uai, date, days) => planning.planFor(uai, date, days),
          devicesOf: (uai) => site.current.devices.get(uai),
          audit: store.audit,
          overrides: store.overrides,
          clock,
        }),
      ),
    );
  });
  afterAll(() => sqlite.cleanup());

  const get = (query: string, who = 'auditor') =>
    app.request(`/api/compliance?${query}`, { headers: clients.bearer(who) });
  const WEEK = `uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`;

  it('reports a week of the demo, field by field', async () => {
    const res = await get(WEEK);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('private, no-store');
    const body: Json = await res.json();
    const { plan } = await planning.planFor(DEMO_UAI, '2026-01-12', 7);
    expect(body).toMatchObject({
      uai: DEMO_UAI,
      name: 'Lycée des Tilleuls (démonstration)',
      timezone: 'Europe/Paris',
      from: '2026-01-12',
      to: '2026-01-18',
      range: { from: '2026-01-11T23:00:00.000Z', to: '2026-01-18T23:00:00.000Z' },
      generated_at: '2026-01-18T22:59:00.000Z',
      plans: [
        {
          from: '2026-01-11T23:00:00.000Z',
          to: '2026-01-18T23:00:00.000Z',
          hash: plan.hash,
          rules_version: expect.stringMatching(/^2026\.1\+[0-9a-f]{12}$/),
          timetable_version: 1,
          fallback: false,
        },
      ],
      summary: {
        within_caps: true,
        above_cap_situations: 0,
        overrides: 2,
        refused_overrides: 1,
        exceptions: 1,
        gateway_deviations: 2,
        pending_revs: 1,
        audit_truncated: false,
      },
    });

    // Hours per tier and mode: the plan's own segments, summed independently, and 168 h a week.
    const zoneOf = (id: string) => body.zones.find((z: Json) => z.zone === id);
    expect(body.zones.map((z: Json) => z.zone)).toEqual(plan.zones.map((z) => z.zone));
    for (const zone of plan.zones) {
      for (const [fn, segments] of Object.entries(zone.functions) as [string, Segment[]][]) {
        const byKind: Record<string, number> = {};
        for (const s of segments) byKind[s.reason.kind] = (byKind[s.reason.kind] ?? 0) + (s.to - s.from);
        const row = zoneOf(zone.zone).functions.find((f: Json) => f.function === fn);
        expect(row.hours_by_kind).toEqual(
          Object.fromEntries(
            Object.entries(byKind).map(([k, ms]) => [k, Math.round((ms / 3_600_000) * 100) / 100]),
          ),
        );
        const total = Object.values(row.hours_by_mode as Record<string, number>).reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(168, 1);
      }
    }
    const cdiHeating = zoneOf('cdi').functions[0];
    expect(cdiHeating).toEqual({
      function: 'heating',
      hours_by_kind: {
        occupied: 26.83,
        preheat: 10.25,
        'merged-gap': 1.67,
        'short-gap': 65.67,
        holiday: 63.58,
      },
      hours_by_mode: { comfort: 38.75, eco: 65.67, frost: 63.58 },
      situations: [
        {
          situation: 'occupied',
          cap_c: 19,
          cap_basis: "Code de l'énergie R241-26",
          hours: 38.75,
          max_setpoint_c: 20,
          status: 'excepted',
        },
        {
          situation: 'unoccupied_under_24h',
          cap_c: 19,
          cap_basis: "Code de l'énergie R241-26",
          hours: 65.67,
          max_setpoint_c: 16,
          status: 'within-cap',
        },
        {
          situation: 'unoccupied_48h_or_more',
          cap_c: 8,
          cap_basis: "Code de l'énergie R241-27",
          hours: 63.58,
          max_setpoint_c: 8,
          status: 'within-cap',
        },
      ],
    });
    // The gym: 14 °C (plan de sobriété), the tournament's 2 h as an override in the occupied situation.
    const gymHeating = zoneOf('gymnase').functions[0];
    expect(gymHeating.hours_by_kind.override).toBe(2);
    expect(gymHeating.situations.map((s: Json) => [s.situation, s.max_setpoint_c, s.status])).toEqual([
      ['occupied', 14, 'within-cap'],
      ['unoccupied_under_24h', 14, 'within-cap'],
      ['unoccupied_48h_or_more', 8, 'within-cap'],
    ]);
    // Building B east has Saturday lessons: a 24–48 h weekend at 16 °C, no ≥ 48 h tier.
    expect(
      zoneOf('batiment-b-est').functions[0].situations.map((s: Json) => [
        s.situation,
        s.hours,
        s.max_setpoint_c,
      ]),
    ).toEqual([
      ['occupied', 52.17, 19],
      ['unoccupied_under_24h', 72.92, 16],
      ['unoccupied_24h_to_48h', 42.92, 16],
    ]);
    expect(zoneOf('batiment-c').functions[1].hours_by_kind.override).toBe(1);

    expect(body.overrides).toEqual([
      {
        id: eclairage,
        zone: 'batiment-c',
        function: 'lighting',
        mode: 'on',
        setpoint_c: null,
        from: '2026-01-14T09:00:00.000Z',
        until: '2026-01-14T10:00:00.000Z',
        requested_until: '2026-01-14T12:00:00.000Z',
        hours_in_period: 1,
        author: 'manager',
        reason: 'Ménage',
        created_at: '2026-01-14T09:00:00.000Z',
        cancelled_at: '2026-01-14T10:00:00.000Z',
        cancelled_by: 'admin',
      },
      {
        id: tournoi,
        zone: 'gymnase',
        function: 'heating',
        mode: 'comfort',
        setpoint_c: 14,
        from: '2026-01-14T09:00:00.000Z',
        until: '2026-01-14T11:00:00.000Z',
        requested_until: '2026-01-14T11:00:00.000Z',
        hours_in_period: 2,
        author: 'manager',
        reason: 'Tournoi UNSS',
        created_at: '2026-01-14T09:00:00.000Z',
        cancelled_at: null,
        cancelled_by: null,
      },
    ]);
    expect(body.refused_overrides).toEqual([
      {
        seq: 1,
        at: '2026-01-13T08:00:00.000Z',
        zone: 'cdi',
        actor: 'manager',
        code: 'legal-cap-exceeded',
        refusal: '21 °C is above the legal cap of 19 °C',
      },
    ]);
    expect(body.exceptions).toEqual([
      {
        zone: 'cdi',
        function: 'heating',
        rule: 'schools.0670999X.zones.cdi.heating.occupied',
        ...CDI_EXCEPTION,
        hours: 38.75,
        max_setpoint_c: 20,
        first_from: '2026-01-12T06:00:00.000Z',
        last_to: '2026-01-16T14:25:00.000Z',
      },
    ]);
    expect(body.gateway_deviations).toEqual([
      {
        zone: 'batiment-c',
        function: 'heating',
        rev: 5,
        kind: 'not-applied',
        desired_mode: 'eco',
        desired_setpoint_c: 16,
        published_at: '2026-01-12T16:00:00.000Z',
        deadline: '2026-01-12T16:05:00.000Z',
        // Rev 6's report, the next morning: the night ran at comfort 19 °C instead of 16 °C.
        acknowledged_at: '2026-01-13T05:01:00.000Z',
        reported_rev: 4,
        reported_mode: 'comfort',
        reported_setpoint_c: 19,
        publish_seq: 4,
      },
      {
        zone: 'cdi',
        function: 'heating',
        rev: 7,
        kind: 'applied-differently',
        desired_mode: 'comfort',
        desired_setpoint_c: 20,
        published_at: '2026-01-13T06:00:00.000Z',
        deadline: '2026-01-13T06:05:00.000Z',
        acknowledged_at: '2026-01-13T06:00:30.000Z',
        reported_rev: 7,
        reported_mode: 'comfort',
        reported_setpoint_c: 22,
        publish_seq: 7,
      },
    ]);
  });

  it('answers the same report as CSV: BOM, ";", CRLF, one row per fact', async () => {
    const json: Json = await (await get(WEEK)).json();
    const res = await get(`${WEEK}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('Content-Disposition')).toBe(
      `attachment; filename="conformite-${DEMO_UAI}-2026-01-12-2026-01-18.csv"`,
    );
    // res.text() would drop the byte-order mark: read the bytes.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
    expect(text).toBe(complianceCsv(json));
    expect(
      text.startsWith(
        '\uFEFFsection;zone;function;item;from;to;hours;setpoint_c;cap_c;status;author;reference;detail\r\n',
      ),
    ).toBe(true);
    const lines = text.slice(1).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toContain(
      "max-setpoint;cdi;heating;occupied;;;38.75;20;19;excepted;;Code de l'énergie R241-26;",
    );
    expect(lines).toContain(
      `exception;cdi;heating;schools.0670999X.zones.cdi.heating.occupied;2026-01-12T06:00:00.000Z;2026-01-16T14:25:00.000Z;38.75;20;;;Conseil régional Grand Est, commission permanente;délibération CP-2025-12-117;"{""justification"":""CDI accueillant une unité de soins de jour"",""basis"":""Code de l'énergie R241-29"",""approved_on"":""2025-12-05""}"`,
    );
    expect(lines.filter((l) => l.startsWith('gateway-deviation;'))).toEqual([
      'gateway-deviation;batiment-c;heating;5;2026-01-12T16:00:00.000Z;2026-01-12T16:05:00.000Z;;16;;not-applied;;;"{""desired_mode"":""eco"",""acknowledged_at"":""2026-01-13T05:01:00.000Z"",""reported_rev"":4,""reported_mode"":""comfort"",""reported_setpoint_c"":19,""publish_seq"":4}"',
      'gateway-deviation;cdi;heating;7;2026-01-13T06:00:00.000Z;2026-01-13T06:05:00.000Z;;20;;applied-differently;;;"{""desired_mode"":""comfort"",""acknowledged_at"":""2026-01-13T06:00:30.000Z"",""reported_rev"":7,""reported_mode"":""comfort"",""reported_setpoint_c"":22,""publish_seq"":7}"',
    ]);
    expect(lines.filter((l) => l.startsWith('override;')).map((l) => l.split(';').slice(0, 11))).toEqual([
      [
        'override',
        'batiment-c',
        'lighting',
        eclairage,
        '2026-01-14T09:00:00.000Z',
        '2026-01-14T10:00:00.000Z',
        '1',
        '',
        '',
        'cancelled',
        'manager',
      ],
      [
        'override',
        'gymnase',
        'heating',
        tournoi,
        '2026-01-14T09:00:00.000Z',
        '2026-01-14T11:00:00.000Z',
        '2',
        '14',
        '',
        'ran',
        'manager',
      ],
    ]);
  });

  it('keeps to roles and schools, and names a bad parameter', async () => {
    expect((await get(WEEK, 'manager')).status).toBe(200);
    expect((await get(WEEK, 'admin')).status).toBe(200);
    expect((await get(WEEK, 'editor')).status).toBe(403);
    expect((await get(WEEK, 'bridge')).status).toBe(403);
    // A school outside the caller's list is the same 404 as one that does not exist.
    expect((await get(WEEK, 'other-manager')).status).toBe(404);
    const outside = await get(`uai=${OUTSIDE_UAI}&from=2026-01-12&to=2026-01-18`);
    expect(outside.status).toBe(404);
    const problems = async (query: string) => {
      const res = await get(query);
      expect(res.status).toBe(400);
      return ((await res.json()) as Json).errors.map((e: Json) => e.where);
    };
    expect(await problems(`uai=${DEMO_UAI}&from=2026-01-12`)).toEqual(['to (query)']);
    expect(await problems(`uai=${DEMO_UAI}&from=2026-01-18&to=2026-01-12`)).toEqual(['to (query)']);
    expect(await problems(`uai=${DEMO_UAI}&from=2026-01-01&to=2026-06-30`)).toEqual(['to (query)']);
    expect(await problems(`uai=${DEMO_UAI}&from=2026-13-01&to=2026-01-12`)).toEqual(['from (query)']);
    expect(await problems(`${WEEK}&format=xlsx`)).toEqual(['format (query)']);
    expect(await problems('from=2026-01-12&to=2026-01-18')).toEqual(['uai (query)']);
  });
});
