/**
 * A plan segment: one mode (and setpoint) of one function of one zone over `[from, to)`, with
 * the reason an auditor reads (rules.md, "Plan output").
 */
import type { ZoneFunction } from '../devices/schema.js';
import type { OptimumStartReason, OptimumStopReason } from './optimum-start.js';
import type { HeatingMode, RuleException, SwitchMode } from './schema.js';

export type PlanMode = HeatingMode | SwitchMode;

/**
 * - `occupied`: the zone is booked (lighting's lag and ventilation's after-purge included);
 * - `preheat`: lead before occupancy (heating preheat, lighting lead, ventilation purge before);
 * - `merged-gap`: an unheated gap too short to pay off, kept at comfort;
 * - `short-gap` (< 24 h), `long-gap` (24 h – 48 h), `holiday` (≥ 48 h: the R241-27 8 °C tier,
 *   which includes a weekend from Friday evening, not only school holidays);
 * - `override`: a manager's override; `fallback`: the default week of a school without timetable.
 */
export type ReasonKind =
  | 'occupied'
  | 'preheat'
  | 'merged-gap'
  | 'short-gap'
  | 'long-gap'
  | 'holiday'
  | 'override'
  | 'fallback';

export interface SegmentReason {
  kind: ReasonKind;
  /**
   * Rule id (YAML path in the rule file, `override:{id}` for an override). For preheat,
   * merged-gap and fallback heating segments, the rule that decided the timing.
   */
  rule: string;
  /**
   * The rule that set the temperature when it is not `rule` (preheat, merged-gap, fallback
   * heating: `…heating.occupied`); absent when `rule` decided both.
   */
  temperature_rule?: string;
  basis: string;
  /** Lessons (and `event:` ids, `scheduled-event:` ids) behind an occupied or preheat segment. */
  lessons?: string[];
  /** The scheduled events (docs/events.md) behind the segment, by id and title: the plan API and the dashboard show them. */
  events?: Array<{ id: string; title: string }>;
  /** Length of the unoccupied gap the segment belongs to, in hours (2 decimals). */
  gap_hours?: number;
  /** The gap runs past the known occupancy window: `gap_hours` is a lower bound. */
  gap_open_ended?: true;
  override_id?: string;
  /** The exception to a legal cap of the rule that set the temperature, shown in the audit. */
  exception?: RuleException;
  /**
   * Heating preheat planned with an optimum-start snapshot (docs/optimum-start.md): the learned
   * figures behind a learned lead, or why the fixed lead applies (`status: fixed`, `fallback`).
   */
  optimum_start?: OptimumStartReason;
  /**
   * Heating set back before occupancy ends (rule `optimum-stop`, off by default): the learned
   * cool-down predicts the room stays within the tolerance of the target until the end.
   */
  optimum_stop?: OptimumStopReason;
}

export interface Segment {
  /** Epoch ms UTC, inclusive. */
  from: number;
  /** Epoch ms UTC, exclusive. */
  to: number;
  function: ZoneFunction;
  mode: PlanMode;
  setpoint_c?: number;
  reason: SegmentReason;
}

/** A zone's plan: contiguous segments over the horizon for each function the zone has. */
export type ZonePlan = Partial<Record<ZoneFunction, Segment[]>>;
