/**
 * The planner's output, compact (docs/performance.md, "Planning"): a region's week is ~1.7 M
 * segments, and one object per segment plus one per reason was most of planning's time (building
 * them and collecting them) and most of the memory that holds a region's plans. Each zone
 * function's segments are kept as numbers in one Float64Array, with an index into the decisions
 * (mode, setpoint, rule…) and the lesson lists they share; `Segment` objects are built only when a
 * plan's function is read, and reasons without lessons are interned: one frozen object per
 * decision, gap length and open end.
 *
 * A `ZonePlan` from the planner looks like any other: each function is an own enumerable property
 * whose first read builds (and keeps) its `Segment[]`. The plan hash and the segment count read
 * the compact form without building anything (`compactSegmentsOf`).
 */
import type { ZoneFunction } from '../devices/schema.js';
import type { OptimumStartReason, OptimumStopReason } from './optimum-start.js';
import type { PlanMode, ReasonKind, Segment, SegmentReason, ZonePlan } from './segment.js';

/**
 * What a segment says apart from its span, lessons and gap: built once per rules and function
 * (the planner's `shapeOf`) and shared by all the segments it decides.
 */
export interface Decision {
  mode: PlanMode;
  setpoint_c?: number;
  kind: ReasonKind;
  rule: string;
  basis: string;
  /** The rule that set the temperature when another one (`rule`) decided the timing. */
  temperature_rule?: string;
  exception?: SegmentReason['exception'];
  override_id?: string;
  optimum?: OptimumStartReason;
  optimumStop?: OptimumStopReason;
}

/** Per segment: from, to, and `meta` = flags + 8 × (decision index + 2^20 × extra). */
const FIELDS = 3;
/** `extra` is the gap length in hundredths of an hour. */
const IS_GAP = 1;
/** `extra` is the index of the segment's lesson list. */
const HAS_LESSONS = 2;
const OPEN_ENDED = 4;
const FLAG_SPAN = 8;
/** Decisions per zone function (an override or a learned preheat adds one): far above any horizon's. */
const DECISION_SPAN = 2 ** 20;
const EXTRA_UNIT = FLAG_SPAN * DECISION_SPAN;
/** Keeps `meta` an exact integer (< 2^53). */
const MAX_EXTRA = 2 ** 30;

/** What a segment holds, decoded (`CompactSegments.read`). */
export interface SegmentFields {
  from: number;
  to: number;
  decision: Decision;
  /** Undefined unless the segment is a gap. */
  gapHours: number | undefined;
  openEnded: boolean;
  lessons: readonly string[] | undefined;
}

/** One zone function's segments, in time order. Read-only once built. */
export class CompactSegments {
  constructor(
    readonly fn: ZoneFunction,
    readonly count: number,
    /** Shared with other lists (see `CompactBuilder`): this one's segments start at `offset`. */
    private readonly data: Float64Array,
    private readonly offset: number,
    private readonly decisions: readonly Decision[],
    private readonly lessonLists: readonly (readonly string[])[],
  ) {}

  /** Segment `i`'s fields into `out` (reused by the caller: reading a list builds nothing). */
  read(i: number, out: SegmentFields): void {
    const at = this.offset + i * FIELDS;
    const meta = this.data[at + 2] as number;
    const flags = meta % FLAG_SPAN;
    const extra = Math.floor(meta / EXTRA_UNIT);
    out.from = this.data[at] as number;
    out.to = this.data[at + 1] as number;
    out.decision = this.decisions[Math.floor(meta / FLAG_SPAN) % DECISION_SPAN] as Decision;
    out.gapHours = flags & IS_GAP ? extra / 100 : undefined;
    out.openEnded = (flags & OPEN_ENDED) !== 0;
    out.lessons = flags & HAS_LESSONS ? this.lessonLists[extra] : undefined;
  }

  from(i: number): number {
    return this.data[this.offset + i * FIELDS] as number;
  }

  to(i: number): number {
    return this.data[this.offset + i * FIELDS + 1] as number;
  }

  decision(i: number): Decision {
    const meta = this.data[this.offset + i * FIELDS + 2] as number;
    return this.decisions[Math.floor(meta / FLAG_SPAN) % DECISION_SPAN] as Decision;
  }

  /** The gap length in hours (2 decimals), or undefined when the segment is not a gap. */
  gapHours(i: number): number | undefined {
    const meta = this.data[this.offset + i * FIELDS + 2] as number;
    return (meta % FLAG_SPAN) & IS_GAP ? Math.floor(meta / EXTRA_UNIT) / 100 : undefined;
  }

  openEnded(i: number): boolean {
    return (((this.data[this.offset + i * FIELDS + 2] as number) % FLAG_SPAN) & OPEN_ENDED) !== 0;
  }

  lessons(i: number): readonly string[] | undefined {
    const meta = this.data[this.offset + i * FIELDS + 2] as number;
    return (meta % FLAG_SPAN) & HAS_LESSONS ? this.lessonLists[Math.floor(meta / EXTRA_UNIT)] : undefined;
  }

