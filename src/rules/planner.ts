/**
 * The planner: occupancy of a zone + its resolved rules + overrides → contiguous, explained
 * segments per function over a horizon (rules.md). Pure: epoch ms in, epoch ms out, no clock
 * read, no I/O, no time zones (local-time decisions were made by the calendar step).
 *
 * Gaps are classified by their real length, so the caller passes occupancy for a window wider
 * than the horizon (`known`, default horizon ± 7 days): a gap that crosses the horizon edge is
 * measured to the neighbouring lesson, not to the edge.
 *
 * Cost (docs/rules.md, "Performance"): a region's week is ~1.7 M segments, so the work is kept
 * proportional to what lies in the horizon. Only the occupancy intervals whose items reach the
 * horizon are swept; the margin is only looked at for the two neighbours that bound the gaps at
 * the horizon edges. Items live in parallel arrays and output segments are built once, already
 * merged, instead of painting, clipping and merging copies.
 */
import type { Zone, ZoneFunction } from '../devices/schema.js';
import type { OccupancyInterval } from '../domain/occupancy.js';
import { CompactBuilder, type CompactSegments, type Decision, lazyZonePlan } from './compact-plan.js';
import { capProblem, DEFAULT_EXCEPTION_POLICY, type ExceptionPolicy } from './exception-policy.js';
import {
  type OptimumFallback,
  type OptimumStartSnapshot,
  optimumLead,
  optimumStop,
} from './optimum-start.js';
import { type Override, type OverrideSlice, overrideSlices } from './overrides.js';
import { DEFAULT_OPTIMUM_START, type ResolvedRules, type ResolvedSetpoint, type RuleRef } from './resolve.js';
import type { PlanMode, ReasonKind, Segment, ZonePlan } from './segment.js';
import { unionWithin } from './zone-occupancy.js';

export { zoneOccupancy } from './zone-occupancy.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Occupancy margin around the horizon the caller should pass (and the default `known` window). */
export const PLANNING_MARGIN_MS = 7 * 24 * HOUR;
/** R241-27 tiers. */
const DAY = 24 * HOUR;
const TWO_DAYS = 48 * HOUR;
/** Arrêté du 27 décembre 2018 art. 2: lights off at most 1 h after occupancy ends, whatever the file says. */
const MAX_LIGHTING_LAG_MS = HOUR;

