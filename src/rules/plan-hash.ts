/**
 * Plan hashes recorded in the audit with the rule-set version (rules.md, "Plan output"). Both are
 * canonical: equal plans hash equal whatever order their objects were built in.
 *
 * - `planHash(plan)`: sha256 of the canonical JSON of a plan (sorted keys, no undefined).
 * - `schoolPlanHash(zones)`: sha256 of a compact canonical record stream of a school's zone
 *   plans, for the plan of a whole school. A region's week is ~1.7 M segments, ~400 MB of
 *   canonical JSON: merely writing that text cost more than planning (docs/rules.md,
 *   "Performance"). The record stream says the same with each distinct decision (function,
 *   mode, setpoint, kind, rule, temperature rule, basis, exception, override, optimum start) and string written once and
 *   referred to by number afterwards, so a segment is ~5 numbers.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  type CompactSegments,
  compactSegmentsOf,
  type Decision,
  type SegmentFields,
} from './compact-plan.js';
import type { Segment, SegmentReason, ZonePlan } from './segment.js';

export function planHash(plan: ZonePlan | Record<string, ZonePlan>): string {
  const writer = new CanonicalWriter(createHash('sha256'));
  writer.value(plan);
  return writer.digest();
}

/**
 * sha256 of a canonical binary stream of `zones` (a school's plans by zone id): zones and
 * functions in sorted order, then each segment as numbers (IEEE 754 doubles, little-endian).
 * Strings and decisions are numbered in order of first appearance, which the sorted walk makes
 * canonical; a first appearance is followed by its definition, so the stream can be decoded back
 * (two plans with the same stream are equal). Covers the fields of `Segment`.
 */
export function schoolPlanHash(zones: Readonly<Record<string, ZonePlan>>): string {
  const stream = new RecordStream(createHash('sha256'));
  const ids = Object.keys(zones)
    .filter((id) => zones[id] !== undefined)
    .sort();
  stream.number(ids.length);
  for (const id of ids) {
    const plan = zones[id] as ZonePlan;
    stream.string(id);
    const functions = (Object.keys(plan) as (keyof ZonePlan)[])
      .filter((fn) => compactSegmentsOf(plan, fn) !== undefined || plan[fn] !== undefined)
      .sort();
    stream.number(functions.length);
    for (const fn of functions) {
      stream.string(fn);
      // A planned function not read yet is hashed from its compact form, without building it.
      const compact = compactSegmentsOf(plan, fn);
      if (compact) {
        stream.compact(compact);
        continue;
      }
      const segments = plan[fn] as Segment[];
      stream.number(segments.length);
      for (const segment of segments) stream.segment(segment);
    }
  }
  return stream.digest();
}

/** Decision fields of a segment, with the stream number they were given. */
interface DecisionEntry {
  id: number;
  function: string;
  mode: string;
  setpoint_c: number | undefined;
  kind: string;
  basis: string;
  temperature_rule: string | undefined;
  exception: unknown;
  /** Compared by content: equal exceptions built as different objects are the same decision. */
  exceptionJson: string | undefined;
  override_id: string | undefined;
  /** Canonical JSON of the reason's `optimum_start` (one per learned start: compared by content). */
  optimumJson: string | undefined;
  /** Canonical JSON of the reason's `optimum_stop` (rule `optimum-stop`, off by default). */
  stopJson: string | undefined;
}

function sameException(entry: DecisionEntry, exception: unknown): boolean {
  if (entry.exception === exception) return true;
  return exception !== undefined && entry.exceptionJson === canonicalJson(exception);
}

/** Segment flags: which optional per-segment fields follow. */
const HAS_GAP_HOURS = 1;
const GAP_OPEN_ENDED = 2;
const HAS_LESSONS = 4;
/** Bytes handed to sha256 per update: one call per 64 KB, not per field. */
const CHUNK_BYTES = 1 << 16;
const utf8 = new TextEncoder();

/** Hashing is synchronous: every stream fills the same chunk (one per school was allocation). */
const sharedBytes = new Uint8Array(CHUNK_BYTES);
const sharedView = new DataView(sharedBytes.buffer);

class RecordStream {
  private readonly bytes = sharedBytes;
  private readonly view = sharedView;
  private used = 0;
  private readonly strings = new Map<string, number>();
  /** Lesson lists by identity (the planner shares one array among a lesson's segments). */
  private readonly lessons = new Map<readonly string[], number>();
  /** Decisions by rule id; the rest of the fields tell apart the rare decisions sharing one. */
  private readonly decisions = new Map<string, DecisionEntry[]>();
  private decisionCount = 0;
  /** Stream numbers of the planner's shared decisions, by identity and function. */
  private readonly planned = new Map<string, Map<Decision, number>>();
  private readonly fields: SegmentFields = {
    from: 0,
    to: 0,
    decision: { mode: 'off', kind: 'occupied', rule: '', basis: '' },
    gapHours: undefined,
    openEnded: false,
    lessons: undefined,
  };

