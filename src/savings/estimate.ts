/**
 * The savings estimate (issue 7; method: docs/savings.md, "Model and sources"): for each heated zone, the
 * degree-hours its setpoints ask for under the plan and under the baseline schedule, converted to
 * kWh with the zone's loss coefficient H:
 *
 *   degree-hours = Σ over time of max(0, T_setpoint(t) − T_out(t)) × duration (h)
 *   kWh = H (W/K) × degree-hours / 1000
 *
 * This is the steady-state "instant setback" figure (step 4 of the model in docs/savings.md): the room is assumed to sit at
 * its setpoint at every instant, so the heat the building stores and gives back (float-down after
 * a setback, re-heat before comfort) is ignored. It is an upper bound of the real saving, close
 * when the zone's time constant is short against its setback periods (test/gateway/
 * energy-vs-savings.test.ts measures both against the reference gateway's 1R1C model). Pure.
 */

import type { SchoolCalendar } from '../calendar/index.js';
import { LOCAL_SETPOINT_C } from '../contract/local-setpoints.js';
import type { Zone } from '../devices/schema.js';
import type { TimeRange } from '../rules/planner.js';
import type { HeatingMode } from '../rules/schema.js';
import type { Segment } from '../rules/segment.js';
import {
  type BaselineMode,
  type BaselineSchedule,
  baselineSteps,
  describeBaseline,
  zoneBaseline,
} from './baseline.js';
import { type OutdoorTemperatures, outdoorModel } from './outdoor.js';

const HOUR_MS = 3_600_000;

export const SAVINGS_METHOD =
  'Estimate, steady state (docs/savings.md, "Model and sources", step 4, upper bound with instant setback): per zone and ' +
  'per hour, degree-hours = Σ max(0, T_setpoint − T_out) × duration in hours, under the plan and under the ' +
  'baseline schedule; kWh = H (W/K, devices/ loss_coefficient_w_per_k) × degree-hours / 1000; ' +
  'saving = baseline kWh − plan kWh, heat delivered to the rooms (divide by the system efficiency η for final energy).';

export const SAVINGS_ASSUMPTIONS: readonly string[] = [
  'Every room is at its setpoint at every instant: stored heat (float-down after a setback, re-heat before comfort) is ignored, so the saving is an upper bound; it is close for zones with a short time constant and overstated for heavy ones (docs/savings.md, "Model and sources", step 4).',
  'Heat delivered to the zone, not final energy: no system efficiency, no solar or internal gains, no ventilation losses beyond what H contains.',
  'Outdoor temperature is constant within each hour (monthly normals: the month mean for every hour of it).',
  'A heating segment without a setpoint uses the reference gateway setpoint of its mode (comfort 19, eco 16, frost 8 °C); off asks for no heat.',
  'Hours the plan does not cover are counted at the baseline setpoint (no saving claimed for them).',
];

export type PlanModeKey = HeatingMode | 'uncovered';
const PLAN_MODE_KEYS: readonly PlanModeKey[] = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off'];
const BASELINE_MODE_KEYS: readonly BaselineMode[] = ['comfort', 'setback', 'holiday'];

export interface SavingsZoneInput {
  zone: Pick<Zone, 'id' | 'name' | 'functions'> & Partial<Pick<Zone, 'loss_coefficient_w_per_k'>>;
  /** The zone's heating segments over the period (other functions are ignored). */
  segments: readonly Segment[];
  /**
   * The zone's own comfort setpoint when its rules set one other than the defaults' (a gym's
   * 14 °C): its baseline programme heats to that (`zoneBaseline`, docs/savings.md, "Baseline").
   */
  comfortC?: number;
}

export interface SavingsInput {
  /** `[from, to)` epoch ms (local midnights: whole UTC hours in every French time zone but the Marquesas). */
  period: TimeRange;
  zones: readonly SavingsZoneInput[];
  baseline: BaselineSchedule;
  calendar: SchoolCalendar;
  outdoor: OutdoorTemperatures;
}

