/**
 * Prometheus metrics (`GET /metrics`): HTTP requests by route and status, and the bridge's health
 * seen from outside — age of each school's last successful sync, publishes, gateways online and
 * zones whose gateway lags behind the latest rev. Gauges are read when scraped, from the parts'
 * own status, so nothing is counted twice.
 */
import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FeedStatus } from '../bridge/booking-feeds.js';
import type { GatewayReport, ReportedRejection } from '../bridge/gateway-tracker.js';
import type { PublisherStats } from '../bridge/publisher.js';
import type { ScheduledJobStats } from '../bridge/scheduled-job.js';
import type { SchoolSyncStatus } from '../bridge/sync.js';
import type { BrokerAccessStats } from '../broker-access/broker-access.js';
import type { SchoolLeasesStats } from '../cluster/school-leases.js';
import type { TelemetryIngestStats } from '../telemetry/telemetry-ingestor.js';

export interface MetricsSources {
  syncStatus?: () => readonly SchoolSyncStatus[];
  publisherStats?: () => PublisherStats;
  gateways?: () => readonly GatewayReport[];
  leases?: () => SchoolLeasesStats;
  /** The audit self-verification's last result: true broken, false holds, null not walked yet. */
  auditChainBroken?: () => boolean | null;
  /** Gateway messages dropped since start, by reason (`GatewayTracker.stats().rejected`). */
  reportedRejected?: () => Readonly<Record<ReportedRejection, number>>;
  /** The cron jobs (sync, replan) with their catch-up counts. */
  scheduledJobs?: () => readonly ScheduledJobStats[];
  /** External broker provisioning from devices/ (issue 19), when configured. */
  brokerAccess?: () => BrokerAccessStats | null;
  /**
   * Calendar alerts per school of devices/ (issue 20), 1 while one holds: the last values of an
   * asynchronous refresh (src/dashboard/calendar-alert-gauge.ts), since collect is synchronous.
   */
  schoolAlerts?: () => readonly { uai: string; kind: string; value: number }[];
  /** Booking feeds (docs/events.md) and their health. */
  bookingFeeds?: () => readonly FeedStatus[];
  /** p99 event-loop delay of the last window, in seconds (src/http/event-loop-monitor.ts). */
  eventLoopDelayP99?: () => number;
  /** True while the last edit of the clients files is refused (the previous set still serves). */
  clientsFileRefused?: () => boolean;
  /** The telemetry ingestor's counts since start (docs/telemetry.md, "What is stored"). */
  telemetryIngest?: () => TelemetryIngestStats;
}

