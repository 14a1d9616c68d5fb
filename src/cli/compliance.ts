import { localDaysRange } from '../bridge/planning.js';
import { complianceCsv } from '../compliance/compliance-csv.js';
import type { ComplianceReport } from '../compliance/compliance-report-schema.js';
import { measuredSources } from '../compliance/compliance-service.js';
import {
  compliancePeriod,
  gatherComplianceReport,
  MAX_COMPLIANCE_DAYS,
} from '../compliance/compliance-source.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { type Command, EXIT, stringOption, writeJson } from './command.js';
import { openCommandStore } from './context.js';
import { loadOfflineSchool, planOffline } from './offline-school.js';

export const complianceCommand: Command = {
  name: 'compliance',
  summary:
    "a school's compliance report over a period: hours per tier, caps, measured temperatures, overrides, exceptions, gateway deviations",
  help: `Usage: scope-energie compliance --uai UAI --from YYYY-MM-DD --to YYYY-MM-DD [--json | --csv] [--at INSTANT]

The compliance report of docs/audit.md ("Compliance report"), from the store: per zone and function
the hours per tier and mode of the period's plans (made as \`scope-energie plan\` makes them), the
highest setpoint requested in each heating situation against the cap of the Code de l'énergie
(R241-26, R241-27), the overrides with their authors and those refused, the exceptions applied
with their approver and reference, and the gateways' deviations (a rev not applied within 5 min,
or applied with another mode or setpoint) from the audit log; with the gateways' stored reports,
the measured temperatures in each heating situation against the same cap (minutes above it and
the highest measured).

Options:
  --uai UAI                the school (a devices file must exist for it)
  --from DATE, --to DATE   first and last local dates, at most ${MAX_COMPLIANCE_DAYS} days
  --json                   the report as JSON (the body of GET /api/compliance)
  --csv                    the report as CSV (UTF-8 with BOM, ";", CRLF; the bytes of GET /api/compliance?format=csv)
  --at INSTANT             report as of this ISO 8601 instant (default: now)`,
  options: {
    uai: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    csv: { type: 'boolean' },
    at: { type: 'string' },
  },
  async run(args, io) {
    const school = loadOfflineSchool(args, io);
    const { uai, devices, timezone, context } = school;
    const clock = clockAt(stringOption(args, 'at'));
    const period = compliancePeriod(stringOption(args, 'from'), stringOption(args, 'to'), timezone, {
      from: '--from',
      to: '--to',
    });
    const store = await openCommandStore(context);
    let report: ComplianceReport;
    try {
      report = await gatherComplianceReport({ uai, name: devices.value.school.name, timezone }, period, {
        planChunk: (date, days) => planOffline(school, localDaysRange(date, days, timezone)),
        overridesOverlapping: (range) => store.overrides.list({ uais: [uai], overlapping: range }),
        auditEntries: (filter) => store.audit.list(filter),
        measured: measuredSources(
          {
            telemetry: store.telemetry,
            holdMs: context.config.telemetry.hold_minutes * 60_000,
            toleranceC: context.config.comfort.overheat_tolerance_c,
            rawRetentionDays: context.config.telemetry.raw_retention_days,
          },
          uai,
        ),
        clock,
      });
    } finally {
      await store.close();
    }
    if (args.values['csv'] === true) io.stdout.write(complianceCsv(report));
    else if (args.values['json'] === true) writeJson(io, report);
    else io.stdout.write(summary(report));
    return EXIT.ok;
  },
};

function clockAt(at: string | undefined): Clock {
  if (at === undefined) return systemClock;
  const ms = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(ms)) {
    throw InputError.of('bad-instant', `--at ${at} is not an ISO 8601 instant`, '--at', 'malformed');
  }
  return { now: () => ms };
}

function summary(r: ComplianceReport): string {
  const lines = [
    `${r.name} (${r.uai}), ${r.from} to ${r.to} (${r.timezone})`,
    r.summary.within_caps
      ? 'within the legal caps (or under approved exceptions)'
      : `ABOVE A LEGAL CAP without an approved exception in ${r.summary.above_cap_situations} situation(s)`,
    '',
  ];
  for (const zone of r.zones) {
    for (const f of zone.functions) {
      const tiers = Object.entries(f.hours_by_kind)
        .map(([k, h]) => `${k} ${h} h`)
        .join(', ');
      lines.push(`${zone.zone} ${f.function}: ${tiers}`);
      for (const s of f.situations ?? []) {
        lines.push(`  ${s.situation}: max ${s.max_setpoint_c ?? '-'} °C, cap ${s.cap_c} °C: ${s.status}`);
        if (s.measured && s.measured.measured_hours > 0) {
          lines.push(
            `    measured: max ${s.measured.max_measured_c ?? '-'} °C, ${s.measured.minutes_above_cap} min above the cap (${s.measured.minutes_above_cap_tolerance} min beyond the tolerance), ${s.measured.measured_hours} h measured`,
          );
        }
      }
    }
  }
  lines.push('', `overrides: ${r.overrides.length} (refused: ${r.refused_overrides.length})`);
  for (const o of r.overrides)
    lines.push(`  ${o.from} ${o.zone} ${o.function} ${o.mode} by ${o.author}: ${o.reason}`);
  lines.push(`exceptions: ${r.exceptions.length}`);
  for (const e of r.exceptions)
    lines.push(
      `  ${e.zone} ${e.rule} ${e.max_setpoint_c} °C, approved by ${e.approved_by} on ${e.approved_on} (${e.reference})`,
    );
  lines.push(`gateway deviations: ${r.gateway_deviations.length}`);
  for (const d of r.gateway_deviations)
    lines.push(`  ${d.published_at} ${d.zone} ${d.function} rev ${d.rev}: ${d.kind}`);
  return `${lines.join('\n')}\n`;
}