export interface ZoneSavings {
  zone: string;
  name: string;
  loss_coefficient_w_per_k: number | null;
  /** Hours per plan mode (and `uncovered` when the plan leaves hours out). */
  heated_hours: Partial<Record<PlanModeKey, number>>;
  baseline_heated_hours: Record<BaselineMode, number>;
  /** Present when the zone's baseline is not the programme's: its own comfort (°C) and why. */
  baseline_comfort_c?: number;
  /** K·h. */
  degree_hours: { plan: number; baseline: number };
  /** null when the zone has no loss coefficient (see `excluded_reason`). */
  kwh: { plan: number; baseline: number } | null;
  saving_kwh: number | null;
  saving_percent: number | null;
  excluded_reason?: string;
}

export interface SavingsEstimate {
  estimate: true;
  period: { from: string; to: string; hours: number };
  method: string;
  method_reference: string;
  inputs: {
    baseline: BaselineSchedule & { description: string };
    outdoor: Record<string, unknown>;
    zones: Array<{ zone: string; loss_coefficient_w_per_k: number | null }>;
  };
  assumptions: readonly string[];
  zones: ZoneSavings[];
  totals: {
    kwh_plan: number;
    kwh_baseline: number;
    saving_kwh: number;
    saving_percent: number | null;
    zones_estimated: number;
    zones_excluded: number;
  };
}

export function estimateSavings(input: SavingsInput): SavingsEstimate {
  const { period, calendar } = input;
  if (!(period.to > period.from)) throw new RangeError('the savings period is empty');
  const outdoor = outdoorModel(input.outdoor, calendar.timezone, period);
  // Hours from the period's start (whole UTC hours for French zones; a last partial hour elsewhere).
  const hours = (period.to - period.from) / HOUR_MS;
  // One value per hour, shared by every zone (monthly normals go through Intl once per hour).
  const outdoorByHour = Float64Array.from({ length: Math.ceil(hours) }, (_, i) =>
    outdoor.at(period.from + i * HOUR_MS),
  );
  const programme = baselineSteps(calendar, input.baseline, period);

  const zones: ZoneSavings[] = [];
  for (const { zone, segments, comfortC } of input.zones) {
    if (!zone.functions.includes('heating')) continue;
    const own = zoneBaseline(input.baseline, comfortC);
    const baseline =
      own === input.baseline
        ? programme
        : programme.map((step) => ({
            ...step,
            setpointC:
              step.mode === 'comfort'
                ? own.comfort_c
                : step.mode === 'setback'
                  ? own.setback_c
                  : (own.holiday_c as number),
          }));
    const planSteps = planStepsOf(segments, baseline, period);
    const planHours = Object.fromEntries(PLAN_MODE_KEYS.map((m) => [m, 0])) as Record<PlanModeKey, number>;
    const baselineHours = Object.fromEntries(BASELINE_MODE_KEYS.map((m) => [m, 0])) as Record<
      BaselineMode,
      number
    >;
    const planDegreeHours = degreeHours(planSteps, outdoorByHour, period.from, (step, h) => {
      planHours[step.mode] = (planHours[step.mode] ?? 0) + h;
    });
    const baselineDegreeHours = degreeHours(baseline, outdoorByHour, period.from, (step, h) => {
      baselineHours[step.mode] += h;
    });
    const h = zone.loss_coefficient_w_per_k ?? null;
    const heated: Partial<Record<PlanModeKey, number>> = {};
    for (const [mode, value] of Object.entries(planHours) as Array<[PlanModeKey, number]>) {
      if (mode !== 'uncovered' || value > 0) heated[mode] = round(value, 3);
    }
    const result: ZoneSavings = {
      zone: zone.id,
      name: zone.name,
      loss_coefficient_w_per_k: h,
      heated_hours: heated,
      baseline_heated_hours: mapValues(baselineHours, (v) => round(v, 3)),
      ...(own === input.baseline ? {} : { baseline_comfort_c: own.comfort_c }),
      degree_hours: { plan: round(planDegreeHours, 3), baseline: round(baselineDegreeHours, 3) },
      kwh: null,
      saving_kwh: null,
      saving_percent: null,
    };
    if (h === null) {
      result.excluded_reason = 'no loss_coefficient_w_per_k in devices/: kWh cannot be estimated';
    } else {
      // Rounded first, so that the figures shown add up (saving = baseline − plan, to the Wh).
      const plan = round((h * planDegreeHours) / 1000, 3);
      const base = round((h * baselineDegreeHours) / 1000, 3);
      result.kwh = { plan, baseline: base };
      result.saving_kwh = round(base - plan, 3);
      result.saving_percent = base > 0 ? round(((base - plan) / base) * 100, 1) : null;
    }
    zones.push(result);
  }

  const estimated = zones.filter((z) => z.kwh !== null);
  const kwhPlan = sum(estimated.map((z) => z.kwh?.plan ?? 0));
  const kwhBaseline = sum(estimated.map((z) => z.kwh?.baseline ?? 0));
  return {
    estimate: true,
    period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), hours },
    method: SAVINGS_METHOD,
    method_reference: 'docs/savings.md, "Model and sources"',
    inputs: {
      baseline: { ...input.baseline, description: describeBaseline(input.baseline) },
      outdoor: outdoor.describe(),
      zones: zones.map((z) => ({ zone: z.zone, loss_coefficient_w_per_k: z.loss_coefficient_w_per_k })),
    },
    assumptions: SAVINGS_ASSUMPTIONS,
    zones,
    totals: {
      kwh_plan: round(kwhPlan, 3),
      kwh_baseline: round(kwhBaseline, 3),
      saving_kwh: round(kwhBaseline - kwhPlan, 3),
      saving_percent: kwhBaseline > 0 ? round(((kwhBaseline - kwhPlan) / kwhBaseline) * 100, 1) : null,
      zones_estimated: estimated.length,
      zones_excluded: zones.length - estimated.length,
    },
  };
}

