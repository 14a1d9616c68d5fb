/**
 * The planner: occupancy of a zone + its resolved rules + overrides → contiguous, explained
 * segments per function over a horizon (rules.md). Pure: epoch ms in, epoch ms out, no clock
 * read, no I/O, no time zones (local-time decisions were made by the calendar step).
 *
 * Gaps are classified by their real length, so the caller passes occupancy for a window wider
 * than the horizon (`known`, default horizon ± 7 days): a gap that crosses the horizon edge is
 * measured to the neighbouring lesson, not to the edge.
 */
import type { Zone, ZoneFunction } from '../devices/schema.js';
import type { OccupancyInterval } from '../domain/occupancy.js';
import { type Override, overrideSlices } from './overrides.js';
import type { ResolvedRules, ResolvedSetpoint, RuleRef } from './resolve.js';
import type { PlanMode, ReasonKind, Segment, SegmentReason, ZonePlan } from './segment.js';
import { unionIntervals } from './zone-occupancy.js';

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
   * `rules.fallback_week` to UTC outside holidays). `occupancy` is then ignored.
   */
  fallback?: { occupancy: readonly OccupancyInterval[] };
}

interface Template {
  mode: PlanMode;
  setpoint_c?: number;
  reason: SegmentReason;
}
interface Item extends TimeRange {
  priority: number;
  template: Template;
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
  const occupancy = unionIntervals(
    (input.fallback ? input.fallback.occupancy : input.occupancy).filter(
      (i) => i.end + DAY > domain.from && i.start - DAY < domain.to,
    ),
  );
  const plan: ZonePlan = {};
  for (const fn of input.zone.functions) {
    const items = input.fallback
      ? fallbackItems(fn, occupancy, input.rules)
      : occupancyItems(fn, occupancy, input.rules);
    const base = paint(fn, items, domain, input.rules);
    const zoneOverrides = input.overrides.filter((o) => o.zone === input.zone.id && o.function === fn);
    plan[fn] = mergeAdjacent(applyOverrides(base, zoneOverrides, horizon));
  }
  return plan;
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

function ref(rule: RuleRef, kind: ReasonKind, lessons?: string[]): SegmentReason {
  const reason: SegmentReason = { kind, rule: rule.rule, basis: rule.basis };
  if (lessons && lessons.length > 0) reason.lessons = lessons;
  if (rule.exception) reason.exception = rule.exception;
  return reason;
}

function heatingTemplate(setpoint: ResolvedSetpoint, reason: SegmentReason): Template {
  const template: Template = { mode: setpoint.mode, reason };
  if (setpoint.setpoint_c !== undefined) template.setpoint_c = setpoint.setpoint_c;
  return template;
}

function stateTemplate(fn: ZoneFunction, rules: ResolvedRules, reason: SegmentReason): Template {
  return fn === 'heating'
    ? heatingTemplate(rules.heating.occupied, reason)
    : { mode: rules[fn].occupied.mode, reason };
}

/**
 * Priorities: occupancy 3 > lag/after-purge 2 > preheat/lead 1; where nothing covers, `paint`
 * classifies the gap. Heating's occupied item ends `early_stop` before the occupancy ends.
 */
function occupancyItems(
  fn: ZoneFunction,
  occupancy: readonly OccupancyInterval[],
  rules: ResolvedRules,
): Item[] {
  const items: Item[] = [];
  for (const interval of occupancy) {
    const lessons = interval.source;
    if (fn === 'heating') {
      const h = rules.heating;
      const lead = h.preheat_minutes.value * MINUTE;
      const end = Math.max(interval.start, interval.end - h.early_stop_minutes.value * MINUTE);
      items.push({
        from: interval.start - lead,
        to: interval.start,
        priority: 1,
        template: heatingTemplate(h.occupied, ref(h.preheat_minutes, 'preheat', lessons)),
      });
      if (end > interval.start) {
        items.push({
          from: interval.start,
          to: end,
          priority: 3,
          template: heatingTemplate(h.occupied, ref(h.occupied, 'occupied', lessons)),
        });
      }
      continue;
    }
    const lead = fn === 'lighting' ? rules.lighting.lead_minutes : rules.ventilation.purge_before_minutes;
    const lag = fn === 'lighting' ? rules.lighting.lag_minutes : rules.ventilation.purge_after_minutes;
    const lagMs = fn === 'lighting' ? Math.min(lag.value * MINUTE, MAX_LIGHTING_LAG_MS) : lag.value * MINUTE;
    const occupied = rules[fn].occupied;
    const mode = occupied.mode;
    items.push({
      from: interval.start - lead.value * MINUTE,
      to: interval.start,
      priority: 1,
      template: { mode, reason: ref(lead, 'preheat', lessons) },
    });
    items.push({
      from: interval.start,
      to: interval.end,
      priority: 3,
      template: { mode, reason: ref(occupied, 'occupied', lessons) },
    });
    items.push({
      from: interval.end,
      to: interval.end + lagMs,
      priority: 2,
      template: { mode, reason: ref(lag, 'occupied', lessons) },
    });
  }
  return items;
}

/** Fallback comfort windows are taken as they are: no preheat, lead or lag is added. */
function fallbackItems(
  fn: ZoneFunction,
  windows: readonly OccupancyInterval[],
  rules: ResolvedRules,
): Item[] {
  return windows.map((w) => ({
    from: w.start,
    to: w.end,
    priority: 3,
    template: stateTemplate(fn, rules, ref(rules.fallback_week, 'fallback')),
  }));
}

/**
 * Sweeps `items` over `domain`: each elementary slice takes the highest-priority item covering it
 * (the later-starting one on a tie: the lead of the nearer lesson); uncovered spans are gaps,
 * classified by their whole length.
 */
function paint(fn: ZoneFunction, items: Item[], domain: TimeRange, rules: ResolvedRules): Segment[] {
  const clipped = items
    .map((i) => ({ ...i, from: Math.max(i.from, domain.from), to: Math.min(i.to, domain.to) }))
    .filter((i) => i.to > i.from);
  const bounds = new Set<number>([domain.from, domain.to]);
  for (const item of clipped) {
    bounds.add(item.from);
    bounds.add(item.to);
  }
  const sorted = [...bounds].sort((a, b) => a - b);
  const byStart = [...clipped].sort((a, b) => a.from - b.from);
  const segments: Segment[] = [];
  let active: Item[] = [];
  let next = 0;
  let gapFrom: number | null = null;
  for (let k = 0; k + 1 < sorted.length; k++) {
    const from = sorted[k] as number;
    const to = sorted[k + 1] as number;
    active = active.filter((i) => i.to > from);
    while (next < byStart.length && (byStart[next] as Item).from <= from)
      active.push(byStart[next++] as Item);
    let best: Item | undefined;
    for (const item of active) {
      if (
        !best ||
        item.priority > best.priority ||
        (item.priority === best.priority && item.from > best.from)
      ) {
        best = item;
      }
    }
    if (!best) {
      gapFrom ??= from;
      continue;
    }
    if (gapFrom !== null) {
      segments.push(gapSegment(fn, gapFrom, from, domain, rules));
      gapFrom = null;
    }
    segments.push({ from, to, function: fn, ...best.template });
  }
  if (gapFrom !== null) segments.push(gapSegment(fn, gapFrom, domain.to, domain, rules));
  return segments;
}

function gapSegment(
  fn: ZoneFunction,
  from: number,
  to: number,
  domain: TimeRange,
  rules: ResolvedRules,
): Segment {
  const length = to - from;
  const openEnded = from === domain.from || to === domain.to;
  const gap_hours = Math.round(length / (HOUR / 100)) / 100;
  const kind: ReasonKind = length < DAY ? 'short-gap' : length < TWO_DAYS ? 'long-gap' : 'holiday';
  let template: Template;
  if (fn === 'heating') {
    const h = rules.heating;
    if (!openEnded && length < h.merge_gap_minutes.value * MINUTE) {
      template = heatingTemplate(h.occupied, ref(h.merge_gap_minutes, 'merged-gap'));
    } else {
      const setpoint =
        kind === 'short-gap'
          ? h.unoccupied_under_24h
          : kind === 'long-gap'
            ? h.unoccupied_24h_to_48h
            : h.unoccupied_48h_or_more;
      template = heatingTemplate(setpoint, ref(setpoint, kind));
    }
  } else {
    const unoccupied = rules[fn].unoccupied;
    template = { mode: unoccupied.mode, reason: ref(unoccupied, kind) };
  }
  template.reason.gap_hours = gap_hours;
  if (openEnded) template.reason.gap_open_ended = true;
  return { from, to, function: fn, ...template };
}

/** Clips the base plan to the horizon and lays the winning overrides over it. */
function applyOverrides(
  base: readonly Segment[],
  overrides: readonly Override[],
  horizon: TimeRange,
): Segment[] {
  const slices = overrideSlices(overrides, horizon);
  const out: Segment[] = [];
  const pushBase = (from: number, to: number): void => {
    for (const segment of base) {
      if (segment.to <= from || segment.from >= to) continue;
      out.push({
        ...segment,
        reason: { ...segment.reason },
        from: Math.max(from, segment.from),
        to: Math.min(to, segment.to),
      });
    }
  };
  let cursor = horizon.from;
  for (const slice of slices) {
    if (slice.from > cursor) pushBase(cursor, slice.from);
    const o = slice.winner;
    const segment: Segment = {
      from: slice.from,
      to: slice.to,
      function: o.function,
      mode: o.mode,
      reason: {
        kind: 'override',
        rule: `override:${o.id}`,
        basis: `${o.reason} (${o.author})`,
        override_id: o.id,
      },
    };
    if (o.setpoint_c !== undefined) segment.setpoint_c = o.setpoint_c;
    out.push(segment);
    cursor = slice.to;
  }
  if (cursor < horizon.to) pushBase(cursor, horizon.to);
  return out;
}

/** Joins neighbours that say the same thing (same mode, setpoint and reason apart from lessons). */
function mergeAdjacent(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const segment of segments) {
    const last = out[out.length - 1];
    if (last && last.to === segment.from && sameDecision(last, segment)) {
      last.to = segment.to;
      if (segment.reason.lessons) {
        last.reason.lessons = [
          ...new Set([...(last.reason.lessons ?? []), ...segment.reason.lessons]),
        ].sort();
      }
    } else {
      out.push({ ...segment, reason: { ...segment.reason } });
    }
  }
  return out;
}

function sameDecision(a: Segment, b: Segment): boolean {
  return (
    a.mode === b.mode &&
    a.setpoint_c === b.setpoint_c &&
    a.reason.kind === b.reason.kind &&
    a.reason.rule === b.reason.rule &&
    a.reason.basis === b.reason.basis &&
    a.reason.override_id === b.reason.override_id &&
    a.reason.gap_hours === b.reason.gap_hours
  );
}
