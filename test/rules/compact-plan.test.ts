/**
 * The planner's compact output (compact-plan.ts): segments are built only when a function is
 * read, look exactly like before, and hash the same whether read or not.
 */
import { describe, expect, it } from 'vitest';
import type { OccupancyInterval } from '../../src/domain/occupancy.js';
import { compactSegmentsOf, segmentCount } from '../../src/rules/compact-plan.js';
import type { Override } from '../../src/rules/overrides.js';
import { planHash, schoolPlanHash } from '../../src/rules/plan-hash.js';
import { planZone } from '../../src/rules/planner.js';
import type { ZonePlan } from '../../src/rules/segment.js';
import { occ, rulesFor, t, zone } from './plan-fixtures.js';

const z = zone({ functions: ['heating', 'lighting', 'ventilation'] });

function weeks(): OccupancyInterval[] {
  const out: OccupancyInterval[] = [];
  for (let d = 0; d < 21; d++) {
    const date = new Date(t('2026-01-05T00:00:00Z') + d * 86_400_000).toISOString().slice(0, 10);
    if (d % 7 >= 5) continue;
    out.push(occ(`${date}T07:00:00Z`, `${date}T09:00:00Z`, [`a-${d}`, `b-${d}`]));
    out.push(occ(`${date}T09:30:00Z`, `${date}T11:00:00Z`, [`c-${d}`]));
    out.push(occ(`${date}T13:00:00Z`, `${date}T16:30:00Z`));
  }
  return out;
}

const override: Override = {
  id: 'ov-soir',
  zone: z.id,
  function: 'heating',
  mode: 'comfort',
  setpoint_c: 19,
  from: t('2026-01-13T17:00:00Z'),
  until: t('2026-01-13T20:00:00Z'),
  author: 'm.durand',
  reason: 'soirée',
  created_at: t('2026-01-10T09:00:00Z'),
};

function plan(known?: { from: number; to: number }): ZonePlan {
  return planZone({
    zone: z,
    occupancy: weeks(),
    rules: rulesFor(z),
    overrides: [override],
    horizon: { from: t('2026-01-11T23:00:00Z'), to: t('2026-01-18T23:00:00Z') },
    ...(known ? { known } : {}),
  });
}

/** The same plan as plain objects (what a plan read from JSON or built by hand looks like). */
function plain(p: ZonePlan): ZonePlan {
  return JSON.parse(JSON.stringify(p)) as ZonePlan;
}

describe('compact plan', () => {
  it('builds segments on first read only, keeps them, and counts them without building', () => {
    const p = plan();
    expect(Object.keys(p)).toEqual(['heating', 'lighting', 'ventilation']);
    const count = segmentCount(p, 'heating');
    expect(count).toBeGreaterThan(20);
    expect(compactSegmentsOf(p, 'heating')).toBeDefined();
    const heating = p.heating;
    expect(heating).toHaveLength(count);
    expect(p.heating).toBe(heating);
    expect(compactSegmentsOf(p, 'heating')).toBeUndefined();
    expect(compactSegmentsOf(p, 'lighting')).toBeDefined();
    expect(segmentCount(p, 'heating')).toBe(count);
  });

  it('reads back contiguous segments with the reasons the planner gives (interned and frozen without lessons)', () => {
    const heating = plan().heating ?? [];
    for (let i = 1; i < heating.length; i++) expect(heating[i]?.from).toBe(heating[i - 1]?.to);
    const kinds = new Set(heating.map((s) => s.reason.kind));
    expect(kinds).toEqual(new Set(['short-gap', 'holiday', 'preheat', 'occupied', 'merged-gap', 'override']));
    const overridden = heating.find((s) => s.reason.kind === 'override');
    expect(overridden).toMatchObject({ mode: 'comfort', setpoint_c: 19, reason: { override_id: 'ov-soir' } });
    const gaps = heating.filter((s) => s.reason.kind === 'short-gap');
    const sameLength = gaps.filter((s) => s.reason.gap_hours === gaps[0]?.reason.gap_hours);
    expect(sameLength.length).toBeGreaterThan(1);
    expect(sameLength[1]?.reason).toBe(sameLength[0]?.reason);
    expect(Object.isFrozen(sameLength[0]?.reason)).toBe(true);
    const lessons = heating.find((s) => s.reason.lessons?.includes('a-8'));
    expect(lessons?.reason.lessons).toEqual(['a-8', 'b-8']);
  });

  it('hashes the same read or unread, whole plans and per zone, open-ended gaps included', () => {
    const known = { from: t('2026-01-11T10:00:00Z'), to: t('2026-01-19T02:00:00Z') };
    for (const k of [undefined, known]) {
      const unread = { b: plan(k), a: plan(k) };
      const read = { b: plan(k), a: plan(k) };
      void read.a.heating;
      void read.b.lighting;
      const copied = { b: plain(plan(k)), a: plain(plan(k)) };
      expect(schoolPlanHash(unread)).toBe(schoolPlanHash(copied));
      expect(schoolPlanHash(read)).toBe(schoolPlanHash(copied));
      expect(planHash(plan(k))).toBe(planHash(plain(plan(k))));
    }
    const openEnded = plan(known).heating?.filter((s) => s.reason.gap_open_ended);
    expect(openEnded?.length).toBeGreaterThan(0);
  });

  it('takes an assigned list over the planned one', () => {
    const p = plan();
    const before = schoolPlanHash({ a: p });
    p.heating = (p.heating ?? []).slice(1);
    expect(segmentCount(p, 'heating')).toBe((plan().heating?.length ?? 0) - 1);
    expect(schoolPlanHash({ a: p })).not.toBe(before);
    expect(JSON.parse(JSON.stringify(p))).toEqual(plain(p));
  });
});
