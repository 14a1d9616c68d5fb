/**
 * The fixed-programme baseline per zone category (issue 21): a gym whose rules heat it to 14 °C
 * is compared with a programme at 14 °C, not 19 °C, so a gym and a classroom on the same
 * timetable get comparable savings ratios (before: 32–39 % for gyms against 22 % for a
 * classroom, the rules' lower setpoint counted as the timetable's saving).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SchoolCalendar } from '../../src/calendar/index.js';
import type { Zone } from '../../src/devices/schema.js';
import { loadRulesFile } from '../../src/rules/rule-set.js';
import type { Segment } from '../../src/rules/segment.js';
import { DEFAULT_BASELINE, zoneBaseline, zoneComfortSetpoints } from '../../src/savings/baseline.js';
import { estimateSavings } from '../../src/savings/estimate.js';
import { REPO_ROOT } from '../helpers/cli.js';

const calendar = new SchoolCalendar({ zone: 'B', periods: [], departement: '67' });
const rules = loadRulesFile(
  readFileSync(join(REPO_ROOT, 'rules/default.yaml'), 'utf8'),
  'rules/default.yaml',
);

const zone = (id: string, category: Zone['category']) =>
  ({
    id,
    name: id,
    category,
    heating_type: 'hydronic',
    functions: ['heating'],
    loss_coefficient_w_per_k: 200,
  }) as unknown as Zone;

/**
 * One week (Monday 12 – Sunday 18 January 2026, CET), the same lessons 08:00–17:00 on weekdays:
 * occupied at the zone's comfort, unoccupied nights at its eco, the weekend (≥ 48 h) at frost.
 */
function week(comfort: number, eco: number): Segment[] {
  const out: Segment[] = [];
  const seg = (from: number, to: number, mode: Segment['mode'], setpoint_c: number): Segment => ({
    from,
    to,
    function: 'heating',
    mode,
    setpoint_c,
    reason: { kind: 'occupied', rule: 'test', basis: 'test' },
  });
  const h = 3_600_000;
  const monday = Date.parse('2026-01-11T23:00:00Z');
  let t = monday;
  for (let d = 0; d < 5; d++) {
    const day = monday + d * 24 * h;
    out.push(seg(t, day + 8 * h, 'eco', eco));
    out.push(seg(day + 8 * h, day + 17 * h, 'comfort', comfort));
    t = day + 17 * h;
  }
  out.push(seg(t, monday + 7 * 24 * h, 'frost', 8));
  return out;
}

describe('the baseline uses each zone category’s own comfort', () => {
  it('reads 14 °C for gyms and workshops from the rules, nothing for classrooms', () => {
    const comfort = zoneComfortSetpoints(rules, '0670999X', [
      zone('gymnase', 'gym'),
      zone('atelier', 'workshop'),
      zone('b101', 'classroom'),
    ]);
    expect([...comfort]).toEqual([
      ['gymnase', 14],
      ['atelier', 14],
    ]);
    expect(zoneBaseline(DEFAULT_BASELINE, 14)).toEqual({
      ...DEFAULT_BASELINE,
      comfort_c: 14,
      setback_c: 14,
      holiday_c: 8,
    });
  });

  it('gives a gym and a classroom on the same timetable comparable savings ratios', () => {
    const comfort = zoneComfortSetpoints(rules, '0670999X', [
      zone('gymnase', 'gym'),
      zone('b101', 'classroom'),
    ]);
    const estimate = (gymComfort: number | undefined) =>
      estimateSavings({
        period: { from: Date.parse('2026-01-11T23:00:00Z'), to: Date.parse('2026-01-18T23:00:00Z') },
        zones: [
          { zone: zone('b101', 'classroom'), segments: week(19, 16) },
          {
            zone: zone('gymnase', 'gym'),
            segments: week(14, 14),
            ...(gymComfort === undefined ? {} : { comfortC: gymComfort }),
          },
        ],
        baseline: DEFAULT_BASELINE,
        calendar,
        outdoor: { kind: 'constant', c: 3 },
      });
    const fixed = estimate(comfort.get('gymnase'));
    const [classroom, gym] = fixed.zones;
    expect(gym?.baseline_comfort_c).toBe(14);
    expect(classroom?.baseline_comfort_c).toBeUndefined();
    // Hand check, 3 °C outside, 168 h: classroom baseline 60 h × 16 K + 108 h × 13 K = 2364 K·h,
    // plan 45 h comfort × 16 K + 68 h eco × 13 K + 55 h frost × 5 K = 1879 K·h → 20.5 %. Gym
    // baseline 168 h × 11 K = 1848 K·h, plan 113 h × 11 K + 55 h × 5 K = 1518 K·h → 17.9 %.
    expect(classroom?.degree_hours).toEqual({ plan: 1879, baseline: 2364 });
    expect(gym?.degree_hours).toEqual({ plan: 1518, baseline: 1848 });
    expect(classroom?.saving_percent).toBe(20.5);
    expect(gym?.saving_percent).toBe(17.9);
    expect(Math.abs((gym?.saving_percent as number) - (classroom?.saving_percent as number))).toBeLessThan(5);
    // Before the fix the gym was compared with 19 °C comfort and 16 °C nights: an inflated ratio.
    const inflated = estimate(undefined).zones[1]?.saving_percent as number;
    expect(inflated).toBeGreaterThan(35);
  });
});
