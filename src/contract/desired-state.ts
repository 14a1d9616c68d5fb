/**
 * From plan segments to the MQTT contract's `desired` and `schedule` documents (docs/mqtt.md,
 * "Payloads"). Pure: the caller brings the segments, the instant and the rev.
 *
 * What counts as a new state: everything a gateway or an auditor reads in `desired` apart from
 * `rev` and `issued_at` (mode, setpoint, `valid_until`, the compact reason). Equal content keeps
 * its rev, so a re-publication after a reconnect or a restart sends the very same bytes; any other
 * content gets rev + 1 (see `desiredContentHash`). This keeps the contract's promise that a rev
 * names one document ("desired is idempotent").
 *
 * `trace` (the plan hash, timetable version and rules version the rev was issued from) is stored
 * and published with the content but left out of the hash: a new plan that leaves a zone's state
 * as it is (another zone's lesson moved, the horizon slid) keeps the zone's rev, and the trace
 * then still names the plan that issued that rev, which the audit log holds.
 */
import { createHash } from 'node:crypto';
import type { ZoneFunction } from '../devices/schema.js';
import type { Segment } from '../rules/segment.js';
import {
  type DesiredPayload,
  type DesiredReason,
  type DesiredTrace,
  MAX_SCHEDULE_ENTRIES,
  type ModeOf,
  SCHEDULE_HORIZON_MS,
  type ScheduleEntry,
  type SchedulePayload,
} from './topics.js';

/**
 * What a gateway falls back to once `schedule` runs out (the bridge has been silent for 48 h).
 * Heating: `eco` (16 °C in the default rules) — never comfort, so an unattended building does not
 * heat empty rooms (décret BACS autonomy), and not `frost`, because the bridge being down says
 * nothing about the rooms being empty (docs/rules.md, "Fallback": "never drop to frost because data is
 * missing"). Lighting and ventilation: `off`; occupants keep the room's manual switches, and an
 * automatic "on" for days without a timetable would run empty buildings.
 */
export const FALLBACK_MODE: { readonly [F in ZoneFunction]: ModeOf<F> } = {
  heating: 'eco',
  lighting: 'off',
  ventilation: 'off',
};

/**
 * Lessons kept in `reason`: a whole-morning segment lists every lesson of its rooms, and the
 * retained message is held by every gateway; the audit keeps the full list.
 */
export const MAX_REASON_LESSONS = 20;

/** The part of `desired` that decides whether the state changed (all but `rev` and `issued_at`). */
export interface DesiredContent<F extends ZoneFunction = ZoneFunction> {
  mode: ModeOf<F>;
  setpoint_c?: number;
  /** ISO 8601 UTC: the end of the segment. */
  valid_until: string;
  reason: DesiredReason;
  /** Not part of the content hash (see the file's comment). */
  trace?: DesiredTrace;
}

/** The segment holding at `at` (`from <= at < to`), or undefined outside the plan. Binary search. */
export function segmentAt(segments: readonly Segment[], at: number): Segment | undefined {
  let low = 0;
  let high = segments.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const segment = segments[middle]!;
    if (at < segment.from) high = middle - 1;
    else if (at >= segment.to) low = middle + 1;
    else return segment;
  }
  return undefined;
}

/**
 * The first instant after `at` at which the state may change: the end of the segment holding at
 * `at`, or the start of the first segment when the plan starts later; undefined when the plan has
 * nothing after `at`.
 */
export function nextBoundaryAfter(segments: readonly Segment[], at: number): number | undefined {
  const holding = segmentAt(segments, at);
  if (holding) return holding.to;
  const first = segments[0];
  return first && first.from > at ? first.from : undefined;
}

/**
 * The reason code an override's `desired` carries instead of its text: gateways (and whoever reads
 * their broker) get what happened and the override's id, not who asked and why in their own words
 * (data minimisation, RGPD art. 5(1)(c)); the text and author stay in the audit log and the API.
 */
export const OVERRIDE_REASON_CODE = 'manual-override';

/**
 * The compact reason of `desired`: rule, basis, kind, and the facts behind them; for an override,
 * its rule, a reason code and its id only.
 */
