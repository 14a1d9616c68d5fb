/**
 * The MQTT contract v1 in one file (docs/mqtt.md, "Topics" and "Payloads"; one file per contract,
 * as zigbee2mqtt types its payloads in `lib/types/api.ts`): every topic's name, retain flag, QoS and payload schema, and the parser back from a
 * topic name. Everything else in `src/mqtt/` and every adapter builds topics through here.
 *
 * Readers are tolerant (unknown keys are dropped, except inside `reason`, which is kept whole so
 * the audit trail survives); writers are strict: the bridge validates what it publishes with the
 * same schemas, so a bug never reaches a gateway as a malformed setpoint.
 */
import { z } from 'zod';
import { ZONE_FUNCTIONS, type ZoneFunction } from '../devices/schema.js';
import { InputError, type Problem } from '../domain/problems.js';
import { isValidUai } from '../domain/uai.js';

// One list of functions for devices/ and the topics: a zone's function is a topic level.
export { ZONE_FUNCTIONS, type ZoneFunction } from '../devices/schema.js';

/**
 * Heating modes: the four legal modes confort / réduit / hors-gel / arrêt (Code de l'énergie
 * R241-31-1, docs/regulation.md) and the six fil-pilote orders (comfort, comfort −1 °C,
 * comfort −2 °C, eco, frost protection, off).
 */
export const HEATING_MODES = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off'] as const;
export type HeatingMode = (typeof HEATING_MODES)[number];

/** Lighting and ventilation are switched. */
export const SWITCH_MODES = ['on', 'off'] as const;
export type SwitchMode = (typeof SWITCH_MODES)[number];

export type ModeOf<F extends ZoneFunction> = F extends 'heating' ? HeatingMode : SwitchMode;
export type Mode = HeatingMode | SwitchMode;

export const MODES_BY_FUNCTION: { readonly [F in ZoneFunction]: readonly ModeOf<F>[] } = {
  heating: HEATING_MODES,
  lighting: SWITCH_MODES,
  ventilation: SWITCH_MODES,
};

/**
 * What a gateway may fall back to once `schedule` runs out. Never a comfort mode: an unattended
 * building must not heat empty rooms to comfort (docs/mqtt.md, "`schedule` (the next 48 h)": fallback_mode is never comfort).
 */
export const FALLBACK_MODES_BY_FUNCTION: { readonly [F in ZoneFunction]: readonly ModeOf<F>[] } = {
  heating: ['eco', 'frost', 'off'],
  lighting: SWITCH_MODES,
  ventilation: SWITCH_MODES,
};

/** `schedule` covers the next 48 h (docs/mqtt.md). */
export const SCHEDULE_HORIZON_MS = 48 * 3_600_000;
/** 48 h at a 5-minute grid is 576 entries; the cap bounds what a small gateway must hold. */
export const MAX_SCHEDULE_ENTRIES = 1_000;

/** ISO 8601 instant; the bridge writes UTC (`…Z`), readers accept an explicit offset too. */
const instant = z.iso.datetime({ offset: true });
/**
 * A physical sanity bound for a room setpoint, not a regulation (the 19 °C ceiling of R241-26 is
 * the rules' business): it stops a unit bug (kelvin, tenths) from reaching a radiator.
 */
const setpointC = z.number().min(0).max(35);
const measuredC = z.number().min(-50).max(100);

export const reasonSchema = z.looseObject({
  /** The rule that decided, e.g. `R241-26` or a local rule id, or `override`. */
  rule: z.string().min(1),
  basis: z.string().optional(),
  lessons: z.array(z.string()).optional(),
  gap_hours: z.number().nonnegative().optional(),
});
export type DesiredReason = z.infer<typeof reasonSchema>;

/**
 * What a `desired` was computed from, so a subscriber matches it to its plan by content alone
 * (issue 21): the plan's hash (the audit `plan` entry's `hash`, `GET …/plan`'s `hash`), the
 * timetable version planned from (null on the fallback week) and the content-derived rules version
 * (`2026.1+3f9a0c1d2e4b`, docs/audit.md). Optional: gateways written against the first contract
 * ignore it.
 */
