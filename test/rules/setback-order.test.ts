import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { planZone } from '../../src/rules/planner.js';
import { loadRulesFile } from '../../src/rules/rule-set.js';
import { checkSetbacksBelowOccupied } from '../../src/rules/setback-order.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';
import { defaultRuleSet, occ, rulesFor, t, UAI, zone } from './plan-fixtures.js';

/** 21 lines, as in rule-set.test.ts; layers are appended from line 22. */
const MINIMAL = `version: "t1"
name: minimal
defaults:
  heating:
    occupied: { setpoint_c: 19, basis: R241-26 }
    unoccupied_under_24h: { setpoint_c: 16, basis: local decision }
    unoccupied_24h_to_48h: { setpoint_c: 16, basis: R241-27 }
    unoccupied_48h_or_more: { setpoint_c: 8, basis: R241-27 }
    merge_gap_minutes: { value: 90, basis: local decision }
    preheat_minutes: { value: 60, basis: local decision }
    early_stop_minutes: { value: 0, basis: local decision }
  lighting:
    occupied: { mode: "on", basis: arrêté 2018 }
    unoccupied: { mode: "off", basis: arrêté 2018 }
    lead_minutes: { value: 10, basis: local decision }
    lag_minutes: { value: 10, basis: arrêté 2018 }
  ventilation:
    occupied: { mode: "on", basis: local decision }
    unoccupied: { mode: "off", basis: local decision }
    purge_before_minutes: { value: 30, basis: local decision }
    purge_after_minutes: { value: 30, basis: local decision }
`;

function problemsOf(text: string): InputError['problems'] {
  try {
    loadRulesFile(text, 'rules/t.yaml');
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputError');
}

const gym14 = `categories:
  gym:
    heating:
      occupied: { setpoint_c: 14, basis: plan de sobriété }
`;

describe('setbacks never above the occupied setpoint', () => {
  it("refuses the issue's gym: occupied 14 °C, nights and short gaps 16 °C from the defaults", () => {
    expect(problemsOf(MINIMAL + gym14)).toEqual([
      {
        code: 'setback-above-occupied',
        message:
          'defaults.heating.unoccupied_under_24h.setpoint_c sends 16 °C to gym zones, warmer than their occupied 14 °C ' +
          '(categories.gym.heating.occupied): an unoccupied tier must not exceed the occupied setpoint (R241-26/R241-27); ' +
          'lower it or add categories.gym.heating.unoccupied_under_24h at most 14 °C',
        where: 'rules/t.yaml:6 (defaults.heating.unoccupied_under_24h.setpoint_c)',
      },
      {
        code: 'setback-above-occupied',
        message:
          'defaults.heating.unoccupied_24h_to_48h.setpoint_c sends 16 °C to gym zones, warmer than their occupied 14 °C ' +
          '(categories.gym.heating.occupied): an unoccupied tier must not exceed the occupied setpoint (R241-26/R241-27); ' +
          'lower it or add categories.gym.heating.unoccupied_24h_to_48h at most 14 °C',
        where: 'rules/t.yaml:7 (defaults.heating.unoccupied_24h_to_48h.setpoint_c)',
      },
    ]);
  });

  it('accepts the gym once its tiers are capped, and a tier equal to the occupied setpoint', () => {
    const capped = `${gym14}      unoccupied_under_24h: { setpoint_c: 14, basis: R241-27 }
      unoccupied_24h_to_48h: { setpoint_c: 12, basis: R241-27 }
`;
    expect(() => loadRulesFile(MINIMAL + capped, 'rules/t.yaml')).not.toThrow();
  });

  it('names a school-level tier above a category it meets, at its own line', () => {
    const text = `${MINIMAL}${gym14}      unoccupied_under_24h: { setpoint_c: 14, basis: R241-27 }
      unoccupied_24h_to_48h: { setpoint_c: 14, basis: R241-27 }
schools:
  "0670999X":
    heating:
      unoccupied_24h_to_48h: { setpoint_c: 15, basis: local }
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => p.where)).toEqual([
      'rules/t.yaml:31 (schools.0670999X.heating.unoccupied_24h_to_48h.setpoint_c)',
    ]);
    expect(problems[0]?.message).toContain(
      'sends 15 °C to gym zones of 0670999X, warmer than their occupied 14 °C',
    );
  });

  it('checks zone layers against the zones devices/ declares (their category is there only)', () => {
    const text = `${MINIMAL}schools:
  "0670999X":
    zones:
      cdi:
        heating:
          occupied: { setpoint_c: 15, basis: local decision }
`;
    const ruleSet = loadRulesFile(text, 'rules/t.yaml');
    const cdi = zone({ id: 'cdi', rooms: ['CDI'], category: 'library' });
    expect(checkSetbacksBelowOccupied(ruleSet, [{ uai: UAI, zone: cdi }])).toEqual([
      expect.objectContaining({
        code: 'setback-above-occupied',
        where: 'rules/t.yaml:6 (defaults.heating.unoccupied_under_24h.setpoint_c)',
      }),
      expect.objectContaining({
        where: 'rules/t.yaml:7 (defaults.heating.unoccupied_24h_to_48h.setpoint_c)',
      }),
    ]);
  });

  it('passes with the shipped rules, whose gym setbacks are at most its 14 °C', () => {
    const gym = rulesFor(zone({ id: 'gymnase', category: 'gym', heating_type: 'air' }));
    expect(gym.heating.occupied.setpoint_c).toBe(14);
    expect(gym.heating.unoccupied_under_24h.setpoint_c).toBe(14);
    expect(gym.heating.unoccupied_24h_to_48h.setpoint_c).toBe(14);
    expect(checkSetbacksBelowOccupied(defaultRuleSet)).toEqual([]);
  });

  it('is refused on a reload too: the holder keeps the last valid site', () => {
    const dir = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(dir, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const holder = new SiteHolder({
      devicesDir: join(dir, 'devices'),
      rulesDir: join(dir, 'rules'),
      baseDir: dir,
    });
    const before = holder.current;
    const file = join(dir, 'rules', 'default.yaml');
    // The CDI (a library) gets its own occupied 15 °C: only devices/ says it meets the 16 °C nights.
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}schools:\n  "0670999X":\n    zones:\n      cdi:\n        heating:\n          occupied: { setpoint_c: 15, basis: local decision }\n`,
    );
    const result = holder.reload();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => [p.code, p.where])).toEqual([
        [
          'setback-above-occupied',
          'rules/default.yaml:38 (defaults.heating.unoccupied_under_24h.setpoint_c)',
        ],
        [
          'setback-above-occupied',
          'rules/default.yaml:44 (defaults.heating.unoccupied_24h_to_48h.setpoint_c)',
        ],
      ]);
    }
    expect(holder.current).toBe(before);
  });
});

