/**
 * Audit entries as CSV for a spreadsheet: UTF-8 with a byte-order mark (without it Excel reads
 * UTF-8 as Windows-1252 and "é" becomes "Ã©"), `;` between fields (French Excel expects it: `,`
 * is the decimal separator), CRLF line ends and quoting as in RFC 4180.
 */
import type { AuditEntry } from '../domain/audit-entry.js';

export const CSV_BOM = '\uFEFF';
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'kind',
  'uai',
  'zone',
  'actor',
  'detail',
  'prev_hash',
  'hash',
] as const;

export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(';')];
  for (const e of entries) {
    lines.push(
      [
        String(e.seq),
        e.at,
        e.kind,
        e.uai ?? '',
        e.zone ?? '',
        e.actor,
        JSON.stringify(e.detail),
        e.prevHash,
        e.hash,
      ]
        .map(csvField)
        .join(';'),
    );
  }
  return `${CSV_BOM}${lines.join('\r\n')}\r\n`;
}

/** One RFC 4180 field with `;` as the separator. */
export function csvField(text: string): string {
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