export const desiredTraceSchema = z.object({
  // A hex SHA-256 from this bridge; kept to a bounded non-empty string so a reader checks the
  // shape without tying the contract to the hash function.
  plan_hash: z.string().min(1).max(128),
  timetable_version: z.number().int().nonnegative().nullable(),
  rules_version: z.string().min(1),
});
export type DesiredTrace = z.infer<typeof desiredTraceSchema>;

export interface DesiredPayload<F extends ZoneFunction = ZoneFunction> {
  /** Monotonic per zone and function, starting at 1 (0 in `applied_rev` means none applied yet). */
  rev: number;
  mode: ModeOf<F>;
  /** Heating only. */
  setpoint_c?: number;
  valid_until: string;
  reason: DesiredReason;
  issued_at: string;
  /** The plan, timetable and rules this rev was issued from (absent from bridges before issue 21). */
  trace?: DesiredTrace;
}

export interface ScheduleEntry<F extends ZoneFunction = ZoneFunction> {
  from: string;
  mode: ModeOf<F>;
  setpoint_c?: number;
}

export interface SchedulePayload<F extends ZoneFunction = ZoneFunction> {
  issued_at: string;
  valid_until: string;
  /** Sorted by `from`, strictly increasing; each entry holds until the next one or `valid_until`. */
  entries: ScheduleEntry<F>[];
  fallback_mode: ModeOf<F>;
}

export const REPORT_SOURCES = ['bridge', 'local', 'manual'] as const;
export type ReportSource = (typeof REPORT_SOURCES)[number];

export interface ReportedPayload<F extends ZoneFunction = ZoneFunction> {
  applied_rev: number;
  mode: ModeOf<F>;
  setpoint_c?: number;
  measured_c?: number;
  source: ReportSource;
  ts: string;
}

/**
 * A school meter's cumulative index (issue 16; docs/mqtt.md, "Meters and outdoor temperature"):
 * kWh since the meter's commissioning, read at `ts`. A lower index than the last is a rollover or
 * a reset, flagged by the measured savings, not refused here.
 */
export const meterReportedSchema = z.object({
  index_kwh: z.number().nonnegative().max(1e12),
  ts: instant,
});
export type MeterReportedPayload = z.infer<typeof meterReportedSchema>;

/** A school's outdoor sensor (issue 16): °C at `ts`, within a physical bound of France's climates. */
export const outdoorReportedSchema = z.object({
  temperature_c: z.number().min(-50).max(60),
  ts: instant,
});
export type OutdoorReportedPayload = z.infer<typeof outdoorReportedSchema>;

export const STATES = ['online', 'offline'] as const;
export type OnlineState = (typeof STATES)[number];

export const bridgeStatusSchema = z.object({
  state: z.enum(STATES),
  version: z.string().min(1),
  ts: instant,
});
export type BridgeStatusPayload = z.infer<typeof bridgeStatusSchema>;

export const gatewayStatusSchema = z.object({ state: z.enum(STATES) });
export type GatewayStatusPayload = z.infer<typeof gatewayStatusSchema>;

function modeSchema(fn: ZoneFunction) {
  return z.enum(MODES_BY_FUNCTION[fn] as readonly [string, ...string[]]);
}

/** `setpoint_c` is in °C: only heating has one. */
function refuseSetpointUnlessHeating(
  fn: ZoneFunction,
  setpoint: number | undefined,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  if (fn !== 'heating' && setpoint !== undefined) {
    ctx.addIssue({ code: 'custom', path, message: `setpoint_c is only allowed for heating, not ${fn}` });
  }
}

function refuseNonIncreasing(
  issuedAt: string,
  validUntil: string,
  ctx: z.RefinementCtx,
  maxSpanMs = Number.POSITIVE_INFINITY,
): void {
  const span = Date.parse(validUntil) - Date.parse(issuedAt);
  if (!(span > 0)) {
    ctx.addIssue({ code: 'custom', path: ['valid_until'], message: 'valid_until must be after issued_at' });
  } else if (span > maxSpanMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['valid_until'],
      message: `valid_until must be at most ${maxSpanMs / 3_600_000} h after issued_at`,
    });
  }
}

