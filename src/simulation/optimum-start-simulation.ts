/**
 * `simulate` (issue 17, docs/optimum-start.md): the planner, the reference gateway's zone
 * controller and the room model run together in simulated time, minute by minute, with no
 * wall-clock waiting. Each UTC day the zone is planned as the bridge would (with the learned
 * snapshot of the samples so far under the `learned` strategy), the plan's segments reach the
 * zone controller as `desired` messages, the room follows its commands, internal gains while
 * occupied and the outdoor temperature (normals with a daily cycle), and reports a sample every
 * 5 minutes with seeded sensor noise. Deterministic: the same inputs and seed give the same figures.
 */
import { desiredContentOf, desiredPayload } from '../contract/desired-state.js';
import type { Zone } from '../devices/schema.js';
import type { OccupancyInterval } from '../domain/occupancy.js';
import { heatingSetpointOf } from '../gateway/simulated-gateway.js';
import {
  occupiedGainsW,
  type RoomState,
  stepRoom,
  type ThermalParameters,
} from '../gateway/thermal-model.js';
import { ZoneController } from '../gateway/zone-controller.js';
import {
  type HeatingSpan,
  heatingSpans,
  type LearnedZone,
  learnZone,
  optimumStartSnapshot,
  outdoorAt,
  type SnapshotOutdoor,
  type TemperatureSample,
} from '../rules/optimum-start.js';
import { planZone } from '../rules/planner.js';
import type { ResolvedRules } from '../rules/resolve.js';
import type { Segment } from '../rules/segment.js';

const MINUTE = 60_000;
const DAY = 24 * 3_600_000;
/** docs/gateway-contract.md: a report every 5 minutes. */
const SAMPLE_EVERY_MS = 5 * MINUTE;
/** Comfort tolerance of issue 17 (and of the dashboard's cold starts): within 0.5 °C of target. */
export const COLD_TOLERANCE_K = 0.5;
/** Samples kept for learning: four weeks, enough for ~20 starts. */
const LEARNING_WINDOW_MS = 28 * DAY;
/** Sensor noise, °C (standard deviation): a class-A Pt1000 is ±0.15 °C; a room sensor reads about ±0.1. */
const SENSOR_NOISE_C = 0.05;

export type Strategy = 'fixed' | 'learned';

export interface SimulatedZoneInput {
  zone: Zone;
  rules: ResolvedRules;
  thermal: ThermalParameters;
  /** The zone's occupancy (UTC), covering the period ± 7 days. */
  occupancy: readonly OccupancyInterval[];
}

export interface SimulationOptions {
  /** UTC day boundaries, epoch ms: [from, to). */
  from: number;
  to: number;
  strategy: Strategy;
  /** The fixed lead (minutes) of `fixed`, and the fallback of `learned`; default the rules'. */
  preheatMinutes?: number;
  outdoor: SnapshotOutdoor;
  seed: number;
  /** School days of learning before the "after learning" figures count; default 5. */
  learningDays?: number;
  /** Room temperature at `from`, °C; default the zone's short-gap setback. */
  initialC?: number;
  /**
   * Turns the rule setting `heating.optimum_stop` on (off by default in the rules; its tolerance
   * and longest stop are the rules' when they set them, else 0.5 K and 60 min). It acts only with
   * a snapshot, so only under `learned`.
   */
  optimumStop?: boolean;
}

export interface StartRecord {
  at: string;
  arrival_c: number;
  target_c: number;
  preheat_minutes: number;
  /** `learned`, or the fallback of a fixed lead. */
  basis: string;
}

export interface ZoneSimulation {
  zone: string;
  heating_kwh: number;
  occupied_cold_minutes: number;
  starts: number;
  cold_starts: number;
  mean_arrival_c: number | null;
  /** Starts after `learningDays` school days, and those within the tolerance of their target. */
  after_learning: { starts: number; within_tolerance: number; cold_minutes: number };
  learned?: LearnedZone;
  /** Optimum stops planned (`optimumStop`): how many, and their minutes in all. */
  optimum_stop?: { stops: number; minutes: number };
  history: StartRecord[];
}

