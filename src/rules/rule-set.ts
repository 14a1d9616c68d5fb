/**
 * A loaded rule file and its legal check: `loadRulesFile` refuses a file that asks for more than
 * a legal cap without a governed exception within the configured deviation
 * (exception-policy.ts), so a bad policy never reaches a radiator.
 */
import { formatPath, formatWhere, parseYamlFile } from '../config/yaml-file.js';
import { InputError, type Problem } from '../domain/problems.js';
import { capProblem, DEFAULT_EXCEPTION_POLICY, type ExceptionPolicy } from './exception-policy.js';
import { HEATING_SITUATIONS, type HeatingSection, type RulesFile, rulesFileSchema } from './schema.js';
import { checkSetbacksBelowOccupied } from './setback-order.js';

export interface RuleSet {
  /** The file name as given, used in every problem's `where`. */
  file: string;
  value: RulesFile;
  lineOf(path: readonly (string | number)[]): number;
  /** How far an exception may lift a cap; the planner's inputs are held to it too. */
  exceptionPolicy?: ExceptionPolicy;
}

/** Parses and validates a rule file; throws `InputError` naming `file:line (field)` for every problem. */
export function loadRulesFile(
  text: string,
  file: string,
  exceptionPolicy: ExceptionPolicy = DEFAULT_EXCEPTION_POLICY,
): RuleSet {
  const parsed = parseYamlFile(text, file, rulesFileSchema);
  const ruleSet: RuleSet = { file, value: parsed.value, lineOf: parsed.lineOf, exceptionPolicy };
  const problems = [...checkLegalCaps(ruleSet), ...checkSetbacksBelowOccupied(ruleSet)];
  if (problems.length > 0) throw new InputError(problems, 'invalid');
  return ruleSet;
}

/** Every heating section of the file with its YAML path, general layers first. */
export function heatingSections(rules: RulesFile): { path: string[]; section: Partial<HeatingSection> }[] {
  const out: { path: string[]; section: Partial<HeatingSection> }[] = [
    { path: ['defaults', 'heating'], section: rules.defaults.heating },
  ];
  for (const [type, section] of Object.entries(rules.heating_types)) {
    out.push({ path: ['heating_types', type], section });
  }
  for (const [category, layer] of Object.entries(rules.categories)) {
    if (layer.heating) out.push({ path: ['categories', category, 'heating'], section: layer.heating });
  }
  for (const [uai, school] of Object.entries(rules.schools)) {
    if (school.heating) out.push({ path: ['schools', uai, 'heating'], section: school.heating });
    for (const [zone, layer] of Object.entries(school.zones ?? {})) {
      if (layer.heating)
        out.push({ path: ['schools', uai, 'zones', zone, 'heating'], section: layer.heating });
    }
  }
  return out;
}

/**
 * Setpoints above the caps of R241-26/27 (19 °C occupied, 16 °C for 24–48 h, 8 °C for ≥ 48 h)
 * without a governed exception, or lifted further than the policy allows (rules.md: "refused by
 * check unless it carries an exception").
 */
export function checkLegalCaps(ruleSet: RuleSet): Problem[] {
  const policy = ruleSet.exceptionPolicy ?? DEFAULT_EXCEPTION_POLICY;
  const problems: Problem[] = [];
  for (const { path, section } of heatingSections(ruleSet.value)) {
    for (const situation of HEATING_SITUATIONS) {
      const entry = section[situation];
      const field = [...path, situation, 'setpoint_c'];
      const problem = capProblem(situation, entry?.setpoint_c, entry?.exception, policy, formatPath(field));
      if (!problem) continue;
      problems.push({
        ...problem,
        where: formatWhere(ruleSet.file, ruleSet.lineOf(field), undefined, field),
      });
    }
  }
  return problems;
}