const desiredSchemas = new Map<ZoneFunction, z.ZodType<DesiredPayload>>();
const scheduleSchemas = new Map<ZoneFunction, z.ZodType<SchedulePayload>>();
const reportedSchemas = new Map<ZoneFunction, z.ZodType<ReportedPayload>>();

// The schemas below are built per function (the mode enum depends on it), so zod cannot infer
// `ModeOf<F>`; the casts restate the interfaces above, which the enums enforce at run time.

export function desiredSchema<F extends ZoneFunction>(fn: F): z.ZodType<DesiredPayload<F>> {
  let schema = desiredSchemas.get(fn);
  if (!schema) {
    schema = z
      .object({
        rev: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
        mode: modeSchema(fn),
        setpoint_c: setpointC.optional(),
        valid_until: instant,
        reason: reasonSchema,
        issued_at: instant,
        trace: desiredTraceSchema.optional(),
      })
      .superRefine((value, ctx) => {
        refuseSetpointUnlessHeating(fn, value.setpoint_c, ['setpoint_c'], ctx);
        refuseNonIncreasing(value.issued_at, value.valid_until, ctx);
      }) as unknown as z.ZodType<DesiredPayload>;
    desiredSchemas.set(fn, schema);
  }
  return schema as z.ZodType<DesiredPayload<F>>;
}

export function scheduleSchema<F extends ZoneFunction>(fn: F): z.ZodType<SchedulePayload<F>> {
  let schema = scheduleSchemas.get(fn);
  if (!schema) {
    schema = z
      .object({
        issued_at: instant,
        valid_until: instant,
        entries: z
          .array(z.object({ from: instant, mode: modeSchema(fn), setpoint_c: setpointC.optional() }))
          .max(MAX_SCHEDULE_ENTRIES),
        fallback_mode: z.enum(FALLBACK_MODES_BY_FUNCTION[fn] as readonly [string, ...string[]]),
      })
      .superRefine((value, ctx) => {
        refuseNonIncreasing(value.issued_at, value.valid_until, ctx, SCHEDULE_HORIZON_MS);
        const end = Date.parse(value.valid_until);
        let previous = Number.NEGATIVE_INFINITY;
        value.entries.forEach((entry, index) => {
          refuseSetpointUnlessHeating(fn, entry.setpoint_c, ['entries', index, 'setpoint_c'], ctx);
          const from = Date.parse(entry.from);
          if (from <= previous) {
            ctx.addIssue({
              code: 'custom',
              path: ['entries', index, 'from'],
              message: 'entries must be sorted by from, strictly increasing',
            });
          }
          if (from >= end) {
            ctx.addIssue({
              code: 'custom',
              path: ['entries', index, 'from'],
              message: 'entry starts at or after valid_until',
            });
          }
          previous = from;
        });
      }) as unknown as z.ZodType<SchedulePayload>;
    scheduleSchemas.set(fn, schema);
  }
  return schema as z.ZodType<SchedulePayload<F>>;
}

export function reportedSchema<F extends ZoneFunction>(fn: F): z.ZodType<ReportedPayload<F>> {
  let schema = reportedSchemas.get(fn);
  if (!schema) {
    schema = z
      .object({
        applied_rev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        mode: modeSchema(fn),
        setpoint_c: setpointC.optional(),
        measured_c: measuredC.optional(),
        source: z.enum(REPORT_SOURCES),
        ts: instant,
      })
      .superRefine((value, ctx) => {
        refuseSetpointUnlessHeating(fn, value.setpoint_c, ['setpoint_c'], ctx);
      }) as unknown as z.ZodType<ReportedPayload>;
    reportedSchemas.set(fn, schema);
  }
  return schema as z.ZodType<ReportedPayload<F>>;
}

// ---------------------------------------------------------------------------------------------
// Topics

export const DEFAULT_TOPIC_PREFIX = 'sobriete/v1';

export type TopicKind =
  | 'bridge-status'
  | 'desired'
  | 'schedule'
  | 'reported'
  | 'gateway-status'
  | 'meter-reported'
  | 'outdoor-reported';

export type QoS = 0 | 1 | 2;