export interface TimeRange {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface PlanInput {
  zone: Zone;
  /** Occupancy of the zone (see `zoneOccupancy`), covering at least `known`. */
  occupancy: readonly OccupancyInterval[];
  rules: ResolvedRules;
  /** All overrides; only those of this zone apply. */
  overrides: readonly Override[];
  horizon: TimeRange;
  /**
   * Window over which `occupancy` is complete; default horizon ± PLANNING_MARGIN_MS. A gap reaching
   * its edge is open-ended: classified by its known length (a lower bound) and never merged.
   */
  known?: TimeRange;
  /**
   * The school never sent a timetable: plan on these comfort windows instead (the calendar expands
   * `rules.fallback_week` to UTC instants outside holidays). `occupancy` is then ignored.
   */
  fallback?: { occupancy: readonly OccupancyInterval[] };
  /** How far a rule's exception may lift a legal cap (the rule set's; default 2 °C). */
  exceptionPolicy?: ExceptionPolicy;
  /**
   * Learned warm-ups (docs/optimum-start.md): with it, each heating preheat lasts what the zone's
   * learned model needs (rule `optimum-start`), or says why the fixed lead applies.
   */
  optimumStart?: OptimumStartSnapshot;
}

/**
 * How one function turns an occupancy interval `[start, end)` into prioritised items, in this
 * order (the tie-break of `sweep` depends on it): `before` on `[start - lead, start)` (priority 1:
 * preheat, lead, purge before), `during` on `[start, end - earlyStop)` (3), `after` on
 * `[end, end + lag)` (2: lighting lag, purge after). Empty items are dropped. Only heating stops
 * early and only lighting and ventilation lag, so an interval's items cover
 * `[start - lead, coverEnd)` without a hole.
 */
interface FunctionShape {
  lead: number;
  earlyStop: number;
  lag: number;
  before: Decision;
  during: Decision;
  after: Decision;
  /** Fallback windows name no lessons. */
  withLessons: boolean;
  gaps: GapDecisions;
}

interface GapDecisions {
  /** Heating keeps comfort over closed gaps shorter than this (0: never). */
  mergeBelow: number;
  merged: Decision;
  'short-gap': Decision;
  'long-gap': Decision;
  holiday: Decision;
}

/** Plans every function of the zone. Same input, same output (no clock, stable ordering). */
export function planZone(input: PlanInput): ZonePlan {
  const { horizon } = input;
  if (!(horizon.to > horizon.from)) throw new RangeError('horizon.to must be after horizon.from');
  const known = input.known ?? {
    from: horizon.from - PLANNING_MARGIN_MS,
    to: horizon.to + PLANNING_MARGIN_MS,
  };
  const domain = { from: Math.min(known.from, horizon.from), to: Math.max(known.to, horizon.to) };
  // Leads and lags are at most 3 h, so intervals a day beyond the domain cannot touch it.
  const occupancy = unionWithin(
    input.fallback ? input.fallback.occupancy : input.occupancy,
    domain.from,
    domain.to,
    DAY,
  );
  if (input.zone.functions.includes('heating')) {
    assertWithinCaps(input.rules, input.exceptionPolicy ?? DEFAULT_EXCEPTION_POLICY);
  }
  const lists: CompactSegments[] = [];
  for (const fn of input.zone.functions) {
    const shape = shapeOf(fn, input.rules, input.fallback !== undefined);
    const zoneOverrides = input.overrides.filter((o) => o.zone === input.zone.id && o.function === fn);
    const out = new SegmentWriter(fn, horizon, overrideSlices(zoneOverrides, horizon));
    const optimum =
      fn === 'heating' && input.optimumStart && !input.fallback
        ? optimumLeads(input.zone.id, input.rules, shape, occupancy, zoneOverrides, input.optimumStart)
        : undefined;
    sweep(shape, occupancy, domain, out, optimum);
    lists.push(out.finish());
  }
  return lazyZonePlan(lists);
}

const HEATING_TIERS = [
  'occupied',
  'unoccupied_under_24h',
  'unoccupied_24h_to_48h',
  'unoccupied_48h_or_more',
] as const;
/** Resolved rules already checked under a policy's deviation: checked once, like their shapes. */
const withinCaps = new WeakMap<ResolvedRules, number>();

/**
 * The loaded rule files were checked (rule-set.ts), so this refuses only rules built in code or a
 * path that skipped the check: no segment above a legal cap without a governed exception within
 * the configured deviation ever leaves the planner.
 */
function assertWithinCaps(rules: ResolvedRules, policy: ExceptionPolicy): void {
  if (withinCaps.get(rules) === policy.maxDeviationC) return;
  for (const tier of HEATING_TIERS) {
    const entry = rules.heating[tier];
    const setpoint = entry.mode === 'off' ? undefined : entry.setpoint_c;
    const problem = capProblem(tier, setpoint, entry.exception, policy, entry.rule);
    if (problem) throw new RangeError(`planner refused ${problem.code}: ${problem.message}`);
  }
  withinCaps.set(rules, policy.maxDeviationC);
}

/**
 * The first instant after `t` at which mode or setpoint differ from the state at `t`, or null
 * when nothing changes within `segments` (or `t` is outside them). For "until next change" overrides.
 */
export function nextChangeAfter(segments: readonly Segment[], t: number): number | null {
  const index = segments.findIndex((s) => s.from <= t && t < s.to);
  const current = segments[index];
  if (!current) return null;
  for (let i = index + 1; i < segments.length; i++) {
    const next = segments[i] as Segment;
    if (next.mode !== current.mode || next.setpoint_c !== current.setpoint_c) return next.from;
  }
  return null;
}

function decision(mode: PlanMode, setpoint_c: number | undefined, rule: RuleRef, kind: ReasonKind): Decision {
  const d: Decision = { mode, kind, rule: rule.rule, basis: rule.basis };
  if (setpoint_c !== undefined) d.setpoint_c = setpoint_c;
  if (rule.exception) d.exception = rule.exception;
  return d;
}

/**
 * `rule` decided when (preheat minutes, the merge threshold, the fallback week) and `setpoint`
 * what temperature: when they differ the reason names both, and the exception is the one the
 * temperature rule carries (an exception lifts a setpoint above its cap, never a duration), so a
 * preheat at an excepted 21 °C shows the exception as the occupied segment after it does.
 */
function heatingDecision(setpoint: ResolvedSetpoint, rule: RuleRef, kind: ReasonKind): Decision {
  const d = decision(setpoint.mode, setpoint.setpoint_c, rule, kind);
  if (rule !== setpoint && rule.rule !== setpoint.rule) {
    d.temperature_rule = setpoint.rule;
    const exception = setpoint.exception ?? rule.exception;
    if (exception) d.exception = exception;
  }
  return d;
}

/**
 * An unoccupied tier, never above the occupied setpoint: `check` and every (re)load refuse such
 * rules (setback-order.ts), so this only guards rules built in code or a future layer the check
 * misses; the reason's basis says it was clamped and from what.
 */
function setbackDecision(tier: ResolvedSetpoint, occupied: ResolvedSetpoint, kind: ReasonKind): Decision {
  const d = heatingDecision(tier, tier, kind);
  const ceiling = occupied.mode === 'off' ? undefined : occupied.setpoint_c;
  if (ceiling !== undefined && d.setpoint_c !== undefined && d.setpoint_c > ceiling) {
    d.basis =
      `${tier.basis} — clamped from ${d.setpoint_c} °C to the occupied ${ceiling} °C of ${occupied.rule} ` +
      '(a setback is never warmer than occupancy)';
    d.setpoint_c = ceiling;
  }
  return d;
}

/**
 * What `planZone` derives from one `ResolvedRules`, memoised by identity: the zones of a school
 * share their resolved rules (school-plan.ts), and rebuilding a dozen decisions per zone and
 * function was a tenth of a region's planning time. Resolved rules are values: nothing changes
 * them once resolved.
 */
const shapes = new WeakMap<ResolvedRules, Map<string, FunctionShape>>();

function shapeOf(fn: ZoneFunction, rules: ResolvedRules, fallback: boolean): FunctionShape {
  let byFunction = shapes.get(rules);
  if (!byFunction) {
    byFunction = new Map();
    shapes.set(rules, byFunction);
  }
  const key = fallback ? `fallback ${fn}` : fn;
  let shape = byFunction.get(key);
  if (!shape) {
    shape = fallback ? fallbackShape(fn, rules) : occupancyShape(fn, rules);
    byFunction.set(key, shape);
  }
  return shape;
}

/** How unoccupied gaps are planned: R241-27 tiers for heating (short ones merged), off otherwise. */
function gapDecisions(fn: ZoneFunction, rules: ResolvedRules): GapDecisions {
  if (fn === 'heating') {
    const h = rules.heating;
    return {
      mergeBelow: h.merge_gap_minutes.value * MINUTE,
      merged: heatingDecision(h.occupied, h.merge_gap_minutes, 'merged-gap'),
      'short-gap': setbackDecision(h.unoccupied_under_24h, h.occupied, 'short-gap'),
      'long-gap': setbackDecision(h.unoccupied_24h_to_48h, h.occupied, 'long-gap'),
      holiday: setbackDecision(h.unoccupied_48h_or_more, h.occupied, 'holiday'),
    };
  }
  const unoccupied = rules[fn].unoccupied;
  const off = (kind: ReasonKind) => decision(unoccupied.mode, undefined, unoccupied, kind);
  const shortGap = off('short-gap');
  return {
    mergeBelow: 0,
    merged: shortGap,
    'short-gap': shortGap,
    'long-gap': off('long-gap'),
    holiday: off('holiday'),
  };
}

/** The decision of a gap of `length` ms; an open-ended gap (reaching the known window's edge) is never merged. */
function gapDecision(gaps: GapDecisions, length: number, openEnded: boolean): Decision {
  if (!openEnded && length < gaps.mergeBelow) return gaps.merged;
  return length < DAY ? gaps['short-gap'] : length < TWO_DAYS ? gaps['long-gap'] : gaps.holiday;
}

/** Heating's occupied item ends `early_stop` before the occupancy ends. */
function occupancyShape(fn: ZoneFunction, rules: ResolvedRules): FunctionShape {
  const gaps = gapDecisions(fn, rules);
  if (fn === 'heating') {
    const h = rules.heating;
    return {
      lead: h.preheat_minutes.value * MINUTE,
      earlyStop: h.early_stop_minutes.value * MINUTE,
      lag: 0,
      before: heatingDecision(h.occupied, h.preheat_minutes, 'preheat'),
      during: heatingDecision(h.occupied, h.occupied, 'occupied'),
      after: heatingDecision(h.occupied, h.occupied, 'occupied'),
      withLessons: true,
      gaps,
    };
  }
  const lead = fn === 'lighting' ? rules.lighting.lead_minutes : rules.ventilation.purge_before_minutes;
  const lag = fn === 'lighting' ? rules.lighting.lag_minutes : rules.ventilation.purge_after_minutes;
  const occupied = rules[fn].occupied;
  return {
    lead: lead.value * MINUTE,
    earlyStop: 0,
    lag: fn === 'lighting' ? Math.min(lag.value * MINUTE, MAX_LIGHTING_LAG_MS) : lag.value * MINUTE,
    before: decision(occupied.mode, undefined, lead, 'preheat'),
    during: decision(occupied.mode, undefined, occupied, 'occupied'),
    after: decision(occupied.mode, undefined, lag, 'occupied'),
    withLessons: true,
    gaps,
  };
}

/** Fallback comfort windows are taken as they are: no preheat, lead or lag is added. */
function fallbackShape(fn: ZoneFunction, rules: ResolvedRules): FunctionShape {
  const comfort =
    fn === 'heating'
      ? heatingDecision(rules.heating.occupied, rules.fallback_week, 'fallback')
      : decision(rules[fn].occupied.mode, undefined, rules.fallback_week, 'fallback');
  return {
    lead: 0,
    earlyStop: 0,
    lag: 0,
    before: comfort,
    during: comfort,
    after: comfort,
    withLessons: false,
    gaps: gapDecisions(fn, rules),
  };
}

function coverEnd(shape: FunctionShape, i: OccupancyInterval): number {
  return shape.lag > 0 ? i.end + shape.lag : Math.max(i.start, i.end - shape.earlyStop);
}

/**
 * Items of the zone-function being swept, as parallel arrays reused from one sweep to the next
 * (a region's week sweeps ~40 k zone-functions of ~100 items: one object per item was most of the
 * garbage collection). `planZone` is synchronous, so no two sweeps share them.
 */
const items = {
  count: 0,
  from: new Float64Array(256),
  to: new Float64Array(256),
  priority: new Uint8Array(256),
  decision: [] as Decision[],
  lessons: [] as (readonly string[] | undefined)[],
  /** Item numbers by start (stable), then the active ones. */
  byStart: new Int32Array(256),
  active: new Int32Array(256),
};

/**
 * Instants handed from the sweep to `addItem` and the writer. Epoch ms are not small integers: as
 * arguments of a call V8 does not inline, each one was boxed in a new heap number (~180 MB of
 * garbage per region's week). The caller writes them here; the callee reads them at once.
 */
const arg = new Float64Array(4);
const FROM = 0;
const TO = 1;
/** NaN unless the piece is a gap. */
const GAP_HOURS = 2;
const SWEEP_FROM = 3;

/**
 * Adds the item `[arg[FROM], arg[TO])`, clipped to the domain, not to the sweep: a tie is broken on the domain-clipped
 * start, as when the whole domain is painted. Empty items and those over before the sweep starts
 * are left out.
 */
function addItem(
  priority: number,
  d: Decision,
  lessons: readonly string[] | undefined,
  domain: TimeRange,
): void {
  const f = Math.max(arg[FROM] as number, domain.from);
  const t = Math.min(arg[TO] as number, domain.to);
  if (!(t > f && t > (arg[SWEEP_FROM] as number))) return;
  const n = items.count;
  if (n === items.from.length) growItems();
  items.from[n] = f;
  items.to[n] = t;
  items.priority[n] = priority;
  items.decision[n] = d;
  items.lessons[n] = lessons;
  items.count = n + 1;
}

function growItems(): void {
  const size = items.from.length * 2;
  const from = new Float64Array(size);
  const to = new Float64Array(size);
  const priority = new Uint8Array(size);
  from.set(items.from);
  to.set(items.to);
  priority.set(items.priority);
  Object.assign(items, { from, to, priority, byStart: new Int32Array(size), active: new Int32Array(size) });
}

/**
 * Sweeps the items of `occupancy` over `domain` and hands the pieces to `out` (which keeps the
 * horizon's): each span takes the highest-priority item covering it (the later-starting one on a
 * tie: the lead of the nearer lesson); uncovered spans are gaps, classified by their whole length
 * within `domain`.
 *
 * Only the intervals whose items reach the horizon are swept. An interval's items cover
 * `[start - lead, coverEnd)` without a hole and both ends grow from one interval to the next (the
 * occupancy is sorted and disjoint), so the gaps around the horizon edges are bounded by the
 * nearest covering intervals outside it: found by binary search and a short scan, instead of
 * painting the margin.
 */
function sweep(
  shape: FunctionShape,
  occupancy: readonly OccupancyInterval[],
  domain: TimeRange,
  out: SegmentWriter,
  optimum?: OptimumLeads,
): void {
  const { horizon } = out;
  // With optimum start each interval has its own lead, at most `maxLead`.
  const lead = optimum ? optimum.maxLead : shape.lead;
  const leadOf = optimum ? (k: number) => optimum.lead(k) : () => shape.lead;
  // Intervals [first, last) have items reaching into the horizon.
  let lo = 0;
  let hi = occupancy.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (coverEnd(shape, occupancy[mid] as OccupancyInterval) > horizon.from) hi = mid;
    else lo = mid + 1;
  }
  const first = lo;
  hi = occupancy.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((occupancy[mid] as OccupancyInterval).start - lead >= horizon.to) hi = mid;
    else lo = mid + 1;
  }
  const last = lo;
  // Where the gaps at the edges start and end: the nearest intervals that cover something
  // (one may not, with no lead and an early stop as long as the lesson).
  let sweepFrom = domain.from;
  for (let k = first - 1; k >= 0; k--) {
    const i = occupancy[k] as OccupancyInterval;
    const end = coverEnd(shape, i);
    if (end <= i.start - leadOf(k)) continue;
    sweepFrom = Math.max(end, domain.from);
    break;
  }
  let sweepTo = domain.to;
  for (let k = last; k < occupancy.length; k++) {
    const i = occupancy[k] as OccupancyInterval;
    if (coverEnd(shape, i) <= i.start - leadOf(k)) continue;
    sweepTo = Math.min(i.start - leadOf(k), domain.to);
    break;
  }

  items.count = 0;
  arg[SWEEP_FROM] = sweepFrom;
  for (let k = first; k < last; k++) {
    const i = occupancy[k] as OccupancyInterval;
    const lessons = shape.withLessons && i.source !== undefined && i.source.length > 0 ? i.source : undefined;
    const before = optimum ? optimum.before(k) : shape.before;
    arg[FROM] = i.start - leadOf(k);
    arg[TO] = i.start;
    addItem(1, before, lessons, domain);
    const duringEnd = Math.max(i.start, i.end - shape.earlyStop);
    // Optimum stop (off by default): setback from `stop.from` to where comfort would have ended.
    const stop = optimum?.stop(k);
    if (stop && stop.from < duringEnd) {
      arg[FROM] = i.start;
      arg[TO] = stop.from;
      addItem(3, shape.during, lessons, domain);
      arg[FROM] = stop.from;
      arg[TO] = duringEnd;
      addItem(3, stop.decision, lessons, domain);
    } else {
      arg[FROM] = i.start;
      arg[TO] = duringEnd;
      addItem(3, shape.during, lessons, domain);
    }
    arg[FROM] = i.end;
    arg[TO] = i.end + shape.lag;
    addItem(2, shape.after, lessons, domain);
  }
  const { count, from, to, priority, decision, lessons, byStart, active } = items;

  // Stable order by start. Items come almost sorted (only neighbours' leads and lags overlap), so
  // an insertion sort is linear here.
  for (let n = 0; n < count; n++) {
    let m = n - 1;
    while (m >= 0 && (from[byStart[m] as number] as number) > (from[n] as number)) {
      byStart[m + 1] = byStart[m] as number;
      m--;
    }
    byStart[m + 1] = n;
  }

  let activeCount = 0; // `active` holds item numbers in start order: a tie keeps the first
  let next = 0;
  let gapFrom = Number.NaN; // NaN: not in a gap
  for (let t = sweepFrom; t < sweepTo; ) {
    let kept = 0;
    for (let a = 0; a < activeCount; a++) {
      const item = active[a] as number;
      if ((to[item] as number) > t) active[kept++] = item;
    }
    activeCount = kept;
    while (next < count && (from[byStart[next] as number] as number) <= t)
      active[activeCount++] = byStart[next++] as number;
    // Until the next start or end the active set, hence the winner, stays the same.
    let until = next < count ? Math.min(sweepTo, from[byStart[next] as number] as number) : sweepTo;
    let best = -1;
    for (let a = 0; a < activeCount; a++) {
      const item = active[a] as number;
      until = Math.min(until, to[item] as number);
      if (
        best < 0 ||
        (priority[item] as number) > (priority[best] as number) ||
        (priority[item] === priority[best] && (from[item] as number) > (from[best] as number))
      ) {
        best = item;
      }
    }
    if (best < 0) {
      if (Number.isNaN(gapFrom)) gapFrom = t;
    } else {
      if (!Number.isNaN(gapFrom)) {
        arg[FROM] = gapFrom;
        arg[TO] = t;
        gap(shape.gaps, domain, out);
        gapFrom = Number.NaN;
      }
      arg[FROM] = t;
      arg[TO] = until;
      arg[GAP_HOURS] = Number.NaN;
      out.base(decision[best] as Decision, lessons[best], false);
    }
    t = until;
  }
  if (!Number.isNaN(gapFrom)) {
    arg[FROM] = gapFrom;
    arg[TO] = sweepTo;
    gap(shape.gaps, domain, out);
  }
}

