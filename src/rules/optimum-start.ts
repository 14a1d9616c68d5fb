/**
 * Optimum start (issue 17, docs/optimum-start.md): each heating zone's warm-up learned from its own
 * measurements, and the preheat lead it needs before an occupancy start. Pure: samples, plan
 * segments and an outdoor model in, numbers out; no clock read, no I/O.
 *
 * Model. The room is first order (1R1C, as the savings method and the reference gateway assume):
 * C·dT/dt = P − H·(T − T_out). Dividing by C gives two per-zone numbers that the measurements
 * reveal directly:
 * - the time constant τ = C/H (hours), from free cool-downs in setback (heater off, room above
 *   its setback setpoint): T₂ − T_out = (T₁ − T_out)·e^(−Δt/τ);
 * - the heating gain g = P/C (K/h), from warm-ups in comfort (heater at full power, room below
 *   target): T tends to T_eq = T_out + g·τ, so T₂ = T_eq + (T₁ − T_eq)·e^(−Δt/τ).
 * The heat-up rate is then dT/dt = g − (T − T_out)/τ: it falls as the room nears its target (the
 * gap) and as it gets colder outside, as ASHRAE Guideline 36's optimal start asks. Every estimate
 * solves the exponential between two consecutive samples exactly, so it does not depend on the
 * sampling period.
 *
 * Robustness. A window left open or a sensor in the sun spoils some samples or a whole start:
 * each episode keeps the median of its sample pairs, and the zone the median of its episodes
 * (the last `MAX_EPISODES`), so a minority of bad ones moves nothing. Pairs further apart than
 * `MAX_PAIR_GAP_MS` (lost reports) are not used.
 */
import { createHash } from 'node:crypto';
import type { Segment } from './segment.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Snapshot format version: bump when a field's meaning changes (it is part of the plan hash). */
export const OPTIMUM_START_SNAPSHOT_VERSION = 1;
/** Default number of learned starts below which the fixed preheat applies (rule setting `min_starts`). */
export const DEFAULT_MIN_STARTS = 5;
/** Telemetry older than this (against the snapshot's `as_of`) is not trusted: fixed preheat. */
export const MAX_TELEMETRY_AGE_MS = 24 * HOUR;
/** Consecutive samples further apart than this are not a pair (docs/gateway-contract.md reports every 5 min). */
export const MAX_PAIR_GAP_MS = 20 * MINUTE;
/** A warm-up counts when it starts at least this far below its target (K). */
const MIN_WARMUP_GAP_K = 0.5;
/** Below target by less than this (K) the heater is taken as holding, not heating at full power. */
const AT_TARGET_K = 0.2;
/** A cool-down pair counts when the room is at least this far above the setback setpoint (K). */
const ABOVE_SETBACK_K = 0.2;
/** A cool-down pair counts when the room is at least this far above the outdoor temperature (K). */
const MIN_INDOOR_OUTDOOR_K = 2;
/** Episodes kept: about six school weeks of starts, so a season change is followed. */
export const MAX_EPISODES = 30;
/**
 * Safety on the computed lead: 10 % plus 5 minutes, so a start measured with the sampling period's
 * uncertainty (5 min) still arrives at target; G36 likewise adds a margin to its learned warm-up.
 */
const LEAD_FACTOR = 1.1;
const LEAD_MARGIN_MS = 5 * MINUTE;

/** One measurement of a zone's air temperature. */
export interface TemperatureSample {
  /** Epoch ms. */
  at: number;
  c: number;
}

/** Outdoor temperature as the planner and the learning read it (carried in the snapshot). */
export type SnapshotOutdoor =
  /**
   * Monthly means (January first; the school's normals station) with a daily cycle of
   * ± `daily_amplitude_k`, coldest at 06:00 UTC (about dawn in France in winter).
   */
  | { source: 'normals'; station: string; monthly_mean_c: number[]; daily_amplitude_k: number }
  /** The school's outdoor sensor: its last reading, held. */
  | { source: 'sensor'; c: number; at: string };

