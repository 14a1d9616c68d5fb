import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { planZone } from '../../src/rules/planner.js';
import { resolveZoneRules } from '../../src/rules/resolve.js';
import { checkLegalCaps, loadRulesFile } from '../../src/rules/rule-set.js';
import { rulesJsonSchema } from '../../src/rules/schema.js';
import { defaultRuleSet, occ, t, UAI, zone } from './plan-fixtures.js';

/** 21 lines; tests append layers from line 22 or replace a line. */
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

function problemsOf(text: string, file = 'rules/t.yaml'): { kind: string; problems: InputError['problems'] } {
  try {
    loadRulesFile(text, file);
  } catch (error) {
    if (error instanceof InputError) return { kind: error.kind, problems: error.problems };
    throw error;
  }
  throw new Error('expected an InputError');
}

const cdiOccupied = (setpoint: number, extra = '') => `schools:
  "0670999X":
    zones:
      cdi:
        heating:
          occupied:
            setpoint_c: ${setpoint}
            basis: local decision${extra}
`;

describe('loadRulesFile', () => {
  it('loads the shipped rules/default.yaml with no legal problem', () => {
    expect(defaultRuleSet.value.version).toBe('2026.1');
    expect(defaultRuleSet.value.defaults.heating.occupied).toEqual({
      mode: 'comfort',
      setpoint_c: 19,
      basis: "Code de l'énergie R241-26: 19 °C maximum while occupied",
    });
    expect(Object.keys(defaultRuleSet.value.categories).sort()).toEqual(['circulation', 'gym', 'workshop']);
    expect(checkLegalCaps(defaultRuleSet)).toEqual([]);
  });

  it('fills default modes per situation and the default fallback week', () => {
    const rules = loadRulesFile(MINIMAL, 'rules/t.yaml').value;
    expect(rules.defaults.heating.unoccupied_under_24h.mode).toBe('eco');
    expect(rules.defaults.heating.unoccupied_48h_or_more.mode).toBe('frost');
    expect(rules.fallback_week).toEqual({
      days: [1, 2, 3, 4, 5],
      start: '07:00',
      end: '18:00',
      basis:
        'local decision: conservative week while no timetable was ever received (docs/rules.md, Planner semantics, Fallback)',
    });
  });

  it('names file, line, column and field of a wrong type', () => {
    const text = MINIMAL.replace('setpoint_c: 19,', 'setpoint_c: "dix-neuf",');
    expect(problemsOf(text)).toEqual({
      kind: 'invalid',
      problems: [
        {
          code: 'invalid-type',
          message: 'Invalid input: expected number, received string',
          where: 'rules/t.yaml:5:29 (defaults.heating.occupied.setpoint_c)',
        },
      ],
    });
  });

  it('refuses a value without basis', () => {
    const text = MINIMAL.replace('{ value: 0, basis: local decision }', '{ value: 0 }');
    expect(problemsOf(text).problems).toEqual([
      {
        code: 'invalid-type',
        message: 'Invalid input: expected string, received undefined',
        where: 'rules/t.yaml:11:25 (defaults.heating.early_stop_minutes.basis)',
      },
    ]);
  });

  it('refuses a setpoint above the 19 °C cap without exception, naming the line', () => {
    expect(problemsOf(MINIMAL + cdiOccupied(21))).toEqual({
      kind: 'invalid',
      problems: [
        {
          code: 'legal-cap-exceeded',
          message:
            "schools.0670999X.zones.cdi.heating.occupied.setpoint_c asks 21 °C, above the 19 °C cap of Code de l'énergie R241-26; lower it or add an exception {justification, basis, approved_by, approved_on, reference}",
          where: 'rules/t.yaml:28 (schools.0670999X.zones.cdi.heating.occupied.setpoint_c)',
        },
      ],
    });
  });

  it('refuses 17 °C for 24–48 h and 10 °C for ≥ 48 h (R241-27)', () => {
    const text = MINIMAL.replace('setpoint_c: 16, basis: R241-27', 'setpoint_c: 17, basis: R241-27').replace(
      'setpoint_c: 8,',
      'setpoint_c: 10,',
    );
    expect(problemsOf(text).problems.map((p) => [p.code, p.where])).toEqual([
      ['legal-cap-exceeded', 'rules/t.yaml:7 (defaults.heating.unoccupied_24h_to_48h.setpoint_c)'],
      ['legal-cap-exceeded', 'rules/t.yaml:8 (defaults.heating.unoccupied_48h_or_more.setpoint_c)'],
    ]);
  });

  const GOVERNED = {
    justification: "unité d'accueil de jeunes enfants, arrêté préfectoral",
    basis: 'R241-29',
    approved_by: 'Conseil régional Grand Est, commission permanente',
    approved_on: '2026-09-15',
    reference: 'délibération CP-2026-09-042',
  };
  /** The exception as YAML under the cdi's occupied entry, without the fields named in `omit`. */
  const exceptionYaml = (changes: Partial<Record<keyof typeof GOVERNED, string | null>> = {}) =>
    `\n            exception:\n${Object.entries({ ...GOVERNED, ...changes })
      .filter(([, value]) => value !== null)
      .map(([key, value]) => `              ${key}: ${JSON.stringify(value)}`)
      .join('\n')}`;

  it('accepts a setpoint above the cap with a governed exception, which reaches the plan', () => {
    const ruleSet = loadRulesFile(MINIMAL + cdiOccupied(21, exceptionYaml()), 'rules/t.yaml');
    const cdi = zone({ id: 'cdi', rooms: ['CDI'], category: 'library' });
    const resolved = resolveZoneRules(ruleSet, UAI, cdi);
    expect(resolved.heating.occupied).toEqual({
      mode: 'comfort',
      setpoint_c: 21,
      rule: 'schools.0670999X.zones.cdi.heating.occupied',
      basis: 'local decision',
      exception: GOVERNED,
    });
    const plan = planZone({
      zone: cdi,
      rules: resolved,
      occupancy: [occ('2026-01-13T07:00:00Z', '2026-01-13T08:00:00Z')],
      overrides: [],
      horizon: { from: t('2026-01-13T07:00:00Z'), to: t('2026-01-13T08:00:00Z') },
    });
    expect(plan.heating?.[0]?.reason.exception).toEqual(GOVERNED);
  });

  it('refuses an exception without justification, approver, date or reference, naming each field', () => {
    const field = (name: string) => `schools.0670999X.zones.cdi.heating.occupied.exception.${name}`;
    expect(problemsOf(MINIMAL + cdiOccupied(21, exceptionYaml({ justification: '  ' }))).problems).toEqual([
      {
        code: 'invalid-too-small',
        message: 'an exception needs a written justification',
        where: `rules/t.yaml:31:30 (${field('justification')})`,
      },
    ]);
    const missing = exceptionYaml({ approved_by: null, approved_on: null, reference: null });
    expect(problemsOf(MINIMAL + cdiOccupied(21, missing)).problems).toEqual([
      {
        code: 'invalid-type',
        message: 'an exception needs its approver (approved_by)',
        where: `rules/t.yaml:31:15 (${field('approved_by')})`,
      },
      {
        code: 'invalid-type',
        message: 'an exception needs its approval date (approved_on) as YYYY-MM-DD',
        where: `rules/t.yaml:31:15 (${field('approved_on')})`,
      },
      {
        code: 'invalid-type',
        message: 'an exception needs the reference of the act approving it (délibération or arrêté number)',
        where: `rules/t.yaml:31:15 (${field('reference')})`,
      },
    ]);
    const badDate = problemsOf(MINIMAL + cdiOccupied(21, exceptionYaml({ approved_on: '15/09/2026' })));
    expect(badDate.problems.map((p) => [p.message, p.where])).toEqual([
      [
        'an exception needs its approval date (approved_on) as YYYY-MM-DD',
        `rules/t.yaml:34:28 (${field('approved_on')})`,
      ],
    ]);
  });

  it('refuses an exception lifting the cap by more than the configured deviation (2 °C by default)', () => {
    expect(problemsOf(MINIMAL + cdiOccupied(21.5, exceptionYaml())).problems).toEqual([
      {
        code: 'exception-beyond-max-deviation',
        message:
          "schools.0670999X.zones.cdi.heating.occupied.setpoint_c asks 21.5 °C, 2.5 °C above the 19 °C cap of Code de l'énergie R241-26; an exception may lift it by at most 2 °C (rules.exception_max_deviation_c)",
        where: 'rules/t.yaml:28 (schools.0670999X.zones.cdi.heating.occupied.setpoint_c)',
      },
    ]);
    // The 30 °C: refused whatever the exception says.
    expect(problemsOf(MINIMAL + cdiOccupied(30, exceptionYaml())).problems.map((p) => p.code)).toEqual([
      'exception-beyond-max-deviation',
    ]);
    // A site that configured 3 °C accepts 21.5 °C, and refuses 22.5 °C.
    expect(
      loadRulesFile(MINIMAL + cdiOccupied(21.5, exceptionYaml()), 'rules/t.yaml', { maxDeviationC: 3 }).value
        .schools[UAI]?.zones?.['cdi']?.heating?.occupied?.setpoint_c,
    ).toBe(21.5);
    expect(() =>
      loadRulesFile(MINIMAL + cdiOccupied(22.5, exceptionYaml()), 'rules/t.yaml', { maxDeviationC: 3 }),
    ).toThrow(/22\.5 °C, 3\.5 °C above .* at most 3 °C/);
  });

  it('the planner refuses rules built in code past a cap without a governed exception, or too far', () => {
    const cdi = zone({ id: 'cdi', rooms: ['CDI'], category: 'library' });
    const resolved = resolveZoneRules(defaultRuleSet, UAI, cdi);
    const input = (occupied: typeof resolved.heating.occupied) => ({
      zone: cdi,
      rules: { ...resolved, heating: { ...resolved.heating, occupied } },
      occupancy: [occ('2026-01-13T07:00:00Z', '2026-01-13T08:00:00Z')],
      overrides: [],
      horizon: { from: t('2026-01-13T07:00:00Z'), to: t('2026-01-13T08:00:00Z') },
    });
    const { approved_by: _, ...ungoverned } = GOVERNED;
    expect(() =>
      planZone(
        input({ ...resolved.heating.occupied, setpoint_c: 21, exception: ungoverned as typeof GOVERNED }),
      ),
    ).toThrow(
      "planner refused exception-ungoverned: defaults.heating.occupied lifts the 19 °C cap of Code de l'énergie R241-26 with an exception missing approved_by",
    );
    expect(() =>
      planZone(input({ ...resolved.heating.occupied, setpoint_c: 22, exception: GOVERNED })),
    ).toThrow(/^planner refused exception-beyond-max-deviation: defaults\.heating\.occupied asks 22 °C/);
    expect(() => planZone(input({ ...resolved.heating.occupied, setpoint_c: 20 }))).toThrow(
      /planner refused legal-cap-exceeded/,
    );
    const allowed = planZone({
      ...input({ ...resolved.heating.occupied, setpoint_c: 22, exception: GOVERNED }),
      exceptionPolicy: { maxDeviationC: 3 },
    });
    expect(allowed.heating?.[0]?.setpoint_c).toBe(22);
  });

  it('refuses an unknown category at its own line', () => {
    const text = `${MINIMAL}categories:\n  gymnase:\n    heating:\n      occupied: { setpoint_c: 14, basis: plan de sobriété }\n`;
    expect(problemsOf(text).problems).toEqual([
      {
        code: 'invalid-custom',
        message:
          'unknown key "gymnase"; expected one of: classroom, laboratory, workshop, gym, office, circulation, boarding, library, auditorium, canteen, storage',
        where: 'rules/t.yaml:24:5 (categories.gymnase)',
      },
    ]);
  });

  it('refuses a lighting lag over 1 h (arrêté du 27 décembre 2018)', () => {
    const text = MINIMAL.replace('lag_minutes: { value: 10', 'lag_minutes: { value: 90');
    expect(problemsOf(text).problems.map((p) => [p.code, p.where])).toEqual([
      ['invalid-too-big', 'rules/t.yaml:16:27 (defaults.lighting.lag_minutes.value)'],
    ]);
  });

  it('refuses a school key that is not a UAI, and YAML syntax errors as malformed', () => {
    const bad = problemsOf(`${MINIMAL}schools:\n  "0670999A":\n    heating: {}\n`);
    expect(bad.problems).toEqual([
      {
        code: 'invalid-custom',
        message: 'UAI 0670999A has a wrong check letter: expected 0670999X',
        where: 'rules/t.yaml:24:5 (schools.0670999A)',
      },
    ]);
    const syntax = problemsOf('version: "1"\nname: [unclosed\n');
    expect(syntax.kind).toBe('malformed');
    expect(syntax.problems[0]?.code).toBe('yaml-syntax');
  });

  it('exports a JSON Schema for editors', () => {
    const schema = rulesJsonSchema() as { required?: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(['version', 'name', 'defaults']);
    expect(Object.keys(schema.properties)).toEqual([
      'version',
      'name',
      'description',
      'defaults',
      'heating_types',
      'categories',
      'schools',
      'fallback_week',
    ]);
  });
});

describe('resolveZoneRules', () => {
  const layered = loadRulesFile(
    `${MINIMAL}heating_types:
  electric:
    merge_gap_minutes: { value: 45, basis: electric reacts fast }
categories:
  gym:
    heating:
      occupied: { setpoint_c: 16, basis: sobriété 2022 }
    lighting:
      lag_minutes: { value: 5, basis: gym lights }
schools:
  "0670999X":
    heating:
      preheat_minutes: { value: 90, basis: school boiler is old }
    zones:
      gymnase:
        heating:
          early_stop_minutes: { value: 15, basis: measured retention }
`,
    'rules/t.yaml',
  );

  it('takes each entry from the most specific layer that has it', () => {
    const gym = zone({ id: 'gymnase', category: 'gym', heating_type: 'electric' });
    const r = resolveZoneRules(layered, UAI, gym);
    expect({
      occupied: r.heating.occupied.rule,
      under24: r.heating.unoccupied_under_24h.rule,
      merge: [r.heating.merge_gap_minutes.rule, r.heating.merge_gap_minutes.value],
      preheat: [r.heating.preheat_minutes.rule, r.heating.preheat_minutes.value],
      earlyStop: [r.heating.early_stop_minutes.rule, r.heating.early_stop_minutes.value],
      lag: [r.lighting.lag_minutes.rule, r.lighting.lag_minutes.value],
      lead: r.lighting.lead_minutes.rule,
    }).toEqual({
      occupied: 'categories.gym.heating.occupied',
      under24: 'defaults.heating.unoccupied_under_24h',
      merge: ['heating_types.electric.merge_gap_minutes', 45],
      preheat: ['schools.0670999X.heating.preheat_minutes', 90],
      earlyStop: ['schools.0670999X.zones.gymnase.heating.early_stop_minutes', 15],
      lag: ['categories.gym.lighting.lag_minutes', 5],
      lead: 'defaults.lighting.lead_minutes',
    });
    expect(r.rule_set).toEqual({ name: 'minimal', version: 't1' });
  });

  it("a zone's measured preheat (devices/) beats school rules but not a zone rule", () => {
    const measured = zone({ id: 'cdi', preheat_minutes: 150 });
    expect(resolveZoneRules(layered, UAI, measured).heating.preheat_minutes).toEqual({
      value: 150,
      rule: 'devices/0670999X.yaml zones.cdi.preheat_minutes',
      basis: "zone's measured preheat lead (devices file)",
    });
    expect(resolveZoneRules(layered, '0750654D', zone()).heating.preheat_minutes.rule).toBe(
      'defaults.heating.preheat_minutes',
    );
  });
});