  /** Builds segment `i` (a new object; its reason is interned when it names no lessons). */
  segment(i: number): Segment {
    const meta = this.data[this.offset + i * FIELDS + 2] as number;
    const flags = meta % FLAG_SPAN;
    const d = this.decisions[Math.floor(meta / FLAG_SPAN) % DECISION_SPAN] as Decision;
    const extra = Math.floor(meta / EXTRA_UNIT);
    const reason =
      flags & HAS_LESSONS
        ? reasonOf(d, this.lessonLists[extra], Number.NaN, (flags & OPEN_ENDED) !== 0)
        : internedReason(d, flags, extra);
    const from = this.data[this.offset + i * FIELDS] as number;
    const to = this.data[this.offset + i * FIELDS + 1] as number;
    // Whole literals, in the key order segments always had (JSON payloads keep their bytes).
    return d.setpoint_c === undefined
      ? { from, to, function: this.fn, mode: d.mode, reason }
      : { from, to, function: this.fn, mode: d.mode, reason, setpoint_c: d.setpoint_c };
  }

  segments(): Segment[] {
    const out = new Array<Segment>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.segment(i);
    return out;
  }
}

/**
 * Collects one zone function's segments in time order, straight into a shared 512 KB buffer: one
 * ArrayBuffer per list (~40 k per region's week) cost a tenth of planning in allocation and
 * external-memory bookkeeping. A buffer lives as long as one of its lists does; the lists of one
 * school are planned one after the other, so they share buffers with each other rather than with
 * older plans. The planner is synchronous and fills one list at a time.
 */
export class CompactBuilder {
  private data = new Float64Array(POOL_DOUBLES);
  /** Where the current list starts in `data`, and where the next segment goes. */
  private begin = 0;
  private used = 0;
  private fn: ZoneFunction = 'heating';
  // Scratch lists reused from one zone function to the next (`finish` copies them out at their
  // exact size): growing two fresh arrays per list was garbage and slack.
  private readonly decisions: Decision[] = [];
  private decisionCount = 0;
  private readonly lessonLists: (readonly string[])[] = [];
  private lessonCount = 0;

  start(fn: ZoneFunction): void {
    this.fn = fn;
    this.begin = this.used;
    this.decisionCount = 0;
    this.lessonCount = 0;
  }

  /**
   * From, to and gap hours (NaN unless a gap) of the next `push`: written here rather than passed,
   * as epoch ms passed to a call that is not inlined are boxed one by one.
   */
  readonly args = new Float64Array(3);

  /** The segment `[args[0], args[1])`, gap hours `args[2]`. */
  push(d: Decision, lessons: readonly string[] | undefined, openEnded: boolean): void {
    const from = this.args[0] as number;
    const to = this.args[1] as number;
    const gapHours = this.args[2] as number;
    const decisions = this.decisions;
    // Few decisions per list, the latest ones most often reused.
    let index = this.decisionCount - 1;
    while (index >= 0 && decisions[index] !== d) index--;
    if (index < 0) {
      index = this.decisionCount++;
      if (index >= DECISION_SPAN) throw new RangeError('too many decisions in one zone function');
      decisions[index] = d;
    }
    let flags = openEnded ? OPEN_ENDED : 0;
    let extra = 0;
    if (!Number.isNaN(gapHours)) {
      flags |= IS_GAP;
      // gap_hours is Math.round(ms / 36 000) / 100: the integer before the division is exact.
      extra = Math.round(gapHours * 100);
    }
    if (lessons) {
      if (flags & IS_GAP) throw new RangeError('a gap segment names no lessons');
      flags |= HAS_LESSONS;
      const last = this.lessonCount - 1;
      if (last >= 0 && this.lessonLists[last] === lessons) extra = last;
      else {
        extra = this.lessonCount++;
        this.lessonLists[extra] = lessons;
      }
    }
    if (!(extra >= 0 && extra < MAX_EXTRA)) throw new RangeError(`segment field out of range: ${extra}`);
    if (this.used + FIELDS > this.data.length) this.moveToNewBuffer();
    const at = this.used;
    this.data[at] = from;
    this.data[at + 1] = to;
    this.data[at + 2] = flags + FLAG_SPAN * index + EXTRA_UNIT * extra;
    this.used = at + FIELDS;
  }

  finish(): CompactSegments {
    const count = (this.used - this.begin) / FIELDS;
    return new CompactSegments(
      this.fn,
      count,
      this.data,
      this.begin,
      this.decisions.slice(0, this.decisionCount),
      this.lessonCount === 0 ? NO_LESSONS : this.lessonLists.slice(0, this.lessonCount),
    );
  }

  /** The current list goes on in a fresh buffer (larger if the list alone outgrows one). */
  private moveToNewBuffer(): void {
    const written = this.used - this.begin;
    const data = new Float64Array(Math.max(POOL_DOUBLES, written * 2));
    data.set(this.data.subarray(this.begin, this.used));
    this.data = data;
    this.begin = 0;
    this.used = written;
  }
}

const POOL_DOUBLES = 65_536;
const NO_LESSONS: readonly (readonly string[])[] = [];

