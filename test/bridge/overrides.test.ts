/**
 * Overrides through the service, a real store on every backend, the planning service and the plan
 * feed under a manual clock: an override wins then expires and the plan resumes; "next-change";
 * newest wins with the other shown shadowed; cancellation; every start and end recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Segment } from '../../src/rules/segment.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';
import { copySite, DEMO_UAI, fixedOccupancy, heldDemo } from './bridge-fixtures.js';

const backends: StoreBackend[] = await storeBackends();
const t = Date.parse;
const iso = (text: string) => new Date(t(text)).toISOString();

/** Heating segments of a zone overlapping [from, to), whole (not clipped), as readable tuples. */
function heating(plan: SchoolPlan | undefined, zone: string, from: number, to: number) {
  const segments: Segment[] = plan?.zones.find((z) => z.zone === zone)?.functions.heating ?? [];
  return segments
    .filter((s) => s.to > from && s.from < to)
    .map((s) => [
      new Date(s.from).toISOString(),
      new Date(s.to).toISOString(),
      s.mode,
      s.setpoint_c ?? null,
      s.reason.kind,
      s.reason.rule,
    ]);
}

describe.each(backends)('overrides on $name', (backend) => {
  // Monday 12 January 2026, 18:30 in Strasbourg: lessons are over.
  const clock = new ManualClock(t('2026-01-12T17:30:00Z'));
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  const feed = new MutablePlanFeed();
  let store: Store;
  let overrides: OverridesService;
  let planning: PlanningService;

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
      overrides,
      feed,
      clock,
      cron: '0 0 1 1 *',
    });
    await overrides.start();
    await planning.start();
  });
  afterAll(async () => {
    overrides.stop();
    await planning.stop();
    await backend.cleanup();
  });

  /** Replans caused by override changes are fired, not awaited: wait for the feed. */
  const settled = () => planning.replan(DEMO_UAI);

  it('an override for a duration wins, then expires by itself and the plan resumes', async () => {
    const before = heating(feed.plan(DEMO_UAI), 'cdi', t('2026-01-12T17:00:00Z'), t('2026-01-12T21:00:00Z'));
    // CDI is used in the first three blocks: eco from 15:25 local; the live horizon starts at 16:00Z.
    expect(before).toEqual([
      [
        iso('2026-01-12T16:00:00Z'),
        iso('2026-01-13T06:00:00Z'),
        'eco',
        16,
        'short-gap',
        'defaults.heating.unoccupied_under_24h',
      ],
    ]);
    const created = await overrides.create(
      {
        uai: DEMO_UAI,
        zone: 'cdi',
        function: 'heating',
        mode: 'comfort',
        setpoint_c: 19,
        duration: 'PT2H',
        reason: 'Conseil de classe',
      },
      'manager',
    );
    expect(created).toEqual({
      id: created.id,
      uai: DEMO_UAI,
      zone: 'cdi',
      function: 'heating',
      mode: 'comfort',
      setpoint_c: 19,
      from: '2026-01-12T17:30:00.000Z',
      until: '2026-01-12T19:30:00.000Z',
      requested: { duration: 'PT2H' },
      requested_until: '2026-01-12T19:30:00.000Z',
      author: 'manager',
      reason: 'Conseil de classe',
      created_at: '2026-01-12T17:30:00.000Z',
      status: 'active',
      shadowed_by: [],
    });
    await settled();
    expect(heating(feed.plan(DEMO_UAI), 'cdi', t('2026-01-12T17:00:00Z'), t('2026-01-12T21:00:00Z'))).toEqual(
      [
        [
          iso('2026-01-12T16:00:00Z'),
          iso('2026-01-12T17:30:00Z'),
          'eco',
          16,
          'short-gap',
          'defaults.heating.unoccupied_under_24h',
        ],
        [
          iso('2026-01-12T17:30:00Z'),
          iso('2026-01-12T19:30:00Z'),
          'comfort',
          19,
          'override',
          `override:${created.id}`,
        ],
        [
          iso('2026-01-12T19:30:00Z'),
          iso('2026-01-13T06:00:00Z'),
          'eco',
          16,
          'short-gap',
          'defaults.heating.unoccupied_under_24h',
        ],
      ],
    );

    clock.set('2026-01-12T19:30:00Z');
    const expired = await overrides.recordExpired();
    expect(expired.map((o) => o.id)).toEqual([created.id]);
    expect((await overrides.get(created.id))?.status).toBe('expired');
    await settled();
    // Horizon from 18:00Z now: the override's past part stays, the rules hold from 19:30Z.
    expect(heating(feed.plan(DEMO_UAI), 'cdi', t('2026-01-12T18:00:00Z'), t('2026-01-13T07:00:00Z'))).toEqual(
      [
        [
          iso('2026-01-12T18:00:00Z'),
          iso('2026-01-12T19:30:00Z'),
          'comfort',
          19,
          'override',
          `override:${created.id}`,
        ],
        [
          iso('2026-01-12T19:30:00Z'),
          iso('2026-01-13T06:00:00Z'),
          'eco',
          16,
          'short-gap',
          'defaults.heating.unoccupied_under_24h',
        ],
        [
          iso('2026-01-13T06:00:00Z'),
          iso('2026-01-13T07:00:00Z'),
          'comfort',
          19,
          'preheat',
          'defaults.heating.preheat_minutes',
        ],
      ],
    );
    expect(
      (await overrides.events({ overrideId: created.id })).map((e) => [
        e.kind,
        new Date(e.at).toISOString(),
        e.actor,
      ]),
    ).toEqual([
      ['created', '2026-01-12T17:30:00.000Z', 'manager'],
      ['expired', '2026-01-12T19:30:00.000Z', 'system'],
    ]);
    expect(await overrides.recordExpired()).toEqual([]);
  });

  it('"next-change" ends at the next planned change of that zone and function', async () => {
    clock.set('2026-01-12T20:00:00Z');
    const held = await overrides.create(
      {
        uai: DEMO_UAI,
        zone: 'batiment-b-est',
        function: 'heating',
        mode: 'frost',
        until: 'next-change',
        reason: 'Fuite radiateur B102',
      },
      'manager',
    );
    // Eco since 17:30 local; Tuesday's 08:00 block has its preheat from 07:00 local (06:00Z).
    expect([held.until, held.requested, held.status]).toEqual([
      '2026-01-13T06:00:00.000Z',
      { next_change: true },
      'active',
    ]);
    await settled();
    expect(
      heating(feed.plan(DEMO_UAI), 'batiment-b-est', t('2026-01-12T20:00:00Z'), t('2026-01-13T07:00:00Z')),
    ).toEqual([
      [
        iso('2026-01-12T20:00:00Z'),
        iso('2026-01-13T06:00:00Z'),
        'frost',
        null,
        'override',
        `override:${held.id}`,
      ],
      [
        iso('2026-01-13T06:00:00Z'),
        iso('2026-01-13T07:00:00Z'),
        'comfort',
        19,
        'preheat',
        'defaults.heating.preheat_minutes',
      ],
    ]);
  });

  it('the newest of two overlapping overrides wins, the other is shown shadowed; cancelling restores it', async () => {
    clock.set('2026-01-12T20:05:00Z');
    const older = await overrides.create(
      {
        uai: DEMO_UAI,
        zone: 'gymnase',
        function: 'heating',
        mode: 'comfort',
        setpoint_c: 14,
        duration: 180,
        reason: 'Match de handball',
      },
      'manager',
    );
    clock.set('2026-01-12T20:10:00Z');
    const newer = await overrides.create(
      {
        uai: DEMO_UAI,
        zone: 'gymnase',
        function: 'heating',
        mode: 'frost',
        duration: 'PT1H',
        reason: 'Porte bloquée ouverte',
      },
      'other-manager',
    );
    expect(older.requested).toEqual({ duration: 'PT180M' });
    expect((await overrides.get(older.id))?.shadowed_by).toEqual([
      { override_id: newer.id, from: '2026-01-12T20:10:00.000Z', to: '2026-01-12T21:10:00.000Z' },
    ]);
    expect((await overrides.get(newer.id))?.shadowed_by).toEqual([]);
    await settled();
    expect(
      heating(feed.plan(DEMO_UAI), 'gymnase', t('2026-01-12T20:00:00Z'), t('2026-01-12T23:00:00Z')).map((s) =>
        s.slice(0, 3),
      ),
    ).toEqual([
      [iso('2026-01-12T19:00:00Z'), iso('2026-01-12T20:05:00Z'), 'eco'],
      [iso('2026-01-12T20:05:00Z'), iso('2026-01-12T20:10:00Z'), 'comfort'],
      [iso('2026-01-12T20:10:00Z'), iso('2026-01-12T21:10:00Z'), 'frost'],
      [iso('2026-01-12T21:10:00Z'), iso('2026-01-12T23:05:00Z'), 'comfort'],
    ]);

    clock.set('2026-01-12T20:20:00Z');
    const cancelled = await overrides.cancel(newer.id, 'manager');
    expect(cancelled?.status).toBe('cancelled');
    expect(cancelled?.override).toMatchObject({
      status: 'cancelled',
      until: '2026-01-12T20:20:00.000Z',
      requested_until: '2026-01-12T21:10:00.000Z',
      cancelled_at: '2026-01-12T20:20:00.000Z',
      cancelled_by: 'manager',
    });
    expect((await overrides.cancel(newer.id, 'manager'))?.status).toBe('already-ended');
    expect(await overrides.cancel('no-such-id', 'manager')).toBeNull();
    await settled();
    expect(
      heating(feed.plan(DEMO_UAI), 'gymnase', t('2026-01-12T20:00:00Z'), t('2026-01-12T23:00:00Z')).map((s) =>
        s.slice(0, 3),
      ),
    ).toEqual([
      [iso('2026-01-12T19:00:00Z'), iso('2026-01-12T20:05:00Z'), 'eco'],
      [iso('2026-01-12T20:05:00Z'), iso('2026-01-12T20:10:00Z'), 'comfort'],
      [iso('2026-01-12T20:10:00Z'), iso('2026-01-12T20:20:00Z'), 'frost'],
      [iso('2026-01-12T20:20:00Z'), iso('2026-01-12T23:05:00Z'), 'comfort'],
    ]);
    expect(
      (await overrides.events({ overrideId: newer.id })).map((e) => [
        e.kind,
        new Date(e.at).toISOString(),
        e.actor,
        e.detail,
      ]),
    ).toEqual([
      [
        'created',
        '2026-01-12T20:10:00.000Z',
        'other-manager',
        {
          zone: 'gymnase',
          function: 'heating',
          mode: 'frost',
          from: '2026-01-12T20:10:00.000Z',
          until: '2026-01-12T21:10:00.000Z',
          requested: { duration: 'PT1H' },
          reason: 'Porte bloquée ouverte',
        },
      ],
      [
        'cancelled',
        '2026-01-12T20:20:00.000Z',
        'manager',
        { until: '2026-01-12T20:20:00.000Z', requested_until: '2026-01-12T21:10:00.000Z' },
      ],
    ]);
    // A cancelled override is never recorded as expired too.
    clock.set('2026-01-12T21:30:00Z');
    expect((await overrides.recordExpired()).map((o) => o.id)).toEqual([]);
    const active = await overrides.list({ uais: [DEMO_UAI], active: true });
    // Newest first: the gymnasium's (20:05Z), then the "next-change" one (20:00Z, until 06:00Z).
    expect(active.map((o) => [o.zone, o.until])).toEqual([
      ['gymnase', '2026-01-12T23:05:00.000Z'],
      ['batiment-b-est', '2026-01-13T06:00:00.000Z'],
    ]);
  });

  it('a duration in days is added on the school wall clock, across the DST switch', async () => {
    clock.set('2026-03-28T12:00:00Z'); // 13:00 CET
    const o = await overrides.create(
      {
        uai: DEMO_UAI,
        zone: 'atelier',
        function: 'lighting',
        mode: 'off',
        duration: 'P1D',
        reason: 'Travaux électriques',
      },
      'manager',
    );
    expect(o.until).toBe('2026-03-29T11:00:00.000Z'); // 13:00 CEST: 23 h later
  });
});