/** The gap `[arg[FROM], arg[TO])`. */
function gap(gaps: GapDecisions, domain: TimeRange, out: SegmentWriter): void {
  const from = arg[FROM] as number;
  const to = arg[TO] as number;
  const length = to - from;
  const openEnded = from === domain.from || to === domain.to;
  arg[GAP_HOURS] = Math.round(length / (HOUR / 100)) / 100;
  out.base(gapDecision(gaps, length, openEnded), undefined, openEnded);
}

/**
 * Receives the base plan piece by piece in time order, keeps the horizon, lays the winning
 * overrides over it, and joins neighbours that say the same thing (same mode, setpoint and reason
 * apart from lessons, which are united). A segment is written (as numbers, compact-plan.ts) only
 * when the next piece differs.
 */
class SegmentWriter {
  /** Everything before this instant has been written (pieces under an override are skipped). */
  private cursor: number;
  private nextSlice = 0;
  // The segment being extended (kept as fields: one object per piece was garbage).
  private from = 0;
  private to = Number.NaN; // NaN: nothing pending
  private decision: Decision | null = null;
  private lessons: readonly string[] | undefined = undefined;
  private gapHours = Number.NaN; // NaN: not a gap
  private openEnded = false;

  constructor(
    fn: ZoneFunction,
    readonly horizon: TimeRange,
    private readonly overrides: readonly OverrideSlice[],
  ) {
    this.cursor = horizon.from;
    builder.start(fn);
  }