/**
 * Reasons without lessons, one frozen object per decision and (gap length, open end): a region's
 * week repeats the same few hundred of them across its ~1 M gap and override segments.
 */
const interned = new WeakMap<Decision, Map<number, SegmentReason>>();

function internedReason(d: Decision, flags: number, extra: number): SegmentReason {
  let byKey = interned.get(d);
  if (!byKey) {
    byKey = new Map();
    interned.set(d, byKey);
  }
  const key = extra * FLAG_SPAN + flags;
  let reason = byKey.get(key);
  if (!reason) {
    reason = Object.freeze(
      reasonOf(d, undefined, flags & IS_GAP ? extra / 100 : Number.NaN, (flags & OPEN_ENDED) !== 0),
    );
    byKey.set(key, reason);
  }
  return reason;
}

/**
 * The reason of a segment. The usual field sets are built as whole object literals (as is the
 * segment above): properties added to an object after it is built are stored outside it, which
 * made building a region's 1.7 M segments ~1.5× slower.
 */
function reasonOf(
  d: Decision,
  lessons: readonly string[] | undefined,
  gapHours: number,
  openEnded: boolean,
): SegmentReason {
  const { kind, rule, basis, temperature_rule } = d;
  if (
    d.exception === undefined &&
    d.override_id === undefined &&
    d.optimum === undefined &&
    d.optimumStop === undefined &&
    !openEnded
  ) {
    // Shared, not copied: lessons arrays are read-only once planned.
    if (temperature_rule === undefined) {
      if (lessons && Number.isNaN(gapHours)) return { kind, rule, basis, lessons: lessons as string[] };
      if (!lessons && !Number.isNaN(gapHours)) return { kind, rule, basis, gap_hours: gapHours };
      if (!lessons) return { kind, rule, basis };
    } else {
      if (lessons && Number.isNaN(gapHours))
        return { kind, rule, temperature_rule, basis, lessons: lessons as string[] };
      if (!lessons && !Number.isNaN(gapHours))
        return { kind, rule, temperature_rule, basis, gap_hours: gapHours };
      if (!lessons) return { kind, rule, temperature_rule, basis };
    }
  }
  const reason: SegmentReason =
    temperature_rule === undefined ? { kind, rule, basis } : { kind, rule, temperature_rule, basis };
  if (lessons) reason.lessons = lessons as string[];
  if (d.exception) reason.exception = d.exception;
  if (d.override_id !== undefined) reason.override_id = d.override_id;
  if (d.optimum !== undefined) reason.optimum_start = d.optimum;
  if (d.optimumStop !== undefined) reason.optimum_stop = d.optimumStop;
  if (!Number.isNaN(gapHours)) reason.gap_hours = gapHours;
  if (openEnded) reason.gap_open_ended = true;
  return reason;
}

/** The compact lists of a planned `ZonePlan` whose functions have not been read yet. */
const COMPACT = Symbol('compact segments');

type LazyZonePlan = ZonePlan & { [COMPACT]?: Partial<Record<ZoneFunction, CompactSegments>> };

function accessor(fn: ZoneFunction): PropertyDescriptor {
  const keep = (plan: LazyZonePlan, value: Segment[] | undefined): void => {
    const compact = plan[COMPACT];
    if (compact) delete compact[fn];
    Object.defineProperty(plan, fn, { value, writable: true, enumerable: true, configurable: true });
  };
  return {
    enumerable: true,
    configurable: true,
    get(this: LazyZonePlan): Segment[] | undefined {
      const segments = this[COMPACT]?.[fn]?.segments();
      keep(this, segments);
      return segments;
    },
    set(this: LazyZonePlan, value: Segment[] | undefined): void {
      keep(this, value);
    },
  };
}

/** Shared by every lazy plan: the same accessor pair per function keeps their shapes alike. */
const ACCESSORS: Record<ZoneFunction, PropertyDescriptor> = {
  heating: accessor('heating'),
  lighting: accessor('lighting'),
  ventilation: accessor('ventilation'),
};

/** A zone plan whose functions build their `Segment[]` when first read, in the order given. */
export function lazyZonePlan(lists: readonly CompactSegments[]): ZonePlan {
  const plan: LazyZonePlan = {};
  const compact: Partial<Record<ZoneFunction, CompactSegments>> = {};
  Object.defineProperty(plan, COMPACT, { value: compact });
  for (const list of lists) {
    compact[list.fn] = list;
    Object.defineProperty(plan, list.fn, ACCESSORS[list.fn]);
  }
  return plan;
}

/** The compact segments of `fn` when the plan came from the planner and `fn` was not read yet. */
export function compactSegmentsOf(plan: ZonePlan, fn: ZoneFunction): CompactSegments | undefined {
  return (plan as LazyZonePlan)[COMPACT]?.[fn];
}

/** How many segments `fn` has, without building them. */
export function segmentCount(plan: ZonePlan, fn: ZoneFunction): number {
  return compactSegmentsOf(plan, fn)?.count ?? plan[fn]?.length ?? 0;
}