export function compactReason(segment: Segment): DesiredReason {
  const source = segment.reason;
  if (source.kind === 'override' && source.override_id !== undefined) {
    return {
      rule: `override:${source.override_id}`,
      kind: 'override',
      code: OVERRIDE_REASON_CODE,
      override_id: source.override_id,
    };
  }
  const reason: DesiredReason = { rule: source.rule, basis: source.basis, kind: source.kind };
  if (source.temperature_rule !== undefined) reason['temperature_rule'] = source.temperature_rule;
  if (source.lessons && source.lessons.length > 0) {
    reason.lessons = source.lessons.slice(0, MAX_REASON_LESSONS);
    if (source.lessons.length > MAX_REASON_LESSONS) reason['lessons_total'] = source.lessons.length;
  }
  if (source.gap_hours !== undefined) reason.gap_hours = source.gap_hours;
  if (source.override_id !== undefined) reason['override_id'] = source.override_id;
  if (source.optimum_start !== undefined) reason['optimum_start'] = source.optimum_start;
  if (source.optimum_stop !== undefined) reason['optimum_stop'] = source.optimum_stop;
  return reason;
}

export function desiredContentOf<F extends ZoneFunction>(
  segment: Segment,
  trace?: DesiredTrace,
): DesiredContent<F> {
  // Built in a fixed key order: `desiredContentHash` hashes the JSON text.
  return {
    mode: segment.mode as ModeOf<F>,
    ...(segment.function === 'heating' && segment.setpoint_c !== undefined
      ? { setpoint_c: segment.setpoint_c }
      : {}),
    valid_until: new Date(segment.to).toISOString(),
    reason: compactReason(segment),
    ...(trace ? { trace } : {}),
  };
}

/**
 * Hex SHA-256 of the content's JSON (objects built in a fixed key order by `desiredContentOf`),
 * `trace` left out.
 */
export function desiredContentHash(content: DesiredContent): string {
  const { trace: _trace, ...state } = content;
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

export function desiredPayload<F extends ZoneFunction>(
  content: DesiredContent<F>,
  rev: number,
  issuedAt: number,
): DesiredPayload<F> {
  return {
    rev,
    mode: content.mode,
    ...(content.setpoint_c === undefined ? {} : { setpoint_c: content.setpoint_c }),
    valid_until: content.valid_until,
    reason: content.reason,
    issued_at: new Date(issuedAt).toISOString(),
    ...(content.trace ? { trace: content.trace } : {}),
  };
}

/**
 * The `schedule` document at `at`: the segment holding now and those starting within the next
 * 48 h, neighbours with the same mode and setpoint merged (a schedule carries no reason). It ends
 * at `at` + 48 h, or earlier where the plan ends (the gateway then follows `fallback_mode`), or
 * where the 1,000-entry cap cuts it. Null when no segment holds at `at`.
 */
export function schedulePayload<F extends ZoneFunction>(
  fn: F,
  segments: readonly Segment[],
  at: number,
  horizonMs: number = SCHEDULE_HORIZON_MS,
): SchedulePayload<F> | null {
  const holding = segmentAt(segments, at);
  if (!holding) return null;
  const windowEnd = at + Math.min(horizonMs, SCHEDULE_HORIZON_MS);
  const entries: ScheduleEntry<F>[] = [];
  let end = holding.to;
  let index = segments.indexOf(holding);
  let last: ScheduleEntry<F> | undefined;
  for (; index < segments.length; index++) {
    const segment = segments[index]!;
    if (segment.from >= windowEnd) break;
    // A hole in the plan: the gateway must not stretch the previous entry over it.
    if (entries.length > 0 && segment.from !== end) break;
    end = segment.to;
    const setpoint = fn === 'heating' ? segment.setpoint_c : undefined;
    if (last && last.mode === segment.mode && last.setpoint_c === setpoint) continue;
    if (entries.length === MAX_SCHEDULE_ENTRIES) {
      end = segment.from;
      break;
    }
    last = {
      from: new Date(segment.from).toISOString(),
      mode: segment.mode as ModeOf<F>,
      ...(setpoint === undefined ? {} : { setpoint_c: setpoint }),
    };
    entries.push(last);
  }
  return {
    issued_at: new Date(at).toISOString(),
    valid_until: new Date(Math.min(end, windowEnd)).toISOString(),
    entries,
    fallback_mode: FALLBACK_MODE[fn] as ModeOf<F>,
  };
}

/** Whether two schedules say the same thing apart from when they were issued. */
export function sameScheduleEntries(a: SchedulePayload, b: SchedulePayload): boolean {
  return a.fallback_mode === b.fallback_mode && JSON.stringify(a.entries) === JSON.stringify(b.entries);
}
