/**
 * The optimum-start snapshot is part of the plan hash and of the plan's audit entry (issue 17):
 * a preheat's `optimum_start` counts in `schoolPlanHash` and `planHash`, by content; the plan
 * entry of the audit carries the whole snapshot.
 */
import { describe, expect, it } from 'vitest';
import { planEvents } from '../../src/bridge/audit-events.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import { optimumStartSnapshot } from '../../src/rules/optimum-start.js';
import { planHash, schoolPlanHash } from '../../src/rules/plan-hash.js';
import type { Segment, SegmentReason } from '../../src/rules/segment.js';

const snapshot = optimumStartSnapshot(
  Date.parse('2027-01-12T00:00:00Z'),
  { source: 'sensor', c: 2, at: '2027-01-11T23:55:00Z' },
  {
    salle: {
      starts: 6,
      cool_downs: 6,
      heat_gain_k_per_h: 4,
      time_constant_h: 10,
      last_sample_at: '2027-01-11T23:55:00.000Z',
    },
  },
);

function preheat(optimum?: SegmentReason['optimum_start']): Record<string, { heating: Segment[] }> {
  const reason: SegmentReason = {
    kind: 'preheat',
    rule: 'optimum-start',
    basis: 'learned',
    temperature_rule: 'r.occ',
  };
  if (optimum) reason.optimum_start = optimum;
  return {
    salle: {
      heating: [{ from: 0, to: 3_600_000, function: 'heating', mode: 'comfort', setpoint_c: 19, reason }],
    },
  };
}

const learned = (lead: number) => ({
  status: 'learned' as const,
  heat_gain_k_per_h: 4,
  time_constant_h: 10,
  rate_k_per_h: 2.6,
  predicted_start_c: 16,
  outdoor_c: 2,
  lead_minutes: lead,
  starts: 6,
  snapshot: snapshot.id,
});

describe('optimum start in the plan hash and the audit', () => {
  it('counts the reason’s optimum_start, by content, in both hashes', () => {
    const without = preheat();
    const a = preheat(learned(86));
    const b = preheat(learned(86));
    const c = preheat(learned(87));
    expect(schoolPlanHash(a)).toBe(schoolPlanHash(b));
    expect(schoolPlanHash(a)).not.toBe(schoolPlanHash(without));
    expect(schoolPlanHash(a)).not.toBe(schoolPlanHash(c));
    expect(planHash(a)).toBe(planHash(b));
    expect(planHash(a)).not.toBe(planHash(c));
    expect(snapshot.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records the whole snapshot in the plan entry', () => {
    const feed = new MutablePlanFeed();
    const plan: SchoolPlan = {
      uai: '0670999X',
      horizon: { from: 0, to: 3_600_000 },
      rulesVersion: '2026.1',
      timetableVersion: 1,
      fallback: false,
      zones: [],
      hash: 'h',
      optimumStart: snapshot,
    };
    feed.set(plan);
    const [entry] = planEvents(feed, '0670999X', 5);
    expect(entry?.detail).toMatchObject({ hash: 'h', optimum_start: snapshot });
  });
});
