/**
 * The first-order room model against hand-computed cases: H = 100 W/K, τ = 10 h, 4 kW heater,
 * 0 °C outdoors. Under full power the room tends to T_eq = 0 + 4000/100 = 40 °C.
 */
import { describe, expect, it } from 'vitest';
import {
  occupiedGainsW,
  stepRoom,
  type ThermalParameters,
  thermalParametersOf,
} from '../../src/gateway/thermal-model.js';

const ROOM: ThermalParameters = { lossCoefficientWPerK: 100, timeConstantH: 10, maxHeatingPowerW: 4000 };
const OUTDOOR = 0;

describe('stepRoom', () => {
  it('rises toward the comfort setpoint at full power: 10 °C → 12.855 °C in 1 h, 4 kWh', () => {
    // 40 − 30·e^(−0.1) = 12.85488
    const after = stepRoom(ROOM, { temperatureC: 10, energyKWh: 0 }, { setpointC: 19, outdoorC: OUTDOOR }, 1);
    expect(after.temperatureC).toBeCloseTo(12.85488, 4);
    expect(after.energyKWh).toBeCloseTo(4, 9);
  });

  it('reaches 19 °C after 3.567 h, then holds it with exactly the losses (1.9 kW)', () => {
    // Crossing at τ·ln(30/21) = 3.56675 h; energy 4 kW × 3.56675 h + 1.9 kW × 1.43325 h = 16.99017 kWh.
    const after = stepRoom(ROOM, { temperatureC: 10, energyKWh: 0 }, { setpointC: 19, outdoorC: OUTDOOR }, 5);
    expect(after.temperatureC).toBe(19);
    expect(after.energyKWh).toBeCloseTo(16.99017, 4);
  });

  it('falls freely in setback: 19 °C → 17.192 °C in 1 h with no heating', () => {
    // 19·e^(−0.1) = 17.19191
    const after = stepRoom(ROOM, { temperatureC: 19, energyKWh: 2 }, { setpointC: 16, outdoorC: OUTDOOR }, 1);
    expect(after.temperatureC).toBeCloseTo(17.19191, 4);
    expect(after.energyKWh).toBe(2);
  });

  it('stops falling at the setback setpoint (after 1.7185 h) and holds 16 °C with 1.6 kW', () => {
    // Crossing at 10·ln(19/16) = 1.71850 h; then 1.6 kW × 1.28150 h = 2.05040 kWh.
    const after = stepRoom(ROOM, { temperatureC: 19, energyKWh: 0 }, { setpointC: 16, outdoorC: OUTDOOR }, 3);
    expect(after.temperatureC).toBe(16);
    expect(after.energyKWh).toBeCloseTo(2.0504, 4);
  });

  it('with heating off drifts toward the outdoor temperature', () => {
    const after = stepRoom(
      ROOM,
      { temperatureC: 20, energyKWh: 0 },
      { setpointC: undefined, outdoorC: 10 },
      10,
    );
    // 10 + 10·e^(−1) = 13.67879
    expect(after.temperatureC).toBeCloseTo(13.67879, 4);
    expect(after.energyKWh).toBe(0);
  });

  it('does not depend on the step size: one 5 h step equals 300 one-minute steps', () => {
    let state = { temperatureC: 10, energyKWh: 0 };
    for (let i = 0; i < 300; i++) state = stepRoom(ROOM, state, { setpointC: 19, outdoorC: OUTDOOR }, 1 / 60);
    expect(state.temperatureC).toBeCloseTo(19, 9);
    expect(state.energyKWh).toBeCloseTo(16.99017, 4);
  });

  it('keeps heating at full power when the heater cannot hold the setpoint', () => {
    // Outdoor −30 °C: holding 19 °C needs 4.9 kW > 4 kW; T_eq = −30 + 40 = 10 °C.
    const after = stepRoom(ROOM, { temperatureC: 19, energyKWh: 0 }, { setpointC: 19, outdoorC: -30 }, 10);
    // 10 + 9·e^(−1) = 13.31091
    expect(after.temperatureC).toBeCloseTo(13.31091, 4);
    expect(after.energyKWh).toBeCloseTo(40, 9);
  });

  it('takes H and τ from devices/ and sizes the heater at 40 K of losses', () => {
    expect(thermalParametersOf({ loss_coefficient_w_per_k: 180, time_constant_h: 30 })).toEqual({
      lossCoefficientWPerK: 180,
      timeConstantH: 30,
      maxHeatingPowerW: 7200,
    });
    expect(thermalParametersOf({})).toEqual({
      lossCoefficientWPerK: 150,
      timeConstantH: 24,
      maxHeatingPowerW: 6000,
    });
  });

  it('takes the heater power from devices/ when given', () => {
    expect(
      thermalParametersOf({ loss_coefficient_w_per_k: 200, time_constant_h: 48, heater_power_w: 3000 }),
    ).toEqual({
      lossCoefficientWPerK: 200,
      timeConstantH: 48,
      maxHeatingPowerW: 3000,
    });
  });

  it('counts internal gains as a warmer outdoors: free-running and held', () => {
    const p = thermalParametersOf({ loss_coefficient_w_per_k: 150, time_constant_h: 10 });
    expect(occupiedGainsW(p)).toBe(1000);
    // Off, 1 kW of gains: tends to 2 + 1000/150 °C; after τ, 2 + 6.667 + (19 − 8.667)·e^(−1).
    const free = stepRoom(
      p,
      { temperatureC: 19, energyKWh: 0 },
      { setpointC: undefined, outdoorC: 2, gainsW: 1000 },
      10,
    );
    expect(free.temperatureC).toBeCloseTo(2 + 1000 / 150 + (19 - 2 - 1000 / 150) * Math.exp(-1), 9);
    // Held at 19 °C for 1 h: the heater gives the losses minus the gains, 150 × 17 − 1000 W.
    const held = stepRoom(
      p,
      { temperatureC: 19, energyKWh: 0 },
      { setpointC: 19, outdoorC: 2, gainsW: 1000 },
      1,
    );
    expect(held.energyKWh).toBeCloseTo(1.55, 9);
  });
});
