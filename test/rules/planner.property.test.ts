/**
 * Properties over many seeded random occupancies (hand-rolled PRNG, no extra library):
 * contiguity, legal caps, explained segments, gap tiers matching gap lengths, the 1 h lighting
 * limit, determinism of plan and hash.
 */
import { describe, expect, it } from 'vitest';
import { HEATING_TYPES, ZONE_CATEGORIES, type Zone } from '../../src/devices/schema.js';
import type { OccupancyInterval } from '../../src/domain/occupancy.js';
import type { Override } from '../../src/rules/overrides.js';
import { planHash } from '../../src/rules/plan-hash.js';
import { planZone } from '../../src/rules/planner.js';
import type { ResolvedRules } from '../../src/rules/resolve.js';
import type { ReasonKind } from '../../src/rules/segment.js';
import { rulesFor, t, zone } from './plan-fixtures.js';

/** mulberry32: small, seedable, good enough to spread test inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = t('2026-01-05T00:00:00Z');

interface Scenario {
  zone: Zone;
  rules: ResolvedRules;
  occupancy: OccupancyInterval[];
  overrides: Override[];
  horizon: { from: number; to: number };
}

function scenario(seed: number): Scenario {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const z = zone({
    functions: ['heating', 'lighting', 'ventilation'],
    category: pick(ZONE_CATEGORIES),
    heating_type: pick(HEATING_TYPES),
    ...(rnd() < 0.3 ? { preheat_minutes: 15 + Math.floor(rnd() * 166) } : {}),
  });
  const occupancy: OccupancyInterval[] = [];
  for (let day = 0; day < 35; day++) {
    if (rnd() < 0.25) continue; // closed days, weekends, holidays of random length
    const lessons = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < lessons; i++) {
      const start = START + day * DAY + (5 * 60 + Math.floor(rnd() * 60) * 15) * MIN;
      const end = start + (15 + Math.floor(rnd() * 16) * 15) * MIN;
      occupancy.push({ start, end, source: [`L${day}-${i}`] });
    }
  }
  const from = START + 7 * DAY + Math.floor(rnd() * 7 * 96) * 15 * MIN;
  const horizon = { from, to: from + (1 + Math.floor(rnd() * 14)) * DAY };
  const overrides: Override[] = [];
  const count = Math.floor(rnd() * 3);
  for (let i = 0; i < count; i++) {
    const oFrom = horizon.from + Math.floor(rnd() * (horizon.to - horizon.from));
    const fn = pick(['heating', 'lighting'] as const);
    overrides.push({
      id: `ov-${seed}-${i}`,
      zone: z.id,
      function: fn,
      mode:
        fn === 'heating' ? pick(['comfort', 'eco', 'frost', 'off'] as const) : pick(['on', 'off'] as const),
      ...(fn === 'heating' ? { setpoint_c: 8 + Math.floor(rnd() * 12) } : {}),
      from: oFrom,
      until: oFrom + (1 + Math.floor(rnd() * 48)) * HOUR,
      author: 'prop',
      reason: 'random',
      created_at: START + Math.floor(rnd() * 1000) * MIN,
    });
  }
  return { zone: z, rules: rulesFor(z), occupancy, overrides, horizon };
}

/** Caps of R241-26/27 per reason kind (docs/regulation.md); overrides are bounded by the override API. */
const CAP: Partial<Record<ReasonKind, number>> = {
  occupied: 19,
  preheat: 19,
  'merged-gap': 19,
  fallback: 19,
  'short-gap': 19,
  'long-gap': 16,
  holiday: 8,
};

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);