/** mulberry32: a small seeded generator (deterministic noise). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function gaussian(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

function withPreheat(rules: ResolvedRules, minutes: number | undefined): ResolvedRules {
  if (minutes === undefined) return rules;
  return {
    ...rules,
    heating: {
      ...rules.heating,
      preheat_minutes: {
        value: minutes,
        rule: 'simulate --preheat-minutes',
        basis: `fixed ${minutes} min preheat (simulation)`,
      },
    },
  };
}

/** Optimum stop's settings when the rules set none (docs/rules.md's defaults). */
const DEFAULT_STOP_TOLERANCE_C = 0.5;
const DEFAULT_STOP_MAX_MINUTES = 60;

function withOptimumStop(rules: ResolvedRules, on: boolean | undefined): ResolvedRules {
  if (!on) return rules;
  const set = rules.heating.optimum_stop;
  return {
    ...rules,
    heating: {
      ...rules.heating,
      optimum_stop: {
        enabled: true,
        tolerance_c: set?.tolerance_c ?? DEFAULT_STOP_TOLERANCE_C,
        max_minutes: set?.max_minutes ?? DEFAULT_STOP_MAX_MINUTES,
        rule: 'simulate --optimum-stop',
        basis: `optimum stop on (simulation)${set ? `, settings of ${set.rule}` : ''}`,
      },
    },
  };
}

