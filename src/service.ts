/**
 * The composition root of the running service (`scope-energie serve`, `npm start`), read in a
 * minute (issue 14; docs/architecture.md, "Parts and their lifecycle"): the configuration, then
 * each piece built with what it uses, then the list of parts in start order. The composition
 * (src/lifecycle/) starts them in that order, stops them in reverse, rolls a failed start back and
 * collects their health for /readyz. Holds no business logic.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import { createHttpApp } from './app/app.js';
import { HttpServer, reservePort } from './app/http-server.js';
import { createMetrics } from './app/metrics.js';
import { createAnchoring } from './audit/audit-anchoring.js';
import { auditRoutes } from './audit/audit-routes.js';
import { importAuditEntry } from './audit/import-audit.js';
import { adminClientsRoutes } from './auth/admin-clients-routes.js';
import { Authenticator } from './auth/authenticator.js';
import { GENERATED_CLIENTS_FILE } from './auth/bootstrap.js';
import { ClientsHolder } from './auth/clients-holder.js';
import { loadClients } from './auth/load-clients.js';
import { LoginThrottle } from './auth/login-throttle.js';
import type { AuthEnv } from './auth/middleware.js';
import { loadSigningKey } from './auth/signing-key.js';
import { createAuditBatcher } from './bridge/audit-batcher.js';
import { clientCreatedEvents, clientsReloadEvents, reloadEvents } from './bridge/audit-events.js';
import { type Bridge, createBridge } from './bridge/bridge.js';
import { sortieSourceFromConfig } from './bridge/sortie-source-from-config.js';
import { BrokerAccessPart } from './broker-access/broker-access.js';
import { complianceRoutes } from './compliance/compliance-routes.js';
import { createComplianceService } from './compliance/compliance-service.js';
import type { Config } from './config/schema.js';
import { CalendarAlertGauge } from './dashboard/calendar-alert-gauge.js';
import { dashboardDepsOf } from './dashboard/service-deps.js';
import { DashboardWarmUp } from './dashboard/warm-up.js';
import { DEMO_UAI } from './demo/demo-lycee.js';
import { DemoGatewayPart, seedDemo } from './demo/demo-parts.js';
import { type Clock, systemClock } from './domain/clock.js';
import { EventLoopMonitor } from './http/event-loop-monitor.js';
import { Composition } from './lifecycle/composition.js';
import { subscriptionsPart } from './lifecycle/part.js';
import type { Logger } from './log/logger.js';
import { auditPurgeAllowed, runAuditRetention } from './retention/audit-retention-run.js';
import { RetentionJob } from './retention/retention-job.js';
import { zoneComfortSetpoints } from './savings/baseline.js';
import { MeterIngest } from './savings/meter-ingest.js';
import { optimumStartOutdoorOf } from './savings/outdoor.js';
import { SavingsFreezer } from './savings/savings-freezer.js';
import { savingsRoutes } from './savings/savings-routes.js';
import { entreeLimits, ImportWorkers } from './scope/entree/import-pool.js';
import { SortieOccupancy } from './scope/sortie/sortie-occupancy.js';
import { createViewPool, occupancyRunnerOf } from './scope/vue/view-pool.js';
import { calendarSourceOf } from './site/calendars.js';
import { describeSiteChange } from './site/site-change.js';
import { SiteHolder } from './site/site-holder.js';
import { createSessionRevocationRepository } from './store/session-revocation-repository.js';
import { openStore, type Store } from './store/store.js';
import { purgeTimetableVersions } from './store/timetable-retention.js';
import {
  comfortSettingsOf,
  createTelemetry,
  createTelemetryIngestor,
} from './telemetry/telemetry-service.js';

/** The package version, for the OpenAPI document. */
const SERVICE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServiceContext {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Base directory that relative paths of the configuration are resolved against. */
  baseDir?: string;
}

