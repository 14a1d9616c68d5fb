/**
 * Optimum stop (issue 17, docs/optimum-start.md "Optimum stop"): off by default behind
 * `heating.optimum_stop`; when enabled, heating sets back before occupancy ends for as long as the
 * learned cool-down predicts the room stays within the tolerance of the target, with the prediction
 * in the reason; never around an override, with insufficient learning, or into a merged gap; part
 * of the plan hash only when it sets back something. Paris = UTC+1 (January).
 */
import { describe, expect, it } from 'vitest';
import { compactReason } from '../../src/contract/desired-state.js';
import { type LearnedZone, optimumStartSnapshot } from '../../src/rules/optimum-start.js';
import type { Override } from '../../src/rules/overrides.js';
import { planHash } from '../../src/rules/plan-hash.js';
import { type PlanInput, planZone } from '../../src/rules/planner.js';
import { loadRulesFile } from '../../src/rules/rule-set.js';
import type { Segment } from '../../src/rules/segment.js';
import { B, DEFAULT_RULES_TEXT, occ, rulesFor, t, zone } from './plan-fixtures.js';

const classroom = zone();
const OPTIMUM_START_LINE = '      basis: "local decision: learned preheat after 5 starts';
/** The shipped rules with `heating.optimum_stop` set in the defaults. */
function rulesWithStop(setting: string) {
  const at = DEFAULT_RULES_TEXT.indexOf(OPTIMUM_START_LINE);
  const eol = DEFAULT_RULES_TEXT.indexOf('\n', at);
  const text = `${DEFAULT_RULES_TEXT.slice(0, eol + 1)}${setting}${DEFAULT_RULES_TEXT.slice(eol + 1)}`;
  return rulesFor(classroom, loadRulesFile(text, 'rules/default.yaml'));
}
const ENABLED = rulesWithStop(
  '    optimum_stop:\n      enabled: true\n      tolerance_c: 0.5\n      max_minutes: 60\n      basis: "test: optimum stop on"\n',
);
const DISABLED = rulesWithStop('    optimum_stop:\n      basis: "test: optimum stop off (the default)"\n');
const DEFAULT = rulesFor(classroom);

/** Monday and Tuesday 08:00–17:30 local. */
const occupancy = [
  occ('2026-01-12T07:00:00Z', '2026-01-12T16:30:00Z'),
  occ('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z'),
];
const MONDAY = { from: t('2026-01-12T00:00:00Z'), to: t('2026-01-13T00:00:00Z') };
const AS_OF = t('2026-01-12T06:00:00Z');
const learned: LearnedZone = {
  starts: 6,
  cool_downs: 6,
  heat_gain_k_per_h: 4,
  time_constant_h: 10,
  last_sample_at: '2026-01-12T05:55:00.000Z',
};
const outdoor = { source: 'sensor' as const, c: 2, at: '2026-01-12T05:50:00.000Z' };
const snapshot = (z: Partial<LearnedZone> = {}, c = 2) =>
  optimumStartSnapshot(AS_OF, { ...outdoor, c }, { [classroom.id]: { ...learned, ...z } });

function plan(extra: Partial<PlanInput>): Segment[] {
  return planZone({
    zone: classroom,
    occupancy,
    rules: ENABLED,
    overrides: [],
    horizon: MONDAY,
    optimumStart: snapshot(),
    ...extra,
  }).heating as Segment[];
}
const rows = (segments: Segment[]) =>
  segments.map((s) => [new Date(s.from).toISOString(), s.mode, s.setpoint_c, s.reason.kind, s.reason.rule]);

