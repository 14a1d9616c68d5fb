import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, planHash } from '../../src/rules/plan-hash.js';
import type { Segment } from '../../src/rules/segment.js';

const segment: Segment = {
  from: 1,
  to: 2,
  function: 'heating',
  mode: 'eco',
  setpoint_c: 16,
  reason: { kind: 'short-gap', rule: 'r', basis: 'b', gap_hours: 13.5 },
};

describe('planHash', () => {
  it('is the sha256 of a canonical JSON with sorted keys and no undefined', () => {
    const json =
      '{"heating":[{"from":1,"function":"heating","mode":"eco","reason":{"basis":"b","gap_hours":13.5,"kind":"short-gap","rule":"r"},"setpoint_c":16,"to":2}]}';
    expect(canonicalJson({ heating: [segment] })).toBe(json);
    expect(planHash({ heating: [segment] })).toBe(createHash('sha256').update(json).digest('hex'));
  });

  it('ignores key order and undefined fields, not values', () => {
    const reordered = {
      reason: { ...segment.reason, lessons: undefined },
      to: 2,
      from: 1,
      mode: 'eco',
      function: 'heating',
      setpoint_c: 16,
    } as Segment;
    expect(planHash({ heating: [reordered] })).toBe(planHash({ heating: [segment] }));
    expect(planHash({ heating: [{ ...segment, setpoint_c: 17 }] })).not.toBe(
      planHash({ heating: [segment] }),
    );
  });

  it('hashes a temperature rule as canonical JSON does (sorted after rule)', () => {
    const preheat: Segment = {
      ...segment,
      reason: { kind: 'preheat', rule: 'r.preheat', temperature_rule: 'r.occ', basis: 'b' },
    };
    const json =
      '{"heating":[{"from":1,"function":"heating","mode":"eco","reason":{"basis":"b","kind":"preheat","rule":"r.preheat","temperature_rule":"r.occ"},"setpoint_c":16,"to":2}]}';
    expect(canonicalJson({ heating: [preheat] })).toBe(json);
    expect(planHash({ heating: [preheat] })).toBe(createHash('sha256').update(json).digest('hex'));
  });
});