export interface RunningService {
  /** `http://host:port` of the HTTP server. */
  url: string;
  port: number;
  store: Store;
  bridge: Bridge;
  /** The MQTT broker the bridge publishes to (`mqtt://127.0.0.1:1883` for the embedded default). */
  mqttUrl: string;
  /** Clear-text credentials file written on first start, if any. */
  credentialsFile: string | null;
  /** Every route the HTTP app serves, `METHOD /path` with hono's `:param` syntax (spec checks). */
  routes(): readonly { method: string; path: string }[];
  /** The clients files, reloaded when they change (`onReload` tells each reload). */
  clients: ClientsHolder;
  /** The dashboard's caches warmed in the background at start (issue 18): `warmed()` once done. */
  dashboardWarmUp: DashboardWarmUp;
  stop(): Promise<void>;
}

export async function startService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const clock = context.clock ?? systemClock;
  const baseDir = context.baseDir ?? process.cwd();
  const dataDir = resolve(baseDir, config.storage.data_dir);
  mkdirSync(dataDir, { recursive: true });
  // Checked free (or chosen) before anything starts: a taken port stops the start before the
  // bridge publishes anything, and Home Assistant's discovery can name the dashboard's URL.
  const port = await reservePort(config.server.host, config.server.port);
  const clients = loadClients({
    clientsFile: resolve(baseDir, config.clients_file),
    dataDir,
    demo: config.demo.enabled,
  });
  if (clients.credentialsFile) {
    logger.warn(
      { file: clients.credentialsFile, clients: clients.created.map((c) => `${c.id} (${c.role})`) },
      'first start: generated clients; their tokens are in this file (readable by you only): keep them, then delete the file',
    );
  }
  const store = await openStore({
    ...(config.storage.database_url ? { databaseUrl: config.storage.database_url } : { dataDir }),
    onPoolError: (error) => logger.error({ err: error }, 'PostgreSQL connection failed; reconnecting'),
    pgTimeouts: {
      statementMs: config.storage.statement_timeout_ms,
      lockMs: config.storage.lock_timeout_ms,
      queryMs: config.storage.query_timeout_ms,
      connectMs: config.storage.connect_timeout_ms,
    },
  });
  logger.info({ dialect: store.dialect }, 'store ready');
  let service: ReturnType<typeof assembleService>;
  try {
    service = assembleService({
      config,
      logger,
      clock,
      baseDir,
      dataDir,
      port,
      store,
      clients: clients.clients,
    });
  } catch (error) {
    // Invalid devices/ or rules/ files, unreadable keys: nothing started but the store.
    await store.close();
    throw error;
  }
  const { composition, server, bridge, clientsHolder, app, dashboardWarmUp, loopMonitor } = service;
  await composition.start();
  loopMonitor.beginServing();
  logger.info({ url: server.url, mqtt: bridge.mqttUrl }, 'HTTP server listening');
  return {
    url: server.url,
    port,
    store,
    bridge,
    mqttUrl: bridge.mqttUrl,
    credentialsFile: clients.credentialsFile,
    routes: () => app.routes.map((r) => ({ method: r.method, path: r.path })),
    clients: clientsHolder,
    dashboardWarmUp,
    async stop() {
      await composition.stop();
      logger.info('stopped');
    },
  };
}

