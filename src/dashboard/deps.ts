/**
 * What the dashboard reads and writes, as one interface: the service passes the bridge's parts
 * (service-deps.ts), route tests pass their own. Nothing here is the bridge's own type beyond the
 * shapes it already exposes, so the bridge can change inside without the pages noticing.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { FeedStatus } from '../bridge/booking-feeds.js';
import type { EventsService } from '../bridge/events-service.js';
import type { GatewayReport } from '../bridge/gateway-tracker.js';
import type { OverridesService } from '../bridge/overrides-service.js';
import type { HeldOccupancy, PlanForDates } from '../bridge/planning.js';
import type { SchoolSyncStatus } from '../bridge/sync.js';
import type { ComplianceService } from '../compliance/compliance-service.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import type { Timetable } from '../domain/timetable.js';
import type { MeasuredQuery, SchoolMeasuredBody } from '../savings/school-measured-savings.js';
import type { Finding } from '../scope/vue/data-quality.js';
import type { CalendarSource } from '../site/calendars.js';
import type { TelemetryRepository } from '../store/telemetry-repository.js';
import type { ComfortSettings } from '../telemetry/comfort.js';
import type { ComfortReportInput } from '../telemetry/comfort-report.js';

export interface DashboardDeps {
  authenticator: Authenticator;
  clock: Clock;
  /** `server.public_url`: its origin is accepted on POSTs (as for the login form). */
  publicUrl?: string | undefined;
  /** The schools the bridge drives: one devices file each (`SiteHolder.current.devices`). */
  devices(): ReadonlyMap<string, LoadedDevices>;
  calendars: Pick<CalendarSource, 'forSchool'>;
  /** `PlanningService.planFor`: local dates `date`..`date + days − 1`, overrides included. */
  planFor(uai: string, date: string, days: number): Promise<PlanForDates>;
  /** Occupancy over local dates (`SyncService.loadRange`); null when the school has no timetable. */
  occupancy(uai: string, dates: { from: string; to: string }): Promise<HeldOccupancy | null>;
  /** `SyncService.currentStatus`: fresh from the store for a school another instance holds. */
  syncStatus(uai: string): SchoolSyncStatus | Promise<SchoolSyncStatus>;
  /** `GatewayTracker.report` for one school. */
  gateways(uai: string): GatewayReport[];
  /** `GatewayTracker.report` of every school at once (the overview); without it, one call per school. */
  allGateways?(): GatewayReport[];
  /** The school's current timetable in the hub (for the unmapped-rooms check), or null. */
  timetable(uai: string): Promise<Timetable | null>;
  /**
   * The unmapped-rooms check itself (VUE's `salle-inconnue`), null without a timetable: the
   * service runs it off the event loop and keeps it per stored version (service-deps.ts).
   * Without it, it runs here on `timetable(uai)`.
   */
  unknownRooms?(uai: string, devices: LoadedDevices): Promise<Finding | null>;
  /**
   * The current timetable's school year, grid and rooms (the calendar and zone-room alerts'
   * inputs; rooms are ids and names, bounded by the import limits), null without a
   * timetable: read off the event loop and kept per stored version by the service. Without it,
   * `timetable(uai)` is decoded here.
   */
  timetableDates?(uai: string): Promise<Pick<Timetable, 'school_year' | 'grid' | 'rooms'> | null>;
  /** When the current timetable version was imported (ISO 8601 UTC), null without one. */
  timetableImportedAt?(uai: string): Promise<string | null>;
  /**
   * The current stored version (`version|sha256`), null without a timetable: the overview keeps
   * each school's row while it and the row's other inputs are unchanged (dashboard-state.ts).
   * Without it, every view computes every row.
   */
  timetableVersion?(uai: string): Promise<string | null>;
  overrides: Pick<OverridesService, 'create' | 'cancel' | 'list' | 'getStored'>;
  /** Zone id → its own comfort setpoint from the rules (the per-zone savings baseline). */
  zoneComfort?(uai: string): ReadonlyMap<string, number>;
  /** Measured savings from the stored meter readings (`schoolMeasuredSavings`). */
  measuredSavings?(uai: string, query: MeasuredQuery): Promise<SchoolMeasuredBody>;
  /** Scheduled events (docs/events.md): the week calendar page (events-page.tsx); absent, no such page. */
  events?: Pick<EventsService, 'list' | 'occurrences' | 'create' | 'delete'>;
  /** Booking feeds and their health (the `flux-reservations-en-echec` alert). */
  bookingFeeds?: () => readonly FeedStatus[];
  /** The compliance report (`/tableau-de-bord/{uai}/conformite`); without it that page is a 404. */
  compliance?: ComplianceService;
  /**
   * Telemetry (issue 16): measured temperatures on the timelines, the comfort tables and alerts,
   * the CSV exports. Without it the dashboard shows none of them.
   */
  telemetry?: DashboardTelemetry;
}

export interface DashboardTelemetry {
  repository: ComfortReportInput['repository'] &
    Pick<TelemetryRepository, 'hourlyOf'> &
    /** Lets a school with nothing measured skip its comfort report (comfort-alerts.ts). */
    Partial<Pick<TelemetryRepository, 'firstSampleOf'>>;
  settings: ComfortSettings;
}
