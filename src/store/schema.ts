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

/** Last good SORTIE occupancy per school and the health of its sync (migration 0003). */
export interface SyncStateTable {
  uai: string;
  /** The SORTIE occupancy body as received, JSON; null until a first 200. */
  body_json: string | null;
  etag: string | null;
  version: number | null;
  range_from: string | null;
  range_to: string | null;
  /** ISO 8601 UTC: last 200 with a body. */
  fetched_at: string | null;
  /** ISO 8601 UTC: last answer of the source (200, 304, or 404 = it has no timetable). */
  last_success_at: string | null;
  last_attempt_at: string | null;
  /** ISO 8601 UTC: first failure since the last success. */
  failing_since: string | null;
  last_error: string | null;
  last_error_kind: string | null;
}

/** Managers' overrides (migration 0003); instants ISO 8601 UTC. */
export interface OverrideTable {
  id: string;
  uai: string;
  zone: string;
  function: string;
  mode: string;
  setpoint_c: number | null;
  from_at: string;
  /** Effective end: the requested end, or the cancellation instant. */
  until_at: string;
  requested_json: string;
  requested_until_at: string;
  author: string;
  reason: string;
  created_at: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
  ended_recorded_at: string | null;
}

/** Start, cancellation and expiry of overrides (migration 0003). */
export interface OverrideEventTable {
  id: string;
  override_id: string;
  uai: string;
  kind: 'created' | 'cancelled' | 'expired';
  at: string;
  actor: string;
  detail_json: string;
}

/** The last `desired` per zone and function (migration 0002); its rev never goes back. */
export interface BridgeDesiredTable {
  uai: string;
  zone: string;
  function: string;
  rev: number;
  /** Hex SHA-256 of `content_json`: equal content keeps its rev. */
  content_hash: string;
  /** `desired` without rev and issued_at, JSON. */
  content_json: string;
  /** ISO 8601 UTC: when this rev was first issued. */
  issued_at: string;
}

/** The last valid `reported` per zone and function (migration 0002). */
export interface GatewayReportedTable {
  uai: string;
  zone: string;
  function: string;
  applied_rev: number;
  payload_json: string;
  /** ISO 8601 UTC: when the bridge received it. */
  received_at: string;
}

/** Each gateway's last status (migration 0002). */
export interface GatewayStatusTable {
  uai: string;
  gateway: string;
  state: 'online' | 'offline';
  /** ISO 8601 UTC: the last message from this gateway (status or reported). */
  last_seen: string;
}

/** The hash-chained audit log (migration 0004); never updated or deleted by the service. */
export interface AuditLogTable {
  /** 1, 2, 3… without gaps: a gap is a deleted row. */
  seq: number;
  /** ISO 8601 UTC instant of the event. */
  at: string;
  kind: string;
  uai: string | null;
  zone: string | null;
  actor: string;
  /** Canonical JSON (sorted keys), exactly as hashed. */
  detail_json: string;
  prev_hash: string;
  /** Hex SHA-256 of the canonical entry (src/domain/audit-entry.ts). */
  hash: string;
}

/** The audit log's last seq and hash, one row with id 1 (migration 0004). */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

/**
 * The end of the last audit purge, one row with id 1 (migration 0017): the last purged entry's seq
 * and hash (0 and 64 zeros before any purge) and the seq of the `config` entry that logged it.
 */
export interface AuditAnchorTable {
  id: number;
  seq: number;
  hash: string;
  purge_seq: number;
}

/**
 * A bridge instance sharing the database (migration 0005). Epoch ms of the database clock; `bigint`
 * columns come back from PostgreSQL as strings, so readers convert with Number().
 */
export interface BridgeInstanceTable {
  instance_id: string;
  boot: string;
  started_at: number | string;
  heartbeat_at: number | string;
  expires_at: number | string;
}

/** Who plans and publishes a school, until when, under which fencing epoch (migration 0005). */
export interface SchoolLeaseTable {
  uai: string;
  owner: string;
  epoch: number | string;
  acquired_at: number | string;
  expires_at: number | string;
}

/** A logged-out page session, refused until its token expires (migration 0007). */
export interface RevokedSessionTable {
  /** The `sid` claim of the session token. */
  sid: string;
  /** ISO 8601 UTC: when the token expires; the row may go after that. */
  expires_at: string;
}

/**
 * A gateway login as EMQX reads it (migration 0008, PostgreSQL only), kept from devices/ by
 * src/broker-access/emqx-access.ts. EMQX reads the views `emqx_authn` and `emqx_acl` over these.
 */
export interface BrokerLoginTable {
  username: string;
  /** null for the bridge's ACL-only row. */
  uai: string | null;
  gateway: string | null;
  /** PBKDF2-SHA256 hex; null when devices/ holds no EMQX hash (needs `gateway credentials`). */
  password_hash: string | null;
  salt: string | null;
  /** ISO 8601 UTC end of a replaced credential; null for a current one. */
  valid_until: string | null;
}