interface PlanStep {
  from: number;
  to: number;
  mode: PlanModeKey;
  setpointC: number | undefined;
}

/** The heating setpoint a plan segment asks for: the reference gateway's reading of it. */
export function planSetpointOf(segment: Pick<Segment, 'mode' | 'setpoint_c'>): number | undefined {
  if (segment.mode === 'off') return undefined;
  return segment.setpoint_c ?? LOCAL_SETPOINT_C[segment.mode as HeatingMode];
}

/** Heating segments clipped to the period, with the baseline filling what they leave uncovered. */
function planStepsOf(
  segments: readonly Segment[],
  baseline: readonly { from: number; to: number; setpointC: number }[],
  period: TimeRange,
): PlanStep[] {
  const heating = segments
    .filter((s) => s.function === 'heating' && s.to > period.from && s.from < period.to)
    .sort((a, b) => a.from - b.from);
  const steps: PlanStep[] = [];
  let cursor = period.from;
  const fillUncovered = (until: number) => {
    for (const b of baseline) {
      const from = Math.max(b.from, cursor);
      const to = Math.min(b.to, until);
      if (to > from) steps.push({ from, to, mode: 'uncovered', setpointC: b.setpointC });
    }
  };
  for (const s of heating) {
    const from = Math.max(s.from, cursor);
    const to = Math.min(s.to, period.to);
    if (to <= from) continue;
    if (from > cursor) fillUncovered(from);
    steps.push({ from, to, mode: s.mode as HeatingMode, setpointC: planSetpointOf(s) });
    cursor = to;
  }
  if (cursor < period.to) fillUncovered(period.to);
  return steps;
}

/** Σ max(0, setpoint − outdoor) × hours over steps, split at hour boundaries; `count` sees each piece's hours. */
function degreeHours<S extends { from: number; to: number; setpointC: number | undefined }>(
  steps: readonly S[],
  outdoorByHour: Float64Array,
  origin: number,
  count: (step: S, hours: number) => void,
): number {
  let total = 0;
  for (const step of steps) {
    count(step, (step.to - step.from) / HOUR_MS);
    const setpoint = step.setpointC;
    if (setpoint === undefined) continue;
    let t = step.from;
    while (t < step.to) {
      const hour = Math.floor((t - origin) / HOUR_MS);
      const until = Math.min(step.to, origin + (hour + 1) * HOUR_MS);
      const gap = setpoint - (outdoorByHour[hour] as number);
      if (gap > 0) total += gap * ((until - t) / HOUR_MS);
      t = until;
    }
  }
  return total;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mapValues<K extends string>(record: Record<K, number>, f: (v: number) => number): Record<K, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v as number)])) as Record<K, number>;
}