/**
 * Half the mean daily temperature range in winter (Météo-France normals 1991–2020, Strasbourg-
 * Entzheim: ~6 K between the mean minimum and maximum in January). Assumption: one amplitude all year.
 */
export const DEFAULT_DAILY_AMPLITUDE_K = 3;
/** Coldest hour of the daily cycle, UTC. Assumption: winter dawn in metropolitan France. */
const COLDEST_HOUR_UTC = 6;

/** The outdoor temperature at `t` under `outdoor`. */
export function outdoorAt(outdoor: SnapshotOutdoor, t: number): number {
  if (outdoor.source === 'sensor') return outdoor.c;
  const month = new Date(t).getUTCMonth();
  const mean = outdoor.monthly_mean_c[month] ?? 0;
  const hour = (t % (24 * HOUR)) / HOUR;
  return mean - outdoor.daily_amplitude_k * Math.cos((2 * Math.PI * (hour - COLDEST_HOUR_UTC)) / 24);
}

/** A zone's learned warm-up, as the plan uses it. */
export interface LearnedZone {
  /** Warm-ups learned from (the "number of starts"). */
  starts: number;
  /** Cool-downs learned from. */
  cool_downs: number;
  /** g = P/C, K/h: the heating gain (median over starts); absent without a usable start. */
  heat_gain_k_per_h?: number;
  /** τ = C/H, hours (median over cool-downs); absent without a usable cool-down. */
  time_constant_h?: number;
  /** Last measurement used, ISO 8601 UTC; absent without any. */
  last_sample_at?: string;
  /** The zone's sensor is flagged (sample checks, docs/telemetry.md): the flag. */
  flagged?: string;
}

/** The learned parameters a plan used: versioned, hashed, recorded with the plan change. */
export interface OptimumStartSnapshot {
  version: number;
  /** Instant the snapshot was computed for, ISO 8601 UTC (telemetry age is measured against it). */
  as_of: string;
  outdoor: SnapshotOutdoor;
  zones: Record<string, LearnedZone>;
  /** sha256 of the canonical JSON of the fields above. */
  id: string;
}

/** Heating segments as the learning needs them: when comfort was asked, and at what setpoint. */
export interface HeatingSpan {
  from: number;
  to: number;
  /** Comfort (warm-up expected) or setback (cool-down expected). */
  comfort: boolean;
  setpoint_c: number | undefined;
  /** In a comfort span, when occupancy (and its internal gains) began: warm-ups are read before it. */
  occupied_from?: number;
}

const COMFORT_KINDS = new Set(['occupied', 'preheat', 'merged-gap', 'fallback']);

/** A zone's heating segments (a plan's) as spans, neighbours with the same role joined. */
export function heatingSpans(segments: readonly Segment[]): HeatingSpan[] {
  const out: HeatingSpan[] = [];
  for (const s of segments) {
    if (s.function !== 'heating') continue;
    const comfort =
      s.reason.kind === 'override' ? s.mode.startsWith('comfort') : COMFORT_KINDS.has(s.reason.kind);
    const setpoint_c = s.mode === 'off' ? undefined : s.setpoint_c;
    const last = out[out.length - 1];
    if (last && last.to === s.from && last.comfort === comfort && last.setpoint_c === setpoint_c) {
      last.to = s.to;
    } else {
      out.push({ from: s.from, to: s.to, comfort, setpoint_c });
    }
    const span = out[out.length - 1] as HeatingSpan;
    if (comfort && s.reason.kind === 'occupied' && span.occupied_from === undefined)
      span.occupied_from = s.from;
  }
  return out;
}

