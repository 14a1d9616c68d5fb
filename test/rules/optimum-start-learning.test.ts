/**
 * Learning of optimum start (src/rules/optimum-start.ts) on synthetic traces of the exact 1R1C
 * room (src/gateway/thermal-model.ts) with known τ and heating gain: recovered within 10 %, with
 * outliers (window open, sensor in the sun) and missing data.
 */
import { describe, expect, it } from 'vitest';
import { type RoomState, stepRoom, type ThermalParameters } from '../../src/gateway/thermal-model.js';
import {
  type HeatingSpan,
  heatUpRate,
  learnZone,
  type TemperatureSample,
  warmUpHours,
} from '../../src/rules/optimum-start.js';

const HOUR = 3_600_000;
const STEP = 5 * 60_000;
const MONDAY = Date.parse('2026-01-05T00:00:00Z');
const OUTDOOR = 2;

/** Comfort 19 °C 07:00–16:30Z each day, setback 16 °C otherwise, over `days` days. */
function spansOf(days: number): HeatingSpan[] {
  const out: HeatingSpan[] = [{ from: MONDAY, to: MONDAY + 7 * HOUR, comfort: false, setpoint_c: 16 }];
  for (let d = 0; d < days; d++) {
    const day = MONDAY + d * 24 * HOUR;
    out.push({ from: day + 7 * HOUR, to: day + 16.5 * HOUR, comfort: true, setpoint_c: 19 });
    out.push({ from: day + 16.5 * HOUR, to: day + 31 * HOUR, comfort: false, setpoint_c: 16 });
  }
  return out;
}

/** Samples every 5 minutes of the room driven by `spans`. */
function trace(parameters: ThermalParameters, spans: readonly HeatingSpan[]): TemperatureSample[] {
  let state: RoomState = { temperatureC: 16, energyKWh: 0 };
  const out: TemperatureSample[] = [];
  const end = (spans[spans.length - 1] as HeatingSpan).to;
  for (let t = MONDAY; t < end; t += STEP) {
    out.push({ at: t, c: state.temperatureC });
    const span = spans.find((s) => s.from <= t && t < s.to) as HeatingSpan;
    state = stepRoom(parameters, state, { setpointC: span.setpoint_c, outdoorC: OUTDOOR }, STEP / HOUR);
  }
  return out;
}

/** τ = 10 h, g = P/C = 6000 W / (150 W/K × 10 h) = 4 K/h. */
const medium: ThermalParameters = { lossCoefficientWPerK: 150, timeConstantH: 10, maxHeatingPowerW: 6000 };

function within10(actual: number | undefined, expected: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected) / expected).toBeLessThan(0.1);
}

describe('optimum start learning', () => {
  const spans = spansOf(10);
  const outdoorC = () => OUTDOOR;

  it('recovers τ and the heating gain of a clean trace, counting its starts', () => {
    const learned = learnZone({ samples: trace(medium, spans), spans, outdoorC });
    within10(learned.time_constant_h, 10);
    within10(learned.heat_gain_k_per_h, 4);
    expect(learned.starts).toBe(10);
    expect(learned.cool_downs).toBe(10);
    expect(learned.last_sample_at).toBe('2026-01-15T06:55:00.000Z');
    // The heat-up rate falls with the gap closing and with the cold outside.
    const model = { heat_gain_k_per_h: 4, time_constant_h: 10 };
    expect(heatUpRate(model, 16, 2)).toBeCloseTo(2.6, 9);
    expect(heatUpRate(model, 18, 2)).toBeCloseTo(2.4, 9);
    expect(heatUpRate(model, 16, -8)).toBeCloseTo(1.6, 9);
    expect(warmUpHours(model, 16, 19, 2)).toBeCloseTo(10 * Math.log(26 / 23), 9);
    expect(warmUpHours(model, 16, 19, -25)).toBe(Number.POSITIVE_INFINITY);
  });

  it('recovers a light and a heavy zone (τ 0.5 h and 48 h, heater under- and oversized)', () => {
    // Light prefab, oversized heater: 19 °C within minutes (censored pairs give a lower bound).
    const light: ThermalParameters = {
      lossCoefficientWPerK: 100,
      timeConstantH: 0.5,
      maxHeatingPowerW: 6000,
    };
    const l = learnZone({ samples: trace(light, spans), spans, outdoorC });
    within10(l.time_constant_h, 0.5);
    expect(l.starts).toBe(10);
    expect(l.heat_gain_k_per_h as number).toBeLessThanOrEqual(120 * 1.001);
    // Heavy gym, undersized heater (never reaches 19 °C in a day): g = 6000 / (200 × 48) = 0.625 K/h.
    const heavy: ThermalParameters = { lossCoefficientWPerK: 200, timeConstantH: 48, maxHeatingPowerW: 6000 };
    const h = learnZone({ samples: trace(heavy, spans), spans, outdoorC });
    within10(h.time_constant_h, 48);
    within10(h.heat_gain_k_per_h, 0.625);
  });

  it('ignores a minority of spoiled starts and cool-downs (window open, sensor in the sun)', () => {
    const samples = trace(medium, spans).map((s) => {
      const day = Math.floor((s.at - MONDAY) / (24 * HOUR));
      const hour = ((s.at - MONDAY) % (24 * HOUR)) / HOUR;
      // Days 1, 4 and 7: the window is open during the warm-up (the room lags 1.5 K per hour).
      if ([1, 4, 7].includes(day) && hour >= 7 && hour < 9) return { at: s.at, c: s.c - 1.5 * (hour - 7) };
      // Days 2 and 5: the sun on the sensor in the evening (+3 K, then gone).
      if ([2, 5].includes(day) && hour >= 16.5 && hour < 18) return { at: s.at, c: s.c + 3 * (hour - 16.5) };
      // One absurd reading.
      if (day === 3 && hour === 17) return { at: s.at, c: 85 };
      return s;
    });
    const learned = learnZone({ samples, spans, outdoorC });
    within10(learned.time_constant_h, 10);
    within10(learned.heat_gain_k_per_h, 4);
  });

  it('learns through missing reports and skips pairs across a hole', () => {
    let seed = 17;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const samples = trace(medium, spans).filter((s) => {
      const hour = (s.at - MONDAY) / HOUR;
      if (hour >= 30 && hour < 60) return false; // a day and a quarter without reports
      return random() > 0.3; // and 30 % of the rest lost
    });
    const learned = learnZone({ samples, spans, outdoorC });
    within10(learned.time_constant_h, 10);
    within10(learned.heat_gain_k_per_h, 4);
    expect(learned.starts).toBeLessThan(10);
    expect(learned.starts).toBeGreaterThanOrEqual(7);
  });

  it('learns nothing without samples, and no gain without a cool-down', () => {
    expect(learnZone({ samples: [], spans, outdoorC })).toEqual({ starts: 0, cool_downs: 0 });
    // Only comfort hours measured: no τ, hence no gain either.
    const comfortOnly = trace(medium, spans).filter((s) => {
      const hour = ((s.at - MONDAY) % (24 * HOUR)) / HOUR;
      return hour >= 7 && hour < 16.5;
    });
    const learned = learnZone({ samples: comfortOnly, spans, outdoorC, flagged: 'stuck' });
    expect(learned).toEqual({
      starts: 0,
      cool_downs: 0,
      last_sample_at: '2026-01-14T16:25:00.000Z',
      flagged: 'stuck',
    });
  });
});
