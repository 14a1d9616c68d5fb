/**
 * The compliance report as one CSV table, for a spreadsheet: like the audit export (audit-csv.ts),
 * UTF-8 with a byte-order mark, `;` between fields, CRLF line ends, RFC 4180 quoting. One row per
 * fact, its `section` saying which part of the report it belongs to; numbers with a `.` decimal
 * point (as in the JSON), instants in UTC. The API and the CLI both write it with this function.
 */
import { CSV_BOM, csvField } from '../audit/audit-csv.js';
import type { ComplianceReport } from './compliance-report-schema.js';

export const COMPLIANCE_CSV_COLUMNS = [
  'section',
  'zone',
  'function',
  'item',
  'from',
  'to',
  'hours',
  'setpoint_c',
  'cap_c',
  'status',
  'author',
  'reference',
  'detail',
] as const;

type Row = Partial<Record<(typeof COMPLIANCE_CSV_COLUMNS)[number], string | number | null>>;

export function complianceCsv(report: ComplianceReport): string {
  const rows: Row[] = [
    {
      section: 'school',
      item: report.uai,
      from: report.range.from,
      to: report.range.to,
      status: report.summary.within_caps ? 'within-caps' : 'above-cap',
      detail: JSON.stringify({
        name: report.name,
        from: report.from,
        to: report.to,
        timezone: report.timezone,
        generated_at: report.generated_at,
        summary: report.summary,
      }),
    },
  ];
  for (const plan of report.plans) {
    rows.push({
      section: 'plan',
      item: plan.hash,
      from: plan.from,
      to: plan.to,
      detail: JSON.stringify({
        rules_version: plan.rules_version,
        timetable_version: plan.timetable_version,
        fallback: plan.fallback,
      }),
    });
  }
  for (const zone of report.zones) {
    for (const f of zone.functions) {
      const at = { zone: zone.zone, function: f.function };
      for (const [kind, hours] of Object.entries(f.hours_by_kind))
        rows.push({ section: 'hours-by-tier', ...at, item: kind, hours });
      for (const [mode, hours] of Object.entries(f.hours_by_mode))
        rows.push({ section: 'hours-by-mode', ...at, item: mode, hours });
      for (const s of f.situations ?? []) {
        rows.push({
          section: 'max-setpoint',
          ...at,
          item: s.situation,
          hours: s.hours,
          setpoint_c: s.max_setpoint_c,
          cap_c: s.cap_c,
          status: s.status,
          reference: s.cap_basis,
        });
      }
      // Measured temperatures against the same caps: `setpoint_c` holds the highest measured.
      for (const s of f.situations ?? []) {
        if (!s.measured) continue;
        rows.push({
          section: 'measured',
          ...at,
          item: s.situation,
          from: s.measured.max_measured_at,
          hours: s.measured.measured_hours,
          setpoint_c: s.measured.max_measured_c,
          cap_c: s.cap_c,
          status:
            s.measured.minutes_above_cap_tolerance > 0
              ? 'above-cap-tolerance'
              : s.measured.minutes_above_cap > 0
                ? 'above-cap'
                : 'within-cap',
          reference: s.cap_basis,
          detail: JSON.stringify({
            minutes_above_cap: s.measured.minutes_above_cap,
            minutes_above_cap_tolerance: s.measured.minutes_above_cap_tolerance,
          }),
        });
      }
    }
  }
  for (const o of report.overrides) {
    rows.push({
      section: 'override',
      zone: o.zone,
      function: o.function,
      item: o.id,
      from: o.from,
      to: o.until,
      hours: o.hours_in_period,
      setpoint_c: o.setpoint_c,
      status: o.cancelled_at === null ? 'ran' : 'cancelled',
      author: o.author,
      detail: JSON.stringify({
        mode: o.mode,
        reason: o.reason,
        created_at: o.created_at,
        requested_until: o.requested_until,
        cancelled_at: o.cancelled_at,
        cancelled_by: o.cancelled_by,
      }),
    });
  }
  for (const r of report.refused_overrides) {
    rows.push({
      section: 'refused-override',
      zone: r.zone,
      item: r.seq,
      from: r.at,
      status: r.code,
      author: r.actor,
      detail: r.refusal,
    });
  }
  for (const e of report.exceptions) {
    rows.push({
      section: 'exception',
      zone: e.zone,
      function: e.function,
      item: e.rule,
      from: e.first_from,
      to: e.last_to,
      hours: e.hours,
      setpoint_c: e.max_setpoint_c,
      author: e.approved_by,
      reference: e.reference,
      detail: JSON.stringify({ justification: e.justification, basis: e.basis, approved_on: e.approved_on }),
    });
  }
  for (const d of report.gateway_deviations) {
    rows.push({
      section: 'gateway-deviation',
      zone: d.zone,
      function: d.function,
      item: d.rev,
      from: d.published_at,
      to: d.deadline,
      setpoint_c: d.desired_setpoint_c,
      status: d.kind,
      detail: JSON.stringify({
        desired_mode: d.desired_mode,
        acknowledged_at: d.acknowledged_at,
        reported_rev: d.reported_rev,
        reported_mode: d.reported_mode,
        reported_setpoint_c: d.reported_setpoint_c,
        publish_seq: d.publish_seq,
      }),
    });
  }
  const lines = [COMPLIANCE_CSV_COLUMNS.join(';')];
  for (const row of rows) {
    lines.push(
      COMPLIANCE_CSV_COLUMNS.map((c) =>
        csvField(row[c] === undefined || row[c] === null ? '' : String(row[c])),
      ).join(';'),
    );
  }
  return `${CSV_BOM}${lines.join('\r\n')}\r\n`;
}
