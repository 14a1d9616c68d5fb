/**
 * How far an exception may lift a heating setpoint above its legal cap (docs/rules.md,
 * "Exceptions"). R241-26 and R241-27 of the Code de l'énergie set ceilings; R241-28 and R241-29
 * let an arrêté set other values for some premises (care, infants, the elderly). A lycée's rule
 * file may only quote such a decision: each exception names who approved it, when and under which
 * act, and stays within a deviation the operator configures (`rules.exception_max_deviation_c`,
 * default 2 °C), so a typo (30 °C instead of 20 °C) never passes as an exception.
 *
 * One check for `scope-energie check`, the start, every reload (rule-set.ts) and the planner's
 * inputs (resolve.ts, planner.ts): pure, no I/O.
 */
import { type HeatingSituation, LEGAL_CAPS, type RuleException } from './schema.js';

export interface ExceptionPolicy {
  /** Largest lift above a legal cap an exception may carry, °C. */
  maxDeviationC: number;
}

/** Default of `rules.exception_max_deviation_c` (config/default.yaml). */
export const DEFAULT_EXCEPTION_POLICY: ExceptionPolicy = { maxDeviationC: 2 };

export type CapProblemCode = 'legal-cap-exceeded' | 'exception-beyond-max-deviation' | 'exception-ungoverned';

export interface CapProblem {
  code: CapProblemCode;
  message: string;
}

/** The governance fields an exception must carry (schema.ts refuses files without them). */
const GOVERNANCE = ['justification', 'basis', 'approved_by', 'approved_on', 'reference'] as const;

/**
 * Why `setpoint_c` in `situation` may not be applied, or null when it may: at or under the cap; or
 * above it with a complete exception and no more than the configured deviation above the cap.
 * `label` names the entry in the message (a YAML path or a rule id).
 */
export function capProblem(
  situation: HeatingSituation,
  setpoint_c: number | undefined,
  exception: Partial<RuleException> | undefined,
  policy: ExceptionPolicy,
  label: string,
): CapProblem | null {
  const cap = LEGAL_CAPS[situation];
  if (setpoint_c === undefined || setpoint_c <= cap.max_c) return null;
  if (!exception) {
    return {
      code: 'legal-cap-exceeded',
      message:
        `${label} asks ${setpoint_c} °C, above the ${cap.max_c} °C cap of ${cap.basis}; lower it or add an ` +
        'exception {justification, basis, approved_by, approved_on, reference}',
    };
  }
  const missing = GOVERNANCE.filter((field) => {
    const value = exception[field];
    return typeof value !== 'string' || value.trim() === '';
  });
  if (missing.length > 0) {
    return {
      code: 'exception-ungoverned',
      message: `${label} lifts the ${cap.max_c} °C cap of ${cap.basis} with an exception missing ${missing.join(', ')}`,
    };
  }
  const deviation = Math.round((setpoint_c - cap.max_c) * 100) / 100;
  if (deviation > policy.maxDeviationC) {
    return {
      code: 'exception-beyond-max-deviation',
      message:
        `${label} asks ${setpoint_c} °C, ${deviation} °C above the ${cap.max_c} °C cap of ${cap.basis}; ` +
        `an exception may lift it by at most ${policy.maxDeviationC} °C (rules.exception_max_deviation_c)`,
    };
  }
  return null;
}
