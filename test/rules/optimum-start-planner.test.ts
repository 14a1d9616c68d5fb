/**
 * Optimum start in the planner (issue 17): the preheat of each occupancy start lasts what the
 * zone's learned warm-up needs, within [0, 3 h], with the reason saying so; every fallback keeps the
 * fixed lead and says why; the snapshot is part of the plan hash. Paris = UTC+1 (January).
 */
import { describe, expect, it } from 'vitest';
import { type LearnedZone, optimumStartSnapshot } from '../../src/rules/optimum-start.js';
import type { Override } from '../../src/rules/overrides.js';
import { planHash } from '../../src/rules/plan-hash.js';
import { type PlanInput, planZone } from '../../src/rules/planner.js';
import type { Segment } from '../../src/rules/segment.js';
import { B, occ, rulesFor, t, zone } from './plan-fixtures.js';

const classroom = zone();
const rules = rulesFor(classroom);
/** Monday and Tuesday 08:00–17:30 local. */
const occupancy = [
  occ('2026-01-12T07:00:00Z', '2026-01-12T16:30:00Z'),
  occ('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z'),
];
const TUESDAY = { from: t('2026-01-13T00:00:00Z'), to: t('2026-01-14T00:00:00Z') };
const AS_OF = t('2026-01-12T23:00:00Z');
/** τ = 10 h, g = 4 K/h: from 16 °C to 19 °C with 2 °C outside takes 10·ln(26/23) h = 73.56 min. */
const learned: LearnedZone = {
  starts: 6,
  cool_downs: 6,
  heat_gain_k_per_h: 4,
  time_constant_h: 10,
  last_sample_at: '2026-01-12T22:55:00.000Z',
};
const outdoor = { source: 'sensor' as const, c: 2, at: '2026-01-12T22:50:00.000Z' };

function snapshot(z: Partial<LearnedZone> = {}) {
  return optimumStartSnapshot(AS_OF, outdoor, { [classroom.id]: { ...learned, ...z } });
}

function plan(extra: Partial<PlanInput>): Segment[] {
  return planZone({ zone: classroom, occupancy, rules, overrides: [], horizon: TUESDAY, ...extra })
    .heating as Segment[];
}

const preheatOf = (segments: Segment[]) => segments.find((s) => s.reason.kind === 'preheat') as Segment;

