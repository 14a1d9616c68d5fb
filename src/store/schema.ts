/**
 * Row types of every table, as kysely sees them. One schema for SQLite and PostgreSQL: instants
 * are ISO 8601 UTC text (`toISOString()`, fixed width so they sort as text), JSON is text, counts
 * and version numbers are 32-bit integers (both dialects return them as JS numbers).
 *
 * Later parts add their tables here and in a new migration (bridge state, rev counters, audit,
 * overrides, leases).
 */

/** One school known to the hub; created by its first successful import. */
export interface EstablishmentTable {
  uai: string;
  name: string | null;
  /** IANA zone of the school's wall-clock times (Europe/Paris, or an overseas zone). */
  timezone: string;
  /** Version served by SORTIE; null only for a school registered without a timetable. */
  current_version: number | null;
  /** ISO 8601 UTC instant of the last change to this row. */
  updated_at: string;
}

/** One imported timetable, immutable once written. */
export interface TimetableVersionTable {
  uai: string;
  /** 1, 2, 3… per school, without gaps. */
  version: number;
  /** Hex SHA-256 of the bytes as received: the same bytes again are "unchanged". */
  sha256: string;
  /** Import format (`json`, `edt`, `udt`…). */
  format: string;
  /** ISO 8601 UTC instant of the import. */
  imported_at: string;
  /** Client id of the editor (or `cli:<user>`) that pushed it. */
  imported_by: string;
  room_count: number;
  lesson_count: number;
  /** Lesson occurrences over the school year, as counted by the import. */
  occurrence_count: number;
  /** `Problem[]` the reader reported, JSON. */
  warnings_json: string;
  /** The normalised `Timetable`, JSON (no pupil data: readers drop it). */
  document_json: string;
}

export interface Database {
  establishments: EstablishmentTable;
  timetable_versions: TimetableVersionTable;
}
