/**
 * The compliance report of one school over a period (issue 21; docs/audit.md, "Compliance
 * report"): what an auditor of a collectivité checks against the Code de l'énergie. Pure: the
 * plans of the period, the overrides, the audit entries and a clock in; the report out; no I/O.
 *
 * - hours per tier (the planner's reasons: occupied, preheat, merged gap, short gap i.e. nights,
 *   long gap i.e. a 24–48 h weekend, holiday i.e. ≥ 48 h, override, fallback) and per mode
 *   (comfort, eco, frost = hors-gel, off…), per zone and function;
 * - per heating situation of R241-26/R241-27, the highest setpoint requested against the cap;
 * - the overrides with their authors, and those refused;
 * - the exceptions applied, with approver and reference;
 * - gateway deviations: a rev not applied within the lag, or applied with another mode or setpoint;
 * - with the telemetry, the measured temperatures against the caps: per zone and legal situation,
 *   minutes above the cap, the maximum measured and when.
 */
import type { ZoneFunction } from '../devices/schema.js';
import type { Clock } from '../domain/clock.js';
import { type HeatingSituation, LEGAL_CAPS } from '../rules/schema.js';
import type { PlanMode, ReasonKind, Segment } from '../rules/segment.js';
import {
  type ComplianceReport,
  type DeviationRow,
  type ExceptionRow,
  type FunctionRow,
  type MeasuredRow,
  type OverrideRow,
  REASON_KINDS,
  type RefusedOverrideRow,
  type ZoneRow,
} from './compliance-report-schema.js';

const HOUR = 3_600_000;

/** The legal situation a segment falls in (docs/regulation.md). */
export const SITUATION_OF_KIND: Record<ReasonKind, HeatingSituation> = {
  occupied: 'occupied',
  preheat: 'occupied',
  'merged-gap': 'occupied',
  fallback: 'occupied',
  // Someone asked for it: the zone is in use, whatever the timetable says.
  override: 'occupied',
  'short-gap': 'unoccupied_under_24h',
  'long-gap': 'unoccupied_24h_to_48h',
  holiday: 'unoccupied_48h_or_more',
};

/** One plan of the period (a chunk of at most a month): `SchoolPlan` fits. */
export interface PlanOfPeriod {
  horizon: { from: number; to: number };
  rulesVersion: string;
  timetableVersion: number | null;
  fallback: boolean;
  hash: string;
  zones: readonly {
    zone: string;
    name?: string;
    functions: Partial<Record<ZoneFunction, readonly Segment[]>>;
  }[];
}

/** An override as stored (`StoredOverride` fits). */
export interface OverrideOfPeriod {
  id: string;
  zone: string;
  function: ZoneFunction;
  mode: PlanMode;
  setpoint_c?: number;
  /** Epoch ms. */
  from: number;
  /** Epoch ms: the effective end (a cancellation's instant when cancelled). */
  until: number;
  requestedUntil: number;
  author: string;
  reason: string;
  created_at: number;
  cancelledAt: number | null;
  cancelledBy: string | null;
}

/** An audit entry (`AuditEntry` fits): `publish`, `ack` and `override` ones are read. */
export interface AuditEntryOfPeriod {
  seq: number;
  at: string;
  kind: string;
  zone: string | null;
  actor: string;
  detail: unknown;
}

export interface ComplianceInput {
  uai: string;
  name: string;
  timezone: string;
  /** Local dates, inclusive. */
  from: string;
  to: string;
  /** `[midnight of from, midnight after to)` in the school's time zone. */
  range: { from: number; to: number };
  plans: readonly PlanOfPeriod[];
  overrides: readonly OverrideOfPeriod[];
  /** The school's `publish`, `ack` and `override` entries from `range.from` to `range.to + lagMs`. */
  audit: readonly AuditEntryOfPeriod[];
  /** A gateway applies a rev within this (the tracker's lag, docs/mqtt.md). */
  lagMs: number;
  /** The audit read stopped at its limit: deviations may be missing. */
  auditTruncated?: boolean;
  /** The gateways' measured temperatures (docs/telemetry.md); absent: no `measured` parts. */
  measured?: MeasuredInput;
}