describe('optimum start in the planner', () => {
  it('starts the preheat when the learned warm-up needs it, and says why', () => {
    const snap = snapshot();
    const segments = plan({ optimumStart: snap });
    // 73.56 min × 1.1 + 5 min = 85.9 → 86 min before 07:00Z.
    expect(
      segments.map((s) => [new Date(s.from).toISOString(), s.mode, s.setpoint_c, s.reason.kind]),
    ).toEqual([
      ['2026-01-13T00:00:00.000Z', 'eco', 16, 'short-gap'],
      ['2026-01-13T05:34:00.000Z', 'comfort', 19, 'preheat'],
      ['2026-01-13T07:00:00.000Z', 'comfort', 19, 'occupied'],
      ['2026-01-13T16:30:00.000Z', 'frost', 8, 'holiday'],
    ]);
    expect(preheatOf(segments).reason).toEqual({
      kind: 'preheat',
      rule: 'optimum-start',
      temperature_rule: B.occupied.rule,
      basis:
        'learned warm-up of the zone (docs/optimum-start.md, ASHRAE Guideline 36 optimal start), at most 180 min (defaults.heating.optimum_start)',
      optimum_start: {
        status: 'learned',
        heat_gain_k_per_h: 4,
        time_constant_h: 10,
        rate_k_per_h: 2.6,
        predicted_start_c: 16,
        outdoor_c: 2,
        lead_minutes: 86,
        starts: 6,
        snapshot: snap.id,
      },
    });
  });

  it('caps the lead at the rules maximum (3 h) for a zone that cannot make it sooner', () => {
    const segments = plan({ optimumStart: snapshot({ heat_gain_k_per_h: 0.625, time_constant_h: 48 }) });
    expect(preheatOf(segments).from).toBe(t('2026-01-13T04:00:00Z'));
    expect(preheatOf(segments).reason.optimum_start?.lead_minutes).toBe(180);
  });

  it('plans no preheat after a merged gap (the room is at target: lead 0)', () => {
    const split = [
      occ('2026-01-12T07:00:00Z', '2026-01-12T16:30:00Z'),
      occ('2026-01-13T07:00:00Z', '2026-01-13T10:00:00Z'),
      occ('2026-01-13T11:00:00Z', '2026-01-13T16:30:00Z'),
    ];
    const segments = plan({ occupancy: split, optimumStart: snapshot() });
    expect(segments.map((s) => [new Date(s.from).toISOString(), s.reason.kind])).toEqual([
      ['2026-01-13T00:00:00.000Z', 'short-gap'],
      ['2026-01-13T05:34:00.000Z', 'preheat'],
      ['2026-01-13T07:00:00.000Z', 'occupied'],
      ['2026-01-13T10:00:00.000Z', 'merged-gap'],
      ['2026-01-13T11:00:00.000Z', 'occupied'],
      ['2026-01-13T16:30:00.000Z', 'holiday'],
    ]);
  });

  const fixed = (why: string, starts: number, id: string) => ({
    ...B.preheat,
    kind: 'preheat',
    temperature_rule: B.occupied.rule,
    optimum_start: { status: 'fixed', fallback: why, starts, snapshot: id },
  });

  it.each([
    ['too-few-starts', { starts: 4 }, 4],
    ['stale-telemetry', { last_sample_at: '2026-01-11T22:59:59.000Z' }, 6],
    ['flagged-sensor', { flagged: 'stuck' }, 6],
  ] as const)('falls back to the fixed 60 min lead: %s', (why, z, starts) => {
    const snap = snapshot(z);
    const preheat = preheatOf(plan({ optimumStart: snap }));
    expect(preheat.from).toBe(t('2026-01-13T06:00:00Z'));
    expect(preheat.reason).toEqual(fixed(why, starts, snap.id));
  });

  it('falls back to the fixed lead for a zone the snapshot does not know, and around an override', () => {
    const other = optimumStartSnapshot(AS_OF, outdoor, {});
    expect(preheatOf(plan({ optimumStart: other })).reason).toEqual(fixed('too-few-starts', 0, other.id));
    const snap = snapshot();
    const override: Override = {
      id: 'o1',
      zone: classroom.id,
      function: 'heating',
      mode: 'eco',
      setpoint_c: 16,
      from: t('2026-01-13T03:00:00Z'),
      until: t('2026-01-13T05:00:00Z'),
      author: 'gestionnaire',
      reason: 'Travaux',
      created_at: t('2026-01-12T12:00:00Z'),
    };
    const preheat = preheatOf(plan({ optimumStart: snap, overrides: [override] }));
    expect(preheat.from).toBe(t('2026-01-13T06:00:00Z'));
    expect(preheat.reason).toEqual(fixed('override', 6, snap.id));
  });

  it('gives the same plan for the same inputs, and the snapshot changes the hash', () => {
    const a = plan({ optimumStart: snapshot() });
    const b = plan({ optimumStart: snapshot() });
    expect(b).toEqual(a);
    expect(planHash({ heating: b })).toBe(planHash({ heating: a }));
    const other = plan({ optimumStart: snapshot({ starts: 7 }) });
    expect(planHash({ heating: other })).not.toBe(planHash({ heating: a }));
    // Without a snapshot the plan is the fixed one, unchanged.
    expect(preheatOf(plan({})).reason).toEqual({
      ...B.preheat,
      kind: 'preheat',
      temperature_rule: B.occupied.rule,
    });
  });
});