/** One EMQX authorisation rule (migration 0008): first match wins, higher priority first. */
export interface BrokerAclTable {
  username: string;
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe';
  topic: string;
  priority: number;
}

/** A meter reading (migration 0013): a cumulative index, or the energy of an interval. */
export interface MeterReadingTable {
  uai: string;
  meter: string;
  /** ISO 8601 UTC: the reading, or the end of the interval. */
  ts: string;
  kind: 'index' | 'interval';
  value_kwh: number;
  /** Interval readings: ISO 8601 UTC start of the interval. */
  period_from: string | null;
  source: string;
  received_at: string;
}

/** A school's outdoor sensor reading (migration 0013). */
export interface OutdoorReadingTable {
  uai: string;
  ts: string;
  temperature_c: number;
  received_at: string;
}

/** The savings estimate of a closed week or month, frozen with the versions used (migration 0013). */
export interface FrozenSavingsTable {
  uai: string;
  period_kind: 'week' | 'month';
  period_from: string;
  period_to: string;
  frozen_at: string;
  rules_version: string;
  timetable_versions_json: string;
  plan_hashes_json: string;
  body_json: string;
}

/** Scheduled events, manual or from a booking feed (migration 0015; docs/events.md). */
export interface ScheduledEventTable {
  id: string;
  uai: string;
  title: string;
  start_local: string;
  end_local: string;
  recurrence_json: string | null;
  target_json: string;
  source: 'manual' | 'feed';
  feed_id: string | null;
  feed_key: string | null;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}

/** Per school and booking feed, its validators and health (migration 0015). */
export interface BookingFeedStateTable {
  uai: string;
  feed_id: string;
  etag: string | null;
  last_modified: string | null;
  body_sha256: string | null;
  last_success_at: string | null;
  last_attempt_at: string | null;
  failing_since: string | null;
  last_error: string | null;
}

export interface Database {
  establishments: EstablishmentTable;
  timetable_versions: TimetableVersionTable;
  bridge_desired: BridgeDesiredTable;
  gateway_reported: GatewayReportedTable;
  gateway_status: GatewayStatusTable;
  sync_state: SyncStateTable;
  overrides: OverrideTable;
  override_events: OverrideEventTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_anchor: AuditAnchorTable;
  bridge_instances: BridgeInstanceTable;
  school_leases: SchoolLeaseTable;
  revoked_sessions: RevokedSessionTable;
  broker_logins: BrokerLoginTable;
  broker_acl: BrokerAclTable;
  meter_readings: MeterReadingTable;
  outdoor_readings: OutdoorReadingTable;
  frozen_savings: FrozenSavingsTable;
  telemetry_samples: TelemetrySampleTable;
  telemetry_hourly: TelemetryHourlyTable;
  telemetry_monthly: TelemetryMonthlyTable;
  telemetry_progress: TelemetryProgressTable;
  scheduled_events: ScheduledEventTable;
  booking_feed_state: BookingFeedStateTable;
  telemetry_starts: TelemetryStartTable;
}

/**
 * Telemetry (migration 0012, docs/telemetry.md). Instants are epoch ms (bigint: PostgreSQL
 * returns them as strings, the repository converts); durations are ms.
 */
export interface TelemetrySampleTable {
  uai: string;
  zone: string;
  function: string;
  ts: number | string;
  received_at: number | string;
  measured_c: number | null;
  mode: string;
  setpoint_c: number | null;
  applied_rev: number | string;
  source: string;
  /** Why the sample is not a fact (`out-of-range`, `stuck`), or null. */
  flag: string | null;
}

interface TelemetryFigureColumns {
  uai: string;
  zone: string;
  function: string;
  min_c: number | null;
  mean_c: number | null;
  max_c: number | null;
  occupied_ms: number | string;
  measured_ms: number | string;
  occupied_measured_ms: number | string;
  cold_ms: number | string;
  overheated_ms: number | string;
  unmeasured_ms: number | string;
  starts: number;
  cold_starts: number;
}

export interface TelemetryHourlyTable extends TelemetryFigureColumns {
  /** Epoch ms of the hour's start (UTC). */
  hour: number | string;
  samples: number;
  flagged: number;
  /** `{mode: ms}` of the applied mode reported. */
  modes_json: string;
  /** `ComfortStart[]` of the hour. */
  starts_json: string;
}

export interface TelemetryMonthlyTable extends TelemetryFigureColumns {
  /** `YYYY-MM`, UTC. */
  month: string;
}

/** Migration 0014: one row per occupancy start (the hour's `starts_json`, indexed by instant). */
export interface TelemetryStartTable {
  uai: string;
  zone: string;
  function: string;
  /** Epoch ms of the start. */
  at: number | string;
  target_c: number | null;
  measured_c: number | null;
  /** 1 when cold, 0 otherwise (SQLite has no boolean). */
  cold: number;
}

export interface TelemetryProgressTable {
  uai: string;
  /** Epoch ms: every hour before this one is aggregated for the school. */
  aggregated_until: number | string;
}
