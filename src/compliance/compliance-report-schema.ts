/**
 * The compliance report's shape (issue 21; docs/audit.md, "Compliance report"): one set of zod
 * schemas that gives the report's TypeScript types (compliance-report.ts builds it), the
 * published OpenAPI response of `GET /api/compliance`, and the check of that response in the
 * route tests. Every object is strict: a field added to the report without being declared here
 * fails the documented-response tests instead of reaching auditors undocumented.
 */
import { z } from 'zod';
import { ZONE_FUNCTIONS } from '../devices/schema.js';
import { exceptionSchema, HEATING_MODES, HEATING_SITUATIONS, SWITCH_MODES } from '../rules/schema.js';

/** The planner's reason kinds (src/rules/segment.ts), in the order an auditor reads them. */
export const REASON_KINDS = [
  'occupied',
  'preheat',
  'merged-gap',
  'short-gap',
  'long-gap',
  'holiday',
  'override',
  'fallback',
] as const;

const instant = z.iso.datetime().describe('UTC instant, ISO 8601');
const hours = z.number().nonnegative().describe('Hours, 2 decimals, summed exactly in ms first');
const zoneFunction = z.enum(ZONE_FUNCTIONS);
const planMode = z.enum([...new Set([...HEATING_MODES, ...SWITCH_MODES])] as [string, ...string[]]);
const situation = z.enum(HEATING_SITUATIONS);

export const measuredRowSchema = z
  .strictObject({
    measured_hours: hours.describe('Time with a valid measurement in force'),
    minutes_above_cap: z
      .int()
      .nonnegative()
      .describe('Measured above the cap (lifted to the setpoint a governed exception allows)'),
    minutes_above_cap_tolerance: z
      .int()
      .nonnegative()
      .describe('Measured above the cap plus comfort.overheat_tolerance_c'),
    max_measured_c: z.number().nullable(),
    max_measured_at: instant.nullable().describe('When the maximum was first measured'),
  })
  .describe("Measured temperatures of one zone's heating in one legal situation");

export const situationRowSchema = z.strictObject({
  situation,
  cap_c: z.number(),
  cap_basis: z.string(),
  hours,
  max_setpoint_c: z
    .number()
    .nullable()
    .describe('Highest setpoint requested in this situation (modes other than off); null when none'),
  status: z
    .enum(['within-cap', 'excepted', 'above-cap'])
    .describe('excepted: above the cap, only under a governed exception'),
  measured: measuredRowSchema.optional().describe("With the telemetry: what the zone's sensor measured"),
});

export const functionRowSchema = z.strictObject({
  function: zoneFunction,
  hours_by_kind: z.partialRecord(z.enum(REASON_KINDS), z.number()),
  hours_by_mode: z.partialRecord(planMode, z.number()),
  situations: z
    .array(situationRowSchema)
    .optional()
    .describe('Heating only: one row per legal situation met'),
});

export const zoneRowSchema = z.strictObject({
  zone: z.string(),
  name: z.string().nullable(),
  functions: z.array(functionRowSchema),
});

export const overrideRowSchema = z.strictObject({
  id: z.string(),
  zone: z.string(),
  function: zoneFunction,
  mode: planMode,
  setpoint_c: z.number().nullable(),
  from: instant,
  until: instant,
  requested_until: instant,
  hours_in_period: hours,
  author: z.string(),
  reason: z.string(),
  created_at: instant,
  cancelled_at: instant.nullable(),
  cancelled_by: z.string().nullable(),
});

export const refusedOverrideRowSchema = z.strictObject({
  seq: z.int(),
  at: instant,
  zone: z.string().nullable(),
  actor: z.string(),
  code: z.string().nullable(),
  refusal: z.string().nullable(),
});

export const exceptionRowSchema = exceptionSchema.safeExtend({
  zone: z.string(),
  function: zoneFunction,
  rule: z.string().describe('The rule whose temperature the exception lifts'),
  hours,
  max_setpoint_c: z.number().nullable(),
  first_from: instant,
  last_to: instant,
});

export const deviationRowSchema = z.strictObject({
  zone: z.string(),
  function: z.string(),
  rev: z.int(),
  kind: z.enum(['not-applied', 'applied-differently']),
  desired_mode: z.string().nullable(),
  desired_setpoint_c: z.number().nullable(),
  published_at: instant,
  deadline: instant.describe('published_at + the lag'),
  acknowledged_at: instant
    .nullable()
    .describe('The first report of this rev or a later one; null when none came'),
  reported_rev: z
    .int()
    .nullable()
    .describe(
      'What the gateway reported last by the deadline (not-applied) or for this rev (applied-differently)',
    ),
  reported_mode: z.string().nullable(),
  reported_setpoint_c: z.number().nullable(),
  publish_seq: z.int(),
});

export const complianceReportSchema = z.strictObject({
  uai: z.string(),
  name: z.string(),
  timezone: z.string(),
  from: z.iso.date(),
  to: z.iso.date(),
  range: z.strictObject({ from: instant, to: instant }),
  generated_at: instant,
  basis: z.string(),
  plans: z.array(
    z.strictObject({
      from: instant,
      to: instant,
      hash: z.string(),
      rules_version: z.string(),
      timetable_version: z.int().nullable(),
      fallback: z.boolean(),
    }),
  ),
  summary: z.strictObject({
    within_caps: z.boolean(),
    above_cap_situations: z.int(),
    overrides: z.int(),
    refused_overrides: z.int(),
    exceptions: z.int(),
    gateway_deviations: z.int(),
    pending_revs: z.int().describe('Revs published within the lag before generated_at: not judged yet'),
    audit_truncated: z.boolean(),
    measured: z
      .strictObject({
        samples: z.int().describe('Valid heating reports in the period (flagged ones are not facts)'),
        flagged: z.int(),
        retained_since: instant.describe('Raw reports are kept from this instant on: before it, unmeasured'),
        occupied_minutes_above_cap: z.int(),
        occupied_minutes_above_cap_tolerance: z.int(),
        zones_above_cap_tolerance: z
          .array(z.string())
          .describe('Zones whose measured temperature exceeded the occupied cap plus the tolerance'),
      })
      .optional()
      .describe('With the telemetry'),
  }),
  zones: z.array(zoneRowSchema),
  overrides: z.array(overrideRowSchema),
  refused_overrides: z.array(refusedOverrideRowSchema),
  exceptions: z.array(exceptionRowSchema),
  gateway_deviations: z.array(deviationRowSchema),
});

export type MeasuredRow = z.infer<typeof measuredRowSchema>;
export type SituationRow = z.infer<typeof situationRowSchema>;
export type FunctionRow = z.infer<typeof functionRowSchema>;
export type ZoneRow = z.infer<typeof zoneRowSchema>;
export type OverrideRow = z.infer<typeof overrideRowSchema>;
export type RefusedOverrideRow = z.infer<typeof refusedOverrideRowSchema>;
export type ExceptionRow = z.infer<typeof exceptionRowSchema>;
export type DeviationRow = z.infer<typeof deviationRowSchema>;
export type ComplianceReport = z.infer<typeof complianceReportSchema>;
