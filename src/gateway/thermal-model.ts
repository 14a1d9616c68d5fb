/**
 * A first-order (1R1C) room model for the simulated gateway: C·dT/dt = P − H·(T − T_out), with
 * τ = C/H the time constant (docs/savings.md, "Model and sources", step 2: the same model the savings method
 * fits from a night free-fall, T(t) = T_out + (T₀ − T_out)·e^(−t/τ)).
 *
 * The heater is an ideal thermostat with bounded power: full power below the setpoint, nothing
 * above it, and exactly the power that holds the setpoint once reached. Each phase is solved in
 * closed form (constant P gives an exponential towards T_eq = T_out + P/H), and the instant the
 * setpoint is crossed is computed, so the result does not depend on the step size: one 1-hour step
 * equals sixty 1-minute steps. Pure: no clock, no I/O.
 */

export interface ThermalParameters {
  /** H, W/K: heat lost per kelvin between room and outdoors (devices/ `loss_coefficient_w_per_k`). */
  lossCoefficientWPerK: number;
  /** τ = C/H, hours (devices/ `time_constant_h`). */
  timeConstantH: number;
  /** Heating power available, W. */
  maxHeatingPowerW: number;
}

export interface RoomState {
  temperatureC: number;
  /** Heating energy delivered since the start, kWh. */
  energyKWh: number;
}

/**
 * τ when devices/ gives none. Assumption, not a measurement: a medium-inertia school building
 * cools by about 1/e of its indoor–outdoor gap in a day; measure it per zone from a night
 * free-fall (docs/savings.md, "Model and sources") and set `time_constant_h`.
 */
export const DEFAULT_TIME_CONSTANT_H = 24;
/** H when devices/ gives none: the order of the demo classroom circuits (devices/0670999X.yaml). */
export const DEFAULT_LOSS_COEFFICIENT_W_PER_K = 150;
/**
 * Heating power as kelvins of design gap: heaters are sized for ~34 K (19 °C inside, −15 °C base
 * outdoor temperature in Strasbourg, NF EN 12831 French annex) plus ~20 % for morning re-heat.
 */
export const DESIGN_POWER_KELVIN = 40;

/** Parameters for a zone from its devices/ fields, with the defaults above. */
export function thermalParametersOf(zone: {
  loss_coefficient_w_per_k?: number | undefined;
  time_constant_h?: number | undefined;
  heater_power_w?: number | undefined;
}): ThermalParameters {
  const h = zone.loss_coefficient_w_per_k ?? DEFAULT_LOSS_COEFFICIENT_W_PER_K;
  return {
    lossCoefficientWPerK: h,
    timeConstantH: zone.time_constant_h ?? DEFAULT_TIME_CONSTANT_H,
    maxHeatingPowerW: zone.heater_power_w ?? h * DESIGN_POWER_KELVIN,
  };
}

/**
 * Internal gains of an occupied zone, W. Assumption: ~25 pupils × ~70 W sensible heat each (seated
 * activity, NF EN 16798-1 metabolic rates) ≈ 1.75 kW in a full classroom, about half of it on
 * average over the school day (rooms not always full, part leaves with the ventilation air):
 * 1 kW for the demo classroom circuit (150 W/K), scaled by the zone's loss coefficient so a gym is
 * not a small room.
 */
export function occupiedGainsW(parameters: ThermalParameters): number {
  return 1_000 * (parameters.lossCoefficientWPerK / DEFAULT_LOSS_COEFFICIENT_W_PER_K);
}

export interface StepConditions {
  /** The heating setpoint in force, °C; undefined when heating is off. */
  setpointC: number | undefined;
  outdoorC: number;
  /** Internal gains (occupants, lighting), W; default 0. */
  gainsW?: number;
}

/** Below this gap (K) the room is at its setpoint: float noise must not flip the heater. */
const AT_SETPOINT_K = 1e-9;

/** The room after `hours` under constant conditions. */
export function stepRoom(
  parameters: ThermalParameters,
  state: RoomState,
  conditions: StepConditions,
  hours: number,
): RoomState {
  if (!(hours > 0)) return state;
  const { lossCoefficientWPerK: h, timeConstantH: tau, maxHeatingPowerW: pMax } = parameters;
  const { setpointC } = conditions;
  // Gains act as a warmer outdoors: C·dT/dt = P + G − H·(T − T_out) = P − H·(T − (T_out + G/H)).
  const outdoorC = conditions.outdoorC + (conditions.gainsW ?? 0) / h;
  const free = (from: number, powerW: number, t: number): number => {
    const equilibrium = outdoorC + powerW / h;
    return equilibrium + (from - equilibrium) * Math.exp(-t / tau);
  };
  if (setpointC === undefined) {
    return { temperatureC: free(state.temperatureC, 0, hours), energyKWh: state.energyKWh };
  }
  const holdPowerW = h * (setpointC - outdoorC);
  const canHold = holdPowerW >= 0 && holdPowerW <= pMax;
  let temperature = state.temperatureC;
  let energyWh = 0;
  let remaining = hours;
  // At most three phases: approach the setpoint, cross it, hold it (or drift when it cannot be held).
  while (remaining > 0) {
    const gap = temperature - setpointC;
    const atSetpoint = Math.abs(gap) <= AT_SETPOINT_K;
    if (atSetpoint && canHold) {
      // The heater delivers exactly the losses.
      energyWh += holdPowerW * remaining;
      break;
    }
    // Full power below the setpoint (or at it when the losses exceed the heater), none above it.
    const powerW = gap < -AT_SETPOINT_K || (atSetpoint && holdPowerW > pMax) ? pMax : 0;
    const equilibrium = outdoorC + powerW / h;
    const reaches = !atSetpoint && gap < 0 === equilibrium > setpointC;
    const crossing = reaches
      ? tau * Math.log((temperature - equilibrium) / (setpointC - equilibrium))
      : Number.POSITIVE_INFINITY;
    if (crossing < remaining) {
      temperature = setpointC;
      energyWh += powerW * crossing;
      remaining -= crossing;
      continue;
    }
    temperature = free(temperature, powerW, remaining);
    energyWh += powerW * remaining;
    break;
  }
  return { temperatureC: temperature, energyKWh: state.energyKWh + energyWh / 1000 };
}