  /** The piece `[arg[FROM], arg[TO])` of the base plan (`arg[GAP_HOURS]`: NaN unless a gap). */
  base(decision: Decision, lessons: readonly string[] | undefined, openEnded: boolean): void {
    let start = Math.max(arg[FROM] as number, this.cursor);
    const end = Math.min(arg[TO] as number, this.horizon.to);
    const gapHours = arg[GAP_HOURS] as number;
    while (start < end) {
      const slice = this.overrides[this.nextSlice];
      if (!slice || slice.from >= end) {
        arg[FROM] = start;
        arg[TO] = end;
        arg[GAP_HOURS] = gapHours;
        this.join(decision, lessons, openEnded);
        this.cursor = end;
        return;
      }
      if (slice.from > start) {
        arg[FROM] = start;
        arg[TO] = slice.from;
        arg[GAP_HOURS] = gapHours;
        this.join(decision, lessons, openEnded);
      }
      arg[FROM] = slice.from;
      arg[TO] = slice.to;
      arg[GAP_HOURS] = Number.NaN;
      this.join(overrideDecision(slice.winner), undefined, false);
      this.nextSlice++;
      start = this.cursor = slice.to;
    }
  }

  finish(): CompactSegments {
    // The base plan covers the horizon, so every override slice has been written by now.
    this.writePending();
    return builder.finish();
  }