export interface LearnInput {
  /** The zone's measurements, any order; flagged or null ones left out by the caller. */
  samples: readonly TemperatureSample[];
  /** What was asked of the zone's heating over the same time (plans as published). */
  spans: readonly HeatingSpan[];
  outdoorC: (t: number) => number;
  /** A sensor flag in force, if any. */
  flagged?: string;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Samples of `[from, to]`, plus the last one before `from` within a pair gap (the state at the start). */
function samplesOver(sorted: readonly TemperatureSample[], from: number, to: number): TemperatureSample[] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as TemperatureSample).at < from) lo = mid + 1;
    else hi = mid;
  }
  const out: TemperatureSample[] = [];
  const before = sorted[lo - 1];
  if (before && from - before.at <= MAX_PAIR_GAP_MS) out.push(before);
  for (let k = lo; k < sorted.length && (sorted[k] as TemperatureSample).at <= to; k++) {
    out.push(sorted[k] as TemperatureSample);
  }
  return out;
}

/** Pairs span at most this: the outdoor temperature is read once per pair (at its middle). */
const MAX_PAIR_SPAN_MS = 2 * HOUR;

/**
 * Decay rate 1/τ (per hour) of one setback span's free cool-down: the median over all pairs of its
 * usable samples up to 2 h apart (Theil–Sen on ln(T − T_out)), or undefined. Free fall is
 * monotone and exact between any two samples above the setback, so pairs may straddle a lost
 * report; a consecutive pair alone would drown a slow room's 0.03 K per 5 min in sensor noise.
 */
function coolDownRate(
  samples: readonly TemperatureSample[],
  span: HeatingSpan,
  outdoorC: (t: number) => number,
): number | undefined {
  const floor = span.setpoint_c ?? Number.NEGATIVE_INFINITY;
  const usable = samples.filter((s) => s.at >= span.from && s.c >= floor + ABOVE_SETBACK_K);
  const rates: number[] = [];
  for (let i = 0; i < usable.length; i++) {
    const a = usable[i] as TemperatureSample;
    for (let j = i + 1; j < usable.length; j++) {
      const b = usable[j] as TemperatureSample;
      if (b.at - a.at > MAX_PAIR_SPAN_MS) break;
      const out = outdoorC((a.at + b.at) / 2);
      if (a.c - out < MIN_INDOOR_OUTDOOR_K || b.c - out < MIN_INDOOR_OUTDOOR_K) continue;
      rates.push(Math.log((a.c - out) / (b.c - out)) / ((b.at - a.at) / HOUR));
    }
  }
  // A light room reaches its setback within one report period: one pair is all it gives. A
  // door or a draught spoiling such a pair is outvoted by the median over cool-downs.
  return median(rates);
}

/**
 * g (K/h) of one warm-up: for each pair of samples below target (up to 2 h apart, before the
 * occupants' gains start), the gain that makes the exponential go from the first to the second;
 * the median. A room that reaches its target within one report period gives only a censored pair
 * (the heater stopped inside it): the target then stands for its second sample, a lower bound, so
 * a fast room is learned as at least as slow as it is, never faster.
 */
function warmUpGain(
  samples: readonly TemperatureSample[],
  span: HeatingSpan,
  tau: number,
  outdoorC: (t: number) => number,
): number | undefined {
  const target = span.setpoint_c;
  const first = samples[0];
  if (target === undefined || !first || first.c > target - MIN_WARMUP_GAP_K) return undefined;
  const until = span.occupied_from ?? span.to;
  const below: TemperatureSample[] = [];
  let crossing: TemperatureSample | undefined;
  for (const s of samples) {
    if (s.at > until) break;
    if (s.c >= target - AT_TARGET_K) {
      crossing = s;
      break;
    }
    below.push(s);
  }
  const gainOf = (a: TemperatureSample, bAt: number, bC: number): number | undefined => {
    // Heating began at the span's start: a pair straddling it heated only from there.
    const from = Math.max(a.at, span.from);
    const heatedH = (bAt - from) / HOUR;
    if (!(heatedH > 0)) return undefined;
    const decay = Math.exp(-heatedH / tau);
    const equilibrium = (bC - a.c * decay) / (1 - decay);
    return (equilibrium - outdoorC((from + bAt) / 2)) / tau;
  };
  const gains: number[] = [];
  for (let i = 0; i < below.length; i++) {
    const a = below[i] as TemperatureSample;
    for (let j = i + 1; j < below.length; j++) {
      const b = below[j] as TemperatureSample;
      if (b.at - a.at > MAX_PAIR_SPAN_MS) break;
      const g = gainOf(a, b.at, b.c);
      if (g !== undefined) gains.push(g);
    }
  }
  if (gains.length === 0 && crossing) {
    const a = below[below.length - 1];
    if (a && crossing.at - a.at <= MAX_PAIR_GAP_MS) {
      const g = gainOf(a, crossing.at, Math.min(crossing.c, target));
      if (g !== undefined) gains.push(g);
    }
  }
  return median(gains);
}