/** A stored telemetry report (`TelemetrySample` fits). */
export interface MeasuredSampleOfPeriod {
  zone: string;
  function: string;
  /** Epoch ms: the gateway's `ts`. */
  ts: number;
  measured_c: number | null;
  /** Why the sample is not a fact (out of range, stuck sensor), or null. */
  flag: string | null;
}

export interface MeasuredInput {
  /** Heating reports from `range.from − holdMs` to `range.to`, any order. */
  samples: readonly MeasuredSampleOfPeriod[];
  /** A report holds until the zone's next one, at most this long (`telemetry.hold_minutes`). */
  holdMs: number;
  /** `comfort.overheat_tolerance_c`: the margin of `minutes_above_cap_tolerance`. */
  toleranceC: number;
  /** Epoch ms: raw reports older than this are no longer stored (`telemetry.raw_retention_days`). */
  retainedSince: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Hours with 2 decimals, summed exactly in ms first. */
const hoursOf = (ms: number) => Math.round((ms / HOUR) * 100) / 100;

export function complianceReport(input: ComplianceInput, clock: Clock): ComplianceReport {
  const now = clock.now();
  const { range } = input;
  const zones = zoneRows(input);
  const exceptions = exceptionRows(input);
  const overrides = input.overrides
    .filter((o) => o.from < range.to && o.until > range.from)
    .sort(
      (a, b) =>
        a.from - b.from ||
        a.zone.localeCompare(b.zone) ||
        a.function.localeCompare(b.function) ||
        a.id.localeCompare(b.id),
    )
    .map(
      (o): OverrideRow => ({
        id: o.id,
        zone: o.zone,
        function: o.function,
        mode: o.mode,
        setpoint_c: o.setpoint_c ?? null,
        from: iso(o.from),
        until: iso(o.until),
        requested_until: iso(o.requestedUntil),
        hours_in_period: hoursOf(Math.min(o.until, range.to) - Math.max(o.from, range.from)),
        author: o.author,
        reason: o.reason,
        created_at: iso(o.created_at),
        cancelled_at: o.cancelledAt === null ? null : iso(o.cancelledAt),
        cancelled_by: o.cancelledBy,
      }),
    );
  const refused = input.audit
    .filter((e) => e.kind === 'override' && inRange(e.at, range) && field(e.detail, 'event') === 'refused')
    .map(
      (e): RefusedOverrideRow => ({
        seq: e.seq,
        at: e.at,
        zone: e.zone,
        actor: e.actor,
        code: stringField(e.detail, 'code'),
        refusal: stringField(e.detail, 'refusal'),
      }),
    );
  const { deviations, pending } = deviationRows(input, now);
  const situations = zones.flatMap((z) => z.functions.flatMap((f) => f.situations ?? []));
  const aboveCap = situations.filter((s) => s.status === 'above-cap').length;
  const measured = input.measured ? measuredSummary(input, input.measured, zones) : undefined;
  return {
    uai: input.uai,
    name: input.name,
    timezone: input.timezone,
    from: input.from,
    to: input.to,
    range: { from: iso(range.from), to: iso(range.to) },
    generated_at: iso(now),
    basis:
      "Code de l'énergie R241-26 (19 °C occupied), R241-27 (16 °C unoccupied 24–48 h, 8 °C 48 h or more), R241-28/29 (exceptions); hours from the plans of the period as the bridge computes them now",
    plans: input.plans.map((p) => ({
      from: iso(p.horizon.from),
      to: iso(p.horizon.to),
      hash: p.hash,
      rules_version: p.rulesVersion,
      timetable_version: p.timetableVersion,
      fallback: p.fallback,
    })),
    summary: {
      within_caps: aboveCap === 0,
      above_cap_situations: aboveCap,
      overrides: overrides.length,
      refused_overrides: refused.length,
      exceptions: exceptions.length,
      gateway_deviations: deviations.length,
      pending_revs: pending,
      audit_truncated: input.auditTruncated === true,
      ...(measured ? { measured } : {}),
    },
    zones,
    overrides,
    refused_overrides: refused,
    exceptions,
    gateway_deviations: deviations,
  };
}

/** Each segment's part inside the period. */
function* clipped(input: ComplianceInput) {
  const { range } = input;
  for (const plan of input.plans) {
    for (const zone of plan.zones) {
      for (const [fn, segments] of Object.entries(zone.functions) as [ZoneFunction, readonly Segment[]][]) {
        for (const segment of segments) {
          const from = Math.max(segment.from, range.from, plan.horizon.from);
          const to = Math.min(segment.to, range.to, plan.horizon.to);
          if (to > from) yield { zone, fn, segment, from, to };
        }
      }
    }
  }
}

function zoneRows(input: ComplianceInput): ZoneRow[] {
  interface Acc {
    byKind: Map<ReasonKind, number>;
    byMode: Map<PlanMode, number>;
    situations: Map<
      HeatingSituation,
      { ms: number; max: number | null; above: boolean; unexcepted: boolean }
    >;
  }
  const zones = new Map<string, { name: string | null; functions: Map<ZoneFunction, Acc> }>();
  for (const { zone, fn, segment, from, to } of clipped(input)) {
    let z = zones.get(zone.zone);
    if (!z) {
      z = { name: zone.name ?? null, functions: new Map() };
      zones.set(zone.zone, z);
    }
    let acc = z.functions.get(fn);
    if (!acc) {
      acc = { byKind: new Map(), byMode: new Map(), situations: new Map() };
      z.functions.set(fn, acc);
    }
    const ms = to - from;
    acc.byKind.set(segment.reason.kind, (acc.byKind.get(segment.reason.kind) ?? 0) + ms);
    acc.byMode.set(segment.mode, (acc.byMode.get(segment.mode) ?? 0) + ms);
    if (fn !== 'heating') continue;
    const situation = SITUATION_OF_KIND[segment.reason.kind];
    const s = acc.situations.get(situation) ?? { ms: 0, max: null, above: false, unexcepted: false };
    s.ms += ms;
    const setpoint = segment.mode === 'off' ? undefined : segment.setpoint_c;
    if (setpoint !== undefined) {
      s.max = s.max === null ? setpoint : Math.max(s.max, setpoint);
      if (setpoint > LEGAL_CAPS[situation].max_c) {
        s.above = true;
        if (!segment.reason.exception) s.unexcepted = true;
      }
    }
    acc.situations.set(situation, s);
  }
  const situationOrder = Object.keys(LEGAL_CAPS) as HeatingSituation[];
  const measured = input.measured ? measuredBySituation(input, input.measured) : undefined;
  return [...zones.entries()].map(([zone, z]) => ({
    zone,
    name: z.name,
    functions: [...z.functions.entries()].map(([fn, acc]) => {
      const row: FunctionRow = {
        function: fn,
        hours_by_kind: Object.fromEntries(
          REASON_KINDS.filter((k) => acc.byKind.has(k)).map((k) => [k, hoursOf(acc.byKind.get(k) ?? 0)]),
        ),
        hours_by_mode: Object.fromEntries([...acc.byMode.entries()].map(([m, ms]) => [m, hoursOf(ms)])),
      };
      if (fn === 'heating') {
        row.situations = situationOrder
          .filter((s) => acc.situations.has(s))
          .map((situation) => {
            const s = acc.situations.get(situation) as {
              ms: number;
              max: number | null;
              above: boolean;
              unexcepted: boolean;
            };
            return {
              situation,
              cap_c: LEGAL_CAPS[situation].max_c,
              cap_basis: LEGAL_CAPS[situation].basis,
              hours: hoursOf(s.ms),
              max_setpoint_c: s.max,
              status: !s.above ? 'within-cap' : s.unexcepted ? 'above-cap' : 'excepted',
              ...(measured ? { measured: measuredRow(measured.get(`${zone}\u0000${situation}`)) } : {}),
            };
          });
      }
      return row;
    }),
  }));
}

interface MeasuredAcc {
  measuredMs: number;
  aboveMs: number;
  aboveToleranceMs: number;
  max: number | null;
  maxAt: number | null;
}

/** A report's value over `[from, to)`: until the next report, at most the hold time. */
interface Piece {
  from: number;
  to: number;
  measured: number | null;
}

/**
 * Per zone and legal situation, the measured time, the time above the cap and the maximum: each
 * heating segment of the plans (its situation, its cap) crossed with the zone's measurement pieces
 * (valid reports held until the next one, at most `holdMs`, as in the comfort report).
 */
function measuredBySituation(input: ComplianceInput, measured: MeasuredInput): Map<string, MeasuredAcc> {
  const { range } = input;
  const byZone = new Map<string, MeasuredSampleOfPeriod[]>();
  for (const sample of measured.samples) {
    if (sample.function !== 'heating' || sample.flag !== null) continue;
    const list = byZone.get(sample.zone) ?? [];
    list.push(sample);
    byZone.set(sample.zone, list);
  }
  const pieces = new Map<string, Piece[]>();
  for (const [zone, list] of byZone) {
    list.sort((a, b) => a.ts - b.ts);
    const out: Piece[] = [];
    list.forEach((sample, i) => {
      let next = Number.POSITIVE_INFINITY;
      for (let j = i + 1; j < list.length; j++) {
        const ts = (list[j] as MeasuredSampleOfPeriod).ts;
        if (ts > sample.ts) {
          next = ts;
          break;
        }
      }
      const from = Math.max(sample.ts, range.from);
      const to = Math.min(next, sample.ts + measured.holdMs, range.to);
      if (to > from) out.push({ from, to, measured: sample.measured_c });
    });
    pieces.set(zone, out);
  }
  const segmentsByZone = new Map<string, { from: number; to: number; segment: Segment }[]>();
  for (const { zone, fn, segment, from, to } of clipped(input)) {
    if (fn !== 'heating') continue;
    const list = segmentsByZone.get(zone.zone) ?? [];
    list.push({ from, to, segment });
    segmentsByZone.set(zone.zone, list);
  }
  const acc = new Map<string, MeasuredAcc>();
  for (const [zone, segments] of segmentsByZone) {
    const zonePieces = pieces.get(zone) ?? [];
    segments.sort((a, b) => a.from - b.from);
    let first = 0;
    for (const { from, to, segment } of segments) {
      const situation = SITUATION_OF_KIND[segment.reason.kind];
      const key = `${zone}\u0000${situation}`;
      const a = acc.get(key) ?? { measuredMs: 0, aboveMs: 0, aboveToleranceMs: 0, max: null, maxAt: null };
      acc.set(key, a);
      // The cap the measurement is held to: the legal one, or the setpoint a governed exception allows.
      let cap = LEGAL_CAPS[situation].max_c;
      if (segment.reason.exception && segment.setpoint_c !== undefined && segment.mode !== 'off')
        cap = Math.max(cap, segment.setpoint_c);
      while (first < zonePieces.length && (zonePieces[first] as Piece).to <= from) first++;
      for (let k = first; k < zonePieces.length; k++) {
        const piece = zonePieces[k] as Piece;
        if (piece.from >= to) break;
        const start = Math.max(piece.from, from);
        const d = Math.min(piece.to, to) - start;
        if (d <= 0 || piece.measured === null) continue;
        a.measuredMs += d;
        if (piece.measured > cap) a.aboveMs += d;
        if (piece.measured > cap + measured.toleranceC) a.aboveToleranceMs += d;
        if (
          a.max === null ||
          piece.measured > a.max ||
          (piece.measured === a.max && start < (a.maxAt ?? start))
        ) {
          a.max = piece.measured;
          a.maxAt = start;
        }
      }
    }
  }
  return acc;
}

const minutesOf = (ms: number) => Math.round(ms / 600) / 100;

function measuredRow(acc: MeasuredAcc | undefined): MeasuredRow {
  return {
    measured_hours: hoursOf(acc?.measuredMs ?? 0),
    minutes_above_cap: minutesOf(acc?.aboveMs ?? 0),
    minutes_above_cap_tolerance: minutesOf(acc?.aboveToleranceMs ?? 0),
    max_measured_c: acc?.max ?? null,
    max_measured_at: acc?.maxAt === null || acc?.maxAt === undefined ? null : iso(acc.maxAt),
  };
}

function measuredSummary(
  input: ComplianceInput,
  measured: MeasuredInput,
  zones: readonly ZoneRow[],
): NonNullable<ComplianceReport['summary']['measured']> {
  let samples = 0;
  let flagged = 0;
  for (const sample of measured.samples) {
    if (sample.function !== 'heating' || sample.ts < input.range.from || sample.ts >= input.range.to)
      continue;
    if (sample.flag === null) samples++;
    else flagged++;
  }
  let above = 0;
  let aboveTolerance = 0;
  const zonesAbove: string[] = [];
  for (const zone of zones) {
    for (const f of zone.functions) {
      const occupied = f.situations?.find((s) => s.situation === 'occupied')?.measured;
      if (!occupied) continue;
      above += occupied.minutes_above_cap;
      aboveTolerance += occupied.minutes_above_cap_tolerance;
      if (occupied.minutes_above_cap_tolerance > 0) zonesAbove.push(zone.zone);
    }
  }
  return {
    samples,
    flagged,
    retained_since: iso(measured.retainedSince),
    occupied_minutes_above_cap: Math.round(above * 100) / 100,
    occupied_minutes_above_cap_tolerance: Math.round(aboveTolerance * 100) / 100,
    zones_above_cap_tolerance: zonesAbove,
  };
}

function exceptionRows(input: ComplianceInput): ExceptionRow[] {
  const rows = new Map<string, ExceptionRow & { ms: number; firstMs: number; lastMs: number }>();
  for (const { zone, fn, segment, from, to } of clipped(input)) {
    const exception = segment.reason.exception;
    if (!exception) continue;
    const rule = segment.reason.temperature_rule ?? segment.reason.rule;
    const key = JSON.stringify([zone.zone, fn, rule, exception]);
    let row = rows.get(key);
    if (!row) {
      row = {
        zone: zone.zone,
        function: fn,
        rule,
        justification: exception.justification,
        basis: exception.basis,
        approved_by: exception.approved_by,
        approved_on: exception.approved_on,
        reference: exception.reference,
        hours: 0,
        max_setpoint_c: null,
        first_from: '',
        last_to: '',
        ms: 0,
        firstMs: from,
        lastMs: to,
      };
      rows.set(key, row);
    }
    row.ms += to - from;
    row.firstMs = Math.min(row.firstMs, from);
    row.lastMs = Math.max(row.lastMs, to);
    if (segment.setpoint_c !== undefined && segment.mode !== 'off') {
      row.max_setpoint_c = Math.max(row.max_setpoint_c ?? segment.setpoint_c, segment.setpoint_c);
    }
  }
  return [...rows.values()].map(({ ms, firstMs, lastMs, ...row }) => ({
    ...row,
    hours: hoursOf(ms),
    first_from: iso(firstMs),
    last_to: iso(lastMs),
  }));
}

interface Publish {
  seq: number;
  at: number;
  rev: number;
  mode: string | null;
  setpoint: number | null;
}
interface Ack {
  at: number;
  rev: number;
  mode: string | null;
  setpoint: number | null;
}

/**
 * A rev published in the period is judged at its deadline (published + lag): a deviation when it
 * was still the latest desired then and no report of it (or of a later rev) had come, or when the
 * gateway reported it applied with another mode or setpoint. A rev replaced before its deadline
 * is judged through the one that replaced it.
 */
function deviationRows(input: ComplianceInput, now: number): { deviations: DeviationRow[]; pending: number } {
  const publishes = new Map<string, Publish[]>();
  const acks = new Map<string, Ack[]>();
  for (const e of input.audit) {
    if (e.zone === null || (e.kind !== 'publish' && e.kind !== 'ack')) continue;
    const fn = stringField(e.detail, 'function');
    if (fn === null) continue;
    const key = `${e.zone}\u0000${fn}`;
    const at = Date.parse(e.at);
    if (e.kind === 'publish') {
      const rev = numberField(e.detail, 'rev');
      if (rev === null) continue;
      const list = publishes.get(key) ?? [];
      list.push({
        seq: e.seq,
        at,
        rev,
        mode: stringField(e.detail, 'mode'),
        setpoint: numberField(e.detail, 'setpoint_c'),
      });
      publishes.set(key, list);
    } else {
      const rev = numberField(e.detail, 'applied_rev');
      if (rev === null) continue;
      const list = acks.get(key) ?? [];
      list.push({
        at,
        rev,
        mode: stringField(e.detail, 'mode'),
        setpoint: numberField(e.detail, 'setpoint_c'),
      });
      acks.set(key, list);
    }
  }
  const deviations: DeviationRow[] = [];
  let pending = 0;
  for (const [key, list] of publishes) {
    const [zone, fn] = key.split('\u0000') as [string, string];
    const reports = (acks.get(key) ?? []).sort((a, b) => a.at - b.at);
    list.sort((a, b) => a.at - b.at || a.rev - b.rev);
    list.forEach((p, i) => {
      if (p.at < input.range.from || p.at >= input.range.to) return;
      const deadline = p.at + input.lagMs;
      const next = list[i + 1];
      if (next && next.at <= deadline && next.rev > p.rev) return;
      const first = reports.find((r) => r.at >= p.at && r.rev >= p.rev);
      const base = {
        zone,
        function: fn,
        rev: p.rev,
        desired_mode: p.mode,
        desired_setpoint_c: p.setpoint,
        published_at: iso(p.at),
        deadline: iso(deadline),
        acknowledged_at: first ? iso(first.at) : null,
        publish_seq: p.seq,
      };
      if (!first || first.at > deadline) {
        if (deadline > now) {
          pending++;
          return;
        }
        const last = reports.filter((r) => r.at <= deadline).at(-1);
        deviations.push({
          ...base,
          kind: 'not-applied',
          reported_rev: last?.rev ?? null,
          reported_mode: last?.mode ?? null,
          reported_setpoint_c: last?.setpoint ?? null,
        });
        return;
      }
      if (first.rev === p.rev && (first.mode !== p.mode || first.setpoint !== p.setpoint)) {
        deviations.push({
          ...base,
          kind: 'applied-differently',
          reported_rev: first.rev,
          reported_mode: first.mode,
          reported_setpoint_c: first.setpoint,
        });
      }
    });
  }
  deviations.sort((a, b) => a.published_at.localeCompare(b.published_at) || a.zone.localeCompare(b.zone));
  return { deviations, pending };
}

function inRange(at: string, range: { from: number; to: number }): boolean {
  const ms = Date.parse(at);
  return ms >= range.from && ms < range.to;
}

function field(detail: unknown, name: string): unknown {
  return detail !== null && typeof detail === 'object'
    ? (detail as Record<string, unknown>)[name]
    : undefined;
}
function stringField(detail: unknown, name: string): string | null {
  const value = field(detail, name);
  return typeof value === 'string' ? value : null;
}
function numberField(detail: unknown, name: string): number | null {
  const value = field(detail, name);
  return typeof value === 'number' ? value : null;
}