describe('planner clamp (second line of defence)', () => {
  it('never sends a setback above the occupied setpoint, and says so in the reason', () => {
    const gym = zone({ id: 'gymnase', category: 'gym', heating_type: 'air' });
    const resolved = rulesFor(gym);
    // Rules built in code, past the loader's check: the gym's nights at the defaults' 16 °C.
    const rules = {
      ...resolved,
      heating: {
        ...resolved.heating,
        unoccupied_under_24h: {
          mode: 'eco' as const,
          setpoint_c: 16,
          rule: 'defaults.heating.unoccupied_under_24h',
          basis: 'b',
        },
      },
    };
    const plan = planZone({
      zone: gym,
      rules,
      occupancy: [
        occ('2026-01-13T07:00:00Z', '2026-01-13T16:00:00Z'),
        occ('2026-01-14T07:00:00Z', '2026-01-14T16:00:00Z'),
      ],
      overrides: [],
      horizon: { from: t('2026-01-13T06:00:00Z'), to: t('2026-01-14T06:00:00Z') },
    });
    const night = plan.heating?.find((s) => s.reason.kind === 'short-gap');
    expect(night).toMatchObject({
      from: t('2026-01-13T16:00:00Z'),
      mode: 'eco',
      setpoint_c: 14,
      reason: {
        rule: 'defaults.heating.unoccupied_under_24h',
        basis:
          'b — clamped from 16 °C to the occupied 14 °C of categories.gym.heating.occupied (a setback is never warmer than occupancy)',
      },
    });
    expect(plan.heating?.every((s) => (s.setpoint_c ?? 0) <= 14)).toBe(true);
  });
});