  constructor(private readonly hash: Hash) {}

  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }

  number(n: number): void {
    if (this.used + 8 > CHUNK_BYTES) this.flush();
    // -0 is written as 0, as JSON would.
    this.view.setFloat64(this.used, n === 0 ? 0 : n, true);
    this.used += 8;
  }

  /** A string's number; at its first appearance, followed by its UTF-8 byte length and bytes. */
  string(s: string): void {
    const known = this.strings.get(s);
    if (known !== undefined) {
      this.number(known);
      return;
    }
    this.strings.set(s, this.strings.size);
    this.number(this.strings.size - 1);
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    if (this.used + 8 + s.length * 3 > CHUNK_BYTES) this.flush();
    if (8 + s.length * 3 > CHUNK_BYTES) {
      const encoded = utf8.encode(s);
      this.number(encoded.length);
      this.flush();
      this.hash.update(encoded);
      return;
    }
    const { written } = utf8.encodeInto(s, this.bytes.subarray(this.used + 8));
    this.view.setFloat64(this.used, written, true);
    this.used += 8 + written;
  }

  segment(s: Segment): void {
    const r = s.reason;
    this.decision(s.function, s.mode, s.setpoint_c, r);
    this.rest(s.from, s.to, r.gap_hours, r.gap_open_ended === true, r.lessons);
  }

  /**
   * The same records as `segment` for each of the list's segments (what its `Segment` objects
   * would hash to), reading the numbers and shared decisions directly.
   */
  compact(list: CompactSegments): void {
    this.number(list.count);
    let byDecision = this.planned.get(list.fn);
    if (!byDecision) {
      byDecision = new Map();
      this.planned.set(list.fn, byDecision);
    }
    const f = this.fields;
    for (let i = 0; i < list.count; i++) {
      list.read(i, f);
      const d = f.decision;
      let id = byDecision.get(d);
      if (id === undefined) {
        // The fields a reason takes from its decision (compact-plan.ts `reasonOf`).
        id = this.decision(list.fn, d.mode, d.setpoint_c, {
          kind: d.kind,
          rule: d.rule,
          basis: d.basis,
          temperature_rule: d.temperature_rule,
          exception: d.exception || undefined,
          override_id: d.override_id,
          optimum_start: d.optimum,
          optimum_stop: d.optimumStop,
        });
        byDecision.set(d, id);
      } else {
        this.number(id);
      }
      this.rest(f.from, f.to, f.gapHours, f.openEnded, f.lessons);
    }
  }

  private rest(
    from: number,
    to: number,
    gapHours: number | undefined,
    openEnded: boolean,
    lessons: readonly string[] | undefined,
  ): void {
    this.number(from);
    this.number(to);
    const flags =
      (gapHours !== undefined ? HAS_GAP_HOURS : 0) |
      (openEnded ? GAP_OPEN_ENDED : 0) |
      (lessons !== undefined ? HAS_LESSONS : 0);
    this.number(flags);
    if (gapHours !== undefined) this.number(gapHours);
    if (lessons !== undefined) {
      const known = this.lessons.get(lessons);
      if (known !== undefined) {
        this.number(known);
      } else {
        // A lesson list is written as the string of its JSON (canonical for a list of strings),
        // numbered like any string.
        const json = JSON.stringify(lessons);
        this.string(json);
        this.lessons.set(lessons, this.strings.get(json) as number);
      }
    }
  }

  /** The decision's number, returned; at its first appearance, followed by its fields. */
  private decision(
    fn: string,
    mode: string,
    setpoint_c: number | undefined,
    r: Omit<SegmentReason, 'kind'> & { kind: string },
  ): number {
    const optimumJson = r.optimum_start === undefined ? undefined : canonicalJson(r.optimum_start);
    const stopJson = r.optimum_stop === undefined ? undefined : canonicalJson(r.optimum_stop);
    let entries = this.decisions.get(r.rule);
    if (!entries) {
      entries = [];
      this.decisions.set(r.rule, entries);
    }
    for (const e of entries) {
      if (
        e.function === fn &&
        e.mode === mode &&
        e.setpoint_c === setpoint_c &&
        e.kind === r.kind &&
        e.basis === r.basis &&
        e.temperature_rule === r.temperature_rule &&
        sameException(e, r.exception) &&
        e.override_id === r.override_id &&
        e.optimumJson === optimumJson &&
        e.stopJson === stopJson
      ) {
        this.number(e.id);
        return e.id;
      }
    }
    const id = this.decisionCount++;
    const exceptionJson = r.exception === undefined ? undefined : canonicalJson(r.exception);
    entries.push({
      id,
      function: fn,
      mode,
      setpoint_c,
      kind: r.kind,
      basis: r.basis,
      temperature_rule: r.temperature_rule,
      exception: r.exception,
      exceptionJson,
      override_id: r.override_id,
      optimumJson,
      stopJson,
    });
    this.number(id);
    this.string(fn);
    this.string(mode);
    this.optionalNumber(setpoint_c);
    this.string(r.kind);
    this.string(r.rule);
    this.string(r.basis);
    this.optionalString(exceptionJson);
    this.optionalString(r.override_id);
    // The temperature rule's presence flag also says whether an optimum start follows (2), so
    // plans without one keep their hashes and the stream stays decodable.
    // An optimum stop (4) likewise: only plans with one enabled hash differently.
    this.number(
      (r.temperature_rule === undefined ? 0 : 1) |
        (optimumJson === undefined ? 0 : 2) |
        (stopJson === undefined ? 0 : 4),
    );
    if (r.temperature_rule !== undefined) this.string(r.temperature_rule);
    if (optimumJson !== undefined) this.string(optimumJson);
    if (stopJson !== undefined) this.string(stopJson);
    return id;
  }

  private optionalNumber(n: number | undefined): void {
    this.number(n === undefined ? 0 : 1);
    if (n !== undefined) this.number(n);
  }

  private optionalString(s: string | undefined): void {
    this.number(s === undefined ? 0 : 1);
    if (s !== undefined) this.string(s);
  }

  private flush(): void {
    if (this.used === 0) return;
    this.hash.update(this.bytes.subarray(0, this.used));
    this.used = 0;
  }
}

