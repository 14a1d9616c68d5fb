/**
 * Comfort figures of one zone's heating over a period (issue 16; definitions in docs/telemetry.md,
 * "Comfort"): the plan's occupied intervals and segments, the zone's samples and the settings →
 * occupied, measured, cold, overheated and unmeasured time, occupancy starts, and the measured
 * temperature's min/mean/max and time per reported mode. Pure: no clock, no I/O.
 *
 * Everything is computed in milliseconds on elementary intervals where nothing changes (bounds of
 * occupancy, plan segments and measurement pieces), so figures are exact to the millisecond and
 * adding the figures of consecutive periods gives the figures of their union (the hourly
 * aggregates rely on it).
 */
import { LEGAL_CAPS } from '../rules/schema.js';

/** `telemetry.hold_minutes` default: a gateway reports every 5 minutes (docs/gateway-contract.md), three missed reports make a gap. */
export const DEFAULT_HOLD_MINUTES = 15;
/** `comfort.cold_tolerance_c` default. */
export const DEFAULT_COLD_TOLERANCE_C = 1.0;
/** `comfort.overheat_tolerance_c` default. */
export const DEFAULT_OVERHEAT_TOLERANCE_C = 1.0;
/** A start follows at least this much unoccupied time (issue 16): a lesson after a break is not a start. */
export const START_AFTER_UNOCCUPIED_MS = 30 * 60_000;

export interface ComfortSettings {
  holdMs: number;
  coldToleranceC: number;
  overheatToleranceC: number;
}

export const DEFAULT_COMFORT_SETTINGS: ComfortSettings = {
  holdMs: DEFAULT_HOLD_MINUTES * 60_000,
  coldToleranceC: DEFAULT_COLD_TOLERANCE_C,
  overheatToleranceC: DEFAULT_OVERHEAT_TOLERANCE_C,
};

/** One stored report of the zone function (src/store/telemetry-repository.ts). */
export interface ComfortSample {
  /** Epoch ms: the gateway's `ts`. */
  ts: number;
  measured_c: number | null;
  /** Applied mode reported. */
  mode: string;
  /** Why the sample is not a fact (out of range, stuck sensor), or null. */
  flag: string | null;
}

/** A heating segment of the plan (the fields used here of `Segment`). */
export interface ComfortSegment {
  from: number;
  to: number;
  setpoint_c?: number;
  reason?: { exception?: unknown };
}

export interface Interval {
  start: number;
  end: number;
}

export interface ComfortInput {
  /** `[from, to)`, epoch ms. */
  range: { from: number; to: number };
  /**
   * The zone's occupied intervals, sorted by start (overlapping or touching ones are joined).
   * Should reach back 30 minutes before `range.from` so a start at `from` is recognised; what is
   * not given counts as unoccupied.
   */
  occupied: readonly Interval[];
  /** The zone's heating segments, sorted, over the range. */
  segments: readonly ComfortSegment[];
  /** The zone's samples sorted by ts, including those of the hold time before `range.from`. */
  samples: readonly ComfortSample[];
  settings: ComfortSettings;
}

export interface ComfortStart {
  /** Epoch ms of the first occupied instant. */
  at: number;
  /** The setpoint of the plan segment in force then, or null (no setpoint). */
  target_c: number | null;
  /** The measurement in force then, or null (unmeasured). */
  measured_c: number | null;
  cold: boolean;
}

export interface ComfortFigures {
  occupiedMs: number;
  /** Measured time, occupied or not (a valid measurement in force). */
  measuredMs: number;
  /** Occupied and measured. */
  occupiedMeasuredMs: number;
  coldMs: number;
  overheatedMs: number;
  /** Occupied and not measured: occupiedMs − occupiedMeasuredMs. */
  unmeasuredMs: number;
  minC: number | null;
  maxC: number | null;
  /** Time-weighted mean over the measured time. */
  meanC: number | null;
  /** Time per applied mode reported (a report's mode holds like its measurement). */
  modesMs: Record<string, number>;
  starts: ComfortStart[];
  /** Samples with `ts` in the range, and of those the flagged ones. */
  samples: number;
  flagged: number;
}

/** The cap an occupied zone's temperature is compared with: R241-26's 19 °C, or a setpoint a written exception allows. */
export function capOf(segment: ComfortSegment | undefined): number {
  const cap = LEGAL_CAPS.occupied.max_c;
  if (segment?.reason?.exception !== undefined && segment.setpoint_c !== undefined)
    return Math.max(cap, segment.setpoint_c);
  return cap;
}

interface Piece {
  from: number;
  to: number;
  measured: number | null;
  mode: string;
}

/** What each valid sample says, over `[ts, min(next valid ts, ts + hold))`, clipped to the range. */
function measurementPieces(input: ComfortInput): Piece[] {
  const { range, settings } = input;
  const valid = input.samples.filter((s) => s.flag === null);
  const pieces: Piece[] = [];
  for (let i = 0; i < valid.length; i++) {
    const sample = valid[i] as ComfortSample;
    let nextTs = Number.POSITIVE_INFINITY;
    for (let j = i + 1; j < valid.length; j++) {
      const ts = (valid[j] as ComfortSample).ts;
      if (ts > sample.ts) {
        nextTs = ts;
        break;
      }
    }
    const from = Math.max(sample.ts, range.from);
    const to = Math.min(nextTs, sample.ts + settings.holdMs, range.to);
    if (to > from) pieces.push({ from, to, measured: sample.measured_c, mode: sample.mode });
  }
  return pieces;
}

