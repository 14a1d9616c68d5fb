/**
 * The compliance report from the running service's parts (the API and the dashboard): plans from
 * the planning service, overrides and audit entries from the store.
 */
import type { PlanForDates } from '../bridge/planning.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import type { AuditRepository } from '../store/audit-repository.js';
import type { OverrideRepository } from '../store/override-repository.js';
import type { TelemetryRepository } from '../store/telemetry-repository.js';
import type { ComplianceReport } from './compliance-report-schema.js';
import { compliancePeriod, gatherComplianceReport, type MeasuredSources } from './compliance-source.js';

export interface ComplianceServiceDeps {
  /** `PlanningService.planFor`. */
  planFor(uai: string, date: string, days: number): Promise<PlanForDates>;
  /** The devices of a school of the site (`site.current.devices.get`). */
  devicesOf(uai: string): LoadedDevices | undefined;
  audit: Pick<AuditRepository, 'list'>;
  overrides: Pick<OverrideRepository, 'list'>;
  /** The telemetry store and its settings: measured temperatures against the caps. */
  measured?: {
    telemetry: Pick<TelemetryRepository, 'samplesOf'>;
    holdMs: number;
    toleranceC: number;
    rawRetentionDays: number;
  };
  clock: Clock;
}

export interface ComplianceService {
  /**
   * The report of a school the site drives (null for another), over local dates `from`..`to`;
   * `where` names the date inputs in errors (`from (query)`).
   */
  report(
    uai: string,
    from: string | undefined,
    to: string | undefined,
    where: { from: string; to: string },
  ): Promise<ComplianceReport | null>;
}

export function createComplianceService(deps: ComplianceServiceDeps): ComplianceService {
  return {
    async report(uai, from, to, where) {
      const devices = deps.devicesOf(uai);
      if (!devices) return null;
      const { name, timezone } = devices.value.school;
      const period = compliancePeriod(from, to, timezone, where);
      return gatherComplianceReport({ uai, name, timezone }, period, {
        planChunk: async (date, days) => (await deps.planFor(uai, date, days)).plan,
        overridesOverlapping: (range) => deps.overrides.list({ uais: [uai], overlapping: range }),
        auditEntries: (filter) => deps.audit.list(filter),
        ...(deps.measured ? { measured: measuredSources(deps.measured, uai) } : {}),
        clock: deps.clock,
      });
    },
  };
}

/** The compliance report's telemetry source for one school, from the store and the settings. */
export function measuredSources(
  measured: NonNullable<ComplianceServiceDeps['measured']>,
  uai: string,
): MeasuredSources {
  return {
    samples: (from, to) => measured.telemetry.samplesOf(uai, from, to),
    holdMs: measured.holdMs,
    toleranceC: measured.toleranceC,
    rawRetentionDays: measured.rawRetentionDays,
  };
}
