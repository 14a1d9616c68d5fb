/**
 * Every migration, in code: bundlers and `tsc` output keep them, unlike a folder read at run
 * time. Names sort in the order they must run; never rename or edit one that has shipped.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as timetables0001 from './0001_timetables.js';
import * as bridgeState0002 from './0002_bridge_state.js';
import * as syncAndOverrides0003 from './0003_sync_and_overrides.js';
import * as audit0004 from './0004_audit.js';
import * as leases0005 from './0005_leases.js';
import * as auditAppendOnly0006 from './0006_audit_append_only.js';
import * as revokedSessions0007 from './0007_revoked_sessions.js';
import * as brokerAccess0008 from './0008_broker_access.js';
import * as telemetry0012 from './0012_telemetry.js';
import * as metersAndFrozenSavings0013 from './0013_meters_and_frozen_savings.js';
import * as telemetryStarts0014 from './0014_telemetry_starts.js';
import * as scheduledEvents0015 from './0015_scheduled_events.js';
import * as auditPurgeAnchor0017 from './0017_audit_purge_anchor.js';

const migrations: Record<string, Migration> = {
  '0001_timetables': timetables0001,
  '0002_bridge_state': bridgeState0002,
  '0003_sync_and_overrides': syncAndOverrides0003,
  '0004_audit': audit0004,
  '0005_leases': leases0005,
  '0006_audit_append_only': auditAppendOnly0006,
  '0007_revoked_sessions': revokedSessions0007,
  '0008_broker_access': brokerAccess0008,
  '0012_telemetry': telemetry0012,
  '0013_meters_and_frozen_savings': metersAndFrozenSavings0013,
  '0014_telemetry_starts': telemetryStarts0014,
  '0015_scheduled_events': scheduledEvents0015,
  '0017_audit_purge_anchor': auditPurgeAnchor0017,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