/** How each topic is delivered. All contract topics are retained, QoS 1 (docs/mqtt.md, "Topics"). */
export const TOPIC_DELIVERY: {
  readonly [K in TopicKind]: { readonly retain: boolean; readonly qos: QoS; readonly lastWill: boolean };
} = {
  'bridge-status': { retain: true, qos: 1, lastWill: true },
  desired: { retain: true, qos: 1, lastWill: false },
  schedule: { retain: true, qos: 1, lastWill: false },
  reported: { retain: true, qos: 1, lastWill: false },
  'gateway-status': { retain: true, qos: 1, lastWill: true },
  // Readings are a series, not a state: the bridge stores each one, and a retained copy would be
  // replayed as the same reading at every subscription (idempotent, but pointless traffic).
  'meter-reported': { retain: false, qos: 1, lastWill: false },
  'outdoor-reported': { retain: false, qos: 1, lastWill: false },
};

/** A concrete contract topic: its name, how it is delivered, and the schema of its payload. */
export interface ContractTopic<P> {
  readonly kind: TopicKind;
  readonly topic: string;
  readonly retain: boolean;
  readonly qos: QoS;
  readonly schema: z.ZodType<P>;
}

export type ParsedTopic =
  | { kind: 'bridge-status' }
  | { kind: 'desired' | 'schedule' | 'reported'; uai: string; zone: string; function: ZoneFunction }
  | { kind: 'gateway-status'; uai: string; gateway: string }
  | { kind: 'meter-reported'; uai: string; meter: string }
  | { kind: 'outdoor-reported'; uai: string };

/** Level 3 of a gateway status topic; a zone may therefore not be called so. */
export const GATEWAY_LEVEL = 'gateway';
/** Level 3 of a meter topic and of the outdoor topic; zones may not be called so either. */
export const METER_LEVEL = 'meter';
export const OUTDOOR_LEVEL = 'outdoor';
const RESERVED_ZONE_LEVELS: readonly string[] = [GATEWAY_LEVEL, METER_LEVEL, OUTDOOR_LEVEL];
const ZONE_KINDS = ['desired', 'schedule', 'reported'] as const;

/**
 * Why `id` cannot be a zone or gateway id inside a topic, or null when it can. Wildcards and `/`
 * would change which topics a subscription matches, `$` marks broker-internal topics, and the
 * length cap keeps topics readable in broker logs.
 */
