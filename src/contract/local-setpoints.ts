import type { HeatingMode } from './topics.js';

/**
 * Setpoints of the fallback modes, which `schedule` gives without one: the default rules' eco
 * (16 °C, Code de l'énergie R241-27 for 24–48 h vacancy) and frost (8 °C for ≥ 48 h), see
 * rules/default.yaml. Fil-pilote comfort −1/−2 are relative to comfort (docs/regulation.md, "Heating modes and the fil pilote").
 */
export const LOCAL_SETPOINT_C: { readonly [M in HeatingMode]: number | undefined } = {
  comfort: 19,
  comfort_1: 18,
  comfort_2: 17,
  eco: 16,
  frost: 8,
  off: undefined,
};
