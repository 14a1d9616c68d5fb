/**
 * `GET /api/compliance` over a week of the demo lycée (12–18 January 2026) through `app.request()`,
 * the real bearer check, the real planning service over the repository's devices/ and rules/ (the
 * CDI at 20 °C under a governed exception), a real SQLite store holding two overrides (one
 * cancelled), a refused override, and the audit entries of a gateway that ignored rev 5 of the
 * `batiment-c` heating and applied rev 7 of the CDI at another setpoint, and the gateways' measured
 * temperatures (telemetry): building C warm through the night of the ignored rev, then above the
 * cap during a lesson; the CDI at its excepted 20 °C; the gym before the week. Checked field by field.
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
import { checkDocumentedResponses } from '../helpers/documented.js';
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
  /** The first occupied heating segment of building C on Tuesday 13 January. */
  let lesson: { from: number; to: number };
  let cdiLesson: { from: number; to: number };

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
    // Measured temperatures (docs/telemetry.md): a report holds until the next, at most 15 min.
    const { plan: week } = await planning.planFor(DEMO_UAI, '2026-01-12', 7);
    const heatingOf = (zone: string) =>
      week.zones.find((z) => z.zone === zone)?.functions.heating as Segment[];
    const firstOccupied = (zone: string) => {
      const found = heatingOf(zone).find(
        (seg) =>
          seg.reason.kind === 'occupied' &&
          seg.from >= at('2026-01-13T00:00:00Z') &&
          seg.to - seg.from >= 1_800_000,
      );
      if (!found) throw new Error(`no occupied segment of ${zone} on Tuesday`);
      return { from: found.from, to: found.to };
    };
    lesson = firstOccupied('batiment-c');
    cdiLesson = firstOccupied('cdi');
    const MIN = 60_000;
    const sample = (zone: string, ts: number, measured_c: number, flag: string | null = null) => ({
      uai: DEMO_UAI,
      zone,
      function: 'heating',
      ts,
      receivedAt: ts + 1000,
      measured_c,
      mode: 'comfort',
      setpoint_c: 19,
      applied_rev: 4,
      source: 'gateway',
      flag,
    });
    await store.telemetry.writeBatch([
      // The night after rev 5 was ignored: 19.4 °C while unoccupied (< 24 h, cap 19 °C), 20 min.
      sample('batiment-c', at('2026-01-12T20:00:00Z'), 19.4),
      sample('batiment-c', at('2026-01-12T20:05:00Z'), 19.4),
      // A stuck sensor's report: not a fact, not counted.
      sample('batiment-c', at('2026-01-12T21:00:00Z'), 30, 'stuck'),
      // The lesson: 19.0, 20.5 (above the cap and the 1 °C tolerance), 19.5, 19.0 held 15 min.
      sample('batiment-c', lesson.from, 19),
      sample('batiment-c', lesson.from + 5 * MIN, 20.5),
      sample('batiment-c', lesson.from + 10 * MIN, 19.5),
      sample('batiment-c', lesson.from + 15 * MIN, 19),
      // The CDI at 20 °C, within its exception's 20 °C.
      sample('cdi', cdiLesson.from, 20),
      // Sunday 23:55 Paris, 5 min before the week: its report holds 10 min into it (weekend, 8 °C cap).
      sample('gymnase', at('2026-01-11T22:55:00Z'), 12),
    ]);
    // The report is made on Sunday 23:59 Paris: rev 3 of the amphi was published a minute ago.
    clock.set(at('2026-01-18T22:59:00.000Z'));
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route(
      '/',
      complianceRoutes(
        createComplianceService({
          planFor: (uai, date, days) => planning.planFor(uai, date, days),
          devicesOf: (uai) => site.current.devices.get(uai),
          audit: store.audit,
          overrides: store.overrides,
          measured: { telemetry: store.telemetry, holdMs: 15 * 60_000, toleranceC: 1, rawRetentionDays: 35 },
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
        measured: {
          samples: 7,
          flagged: 1,
          retained_since: '2025-12-14T22:59:00.000Z',
          occupied_minutes_above_cap: 10,
          occupied_minutes_above_cap_tolerance: 5,
          zones_above_cap_tolerance: ['batiment-c'],
        },
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
          // 20 °C measured: the exception's 20 °C is the cap it is held to.
          measured: {
            measured_hours: 0.25,
            minutes_above_cap: 0,
            minutes_above_cap_tolerance: 0,
            max_measured_c: 20,
            max_measured_at: new Date(cdiLesson.from).toISOString(),
          },
        },
        {
          situation: 'unoccupied_under_24h',
          cap_c: 19,
          cap_basis: "Code de l'énergie R241-26",
          hours: 65.67,
          max_setpoint_c: 16,
          status: 'within-cap',
          measured: {
            measured_hours: 0,
            minutes_above_cap: 0,
            minutes_above_cap_tolerance: 0,
            max_measured_c: null,
            max_measured_at: null,
          },
        },
        {
          situation: 'unoccupied_48h_or_more',
          cap_c: 8,
          cap_basis: "Code de l'énergie R241-27",
          hours: 63.58,
          max_setpoint_c: 8,
          status: 'within-cap',
          measured: {
            measured_hours: 0,
            minutes_above_cap: 0,
            minutes_above_cap_tolerance: 0,
            max_measured_c: null,
            max_measured_at: null,
          },
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

    // Measured against the caps: building C's night after the ignored rev 5 and its lesson.
    const measuredOf = (zone: string) =>
      zoneOf(zone).functions[0].situations.map((x: Json) => [x.situation, x.measured]);
    expect(measuredOf('batiment-c')).toEqual([
      [
        'occupied',
        {
          measured_hours: 0.5,
          minutes_above_cap: 10,
          minutes_above_cap_tolerance: 5,
          max_measured_c: 20.5,
          max_measured_at: new Date(lesson.from + 5 * 60_000).toISOString(),
        },
      ],
      [
        'unoccupied_under_24h',
        {
          measured_hours: 0.33,
          minutes_above_cap: 20,
          minutes_above_cap_tolerance: 0,
          max_measured_c: 19.4,
          max_measured_at: '2026-01-12T20:00:00.000Z',
        },
      ],
      [
        'unoccupied_48h_or_more',
        {
          measured_hours: 0,
          minutes_above_cap: 0,
          minutes_above_cap_tolerance: 0,
          max_measured_c: null,
          max_measured_at: null,
        },
      ],
    ]);
    // The gym's Sunday-night report holds into the week: weekend (≥ 48 h), 12 °C against 8 °C.
    expect(measuredOf('gymnase').find((x: Json) => x[0] === 'unoccupied_48h_or_more')[1]).toEqual({
      measured_hours: 0.17,
      minutes_above_cap: 10,
      minutes_above_cap_tolerance: 10,
      max_measured_c: 12,
      max_measured_at: '2026-01-11T23:00:00.000Z',
    });

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
    expect(lines.filter((l) => l.startsWith('measured;batiment-c;'))).toEqual([
      `measured;batiment-c;heating;occupied;${new Date(lesson.from + 5 * 60_000).toISOString()};;0.5;20.5;19;above-cap-tolerance;;Code de l'énergie R241-26;"{""minutes_above_cap"":10,""minutes_above_cap_tolerance"":5}"`,
      `measured;batiment-c;heating;unoccupied_under_24h;2026-01-12T20:00:00.000Z;;0.33;19.4;19;above-cap;;Code de l'énergie R241-26;"{""minutes_above_cap"":20,""minutes_above_cap_tolerance"":0}"`,
      `measured;batiment-c;heating;unoccupied_48h_or_more;;;0;;8;within-cap;;Code de l'énergie R241-27;"{""minutes_above_cap"":0,""minutes_above_cap_tolerance"":0}"`,
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