describe('planner properties over 300 seeded scenarios', () => {
  // Violations are collected and asserted once: an empty list is the property, and a failure
  // names the seed to replay.
  it('segments cover each horizon contiguously, without gap or overlap, and neighbours differ', () => {
    const violations: string[] = [];
    let segmentsSeen = 0;
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const plan = planZone(s);
      for (const fn of s.zone.functions) {
        const segments = plan[fn] ?? [];
        segmentsSeen += segments.length;
        if (segments[0]?.from !== s.horizon.from)
          violations.push(`seed ${seed} ${fn}: does not start at the horizon`);
        if (segments.at(-1)?.to !== s.horizon.to)
          violations.push(`seed ${seed} ${fn}: does not end at the horizon`);
        segments.forEach((cur, i) => {
          if (!(cur.to > cur.from)) violations.push(`seed ${seed} ${fn} #${i}: empty`);
          if (cur.function !== fn) violations.push(`seed ${seed} ${fn} #${i}: function ${cur.function}`);
          const next = segments[i + 1];
          if (!next) return;
          if (next.from !== cur.to) violations.push(`seed ${seed} ${fn} #${i}: ${cur.to} → ${next.from}`);
          const same =
            next.mode === cur.mode &&
            next.setpoint_c === cur.setpoint_c &&
            next.reason.kind === cur.reason.kind &&
            next.reason.rule === cur.reason.rule &&
            next.reason.gap_hours === cur.reason.gap_hours;
          if (same) violations.push(`seed ${seed} ${fn} #${i}: unmerged identical neighbours`);
        });
      }
    }
    expect(violations).toEqual([]);
    expect(segmentsSeen).toBeGreaterThan(10_000);
  });

  it('no heating setpoint above the legal cap of its situation; every segment is explained', () => {
    const violations: string[] = [];
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const plan = planZone(s);
      for (const fn of s.zone.functions) {
        for (const segment of plan[fn] ?? []) {
          const { kind, rule, basis, override_id, exception } = segment.reason;
          if (!rule || !basis) violations.push(`seed ${seed} ${fn} ${segment.from}: no rule or basis`);
          if (kind === 'override') {
            if (!s.overrides.some((o) => o.id === override_id))
              violations.push(`seed ${seed}: unknown override`);
            continue;
          }
          const cap = CAP[kind];
          if (fn === 'heating' && cap !== undefined && !exception && !((segment.setpoint_c ?? 0) <= cap)) {
            violations.push(`seed ${seed} ${kind}: ${segment.setpoint_c} °C > ${cap} °C`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('gap tiers match the gap length; gaps never cover a lesson', () => {
    const violations: string[] = [];
    const tiers = new Set<string>();
    for (const seed of SEEDS) {
      const s = scenario(seed);
      for (const segment of planZone(s).heating ?? []) {
        const { kind, gap_hours, gap_open_ended } = segment.reason;
        if (gap_hours === undefined) continue;
        tiers.add(kind);
        const ok =
          kind === 'short-gap'
            ? gap_hours < 24
            : kind === 'long-gap'
              ? gap_hours >= 24 && gap_hours < 48
              : kind === 'holiday'
                ? gap_hours >= 48
                : kind === 'merged-gap' &&
                  gap_open_ended === undefined &&
                  gap_hours * 60 < s.rules.heating.merge_gap_minutes.value + 0.01;
        if (!ok) violations.push(`seed ${seed}: ${kind} with ${gap_hours} h`);
        if (s.occupancy.some((o) => o.start < segment.to && o.end > segment.from)) {
          violations.push(`seed ${seed}: ${kind} gap over a lesson`);
        }
      }
    }
    expect(violations).toEqual([]);
    // The scenarios exercise every tier, so the checks above are not vacuous.
    expect([...tiers].sort()).toEqual(['holiday', 'long-gap', 'merged-gap', 'short-gap']);
  });

  it('lighting is never on more than 1 h after occupancy ends, even with a 90 min lag forced in', () => {
    const violations: string[] = [];
    for (const seed of SEEDS.slice(0, 100)) {
      const s = scenario(seed);
      const rules: ResolvedRules = {
        ...s.rules,
        lighting: { ...s.rules.lighting, lag_minutes: { ...s.rules.lighting.lag_minutes, value: 90 } },
      };
      for (const segment of planZone({ ...s, rules, overrides: [] }).lighting ?? []) {
        if (segment.mode !== 'on') continue;
        const lastEnd = Math.max(...s.occupancy.filter((o) => o.start <= segment.to).map((o) => o.end));
        if (segment.to - lastEnd > HOUR)
          violations.push(`seed ${seed}: on until ${segment.to - lastEnd} ms after`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('same inputs give the same plan and hash, whatever the input order', () => {
    const hashes = new Set<string>();
    for (const seed of SEEDS.slice(0, 100)) {
      const s = scenario(seed);
      const a = planZone(s);
      const b = planZone({
        ...s,
        occupancy: [...s.occupancy].reverse(),
        overrides: [...s.overrides].reverse(),
      });
      expect(b).toEqual(a);
      expect(planHash(b)).toBe(planHash(a));
      hashes.add(planHash(a));
    }
    expect(hashes.size).toBe(100);
    expect([...hashes].every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });
});