export interface Metrics {
  registry: Registry;
  /** Counts and times every request (route pattern, not the raw path: bounded labels). */
  middleware: MiddlewareHandler;
  /** Connects the bridge's parts once they exist. */
  setSources(sources: MetricsSources): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'scope_energie_' });
  let sources: MetricsSources = {};

  const requests = new Counter({
    name: 'scope_energie_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'scope_energie_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'scope_energie_sync_age_seconds',
    help: "Seconds since each school's last successful pull from SORTIE (absent: never)",
    labelNames: ['uai'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.syncStatus?.() ?? []) {
        if (s.age_hours !== null) this.set({ uai: s.uai }, Math.round(s.age_hours * 3600));
      }
    },
  });
  new Gauge({
    name: 'scope_energie_sync_stale',
    help: '1 when a school is past sync.stale_after_hours (planning on its last good data)',
    labelNames: ['uai'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.syncStatus?.() ?? []) this.set({ uai: s.uai }, s.stale ? 1 : 0);
    },
  });
  new Gauge({
    name: 'scope_energie_booking_feed_failing',
    help: '1 while a booking feed fails (its last good bookings keep planning), 0 when its last poll succeeded',
    labelNames: ['uai', 'feed'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const f of sources.bookingFeeds?.() ?? [])
        this.set({ uai: f.uai, feed: f.feed }, f.failing_since ? 1 : 0);
    },
  });
  new Gauge({
    name: 'scope_energie_mqtt_publishes',
    help: 'MQTT publishes since start, by outcome (sent, dropped while offline, interrupted)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const stats = sources.publisherStats?.();
      if (!stats) return;
      this.set({ outcome: 'sent' }, stats.sent);
      this.set({ outcome: 'dropped' }, stats.dropped);
      this.set({ outcome: 'interrupted' }, stats.interrupted);
      this.set({ outcome: 'fenced' }, stats.fenced);
    },
  });
  // Scale-out (docs/deployment.md, "What to monitor"): the sum of held schools over the live
  // instances must equal the schools of the site; failed renewals come before lost leases.
  new Gauge({
    name: 'scope_energie_leases_held',
    help: 'Schools this bridge instance holds the lease of (plans and publishes)',
    labelNames: ['instance'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const stats = sources.leases?.();
      if (stats) this.set({ instance: stats.instanceId }, stats.held);
    },
  });
  new Gauge({
    name: 'scope_energie_cluster_live_instances',
    help: 'Bridge instances with a live heartbeat in the shared database, as this instance last saw',
    registers: [registry],
    collect() {
      const stats = sources.leases?.();
      if (stats) this.set(stats.live.length);
    },
  });
  new Gauge({
    name: 'scope_energie_lease_renewals_failed',
    help: 'Lease renewal rounds that failed since start (store unreachable)',
    registers: [registry],
    collect() {
      const stats = sources.leases?.();
      if (stats) this.set(stats.failedTicks);
    },
  });
  new Gauge({
    name: 'scope_energie_lease_renewals_timed_out',
    help: 'Lease renewal rounds that failed because the store did not answer in time (frozen or unreachable database), since start',
    registers: [registry],
    collect() {
      const stats = sources.leases?.();
      if (stats) this.set(stats.timedOutTicks);
    },
  });
  // cluster_live_instances and leases are this instance's LAST view: these say how old it is.
  new Gauge({
    name: 'scope_energie_cluster_view_timestamp_seconds',
    help: 'Database-clock time of the last successful lease round: when the live set and leases shown were true',
    registers: [registry],
    collect() {
      const stats = sources.leases?.();
      if (stats?.lastTickAt != null) this.set(stats.lastTickAt / 1000);
    },
  });
  new Gauge({
    name: 'scope_energie_cluster_view_age_seconds',
    help: 'Seconds since the store last answered a lease round (absent: never); above two renewals, /readyz fails',
    registers: [registry],
    collect() {
      const stats = sources.leases?.();
      if (stats?.storeSilentMs != null) this.set(stats.storeSilentMs / 1000);
    },
  });
  // node-cron skips runs it could not start on time; the guard runs them late (issue 22).
  new Gauge({
    name: 'scope_energie_scheduled_runs',
    help: 'Runs of each cron job since start: on time (node-cron), late (a missed tick caught up by the guard)',
    labelNames: ['job', 'when'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const job of sources.scheduledJobs?.() ?? []) {
        this.set({ job: job.name, when: 'on-time' }, job.onTime);
        this.set({ job: job.name, when: 'late' }, job.late);
      }
    },
  });
  new Gauge({
    name: 'scope_energie_scheduled_ticks_missed',
    help: 'Instants a cron job was due that node-cron did not run (each caught up by a late run)',
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const job of sources.scheduledJobs?.() ?? []) this.set({ job: job.name }, job.missed);
    },
  });
  new Gauge({
    name: 'scope_energie_gateway_online',
    help: '1 when the gateway reported online, 0 offline or unknown',
    labelNames: ['uai', 'gateway'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const g of sources.gateways?.() ?? [])
        this.set({ uai: g.uai, gateway: g.gateway }, g.state === 'online' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'scope_energie_gateway_lagging_zones',
    help: 'Zone functions whose gateway has not applied the latest rev within the configured delay',
    labelNames: ['uai', 'gateway'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const g of sources.gateways?.() ?? []) {
        this.set({ uai: g.uai, gateway: g.gateway }, g.zones.filter((z) => z.lagging).length);
      }
    },
  });

  // Issue 21: an auditor's alert. The chain was changed outside the service (docs/audit.md).
  new Gauge({
    name: 'scope_energie_audit_chain_broken',
    help: "1 when the service's self-verification found the audit log's hash chain broken or rewritten since a checkpoint",
    registers: [registry],
    collect() {
      this.reset();
      const broken = sources.auditChainBroken?.();
      if (broken !== undefined && broken !== null) this.set(broken ? 1 : 0);
    },
  });

  // docs/mqtt.md, "Limits": what gateways sent that the bridge neither stored nor audited.
  new Counter({
    name: 'scope_energie_reported_rejected_total',
    help: 'Gateway reported/status messages dropped before parsing, by reason (undeclared-zone, rate-limited, too-large)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      const rejected = sources.reportedRejected?.();
      if (!rejected) return;
      this.reset();
      for (const [reason, count] of Object.entries(rejected)) this.inc({ reason }, count);
    },
  });

  // External broker provisioning (docs/mqtt.md, "Which broker enforces what"): a login that needs
  // credentials cannot connect until `gateway credentials` is run for it.
  new Gauge({
    name: 'scope_energie_broker_provisioning_runs',
    help: 'Reconciliations of the external broker with devices/ since start, by outcome',
    labelNames: ['broker', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const stats = sources.brokerAccess?.();
      if (!stats) return;
      this.set({ broker: stats.broker, outcome: 'ok' }, stats.runs.ok);
      this.set({ broker: stats.broker, outcome: 'failed' }, stats.runs.failed);
    },
  });
  new Gauge({
    name: 'scope_energie_broker_provisioning_last',
    help: 'Last reconciliation: ok (1/0), duration_seconds, commands sent, logins managed, logins needing credentials, conflicts',
    labelNames: ['broker', 'value'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const stats = sources.brokerAccess?.();
      const last = stats?.last;
      if (!stats || !last) return;
      const broker = stats.broker;
      this.set({ broker, value: 'ok' }, last.ok ? 1 : 0);
      this.set({ broker, value: 'duration_seconds' }, last.durationMs / 1000);
      this.set({ broker, value: 'commands' }, last.commands);
      this.set({ broker, value: 'logins' }, last.logins);
      this.set({ broker, value: 'needs_credentials' }, last.needsCredentials);
      this.set({ broker, value: 'conflicts' }, last.conflicts);
    },
  });

  // docs/dashboard.md, "Alerts": the same calendar alerts as the dashboard overview and `check`.
  new Gauge({
    name: 'scope_energie_school_alert',
    help: "1 while a school's operator alert holds (kind: annee-scolaire-terminee, annee-scolaire-non-commencee, vacances-inconnues, pas-d-import-depuis-la-rentree, salles-de-zone-absentes), 0 otherwise",
    labelNames: ['uai', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.schoolAlerts?.() ?? []) this.set({ uai: s.uai, kind: s.kind }, s.value);
    },
  });

  // docs/telemetry.md, "What is stored": what became a sample, what was a replay, what is kept
  // but not a fact, what could not be placed. Counted by the ingestor; read when scraped.
  const telemetryCounter = (
    name: string,
    help: string,
    values: (stats: TelemetryIngestStats) => Record<string, number>,
    label: 'outcome' | 'reason',
  ) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        const stats = sources.telemetryIngest?.();
        if (!stats) return;
        this.reset();
        for (const [value, count] of Object.entries(values(stats))) this.inc({ [label]: value }, count);
      },
    });
  telemetryCounter(
    'scope_energie_telemetry_samples_total',
    'Valid reported messages offered to the telemetry store since start, by outcome: accepted (a new sample, flagged or not), duplicate (same zone function and ts: a no-op), failed (its batch could not be written)',
    (stats) => ({ accepted: stats.stored, duplicate: stats.duplicates, failed: stats.failedSamples }),
    'outcome',
  );
  telemetryCounter(
    'scope_energie_telemetry_samples_flagged_total',
    'Samples stored but not counted as facts, by reason (out-of-range, stuck)',
    (stats) => stats.flagged,
    'reason',
  );
  telemetryCounter(
    'scope_energie_telemetry_samples_refused_total',
    'Reports not stored because they cannot be placed, by reason (too-old: beyond telemetry.max_late_hours; future: ts ahead of the clock)',
    (stats) => stats.refused,
    'reason',
  );

  new Gauge({
    name: 'scope_energie_clients_file_refused',
    help: '1 while the last edit of the clients files is refused (invalid): the previous valid clients still apply',
    registers: [registry],
    collect() {
      const refused = sources.clientsFileRefused?.();
      if (refused !== undefined) this.set(refused ? 1 : 0);
    },
  });

  new Gauge({
    name: 'scope_energie_event_loop_delay_p99_seconds',
    help: 'p99 delay of the main event loop over the last 10 s window (imports run in workers, off this loop)',
    registers: [registry],
    collect() {
      const p99 = sources.eventLoopDelayP99?.();
      if (p99 !== undefined) this.set(p99);
    },
  });

  return {
    registry,
    setSources(next) {
      sources = next;
    },
    middleware: async (c, next) => {
      const started = performance.now();
      await next();
      const route = c.req.routePath || 'unmatched';
      requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      duration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
    },
  };
}
