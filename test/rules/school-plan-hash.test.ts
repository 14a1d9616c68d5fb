/**
 * `schoolPlanHash`: the compact canonical hash of a school's plan (docs/rules.md, "Performance").
 * Canonical: equal plans hash equal however their objects were built or shared; every field of
 * every segment counts.
 */
import { describe, expect, it } from 'vitest';
import { schoolPlanHash } from '../../src/rules/plan-hash.js';
import type { Segment, ZonePlan } from '../../src/rules/segment.js';

const lessons = ['maths-2A', 'svt-1B'];
const exception = {
  justification: 'pool hall',
  basis: 'arrêté préfectoral 2024-17',
  approved_by: 'Préfet du Bas-Rhin',
  approved_on: '2024-03-01',
  reference: 'arrêté préfectoral 2024-17',
};

function plan(): Record<string, ZonePlan> {
  return {
    'batiment-b': {
      heating: [
        {
          from: 0,
          to: 3_600_000,
          function: 'heating',
          mode: 'eco',
          setpoint_c: 16,
          reason: { kind: 'short-gap', rule: 'r.gap', basis: 'b gap', gap_hours: 13.5, gap_open_ended: true },
        },
        {
          from: 3_600_000,
          to: 7_200_000,
          function: 'heating',
          mode: 'comfort',
          setpoint_c: 19,
          reason: { kind: 'occupied', rule: 'r.occ', basis: 'b occ', lessons, exception },
        },
      ],
      lighting: [
        {
          from: 0,
          to: 7_200_000,
          function: 'lighting',
          mode: 'on',
          reason: { kind: 'override', rule: 'override:o1', basis: 'visit (ana)', override_id: 'o1' },
        },
      ],
    },
    gymnase: {
      heating: [
        {
          from: 0,
          to: 7_200_000,
          function: 'heating',
          mode: 'comfort',
          setpoint_c: 19,
          reason: { kind: 'preheat', rule: 'r.pre', basis: 'b pré', lessons },
        },
      ],
    },
  };
}

/** Rebuilds every object with keys in reverse order and no sharing (fresh arrays and exceptions). */
function rebuilt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebuilt);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, rebuilt(v)]),
  );
}

const segmentAt = (
  p: Record<string, ZonePlan>,
  zone: string,
  fn: 'heating' | 'lighting',
  i: number,
): Segment => p[zone]?.[fn]?.[i] as Segment;

describe('schoolPlanHash', () => {
  it('is a sha256 in hex, the same for equal plans whatever key order, sharing or undefined fields', () => {
    const hash = schoolPlanHash(plan());
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(schoolPlanHash(rebuilt(plan()) as Record<string, ZonePlan>)).toBe(hash);
    const withUndefined = plan();
    segmentAt(withUndefined, 'gymnase', 'heating', 0).reason.override_id = undefined;
    expect(schoolPlanHash(withUndefined)).toBe(hash);
    expect(schoolPlanHash({ ...plan(), absent: undefined } as unknown as Record<string, ZonePlan>)).toBe(
      hash,
    );
  });

  it('changes with every field of a segment, the zone ids and the segment order', () => {
    const base = schoolPlanHash(plan());
    const changes: [string, (p: Record<string, ZonePlan>) => void][] = [
      [
        'from',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 0).from = 1;
        },
      ],
      [
        'to',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 1).to = 7_200_001;
        },
      ],
      [
        'function',
        (p) => {
          segmentAt(p, 'batiment-b', 'lighting', 0).function = 'ventilation';
        },
      ],
      [
        'mode',
        (p) => {
          segmentAt(p, 'batiment-b', 'lighting', 0).mode = 'off';
        },
      ],
      [
        'setpoint',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 0).setpoint_c = 17;
        },
      ],
      [
        'no setpoint',
        (p) => {
          delete segmentAt(p, 'batiment-b', 'heating', 0).setpoint_c;
        },
      ],
      [
        'kind',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 0).reason.kind = 'long-gap';
        },
      ],
      [
        'rule',
        (p) => {
          segmentAt(p, 'gymnase', 'heating', 0).reason.rule = 'r.other';
        },
      ],
      [
        'temperature rule',
        (p) => {
          segmentAt(p, 'gymnase', 'heating', 0).reason.temperature_rule = 'r.occ';
        },
      ],
      [
        'basis',
        (p) => {
          segmentAt(p, 'gymnase', 'heating', 0).reason.basis = 'b pre';
        },
      ],
      [
        'lessons',
        (p) => {
          segmentAt(p, 'gymnase', 'heating', 0).reason.lessons = ['maths-2A'];
        },
      ],
      [
        'no lessons',
        (p) => {
          delete segmentAt(p, 'gymnase', 'heating', 0).reason.lessons;
        },
      ],
      [
        'gap hours',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 0).reason.gap_hours = 13.25;
        },
      ],
      [
        'closed gap',
        (p) => {
          delete segmentAt(p, 'batiment-b', 'heating', 0).reason.gap_open_ended;
        },
      ],
      [
        'override id',
        (p) => {
          segmentAt(p, 'batiment-b', 'lighting', 0).reason.override_id = 'o2';
        },
      ],
      [
        'exception',
        (p) => {
          segmentAt(p, 'batiment-b', 'heating', 1).reason.exception = { ...exception, basis: 'x' };
        },
      ],
      [
        'zone id',
        (p) => {
          p['gymnase-2'] = p.gymnase as ZonePlan;
          delete p.gymnase;
        },
      ],
      [
        'segment order',
        (p) => {
          p['batiment-b']?.heating?.reverse();
        },
      ],
    ];
    const hashes = changes.map(([, change]) => {
      const p = plan();
      change(p);
      return schoolPlanHash(p);
    });
    expect(hashes.filter((h) => h === base)).toEqual([]);
    // Each change gives its own hash.
    expect(new Set(hashes).size).toBe(changes.length);
  });

  it('tells apart strings that a naive concatenation would confuse, and long ones', () => {
    const withBasis = (basis: string) => {
      const p = plan();
      segmentAt(p, 'gymnase', 'heating', 0).reason.basis = basis;
      segmentAt(p, 'gymnase', 'heating', 0).reason.rule = `${basis}.rule`;
      return schoolPlanHash(p);
    };
    expect(withBasis('a')).not.toBe(withBasis('a\u0000'));
    const long = 'é'.repeat(40_000);
    expect(withBasis(long)).toBe(withBasis(`${'é'.repeat(20_000)}${'é'.repeat(20_000)}`));
    expect(withBasis(long)).not.toBe(withBasis(`${long}x`));
  });
});