  /** The piece `[arg[FROM], arg[TO])`, `arg[GAP_HOURS]`. */
  private join(decision: Decision, lessons: readonly string[] | undefined, openEnded: boolean): void {
    const from = arg[FROM] as number;
    const to = arg[TO] as number;
    const gapHours = arg[GAP_HOURS] as number;
    if (
      this.decision !== null &&
      this.to === from &&
      sameDecision(this.decision, decision) &&
      (this.gapHours === gapHours || (Number.isNaN(this.gapHours) && Number.isNaN(gapHours)))
    ) {
      this.to = to;
      // Lessons arrays are sorted and unique (`unionWithin`), so uniting one with itself or
      // with nothing keeps it as it is.
      if (lessons && lessons !== this.lessons) {
        this.lessons = this.lessons ? [...new Set([...this.lessons, ...lessons])].sort() : lessons;
      }
      return;
    }
    this.writePending();
    this.from = from;
    this.to = to;
    this.decision = decision;
    this.lessons = lessons;
    this.gapHours = gapHours;
    this.openEnded = openEnded;
  }

  private writePending(): void {
    const d = this.decision;
    if (d === null) return;
    const { args } = builder;
    args[0] = this.from;
    args[1] = this.to;
    args[2] = this.gapHours;
    builder.push(d, this.lessons, this.openEnded);
    this.decision = null;
  }
}

