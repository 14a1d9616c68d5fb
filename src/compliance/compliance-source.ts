import { DEFAULT_LAG_DELAY_MS } from '../bridge/gateway-tracker.js';
import { addDaysIso } from '../calendar/index.js';
import { localDatePeriod } from '../calendar/local-date-period.js';
import type { Clock } from '../domain/clock.js';
import type { AuditFilter } from '../store/audit-repository.js';
import {
  type AuditEntryOfPeriod,
  complianceReport,
  type MeasuredSampleOfPeriod,
  type OverrideOfPeriod,
  type PlanOfPeriod,
} from './compliance-report.js';
import type { ComplianceReport } from './compliance-report-schema.js';

/** A school term and a half: the planner works a month at a time, so at most four plans. */
export const MAX_COMPLIANCE_DAYS = 93;
/** One planning call covers at most this many days (`MAX_PLAN_DAYS`). */
export const COMPLIANCE_CHUNK_DAYS = 31;
/** Entries read per kind; beyond it the report says `audit_truncated`. */
export const MAX_COMPLIANCE_AUDIT_ENTRIES = 200_000;
/** A rev not applied within the gateway tracker's lag is a deviation (docs/mqtt.md). */
export const COMPLIANCE_LAG_MS = DEFAULT_LAG_DELAY_MS;

export interface CompliancePeriod {
  from: string;
  /** Inclusive. */
  to: string;
  days: number;
  range: { from: number; to: number };
}

/** Local dates `from`..`to` (inclusive) of a school; `where` names the inputs in errors. */
export function compliancePeriod(
  from: string | undefined,
  to: string | undefined,
  timezone: string,
  where: { from: string; to: string },
): CompliancePeriod {
  return localDatePeriod(from, to, timezone, where, MAX_COMPLIANCE_DAYS);
}

export interface ComplianceSources {
  /** The school's plan over local dates `date`..`date + days − 1`, overrides included. */
  planChunk(date: string, days: number): Promise<PlanOfPeriod>;
  overridesOverlapping(range: { from: number; to: number }): Promise<readonly OverrideOfPeriod[]>;
  auditEntries(filter: AuditFilter): Promise<readonly AuditEntryOfPeriod[]>;
  /** The gateways' measured temperatures (docs/telemetry.md); without it the report has none. */
  measured?: MeasuredSources;
  clock: Clock;
}

export interface MeasuredSources {
  /** The school's reports with `from <= ts < to`. */
  samples(from: number, to: number): Promise<readonly MeasuredSampleOfPeriod[]>;
  /** `telemetry.hold_minutes` in ms. */
  holdMs: number;
  /** `comfort.overheat_tolerance_c`. */
  toleranceC: number;
  /** `telemetry.raw_retention_days`. */
  rawRetentionDays: number;
}

export async function gatherComplianceReport(
  school: { uai: string; name: string; timezone: string },
  period: CompliancePeriod,
  sources: ComplianceSources,
): Promise<ComplianceReport> {
  const plans: PlanOfPeriod[] = [];
  for (let offset = 0; offset < period.days; offset += COMPLIANCE_CHUNK_DAYS) {
    const days = Math.min(COMPLIANCE_CHUNK_DAYS, period.days - offset);
    plans.push(await sources.planChunk(addDaysIso(period.from, offset), days));
  }
  const overrides = await sources.overridesOverlapping(period.range);
  const audit: AuditEntryOfPeriod[] = [];
  let auditTruncated = false;
  for (const kind of ['publish', 'ack', 'override'] as const) {
    const entries = await sources.auditEntries({
      uai: school.uai,
      kind,
      from: period.range.from,
      to: period.range.to + COMPLIANCE_LAG_MS,
      limit: MAX_COMPLIANCE_AUDIT_ENTRIES,
    });
    if (entries.length >= MAX_COMPLIANCE_AUDIT_ENTRIES) auditTruncated = true;
    audit.push(...entries);
  }
  const source = sources.measured;
  const measured = source
    ? {
        samples: await source.samples(period.range.from - source.holdMs, period.range.to),
        holdMs: source.holdMs,
        toleranceC: source.toleranceC,
        retainedSince: sources.clock.now() - source.rawRetentionDays * 86_400_000,
      }
    : undefined;
  return complianceReport(
    {
      ...school,
      from: period.from,
      to: period.to,
      range: period.range,
      plans,
      overrides,
      audit,
      lagMs: COMPLIANCE_LAG_MS,
      auditTruncated,
      ...(measured ? { measured } : {}),
    },
    sources.clock,
  );
}
