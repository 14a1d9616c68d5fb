/**
 * Prometheus metrics (`GET /metrics`): HTTP requests by route and status, and the bridge's health
 * seen from outside — age of each school's last successful sync, publishes, gateways online and
 * zones whose gateway lags behind the latest rev. Gauges are read when scraped, from the parts'
 * own status, so nothing is counted twice.
 */
import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayReport } from '../bridge/gateway-tracker.js';
import type { PublisherStats } from '../bridge/publisher.js';
import type { SchoolSyncStatus } from '../bridge/sync.js';
import type { SchoolLeasesStats } from '../cluster/school-leases.js';

export interface MetricsSources {
  syncStatus?: () => readonly SchoolSyncStatus[];
  publisherStats?: () => PublisherStats;
  gateways?: () => readonly GatewayReport[];
  leases?: () => SchoolLeasesStats;
  /** p99 event-loop delay of the last window, in seconds (src/http/event-loop-monitor.ts). */
  eventLoopDelayP99?: () => number;
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