/** `planZone` is synchronous: one zone function is written at a time. */
const builder = new CompactBuilder();

function overrideDecision(o: Override): Decision {
  const d: Decision = {
    mode: o.mode,
    kind: 'override',
    rule: `override:${o.id}`,
    basis: `${o.reason} (${o.author})`,
    override_id: o.id,
  };
  if (o.setpoint_c !== undefined) d.setpoint_c = o.setpoint_c;
  return d;
}

function sameDecision(a: Decision, b: Decision): boolean {
  return (
    a === b ||
    (a.mode === b.mode &&
      a.setpoint_c === b.setpoint_c &&
      a.kind === b.kind &&
      a.rule === b.rule &&
      a.temperature_rule === b.temperature_rule &&
      a.basis === b.basis &&
      a.override_id === b.override_id &&
      a.optimum === b.optimum &&
      a.optimumStop === b.optimumStop)
  );
}

/** Per-interval preheat of a heating sweep with optimum start (docs/optimum-start.md). */
interface OptimumLeads {
  maxLead: number;
  lead(k: number): number;
  before(k: number): Decision;
  /** Optimum stop of interval `k`: from when its setback starts, and what it says; none by default. */
  stop(k: number): { from: number; decision: Decision } | undefined;
}

/**
 * The learned lead of each occupancy interval, computed on demand and kept: the target is the
 * occupied setpoint, the setback the one the gap before the interval gets; a zone without enough
 * learning, with stale telemetry or a flagged sensor, or an override of its heating around the
 * start, keeps the fixed lead with a reason saying why.
 */