/** Sorted, joined (overlapping or touching) intervals. */
export function joinIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const interval of sorted) {
    const last = out[out.length - 1];
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else out.push({ start: interval.start, end: interval.end });
  }
  return out;
}

export function computeComfort(input: ComfortInput): ComfortFigures {
  const { range, settings } = input;
  const occupied = joinIntervals(input.occupied);
  const segments = input.segments;
  const pieces = measurementPieces(input);

  const bounds: number[] = [range.from, range.to];
  for (const p of pieces) bounds.push(p.from, p.to);
  for (const o of occupied) bounds.push(o.start, o.end);
  for (const s of segments) bounds.push(s.from, s.to);
  const cuts = Float64Array.from(bounds.filter((b) => b >= range.from && b <= range.to)).sort();

  const figures = emptyFigures();
  let weighted = 0;
  let p = 0;
  let o = 0;
  let s = 0;
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k] as number;
    const b = cuts[k + 1] as number;
    if (!(b > a)) continue;
    while (p < pieces.length && (pieces[p] as Piece).to <= a) p++;
    while (o < occupied.length && (occupied[o] as Interval).end <= a) o++;
    while (s < segments.length && (segments[s] as ComfortSegment).to <= a) s++;
    const piece = p < pieces.length && (pieces[p] as Piece).from <= a ? (pieces[p] as Piece) : undefined;
    const isOccupied = o < occupied.length && (occupied[o] as Interval).start <= a;
    const segment =
      s < segments.length && (segments[s] as ComfortSegment).from <= a
        ? (segments[s] as ComfortSegment)
        : undefined;
    const d = b - a;
    const measured = piece?.measured ?? null;
    if (piece) figures.modesMs[piece.mode] = (figures.modesMs[piece.mode] ?? 0) + d;
    if (measured !== null) {
      figures.measuredMs += d;
      weighted += measured * d;
      if (figures.minC === null || measured < figures.minC) figures.minC = measured;
      if (figures.maxC === null || measured > figures.maxC) figures.maxC = measured;
    }
    if (!isOccupied) continue;
    figures.occupiedMs += d;
    if (measured === null) {
      figures.unmeasuredMs += d;
      continue;
    }
    figures.occupiedMeasuredMs += d;
    const target = segment?.setpoint_c;
    if (target !== undefined && measured < target - settings.coldToleranceC) figures.coldMs += d;
    if (measured > capOf(segment) + settings.overheatToleranceC) figures.overheatedMs += d;
  }
  if (figures.measuredMs > 0) figures.meanC = weighted / figures.measuredMs;

  // Starts: the first instant of an occupied interval after ≥ 30 unoccupied minutes.
  let previousEnd = Number.NEGATIVE_INFINITY;
  for (const interval of occupied) {
    const isStart = interval.start - previousEnd >= START_AFTER_UNOCCUPIED_MS;
    previousEnd = interval.end;
    if (!isStart || interval.start < range.from || interval.start >= range.to) continue;
    const at = interval.start;
    const segment = segments.find((seg) => seg.from <= at && at < seg.to);
    const piece = pieces.find((pc) => pc.from <= at && at < pc.to);
    const target = segment?.setpoint_c ?? null;
    const measured = piece?.measured ?? null;
    figures.starts.push({
      at,
      target_c: target,
      measured_c: measured,
      cold: target !== null && measured !== null && measured < target - settings.coldToleranceC,
    });
  }
  for (const sample of input.samples) {
    if (sample.ts < range.from || sample.ts >= range.to) continue;
    figures.samples++;
    if (sample.flag !== null) figures.flagged++;
  }
  return figures;
}

/** Figures of consecutive periods added: the figures of their union (min/max/mean combined by measured time). */
export function addFigures(a: ComfortFigures, b: ComfortFigures): ComfortFigures {
  const measuredMs = a.measuredMs + b.measuredMs;
  const modesMs = { ...a.modesMs };
  for (const [mode, ms] of Object.entries(b.modesMs)) modesMs[mode] = (modesMs[mode] ?? 0) + ms;
  const pick = (x: number | null, y: number | null, f: (u: number, v: number) => number) =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    occupiedMs: a.occupiedMs + b.occupiedMs,
    measuredMs,
    occupiedMeasuredMs: a.occupiedMeasuredMs + b.occupiedMeasuredMs,
    coldMs: a.coldMs + b.coldMs,
    overheatedMs: a.overheatedMs + b.overheatedMs,
    unmeasuredMs: a.unmeasuredMs + b.unmeasuredMs,
    minC: pick(a.minC, b.minC, Math.min),
    maxC: pick(a.maxC, b.maxC, Math.max),
    meanC:
      measuredMs > 0 ? ((a.meanC ?? 0) * a.measuredMs + (b.meanC ?? 0) * b.measuredMs) / measuredMs : null,
    modesMs,
    starts: [...a.starts, ...b.starts],
    samples: a.samples + b.samples,
    flagged: a.flagged + b.flagged,
  };
}

export function emptyFigures(): ComfortFigures {
  return {
    occupiedMs: 0,
    measuredMs: 0,
    occupiedMeasuredMs: 0,
    coldMs: 0,
    overheatedMs: 0,
    unmeasuredMs: 0,
    minC: null,
    maxC: null,
    meanC: null,
    modesMs: {},
    starts: [],
    samples: 0,
    flagged: 0,
  };
}