/** Every piece of the service, built with what it uses, and the parts in start order. */
function assembleService(options: {
  config: Config;
  logger: Logger;
  clock: Clock;
  baseDir: string;
  dataDir: string;
  port: number;
  store: Store;
  clients: ReturnType<typeof loadClients>['clients'];
}) {
  const { config, logger, clock, baseDir, dataDir, port, store } = options;
  const clientsFile = resolve(baseDir, config.clients_file);
  // `env` is @hono/node-server's `{ incoming, outgoing }`: the remote address (throttling) and the
  // socket (the 413's graceful close) come from it. It listens last (see the parts below).
  const http = new HttpServer((request, env) => app.fetch(request, env), config.server.host, port);
  const authenticator = new Authenticator({
    clients: options.clients,
    signingKey: loadSigningKey({
      signingKeyFile: config.auth.signing_key_file
        ? resolve(baseDir, config.auth.signing_key_file)
        : undefined,
      dataDir,
    }),
    issuer: config.auth.jwt_issuer,
    audience: config.auth.jwt_audience,
    tokenTtlSeconds: config.auth.jwt_ttl_s,
    clock,
    // Logged-out sessions, refused by every instance on this store until they expire.
    sessionRevocations: createSessionRevocationRepository(store.db, clock),
  });
  // clients.yaml and the generated clients, live: a new client works, a removed one stops, at once.
  const clientsHolder = new ClientsHolder({ clientsFile, dataDir }, options.clients);
  // devices/ and rules/: invalid files stop the start; later bad edits keep the last valid set.
  const site = new SiteHolder({
    devicesDir: resolve(baseDir, config.paths.devices_dir),
    rulesDir: resolve(baseDir, config.paths.rules_dir),
    baseDir,
    exceptionPolicy: { maxDeviationC: config.rules.exception_max_deviation_c },
  });
  // One calendar source for SORTIE, VUE and the bridge (and the offline commands).
  const calendars = calendarSourceOf({ config, baseDir, dataDir, site, logger });
  // Signed checkpoints outside the database and the self-verification (docs/audit.md).
  const anchoring = createAnchoring({
    config: config.audit,
    paths: { baseDir, dataDir },
    env: process.env,
    audit: store.audit,
    clock,
    logger: logger.child({ part: 'audit' }),
  });
  // Everything the bridge decides and publishes, every import and reload: one hash-chained log.
  const auditLog = createAuditBatcher(
    async (events) => {
      await store.audit.append(events);
      void anchoring.monitor.afterAppend().catch(() => {});
    },
    { onError: (error) => logger.error({ err: error }, 'audit append failed; retrying with the next batch') },
  );
  const auditPurge = auditPurgeAllowed(config, store.dialect);
  if (!auditPurge.allowed && config.retention.audit.purge)
    logger.warn({ why: auditPurge.why }, 'audit entries are kept: no purge on this instance');
  // Old timetable versions leave the store per the retention policy, each purge logged.
  const retention = new RetentionJob({
    settings: {
      intervalMs: config.retention.interval_s * 1000,
      keepVersions: config.retention.timetable_versions.keep_versions,
      keepMonths: config.retention.timetable_versions.keep_months,
    },
    purge: (policy) => purgeTimetableVersions(store.db, store.dialect, policy),
    audit: auditLog.sink,
    ...(auditPurge.allowed
      ? { purgeAudit: () => runAuditRetention({ config, store, anchoring, clock, logger }) }
      : {}),
    clock,
    logger: logger.child({ part: 'retention' }),
  });
  // Work whose cost depends on untrusted bytes runs in workers with limits: imports, and VUE's,
  // the dashboard's and SORTIE's big reads of a stored timetable (docs/architecture.md).
  const workerLimits = {
    maxHeapMb: config.entree.worker.max_heap_mb,
    taskTimeoutMs: config.entree.worker.task_timeout_s * 1000,
  };
  const viewPool = createViewPool({
    ...workerLimits,
    onError: (error) => logger.error({ err: error }, 'a view worker failed between tasks'),
  });
  // One worker is loaded at start so that the first import does not wait for one to load.
  const importWorkers = new ImportWorkers({
    warm: true,
    threads: config.entree.worker.threads,
    ...workerLimits,
    onError: (error) => logger.error({ err: error }, 'an import worker failed between tasks'),
  });
  // SORTIE's occupancy answers, one instance for the HTTP route and the bridge's in-process reads.
  const sortieOccupancy = new SortieOccupancy({
    store,
    calendars,
    runOccupancy: occupancyRunnerOf(viewPool.run),
  });
  // External broker's access control from devices/; the bridge runs it on reloads (issue 15).
  const brokerAccess = new BrokerAccessPart({
    config,
    baseDir,
    env: process.env,
    site,
    store,
    clock,
    logger,
    version: SERVICE_VERSION,
    audit: auditLog.sink,
    followReloads: false,
  });
  // What gateways measure, stored in batches (issue 16, docs/telemetry.md).
  const telemetryIngestor = createTelemetryIngestor({
    config,
    repository: store.telemetry,
    clock,
    logger: logger.child({ part: 'telemetry' }),
  });
  const bridge = createBridge({
    config,
    baseDir,
    store,
    site,
    calendars,
    clock,
    logger,
    version: SERVICE_VERSION,
    // The embedded default reads SORTIE in process; `sortie.source` may name a remote hub.
    sortie: sortieSourceFromConfig(config.sortie, { sortie: sortieOccupancy, env: process.env, clock }),
    publicUrl: config.server.public_url ?? http.url,
    audit: auditLog.sink,
    ...(brokerAccess.enabled ? { brokerAccess } : {}),
    onReported: (row) => telemetryIngestor.offer(row),
    // Optimum start learns from the telemetry against the school's outdoor normals (docs/optimum-start.md).
    optimumStartOutdoor: (uai) => optimumStartOutdoorOf(calendars.forSchool(uai).departement),
  });
  const planFor: Bridge['planning']['planFor'] = (uai, date, days) =>
    bridge.planning.planFor(uai, date, days);
  const owns = (uai: string) => bridge.leases.owns(uai);
  const devicesOf = (uai: string) => site.current.devices.get(uai);
  const telemetry = createTelemetry({
    config,
    repository: store.telemetry,
    ingestor: telemetryIngestor,
    planFor,
    devices: () => site.current.devices,
    owns,
    clock,
    logger: logger.child({ part: 'telemetry' }),
  });
  // Savings of each closed week and month, frozen with the versions in force (issue 21), and
  // meter indexes and outdoor temperatures for measured savings (issue 16): savings parts fed by
  // the bridge, assembled here so that the bridge knows nothing of savings.
  const zoneComfort = (uai: string) =>
    zoneComfortSetpoints(site.current.ruleSet, uai, devicesOf(uai)?.value.zones ?? []);
  const freezer = new SavingsFreezer({
    schools: () => site.current.devices.values(),
    owns,
    ready: (uai) => bridge.sync.attempted(uai),
    calendars,
    planFor,
    repository: store.frozenSavings,
    clock,
    zoneComfort,
    onError: (error, uai) => logger.warn({ err: error, uai }, 'savings of a closed period not frozen yet'),
  });
  const meterIngest = new MeterIngest({
    connection: bridge.connection,
    topics: bridge.topics,
    repository: store.meters,
    knows: (uai) => site.current.devices.has(uai),
    owns,
    clock,
    logger: logger.child({ part: 'meters' }),
  });
  const loopMonitor = new EventLoopMonitor({ maxDelayMs: config.server.max_event_loop_delay_ms });
  // The compliance report (docs/audit.md): API and dashboard page from the same parts.
  const compliance = createComplianceService({
    planFor,
    devicesOf,
    audit: store.audit,
    overrides: store.overrides,
    measured: {
      telemetry: store.telemetry,
      holdMs: config.telemetry.hold_minutes * 60_000,
      toleranceC: config.comfort.overheat_tolerance_c,
      rawRetentionDays: config.telemetry.raw_retention_days,
    },
    clock,
  });
  // Comfort, hourly telemetry and compliance sit beside the bridge's routes (behind requireAuth).
  bridge.routes.route('/', telemetry.routes);
  const bridgeApi = new Hono<AuthEnv>();
  bridgeApi.route('/', bridge.routes);
  bridgeApi.route('/', complianceRoutes(compliance));
  const dashboard = dashboardDepsOf({
    bridge,
    site,
    store,
    calendars,
    clock,
    publicUrl: config.server.public_url,
    runView: viewPool.run,
    comfortSettings: comfortSettingsOf(config),
  });
  dashboard.compliance = compliance;
  // The dashboard's calendar alerts for /metrics, through the same per-version cache of dates.
  const calendarAlertGauge = new CalendarAlertGauge({
    deps: dashboard,
    schools: () => site.current.devices.values(),
    onError: (error, uai) => logger.warn({ err: error, uai }, 'calendar alerts not refreshed'),
  });
  // Each school's dates and unmapped rooms computed once at start, a school at a time.
  const dashboardWarmUp = new DashboardWarmUp({
    deps: dashboard,
    schools: () => site.current.devices.values(),
    onWarm: (result) => logger.info(result, 'dashboard caches warmed'),
    onError: (error, uai) => logger.warn({ err: error, uai }, 'dashboard caches not warmed'),
  });
  const metrics = createMetrics();
  metrics.setSources({
    schoolAlerts: () => calendarAlertGauge.values(),
    eventLoopDelayP99: () => loopMonitor.p99Seconds(),
    clientsFileRefused: () => clientsHolder.refused !== null,
    syncStatus: () => bridge.sync.status(),
    bookingFeeds: () => bridge.bookingFeeds.status(),
    publisherStats: () => bridge.publisherStats(),
    gateways: () => bridge.tracker.report(),
    reportedRejected: () => bridge.tracker.stats().rejected,
    telemetryIngest: () => telemetryIngestor.stats(),
    leases: () => bridge.leases.stats(),
    auditChainBroken: () => (anchoring.monitor.status() ? anchoring.monitor.chainBroken() : null),
    scheduledJobs: () =>
      [bridge.sync.scheduleStats(), bridge.planning.scheduleStats()].filter((job) => job !== null),
    ...(brokerAccess.enabled ? { brokerAccess: () => brokerAccess.stats() } : {}),
  });
  const app = createHttpApp({
    authenticator,
    metrics,
    sortie: { store, calendars, occupancy: sortieOccupancy },
    vue: {
      store,
      clock,
      calendars,
      site,
      publicUrl: config.server.public_url,
      runView: viewPool.run,
    },
    dashboard,
    docs: { version: SERVICE_VERSION, serverUrl: config.server.public_url },
    bridge: bridgeApi,
    savings: savingsRoutes({
      planFor,
      devicesOf,
      calendars,
      zoneComfort,
      meters: store.meters,
      frozen: store.frozenSavings,
    }),
    audit: auditRoutes({
      audit: store.audit,
      monitor: anchoring.monitor,
      checkpointer: anchoring.checkpointer,
    }),
    admin: adminClientsRoutes({
      clientsFile,
      otherFiles: [join(dataDir, GENERATED_CLIENTS_FILE)],
      holder: clientsHolder,
      now: () => new Date(clock.now()).toISOString(),
      onCreated: (id, by) => auditLog.sink(clientCreatedEvents(id, by, clock.now())),
    }),
    entree: {
      store,
      clock,
      bodyLimitBytes: config.server.body_limit_mb * 1024 * 1024,
      strictJson: config.entree.strict_json,
      partnerPrivateKeyPem: config.entree.partner_key_file
        ? readFileSync(resolve(baseDir, config.entree.partner_key_file), 'utf8')
        : undefined,
      limits: entreeLimits(config.entree),
      runImportTask: importWorkers.run,
      onImported: (report, importedBy) => {
        logger.info({ uai: report.uai, version: report.version, by: importedBy }, 'timetable imported');
        auditLog.sink([importAuditEntry(report, importedBy, 'http', clock.now())]);
        bridge.onImported(report.uai);
        void calendarAlertGauge.refresh();
      },
    },
    readiness: async () => composition.problems(),
    formBodyLimitBytes: config.server.form_body_limit_kb * 1024,
    throttle: new LoginThrottle({
      maxFailures: config.auth.throttle.max_failures,
      windowMs: config.auth.throttle.window_s * 1000,
      maxTracked: config.auth.throttle.max_tracked,
      clock,
    }),
    logError: (error, where) => logger.error({ err: error, ...where }, 'request failed'),
  });
  // The parts in start order; each stops in the reverse order.
  const composition = new Composition(
    [
      { name: 'store', part: { start() {}, stop: () => store.close() } },
      {
        name: 'demo-seed',
        part: { start: () => (config.demo.enabled ? seedDemo(store, clock, logger) : undefined), stop() {} },
        needs: ['store'],
      },
      { name: 'event-loop-monitor', part: loopMonitor },
      { name: 'view-workers', part: { start() {}, stop: () => viewPool.close() } },
      // Early: its worker loads while the rest starts, so the first import finds it ready.
      { name: 'import-workers', part: importWorkers },
      {
        name: 'reload-listeners',
        part: subscriptionsPart(
          () => site.onReload((result) => logReload(logger, result)),
          () =>
            clientsHolder.onReload((result) => {
              if (result.ok) authenticator.replaceClients(result.clients);
              // A save that changed nothing is neither logged nor audited.
              if (result.ok && result.added.length + result.removed.length + result.changed.length === 0)
                return;
              logClientsReload(logger, result);
              auditLog.sink(clientsReloadEvents(result, clock.now()));
            }),
        ),
      },
      { name: 'clients', part: clientsHolder, needs: ['reload-listeners'] },
      { name: 'site', part: site, needs: ['reload-listeners'] },
      { name: 'audit-anchoring', part: anchoring, needs: ['store'] },
      {
        // Opens with the devices and rules the service starts on: hashes, rules version, who changed them.
        name: 'audit-log',
        part: {
          start: () =>
            auditLog.sink(
              reloadEvents(
                { ok: true, site: site.current, change: describeSiteChange([], site.current.files) },
                clock.now(),
              ),
            ),
          stop: () => auditLog.stop(),
        },
        needs: ['audit-anchoring'],
      },
      { name: 'retention', part: retention, needs: ['audit-log'] },
      // Before the bridge logs in to an external broker.
      { name: 'broker-access', part: brokerAccess, needs: ['audit-log', 'site'] },
      { name: 'telemetry-ingest', part: { start() {}, stop: () => telemetryIngestor.stop() } },
      {
        name: 'bridge',
        part: bridge,
        needs: ['broker-access', 'audit-log', 'site', 'view-workers', 'telemetry-ingest'],
      },
      { name: 'telemetry-aggregation', part: telemetry.aggregation, needs: ['bridge'] },
      { name: 'meters', part: meterIngest, needs: ['bridge'] },
      { name: 'savings-freezer', part: freezer, needs: ['bridge'] },
      // After the bridge: its first refresh would compete with the bridge's first cycle.
      { name: 'calendar-alerts', part: calendarAlertGauge, needs: ['bridge', 'view-workers'] },
      { name: 'dashboard-warm-up', part: dashboardWarmUp, needs: ['calendar-alerts'] },
      // Listens last: until every part above runs, a connection is refused (docs/deployment.md).
      {
        name: 'http',
        part: http,
        needs: [
          'import-workers',
          'clients',
          'calendar-alerts',
          'telemetry-aggregation',
          'meters',
          'savings-freezer',
        ],
      },
      ...(config.demo.enabled && config.demo.gateway
        ? [
            {
              name: 'demo-gateway',
              part: new DemoGatewayPart({
                url: () => bridge.mqttUrl,
                devices: () => site.current.devices.get(DEMO_UAI),
                prefix: config.mqtt.prefix,
                clock,
                logger,
              }),
              needs: ['http'],
            },
          ]
        : []),
    ],
    logger.child({ composition: 'service' }),
  );
  return { composition, server: http, bridge, clientsHolder, app, dashboardWarmUp, loopMonitor };
}

function logReload(logger: Logger, result: Parameters<Parameters<SiteHolder['onReload']>[0]>[0]): void {
  if (result.ok) logger.info({ schools: result.site.devices.size }, 'devices and rules reloaded');
  else
    logger.error({ problems: result.problems }, 'devices or rules invalid: keeping the previous valid files');
}

function logClientsReload(
  logger: Logger,
  result: Parameters<Parameters<ClientsHolder['onReload']>[0]>[0],
): void {
  if (!result.ok) {
    logger.error({ problems: result.problems }, 'clients file invalid: keeping the previous valid clients');
    return;
  }
  logger.info({ added: result.added, removed: result.removed, changed: result.changed }, 'clients reloaded');
}