export function topicSegmentProblem(id: string): string | null {
  if (id.length === 0) return 'is empty';
  if (id.length > 64) return 'is longer than 64 characters';
  if (/[+#/]/.test(id)) return 'contains an MQTT wildcard or separator (+, #, /)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'contains a control character';
  if (id.startsWith('$')) return 'starts with $ (reserved for broker topics)';
  if (id.trim() !== id) return 'starts or ends with white space';
  return null;
}

/** Why `prefix` cannot be a topic prefix, or null. */
export function topicPrefixProblem(prefix: string): string | null {
  if (prefix.length === 0) return 'is empty';
  if (prefix.startsWith('/') || prefix.endsWith('/')) return 'starts or ends with /';
  for (const level of prefix.split('/')) {
    const problem = topicSegmentProblem(level);
    if (problem) return `has a level "${level}" that ${problem}`;
  }
  return null;
}

function checkSegment(what: string, id: string): string {
  const problem = topicSegmentProblem(id);
  if (problem) throw InputError.of('bad-topic-segment', `${what} "${id}" ${problem}`, `mqtt topic ${what}`);
  return id;
}

function checkUai(uai: string): string {
  if (!isValidUai(uai) || uai !== uai.toUpperCase()) {
    throw InputError.of(
      'bad-uai',
      `"${uai}" is not a valid UAI (upper case, check letter)`,
      'mqtt topic uai',
    );
  }
  return uai;
}

function checkZone(zone: string): string {
  checkSegment('zone', zone);
  if (RESERVED_ZONE_LEVELS.includes(zone)) {
    throw InputError.of(
      'bad-topic-segment',
      `zone "${zone}" is reserved for gateway, meter and outdoor topics`,
      'mqtt topic zone',
    );
  }
  return zone;
}

function checkFunction(fn: string): ZoneFunction {
  if (!(ZONE_FUNCTIONS as readonly string[]).includes(fn)) {
    throw InputError.of(
      'bad-topic-segment',
      `function "${fn}" is not one of ${ZONE_FUNCTIONS.join(', ')}`,
      'mqtt topic function',
    );
  }
  return fn as ZoneFunction;
}

/** The decoded form of a message received on a contract topic. */
export type DecodedMessage =
  | {
      ok: true;
      parsed: ParsedTopic;
      /** null for an empty payload: a retained message being cleared. */
      payload: unknown;
    }
  | { ok: false; problem: Problem };

/**
 * Topic builders, wildcard filters and the parser for one prefix. Builders validate every
 * segment and throw `InputError` (code `bad-topic-segment` or `bad-uai`) for ids that would
 * break topic matching.
 */
export class MqttTopics {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_TOPIC_PREFIX) {
    const problem = topicPrefixProblem(prefix);
    if (problem)
      throw InputError.of('bad-topic-prefix', `topic prefix "${prefix}" ${problem}`, 'mqtt.prefix');
    this.prefix = prefix;
  }

  bridgeStatus(): ContractTopic<BridgeStatusPayload> {
    return this.contract('bridge-status', `${this.prefix}/bridge/status`, bridgeStatusSchema);
  }

  desired<F extends ZoneFunction>(uai: string, zone: string, fn: F): ContractTopic<DesiredPayload<F>> {
    return this.contract('desired', this.zoneTopic(uai, zone, fn, 'desired'), desiredSchema(fn));
  }

  schedule<F extends ZoneFunction>(uai: string, zone: string, fn: F): ContractTopic<SchedulePayload<F>> {
    return this.contract('schedule', this.zoneTopic(uai, zone, fn, 'schedule'), scheduleSchema(fn));
  }

  reported<F extends ZoneFunction>(uai: string, zone: string, fn: F): ContractTopic<ReportedPayload<F>> {
    return this.contract('reported', this.zoneTopic(uai, zone, fn, 'reported'), reportedSchema(fn));
  }

  gatewayStatus(uai: string, gateway: string): ContractTopic<GatewayStatusPayload> {
    const topic = `${this.prefix}/${checkUai(uai)}/${GATEWAY_LEVEL}/${checkSegment('gateway', gateway)}/status`;
    return this.contract('gateway-status', topic, gatewayStatusSchema);
  }

  meterReported(uai: string, meter: string): ContractTopic<MeterReportedPayload> {
    const topic = `${this.prefix}/${checkUai(uai)}/${METER_LEVEL}/${checkSegment('meter', meter)}/reported`;
    return this.contract('meter-reported', topic, meterReportedSchema);
  }

  outdoorReported(uai: string): ContractTopic<OutdoorReportedPayload> {
    return this.contract(
      'outdoor-reported',
      `${this.prefix}/${checkUai(uai)}/${OUTDOOR_LEVEL}/reported`,
      outdoorReportedSchema,
    );
  }

  /** Every school's meter topics. */
  allMeterFilter(): string {
    return `${this.prefix}/+/${METER_LEVEL}/+/reported`;
  }

  /** Every school's outdoor topic. */
  allOutdoorFilter(): string {
    return `${this.prefix}/+/${OUTDOOR_LEVEL}/reported`;
  }

  /** Every zone's `reported` topic, all schools: what the bridge subscribes to. */
  allReportedFilter(): string {
    return `${this.prefix}/+/+/+/reported`;
  }

  /** Every gateway's status topic, all schools. */
  allGatewayStatusFilter(): string {
    return `${this.prefix}/+/${GATEWAY_LEVEL}/+/status`;
  }

  /** One school's `desired` (or `schedule`) topics: what its gateways subscribe to. */
  schoolFilter(uai: string, kind: 'desired' | 'schedule'): string {
    return `${this.prefix}/${checkUai(uai)}/+/+/${kind}`;
  }

  /** Reverse of the builders; null for a topic outside this contract (other prefix, bad ids). */
  parse(topic: string): ParsedTopic | null {
    if (!topic.startsWith(`${this.prefix}/`)) return null;
    const levels = topic.slice(this.prefix.length + 1).split('/');
    if (levels.length === 2 && levels[0] === 'bridge' && levels[1] === 'status')
      return { kind: 'bridge-status' };
    if (levels.length === 3) {
      const [uai, third, last] = levels as [string, string, string];
      if (!isValidUai(uai) || uai !== uai.toUpperCase()) return null;
      return third === OUTDOOR_LEVEL && last === 'reported' ? { kind: 'outdoor-reported', uai } : null;
    }
    if (levels.length !== 4) return null;
    const [uai, third, fourth, last] = levels as [string, string, string, string];
    if (!isValidUai(uai) || uai !== uai.toUpperCase()) return null;
    if (third === METER_LEVEL) {
      if (last !== 'reported' || topicSegmentProblem(fourth)) return null;
      return { kind: 'meter-reported', uai, meter: fourth };
    }
    if (third === OUTDOOR_LEVEL) return null;
    if (third === GATEWAY_LEVEL) {
      if (last !== 'status' || topicSegmentProblem(fourth)) return null;
      return { kind: 'gateway-status', uai, gateway: fourth };
    }
    const kind = ZONE_KINDS.find((k) => k === last);
    if (!kind || topicSegmentProblem(third) || !(ZONE_FUNCTIONS as readonly string[]).includes(fourth)) {
      return null;
    }
    return { kind, uai, zone: third, function: fourth as ZoneFunction };
  }

  /** The contract topic (and so the schema) behind a parsed topic. */
  contractOf(parsed: ParsedTopic): ContractTopic<unknown> {
    switch (parsed.kind) {
      case 'bridge-status':
        return this.bridgeStatus();
      case 'gateway-status':
        return this.gatewayStatus(parsed.uai, parsed.gateway);
      case 'desired':
        return this.desired(parsed.uai, parsed.zone, parsed.function);
      case 'schedule':
        return this.schedule(parsed.uai, parsed.zone, parsed.function);
      case 'reported':
        return this.reported(parsed.uai, parsed.zone, parsed.function);
      case 'meter-reported':
        return this.meterReported(parsed.uai, parsed.meter);
      case 'outdoor-reported':
        return this.outdoorReported(parsed.uai);
    }
  }

  /**
   * Validates a received message: topic, JSON, schema. Problems name the topic and the JSON path
   * (`$.entries[2].mode`) so a misbehaving gateway can be told exactly what it sent wrong.
   */
  decode(topic: string, payload: Uint8Array): DecodedMessage {
    const parsed = this.parse(topic);
    if (!parsed) {
      return problem(
        'mqtt-unknown-topic',
        `"${topic}" is not a topic of the contract under ${this.prefix}`,
        topic,
      );
    }
    if (payload.length === 0) return { ok: true, parsed, payload: null };
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch (error) {
      return problem(
        'mqtt-malformed-payload',
        `payload is not UTF-8 JSON: ${(error as Error).message}`,
        topic,
      );
    }
    const result = this.contractOf(parsed).schema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      return problem(
        'mqtt-invalid-payload',
        issue?.message ?? 'invalid payload',
        `${topic} ${jsonPath(issue?.path ?? [])}`,
      );
    }
    return { ok: true, parsed, payload: result.data };
  }

  private zoneTopic(uai: string, zone: string, fn: string, kind: (typeof ZONE_KINDS)[number]): string {
    return `${this.prefix}/${checkUai(uai)}/${checkZone(zone)}/${checkFunction(fn)}/${kind}`;
  }

  private contract<P>(kind: TopicKind, topic: string, schema: z.ZodType<P>): ContractTopic<P> {
    const { retain, qos } = TOPIC_DELIVERY[kind];
    return { kind, topic, retain, qos, schema };
  }
}

/** Serialises a payload after validating it against its topic's schema (throws a ZodError on a bug). */
export function encodePayload<P>(topic: ContractTopic<P>, payload: P): Buffer {
  return Buffer.from(JSON.stringify(topic.schema.parse(payload)), 'utf8');
}

function problem(code: string, message: string, where: string): DecodedMessage {
  return { ok: false, problem: { code, message, where } };
}

function jsonPath(path: readonly PropertyKey[]): string {
  return `$${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('')}`;
}
