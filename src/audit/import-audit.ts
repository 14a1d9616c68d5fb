/**
 * The audit entry of a stored timetable version, one shape for every import path (issue 21,
 * "Attribution everywhere"): ENTRÉE over HTTP (the client id), the CLI (`cli:<OS user>`), the demo
 * seed (`demo-seed`) and any later path, each naming itself in `via`.
 */

export type ImportPath = 'http' | 'cli' | 'seed' | 'bulk' | 'booking-feed';

export interface ImportedVersion {
  uai: string;
  version: number;
  sha256: string;
  format: string;
  counts: { rooms: number; lessons: number; occurrences: number };
}

export interface ImportAuditEntry {
  kind: 'import';
  at: number;
  actor: string;
  uai: string;
  detail: Record<string, unknown>;
}

export function importAuditEntry(
  report: ImportedVersion,
  actor: string,
  via: ImportPath,
  at: number,
): ImportAuditEntry {
  return {
    kind: 'import',
    at,
    actor,
    uai: report.uai,
    detail: {
      version: report.version,
      sha256: report.sha256,
      format: report.format,
      counts: report.counts,
      via,
    },
  };
}