/** Hash updates are batched: one `update` per ~64 KB rather than per field. */
const CHUNK_CHARS = 1 << 16;

class CanonicalWriter {
  private buffer = '';
  /** JSON of strings seen (rule ids, bases, kinds, modes repeat on every segment). */
  private readonly strings = new Map<string, string>();
  /** JSON of lesson arrays, by identity: the planner shares one array among a lesson's segments. */
  private readonly lessons = new Map<readonly string[], string>();

  constructor(private readonly hash: Hash) {}

  digest(): string {
    this.hash.update(this.buffer);
    this.buffer = '';
    return this.hash.digest('hex');
  }

  private write(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= CHUNK_CHARS) {
      this.hash.update(this.buffer);
      this.buffer = '';
    }
  }

  value(value: unknown): void {
    if (value === null || typeof value !== 'object') {
      this.write(JSON.stringify(value) ?? 'null');
    } else if (Array.isArray(value)) {
      this.write('[');
      value.forEach((item, i) => {
        if (i > 0) this.write(',');
        if (item === undefined) this.write('null');
        else this.value(item);
      });
      this.write(']');
    } else if (isSegment(value)) {
      this.write(this.segment(value));
    } else {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      this.write('{');
      keys.forEach((key, i) => {
        this.write(`${i > 0 ? ',' : ''}${this.string(key)}:`);
        this.value(record[key]);
      });
      this.write('}');
    }
  }

  /** `canonicalJson(s)` for the fields of `Segment` (keys in sorted order, undefined ones left out). */
  private segment(s: Segment): string {
    const r: SegmentReason = s.reason;
    let reason = `{"basis":${this.string(r.basis)}`;
    if (r.exception !== undefined) reason += `,"exception":${canonicalJson(r.exception)}`;
    if (r.gap_hours !== undefined) reason += `,"gap_hours":${number(r.gap_hours)}`;
    if (r.gap_open_ended !== undefined) reason += `,"gap_open_ended":${JSON.stringify(r.gap_open_ended)}`;
    reason += `,"kind":${this.string(r.kind)}`;
    if (r.lessons !== undefined) reason += `,"lessons":${this.lessonList(r.lessons)}`;
    if (r.optimum_start !== undefined) reason += `,"optimum_start":${canonicalJson(r.optimum_start)}`;
    if (r.optimum_stop !== undefined) reason += `,"optimum_stop":${canonicalJson(r.optimum_stop)}`;
    if (r.override_id !== undefined) reason += `,"override_id":${this.string(r.override_id)}`;
    reason += `,"rule":${this.string(r.rule)}`;
    if (r.temperature_rule !== undefined) reason += `,"temperature_rule":${this.string(r.temperature_rule)}`;
    reason += '}';
    const setpoint = s.setpoint_c === undefined ? '' : `,"setpoint_c":${number(s.setpoint_c)}`;
    return `{"from":${number(s.from)},"function":${this.string(s.function)},"mode":${this.string(s.mode)},"reason":${reason}${setpoint},"to":${number(s.to)}}`;
  }

  private string(s: string): string {
    let json = this.strings.get(s);
    if (json === undefined) {
      json = JSON.stringify(s);
      this.strings.set(s, json);
    }
    return json;
  }

  private lessonList(list: readonly string[]): string {
    let json = this.lessons.get(list);
    if (json === undefined) {
      json = canonicalJson(list);
      this.lessons.set(list, json);
    }
    return json;
  }
}

/** JSON of a number (non-finite ones are `null`, as in JSON.stringify). */
function number(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

function isSegment(value: object): value is Segment {
  return 'from' in value && 'to' in value && 'mode' in value && 'reason' in value && 'function' in value;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