/** Learns one zone from its samples and the heating spans asked of it. */
export function learnZone(input: LearnInput): LearnedZone {
  const sorted = [...input.samples].filter((s) => Number.isFinite(s.c)).sort((a, b) => a.at - b.at);
  const rates: number[] = [];
  const warmUps: { span: HeatingSpan; samples: TemperatureSample[] }[] = [];
  for (let k = 0; k < input.spans.length; k++) {
    const span = input.spans[k] as HeatingSpan;
    const samples = samplesOver(sorted, span.from, span.to);
    if (samples.length < 2) continue;
    if (!span.comfort) {
      const rate = coolDownRate(samples, span, input.outdoorC);
      if (rate !== undefined && Number.isFinite(rate)) rates.push(rate);
    } else if (k > 0 && !(input.spans[k - 1] as HeatingSpan).comfort) {
      warmUps.push({ span, samples });
    }
  }
  const rate = median(rates.slice(-MAX_EPISODES));
  const tau = rate !== undefined && rate > 0 ? 1 / rate : undefined;
  const learned: LearnedZone = { starts: 0, cool_downs: Math.min(rates.length, MAX_EPISODES) };
  const last = sorted[sorted.length - 1];
  if (last) learned.last_sample_at = new Date(last.at).toISOString();
  if (input.flagged) learned.flagged = input.flagged;
  if (tau === undefined) return learned;
  learned.time_constant_h = round(tau, 3);
  const gains: number[] = [];
  for (const w of warmUps) {
    const g = warmUpGain(w.samples, w.span, tau, input.outdoorC);
    if (g !== undefined && Number.isFinite(g) && g > 0) gains.push(g);
  }
  const kept = gains.slice(-MAX_EPISODES);
  const gain = median(kept);
  learned.starts = kept.length;
  if (gain !== undefined) learned.heat_gain_k_per_h = round(gain, 3);
  return learned;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The snapshot of `zones` as of `asOf`, with its id. */
export function optimumStartSnapshot(
  asOf: number,
  outdoor: SnapshotOutdoor,
  zones: Record<string, LearnedZone>,
): OptimumStartSnapshot {
  const body = {
    version: OPTIMUM_START_SNAPSHOT_VERSION,
    as_of: new Date(asOf).toISOString(),
    outdoor,
    zones,
  };
  return { ...body, id: createHash('sha256').update(canonical(body)).digest('hex') };
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** dT/dt (K/h) of a zone heating at full power at `roomC` with `outdoorC` outside. */
export function heatUpRate(
  zone: { heat_gain_k_per_h: number; time_constant_h: number },
  roomC: number,
  outdoorC: number,
) {
  return zone.heat_gain_k_per_h - (roomC - outdoorC) / zone.time_constant_h;
}

/** Hours of full power from `fromC` to `targetC`; Infinity when the heater cannot get there. */
export function warmUpHours(
  zone: { heat_gain_k_per_h: number; time_constant_h: number },
  fromC: number,
  targetC: number,
  outdoorC: number,
): number {
  if (fromC >= targetC) return 0;
  const equilibrium = outdoorC + zone.heat_gain_k_per_h * zone.time_constant_h;
  if (equilibrium <= targetC) return Number.POSITIVE_INFINITY;
  return zone.time_constant_h * Math.log((equilibrium - fromC) / (equilibrium - targetC));
}

/** Why a zone uses the fixed preheat. */
export type OptimumFallback =
  | 'no-snapshot'
  | 'too-few-starts'
  | 'stale-telemetry'
  | 'flagged-sensor'
  | 'override';

/** What the preheat reason says about optimum start. */
export interface OptimumStartReason {
  /** `learned`: the lead below; `fixed`: the rule's fixed preheat, for `fallback`. */
  status: 'learned' | 'fixed';
  fallback?: OptimumFallback;
  /** Heating gain g (K/h) and τ (h) learned. */
  heat_gain_k_per_h?: number;
  time_constant_h?: number;
  /** Heat-up rate (K/h) at the predicted start temperature and outdoor temperature. */
  rate_k_per_h?: number;
  predicted_start_c?: number;
  outdoor_c?: number;
  lead_minutes?: number;
  starts: number;
  snapshot: string;
}

export interface LeadInput {
  snapshot: OptimumStartSnapshot;
  zone: string;
  /** Learned starts needed (rule setting). */
  minStarts: number;
  maxLeadMs: number;
  targetC: number;
  /** The setback setpoint held before the start, if any. */
  setbackC: number | undefined;
  /** Occupancy start, and the end of the comfort before it (undefined: none known). */
  start: number;
  previousComfortEnd: number | undefined;
}

/** Why `zone` cannot use its learning under `snapshot`, or undefined when it can. */
export function fallbackOf(
  snapshot: OptimumStartSnapshot,
  zone: string,
  minStarts: number,
): OptimumFallback | undefined {
  const learned = snapshot.zones[zone];
  if (!learned) return 'too-few-starts';
  if (learned.flagged) return 'flagged-sensor';
  const last = learned.last_sample_at === undefined ? Number.NaN : Date.parse(learned.last_sample_at);
  if (!(Date.parse(snapshot.as_of) - last <= MAX_TELEMETRY_AGE_MS)) return 'stale-telemetry';
  if (
    learned.starts < minStarts ||
    learned.heat_gain_k_per_h === undefined ||
    learned.time_constant_h === undefined
  ) {
    return 'too-few-starts';
  }
  return undefined;
}

/**
 * The lead (ms, within [0, maxLeadMs]) the learned model needs before `start`, and the reason's
 * figures. The temperature expected at the start of the warm-up is predicted from the plan: the
 * room left comfort at the target at `previousComfortEnd` and cooled freely towards the outdoor
 * temperature with τ, held up by the setback setpoint; without a known previous comfort it is at
 * the setback setpoint (or outdoors, heating off).
 */
export function optimumLead(
  input: LeadInput,
): { leadMs: number; reason: OptimumStartReason } | { fallback: OptimumFallback } {
  const why = fallbackOf(input.snapshot, input.zone, input.minStarts);
  if (why) return { fallback: why };
  const learned = input.snapshot.zones[input.zone] as Required<
    Pick<LearnedZone, 'heat_gain_k_per_h' | 'time_constant_h'>
  > &
    LearnedZone;
  const outdoorC = outdoorAt(input.snapshot.outdoor, input.start);
  // Cooling from the previous comfort's end to the start: the lead is not known yet, so the gap is
  // taken to the start itself (slightly colder than at the warm-up's beginning: errs long).
  const floor = input.setbackC ?? Number.NEGATIVE_INFINITY;
  let startC: number;
  if (input.previousComfortEnd === undefined) {
    startC = Number.isFinite(floor) ? floor : outdoorC;
  } else {
    const hours = (input.start - input.previousComfortEnd) / HOUR;
    startC = Math.max(
      floor,
      outdoorC + (input.targetC - outdoorC) * Math.exp(-hours / learned.time_constant_h),
    );
  }
  const hours = warmUpHours(learned, startC, input.targetC, outdoorC);
  const needed = hours === 0 ? 0 : hours * HOUR * LEAD_FACTOR + LEAD_MARGIN_MS;
  // Whole minutes, rounded up: the plan's instants stay readable and the lead never falls short.
  const leadMs = Math.min(input.maxLeadMs, Math.ceil(needed / MINUTE) * MINUTE);
  return {
    leadMs,
    reason: {
      status: 'learned',
      heat_gain_k_per_h: learned.heat_gain_k_per_h,
      time_constant_h: learned.time_constant_h,
      rate_k_per_h: round(heatUpRate(learned, startC, outdoorC), 3),
      predicted_start_c: round(startC, 2),
      outdoor_c: round(outdoorC, 2),
      lead_minutes: leadMs / MINUTE,
      starts: learned.starts,
      snapshot: input.snapshot.id,
    },
  };
}

/** What an optimum-stop segment's reason says (docs/optimum-start.md, "Optimum stop"). */
export interface OptimumStopReason {
  /** Minutes of setback before the occupancy ends. */
  stop_minutes: number;
  /** τ (h) learned, the comfort target, the allowed drop below it and the outdoor temperature. */
  time_constant_h: number;
  target_c: number;
  tolerance_c: number;
  outdoor_c: number;
  /** The temperature predicted at the end of occupancy: free fall from the target with τ. */
  predicted_end_c: number;
  starts: number;
  snapshot: string;
}

export interface StopInput {
  snapshot: OptimumStartSnapshot;
  zone: string;
  minStarts: number;
  /** Longest stop (ms) the rule allows, already bounded by the occupancy's length. */
  maxStopMs: number;
  targetC: number;
  toleranceC: number;
  /** Occupancy end. */
  end: number;
}

/**
 * How long before `end` the heating may go to setback with the room predicted to stay within
 * `toleranceC` of the target until `end`: the room is at the target when comfort stops and falls
 * freely towards the outdoor temperature with τ (occupants' gains, which slow the fall, are left
 * out: the prediction errs warm-side for comfort). T(end) = T_out + (T* − T_out)·e^(−s/τ) ≥ T* − tol
 * gives s ≤ τ·ln((T* − T_out)/(T* − tol − T_out)). Whole minutes, rounded down; undefined when the
 * zone's learning is insufficient (the same checks as optimum start) or no whole minute fits.
 */
export function optimumStop(input: StopInput): { stopMs: number; reason: OptimumStopReason } | undefined {
  if (fallbackOf(input.snapshot, input.zone, input.minStarts)) return undefined;
  const learned = input.snapshot.zones[input.zone] as LearnedZone & { time_constant_h: number };
  const tau = learned.time_constant_h;
  const outdoorC = outdoorAt(input.snapshot.outdoor, input.end);
  const floor = input.targetC - input.toleranceC;
  let stopMs: number;
  if (floor <= outdoorC) {
    // Even a room at outdoor temperature stays within the tolerance.
    stopMs = input.maxStopMs;
  } else {
    const hours = tau * Math.log((input.targetC - outdoorC) / (floor - outdoorC));
    stopMs = Math.min(input.maxStopMs, Math.floor((hours * HOUR) / MINUTE) * MINUTE);
  }
  if (!(stopMs >= MINUTE)) return undefined;
  const predicted = outdoorC + (input.targetC - outdoorC) * Math.exp(-stopMs / HOUR / tau);
  return {
    stopMs,
    reason: {
      stop_minutes: stopMs / MINUTE,
      time_constant_h: tau,
      target_c: input.targetC,
      tolerance_c: input.toleranceC,
      outdoor_c: round(outdoorC, 2),
      predicted_end_c: round(predicted, 2),
      starts: learned.starts,
      snapshot: input.snapshot.id,
    },
  };
}