function optimumLeads(
  zone: string,
  rules: ResolvedRules,
  shape: FunctionShape,
  occupancy: readonly OccupancyInterval[],
  overrides: readonly Override[],
  snapshot: OptimumStartSnapshot,
): OptimumLeads {
  const settings = rules.heating.optimum_start ?? DEFAULT_OPTIMUM_START;
  // rules.md: no preheat beyond 3 h, whatever the setting.
  const maxLead = Math.min(settings.max_preheat_minutes, 180) * MINUTE;
  const target = rules.heating.occupied.mode === 'off' ? undefined : rules.heating.occupied.setpoint_c;
  const leads = new Map<number, { lead: number; before: Decision }>();
  const fixed = new Map<OptimumFallback, Decision>();
  const starts = snapshot.zones[zone]?.starts ?? 0;
  const fixedDecision = (why: OptimumFallback): Decision => {
    let d = fixed.get(why);
    if (!d) {
      d = { ...shape.before, optimum: { status: 'fixed', fallback: why, starts, snapshot: snapshot.id } };
      fixed.set(why, d);
    }
    return d;
  };
  const learnedRef: RuleRef = {
    rule: 'optimum-start',
    basis:
      'learned warm-up of the zone (docs/optimum-start.md, ASHRAE Guideline 36 optimal start), ' +
      `at most ${maxLead / MINUTE} min (${settings.rule})`,
  };
  const of = (k: number): { lead: number; before: Decision } => {
    const known = leads.get(k);
    if (known) return known;
    const interval = occupancy[k] as OccupancyInterval;
    const previous = occupancy[k - 1];
    const previousEnd = previous ? coverEnd(shape, previous) : undefined;
    const setback =
      previousEnd === undefined
        ? shape.gaps.holiday.setpoint_c
        : gapDecision(shape.gaps, interval.start - previousEnd, false).setpoint_c;
    const overridden = overrides.some((o) => o.from < interval.start && o.until > interval.start - maxLead);
    let entry: { lead: number; before: Decision };
    if (overridden || target === undefined) {
      entry = { lead: shape.lead, before: fixedDecision('override') };
    } else {
      const result = optimumLead({
        snapshot,
        zone,
        minStarts: settings.min_starts,
        maxLeadMs: maxLead,
        targetC: target,
        setbackC: setback,
        start: interval.start,
        previousComfortEnd: previousEnd,
      });
      entry =
        'fallback' in result
          ? { lead: shape.lead, before: fixedDecision(result.fallback) }
          : {
              lead: result.leadMs,
              before: {
                ...heatingDecision(rules.heating.occupied, learnedRef, 'preheat'),
                optimum: result.reason,
              },
            };
    }
    leads.set(k, entry);
    return entry;
  };
  const stopSettings = rules.heating.optimum_stop;
  const stops = new Map<number, { from: number; decision: Decision } | undefined>();
  const stop = (k: number): { from: number; decision: Decision } | undefined => {
    if (!stopSettings?.enabled || target === undefined) return undefined;
    if (stops.has(k)) return stops.get(k);
    const interval = occupancy[k] as OccupancyInterval;
    const next = occupancy[k + 1];
    const comfortEnd = coverEnd(shape, interval);
    // The gap after the interval: a merged one stays comfort, and a stop the next preheat
    // would end at once saves nothing; either way no stop.
    // Measured as the sweep measures it: to where the next preheat begins.
    const gapLength = next ? next.start - of(k + 1).lead - comfortEnd : Number.POSITIVE_INFINITY;
    const maxStopMs = Math.min(stopSettings.max_minutes * MINUTE, comfortEnd - interval.start);
    const overridden = overrides.some((o) => o.from < comfortEnd && o.until > comfortEnd - maxStopMs);
    let entry: { from: number; decision: Decision } | undefined;
    if (!overridden && gapLength >= 0 && gapLength >= shape.gaps.mergeBelow) {
      const result = optimumStop({
        snapshot,
        zone,
        minStarts: settings.min_starts,
        maxStopMs,
        targetC: target,
        toleranceC: stopSettings.tolerance_c,
        end: comfortEnd,
      });
      if (result) {
        const tier = gapDecision(shape.gaps, gapLength, false);
        entry = {
          from: comfortEnd - result.stopMs,
          decision: {
            ...tier,
            rule: 'optimum-stop',
            temperature_rule: tier.temperature_rule ?? tier.rule,
            basis:
              'learned cool-down of the zone predicts it stays within ' +
              `${stopSettings.tolerance_c} K of the occupied setpoint until occupancy ends ` +
              `(docs/optimum-start.md, ${stopSettings.rule})`,
            optimumStop: result.reason,
          },
        };
      }
    }
    stops.set(k, entry);
    return entry;
  };
  return {
    maxLead: Math.max(maxLead, shape.lead),
    lead: (k) => of(k).lead,
    before: (k) => of(k).before,
    stop,
  };
}