describe('optimum stop', () => {
  it('sets back before the end while the learned cool-down stays within the tolerance', () => {
    const snap = snapshot();
    const segments = plan({ optimumStart: snap });
    // τ 10 h, 2 °C outside, target 19 °C, tolerance 0.5 K: 10·ln(17/16.5) h = 17.91 min → 17 min,
    // and 2 + 17·e^(−17/600) = 18.53 °C at 17:30 local.
    expect(rows(segments)).toEqual([
      ['2026-01-12T00:00:00.000Z', 'frost', 8, 'holiday', B.over48.rule],
      ['2026-01-12T04:00:00.000Z', 'comfort', 19, 'preheat', 'optimum-start'],
      ['2026-01-12T07:00:00.000Z', 'comfort', 19, 'occupied', B.occupied.rule],
      ['2026-01-12T16:13:00.000Z', 'eco', 16, 'short-gap', 'optimum-stop'],
      ['2026-01-12T16:30:00.000Z', 'eco', 16, 'short-gap', B.under24.rule],
    ]);
    expect(segments[3]?.reason).toEqual({
      kind: 'short-gap',
      rule: 'optimum-stop',
      temperature_rule: B.under24.rule,
      basis:
        'learned cool-down of the zone predicts it stays within 0.5 K of the occupied setpoint until occupancy ends (docs/optimum-start.md, defaults.heating.optimum_stop)',
      optimum_stop: {
        stop_minutes: 17,
        time_constant_h: 10,
        target_c: 19,
        tolerance_c: 0.5,
        outdoor_c: 2,
        predicted_end_c: 18.53,
        starts: 6,
        snapshot: snap.id,
      },
    });
    // The gateway's `desired` carries the prediction too (docs/mqtt.md).
    expect(compactReason(segments[3] as Segment)['optimum_stop']).toEqual(segments[3]?.reason.optimum_stop);
  });

  it('stops at most max_minutes before the end when the outdoors is within the tolerance', () => {
    // 18.6 °C outside is above 19 − 0.5: the room never leaves the tolerance; 18.6 + 0.4·e^(−0.1) = 18.96.
    const segments = plan({ optimumStart: snapshot({}, 18.6) });
    expect(segments[3]?.from).toBe(t('2026-01-12T15:30:00Z'));
    expect(segments[3]?.reason.optimum_stop?.stop_minutes).toBe(60);
    expect(segments[3]?.reason.optimum_stop?.predicted_end_c).toBe(18.96);
  });

  it('is off by default and when disabled: same segments and hash as without the setting', () => {
    const without = plan({ rules: DEFAULT });
    const disabled = plan({ rules: DISABLED });
    expect(DEFAULT.heating.optimum_stop).toBeUndefined();
    expect(DISABLED.heating.optimum_stop).toEqual({
      enabled: false,
      tolerance_c: 0.5,
      max_minutes: 60,
      rule: 'defaults.heating.optimum_stop',
      basis: 'test: optimum stop off (the default)',
    });
    expect(without.some((s) => s.reason.rule === 'optimum-stop')).toBe(false);
    expect(disabled).toEqual(without);
    expect(planHash({ heating: disabled })).toBe(planHash({ heating: without }));
    // Occupied comfort runs to 16:30Z; enabled, the stop changes the hash.
    expect(rows(without)[2]).toEqual([
      '2026-01-12T07:00:00.000Z',
      'comfort',
      19,
      'occupied',
      B.occupied.rule,
    ]);
    expect(rows(without)[3]?.[0]).toBe('2026-01-12T16:30:00.000Z');
    expect(planHash({ heating: plan({}) })).not.toBe(planHash({ heating: without }));
  });

  it('never stops with insufficient learning or stale telemetry, or without a snapshot', () => {
    for (const z of [{ starts: 4 }, { last_sample_at: '2026-01-11T05:00:00.000Z' }, { flagged: 'stuck' }]) {
      const segments = plan({ optimumStart: snapshot(z) });
      expect(segments.some((s) => s.reason.rule === 'optimum-stop')).toBe(false);
      expect(segments.find((s) => s.reason.kind === 'occupied')?.to).toBe(t('2026-01-12T16:30:00Z'));
    }
    const none = planZone({ zone: classroom, occupancy, rules: ENABLED, overrides: [], horizon: MONDAY })
      .heating as Segment[];
    expect(none.some((s) => s.reason.rule === 'optimum-stop')).toBe(false);
  });

  it('never stops when an override is in force at the end of occupancy', () => {
    const override: Override = {
      id: 'o1',
      zone: classroom.id,
      function: 'heating',
      mode: 'comfort',
      setpoint_c: 19,
      from: t('2026-01-12T16:00:00Z'),
      until: t('2026-01-12T16:20:00Z'),
      author: 'gestionnaire',
      reason: 'Conseil de classe',
      created_at: t('2026-01-12T12:00:00Z'),
    };
    const segments = plan({ overrides: [override] });
    expect(rows(segments).slice(2)).toEqual([
      ['2026-01-12T07:00:00.000Z', 'comfort', 19, 'occupied', B.occupied.rule],
      ['2026-01-12T16:00:00.000Z', 'comfort', 19, 'override', 'override:o1'],
      ['2026-01-12T16:20:00.000Z', 'comfort', 19, 'occupied', B.occupied.rule],
      ['2026-01-12T16:30:00.000Z', 'eco', 16, 'short-gap', B.under24.rule],
    ]);
  });

  it('never stops into a gap kept at comfort (merged) or ended by the next preheat', () => {
    // Lunch 12:00–12:30 local: under the merge threshold, comfort goes on.
    const lunch = [
      occ('2026-01-12T07:00:00Z', '2026-01-12T11:00:00Z'),
      occ('2026-01-12T11:30:00Z', '2026-01-12T16:30:00Z'),
    ];
    const segments = plan({ occupancy: lunch });
    const stops = segments.filter((s) => s.reason.rule === 'optimum-stop');
    expect(stops.map((s) => new Date(s.from).toISOString())).toEqual(['2026-01-12T16:13:00.000Z']);
  });
});
