/**
 * CSV for a spreadsheet, as the audit export writes it (src/audit/audit-csv.ts): UTF-8 with a
 * byte-order mark (without it Excel reads UTF-8 as Windows-1252), `;` between fields and a decimal
 * comma (French Excel reads `,` as the decimal separator), CRLF line ends, quoting as in RFC 4180.
 */

export const CSV_BOM = '\uFEFF';

export type CsvValue = string | number | null | undefined;

/** A number with `digits` decimals and a decimal comma; empty for null. */
export function decimal(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return '';
  return value.toFixed(digits).replace('.', ',');
}

export function csvField(value: CsvValue): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The whole file: BOM, header, rows, each line ended by CRLF. */
export function spreadsheetCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header.map(csvField).join(';'), ...rows.map((row) => row.map(csvField).join(';'))];
  return `${CSV_BOM}${lines.join('\r\n')}\r\n`;
}