/** Simulates one zone over the period; see the file's comment. */
export function simulateZone(input: SimulatedZoneInput, options: SimulationOptions): ZoneSimulation {
  const rules = withOptimumStop(withPreheat(input.rules, options.preheatMinutes), options.optimumStop);
  const target = rules.heating.occupied.setpoint_c ?? 19;
  const mergeBelow = rules.heating.merge_gap_minutes.value * MINUTE;
  const next = random(options.seed);
  const occupancy = [...input.occupancy].sort((a, b) => a.start - b.start);
  const learningDays = options.learningDays ?? 5;

  // Starts: occupancy after a gap long enough to be set back (shorter ones stay comfort).
  const startsAt = new Set<number>();
  for (let k = 0; k < occupancy.length; k++) {
    const i = occupancy[k] as OccupancyInterval;
    const previous = occupancy[k - 1];
    if (
      i.start >= options.from &&
      i.start < options.to &&
      (!previous || i.start - previous.end >= mergeBelow)
    ) {
      startsAt.add(i.start);
    }
  }
  const schoolDays = [
    ...new Set(occupancy.filter((i) => i.start >= options.from).map((i) => Math.floor(i.start / DAY))),
  ].sort((a, b) => a - b);
  const learnedFrom =
    schoolDays[learningDays] !== undefined ? (schoolDays[learningDays] as number) * DAY : options.to;

  let room: RoomState = {
    temperatureC: options.initialC ?? rules.heating.unoccupied_under_24h.setpoint_c ?? target - 3,
    energyKWh: 0,
  };
  const samples: TemperatureSample[] = [];
  const spans: HeatingSpan[] = [];
  const controller = new ZoneController('heating');
  const history: StartRecord[] = [];
  let rev = 0;
  let coldMinutes = 0;
  let coldAfter = 0;
  let occupiedPointer = 0;
  let learned: LearnedZone | undefined;
  const stops = { stops: 0, minutes: 0 };

  for (let day = options.from; day < options.to; day += DAY) {
    let snapshot: ReturnType<typeof optimumStartSnapshot> | undefined;
    if (options.strategy === 'learned') {
      const window = samples.filter((s) => s.at >= day - LEARNING_WINDOW_MS);
      learned = learnZone({
        samples: window,
        spans: spans.filter((s) => s.to > day - LEARNING_WINDOW_MS),
        outdoorC: (t) => outdoorAt(options.outdoor, t),
      });
      snapshot = optimumStartSnapshot(day, options.outdoor, { [input.zone.id]: learned });
    }
    const segments = (planZone({
      zone: input.zone,
      occupancy,
      rules,
      overrides: [],
      horizon: { from: day, to: day + DAY },
      ...(snapshot ? { optimumStart: snapshot } : {}),
    }).heating ?? []) as Segment[];
    for (const span of heatingSpans(segments)) {
      const last = spans[spans.length - 1];
      if (
        last &&
        last.to === span.from &&
        last.comfort === span.comfort &&
        last.setpoint_c === span.setpoint_c
      ) {
        last.to = span.to;
        if (last.occupied_from === undefined && span.occupied_from !== undefined) {
          last.occupied_from = span.occupied_from;
        }
      } else spans.push({ ...span });
    }
    for (const segment of segments) {
      if (segment.reason.optimum_stop) {
        stops.stops++;
        stops.minutes += (segment.to - segment.from) / MINUTE;
      }
      if (segment.reason.kind === 'preheat') {
        const occupancyStart = segment.to;
        if (startsAt.has(occupancyStart)) {
          const o = segment.reason.optimum_start;
          history.push({
            at: new Date(occupancyStart).toISOString(),
            arrival_c: Number.NaN,
            target_c: segment.setpoint_c ?? target,
            preheat_minutes: (segment.to - segment.from) / MINUTE,
            basis: o ? (o.status === 'learned' ? 'learned' : `fixed (${o.fallback})`) : 'fixed',
          });
        }
      }
      controller.offerDesired(desiredPayload(desiredContentOf(segment), ++rev, segment.from));
      for (let t = segment.from; t < segment.to; t += MINUTE) {
        if (t % SAMPLE_EVERY_MS === 0) {
          samples.push({
            at: t,
            c: Math.round((room.temperatureC + SENSOR_NOISE_C * gaussian(next)) * 100) / 100,
          });
        }
        if (startsAt.has(t)) {
          let record = history.find((h) => h.at === new Date(t).toISOString());
          if (!record) {
            // A start the plan reached with no preheat segment (lead 0).
            record = {
              at: new Date(t).toISOString(),
              arrival_c: Number.NaN,
              target_c: segment.setpoint_c ?? target,
              preheat_minutes: 0,
              basis: segment.reason.optimum_start ? 'learned' : 'fixed',
            };
            history.push(record);
          }
          record.arrival_c = Math.round(room.temperatureC * 100) / 100;
        }
        while (
          occupiedPointer < occupancy.length &&
          (occupancy[occupiedPointer] as OccupancyInterval).end <= t
        ) {
          occupiedPointer++;
        }
        const current = occupancy[occupiedPointer];
        const occupied = current !== undefined && current.start <= t && t < current.end;
        const command = controller.commandAt(t);
        const before = room.temperatureC;
        room = stepRoom(
          input.thermal,
          room,
          {
            setpointC: heatingSetpointOf(command),
            outdoorC: outdoorAt(options.outdoor, t + MINUTE / 2),
            gainsW: occupied ? occupiedGainsW(input.thermal) : 0,
          },
          MINUTE / 3_600_000,
        );
        if (occupied && (before + room.temperatureC) / 2 < target - COLD_TOLERANCE_K) {
          coldMinutes++;
          if (t >= learnedFrom) coldAfter++;
        }
      }
    }
  }

  const arrived = history.filter((h) => !Number.isNaN(h.arrival_c));
  const cold = arrived.filter((h) => h.arrival_c < h.target_c - COLD_TOLERANCE_K);
  const after = arrived.filter((h) => Date.parse(h.at) >= learnedFrom);
  const result: ZoneSimulation = {
    zone: input.zone.id,
    heating_kwh: Math.round(room.energyKWh * 10) / 10,
    occupied_cold_minutes: coldMinutes,
    starts: arrived.length,
    cold_starts: cold.length,
    mean_arrival_c:
      arrived.length === 0
        ? null
        : Math.round((arrived.reduce((s, h) => s + h.arrival_c, 0) / arrived.length) * 100) / 100,
    after_learning: {
      starts: after.length,
      within_tolerance: after.filter((h) => h.arrival_c >= h.target_c - COLD_TOLERANCE_K).length,
      cold_minutes: coldAfter,
    },
    history: arrived,
  };
  if (learned) result.learned = learned;
  if (rules.heating.optimum_stop?.enabled) result.optimum_stop = stops;
  return result;
}
