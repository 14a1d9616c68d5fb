/**
 * The composition root of the running service (`scope-energie serve`, `npm start`): reads the
 * configuration, builds each part from one context, starts them in order and stops them in
 * reverse. Holds no business logic.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createHttpApp } from './app/app.js';
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
import { type Bridge, startBridge } from './bridge/bridge.js';
import { sortieSourceFromConfig } from './bridge/sortie-source-from-config.js';
import { type BrokerAccess, startBrokerAccess } from './broker-access/broker-access.js';
import { isSchoolZone } from './calendar/index.js';
import { complianceRoutes } from './compliance/compliance-routes.js';
import { createComplianceService } from './compliance/compliance-service.js';
import type { Config } from './config/schema.js';
import { CalendarAlertGauge } from './dashboard/calendar-alert-gauge.js';
import { dashboardDepsOf } from './dashboard/service-deps.js';
import { buildDemoTimetable, DEMO_GATEWAY_PASSWORD, DEMO_UAI } from './demo/demo-lycee.js';
import { type Clock, systemClock } from './domain/clock.js';
import { type SimulatedGateway, startSimulatedGateway } from './gateway/simulated-gateway.js';
import { EventLoopMonitor } from './http/event-loop-monitor.js';
import type { Logger } from './log/logger.js';
import { RetentionJob } from './retention/retention-job.js';
import { zoneComfortSetpoints } from './savings/baseline.js';
import { MeterIngest } from './savings/meter-ingest.js';
import { optimumStartOutdoorOf } from './savings/outdoor.js';
import { SavingsFreezer } from './savings/savings-freezer.js';
import { savingsRoutes } from './savings/savings-routes.js';
import { createImportPool, entreeLimits } from './scope/entree/import-pool.js';
import { ingestTimetable } from './scope/entree/ingest.js';
import { SortieOccupancy } from './scope/sortie/sortie-occupancy.js';
import { createViewPool, occupancyRunnerOf } from './scope/vue/view-pool.js';
import { CalendarSource } from './site/calendars.js';
import { describeSiteChange } from './site/site-change.js';
import { SiteHolder } from './site/site-holder.js';
import { createSessionRevocationRepository } from './store/session-revocation-repository.js';
import { openStore, type Store } from './store/store.js';
import { purgeTimetableVersions } from './store/timetable-retention.js';
import {
  comfortSettingsOf,
  createTelemetryIngestor,
  startTelemetry,
  type TelemetryParts,
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
  stop(): Promise<void>;
}

export async function startService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const clock = context.clock ?? systemClock;
  const baseDir = context.baseDir ?? process.cwd();
  const dataDir = resolve(baseDir, config.storage.data_dir);
  mkdirSync(dataDir, { recursive: true });
  // The HTTP server listens once the app exists (below): until then a connection is refused, never
  // answered by a stand-in (docs/deployment.md, "Start-up"). Its port is checked free (and, when 0,
  // chosen) now, so that a taken port stops the start before the bridge publishes anything, and
  // Home Assistant's discovery can name the dashboard's URL.
  const port = await reservePort(config.server.host, config.server.port);
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;

  const clientsFile = resolve(baseDir, config.clients_file);
  const clients = loadClients({
    clientsFile,
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

  const authenticator = new Authenticator({
    clients: clients.clients,
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

  if (config.demo.enabled) await seedDemo(store, clock, logger);

  // devices/ and rules/: invalid files stop the start; later bad edits keep the last valid set.
  const site = new SiteHolder({
    devicesDir: resolve(baseDir, config.paths.devices_dir),
    rulesDir: resolve(baseDir, config.paths.rules_dir),
    baseDir,
    exceptionPolicy: { maxDeviationC: config.rules.exception_max_deviation_c },
  });
  site.onReload((result) => {
    if (result.ok) logger.info({ schools: result.site.devices.size }, 'devices and rules reloaded');
    else
      logger.error(
        { problems: result.problems },
        'devices or rules invalid: keeping the previous valid files',
      );
  });
  site.start();
  // One calendar source for SORTIE, VUE and the bridge: shipped holidays, `calendar import`,
  // the configured file, and the devices files' département overrides.
  const zone = config.calendar.zone;
  if (!isSchoolZone(zone)) {
    logger.warn({ zone }, 'calendar zone without school holiday data: only public holidays close schools');
  }
  const calendars = new CalendarSource({
    zone: isSchoolZone(zone) ? zone : 'B',
    ...(isSchoolZone(zone) ? {} : { periods: [] }),
    dataDir,
    holidaysFile: config.calendar.holidays_file ? resolve(baseDir, config.calendar.holidays_file) : undefined,
    departementOf: (uai) => site.current.devices.get(uai)?.value.school.departement,
  });

  const partnerPrivateKeyPem = config.entree.partner_key_file
    ? readFileSync(resolve(baseDir, config.entree.partner_key_file), 'utf8')
    : undefined;
  // Signed checkpoints outside the database and the self-verification (docs/audit.md).
  const anchoring = createAnchoring({
    config: config.audit,
    paths: { baseDir, dataDir },
    env: process.env,
    audit: store.audit,
    clock,
    logger: logger.child({ part: 'audit' }),
  });
  anchoring.start();
  // Everything the bridge decides and publishes, every import and reload: one hash-chained log.
  const auditLog = createAuditBatcher(
    async (events) => {
      await store.audit.append(events);
      void anchoring.monitor.afterAppend().catch(() => {});
    },
    { onError: (error) => logger.error({ err: error }, 'audit append failed; retrying with the next batch') },
  );
  // Old timetable versions leave the store per the retention policy, each purge logged.
  const retention = new RetentionJob({
    settings: {
      intervalMs: config.retention.interval_s * 1000,
      keepVersions: config.retention.timetable_versions.keep_versions,
      keepMonths: config.retention.timetable_versions.keep_months,
    },
    purge: (policy) => purgeTimetableVersions(store.db, store.dialect, policy),
    audit: auditLog.sink,
    clock,
    logger: logger.child({ part: 'retention' }),
  });
  retention.start();
  // The devices and rules the service starts on: hashes, rules version and who last changed them.
  auditLog.sink(
    reloadEvents(
      { ok: true, site: site.current, change: describeSiteChange([], site.current.files) },
      clock.now(),
    ),
  );
  // VUE's week and data-quality check and the dashboard's unmapped-rooms alert decode and walk the
  // stored timetable, and so do SORTIE's big occupancy bodies (the bridge's included): in a worker
  // of their own, with the import workers' limits.
  const viewPool = createViewPool({
    maxHeapMb: config.entree.worker.max_heap_mb,
    taskTimeoutMs: config.entree.worker.task_timeout_s * 1000,
    onError: (error) => logger.error({ err: error }, 'a view worker failed between tasks'),
  });
  // SORTIE's occupancy answers, one instance for the HTTP route and the bridge's in-process reads
  // (same checks, same caches and tags); big bodies are computed in the view worker.
  const sortieOccupancy = new SortieOccupancy({
    store,
    calendars,
    runOccupancy: occupancyRunnerOf(viewPool.run),
  });
  // External broker's access control from devices/, before the bridge logs in to that broker.
  let brokerAccess: BrokerAccess | null = null;
  let bridge: Bridge;
  // What gateways measure, stored in batches (issue 16, docs/telemetry.md).
  const telemetryIngestor = createTelemetryIngestor({
    config,
    repository: store.telemetry,
    clock,
    logger: logger.child({ part: 'telemetry' }),
  });
  try {
    brokerAccess = await startBrokerAccess({
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
    bridge = await startBridge({
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
      publicUrl: config.server.public_url ?? url,
      audit: auditLog.sink,
      ...(brokerAccess ? { brokerAccess } : {}),
      onReported: (row) => telemetryIngestor.offer(row),
      // Optimum start learns from the telemetry against the school's outdoor normals (docs/optimum-start.md).
      optimumStartOutdoor: (uai) => optimumStartOutdoorOf(calendars.forSchool(uai).departement),
    });
  } catch (error) {
    retention.stop();
    anchoring.stop();
    brokerAccess?.stop();
    site.stop();
    await viewPool.close();
    await store.close();
    throw error;
  }

  const startedBridge = bridge;
  const telemetry: TelemetryParts = startTelemetry({
    config,
    repository: store.telemetry,
    ingestor: telemetryIngestor,
    planFor: (uai, date, days) => startedBridge.planning.planFor(uai, date, days),
    devices: () => site.current.devices,
    owns: (uai) => startedBridge.leases.owns(uai),
    clock,
    logger: logger.child({ part: 'telemetry' }),
  });
  // Savings of each closed week and month, frozen with the versions in force (issue 21), and
  // meter indexes and outdoor temperatures for measured savings (issue 16): savings parts fed by
  // the bridge, assembled here so that the bridge knows nothing of savings.
  const zoneComfort = (uai: string) =>
    zoneComfortSetpoints(site.current.ruleSet, uai, site.current.devices.get(uai)?.value.zones ?? []);
  const freezer = new SavingsFreezer({
    schools: () => site.current.devices.values(),
    owns: (uai) => startedBridge.leases.owns(uai),
    ready: (uai) => startedBridge.sync.attempted(uai),
    calendars,
    planFor: (uai, date, days) => startedBridge.planning.planFor(uai, date, days),
    repository: store.frozenSavings,
    clock,
    zoneComfort,
    onError: (error, uai) => logger.warn({ err: error, uai }, 'savings of a closed period not frozen yet'),
  });
  const meterIngest = new MeterIngest({
    connection: startedBridge.connection,
    topics: startedBridge.topics,
    repository: store.meters,
    knows: (uai) => site.current.devices.has(uai),
    owns: (uai) => startedBridge.leases.owns(uai),
    clock,
    logger: logger.child({ part: 'meters' }),
  });
  await meterIngest.start();
  freezer.start();
  // Comfort and hourly telemetry sit beside the bridge's routes (behind requireAuth).
  bridge.routes.route('/', telemetry.routes);

  const loopMonitor = new EventLoopMonitor({ maxDelayMs: config.server.max_event_loop_delay_ms });
  loopMonitor.start();
  // Imports are read in workers, never on this event loop; one is started now so that the first
  // import does not wait for a worker to load.
  const importPool = createImportPool({
    warm: true,
    threads: config.entree.worker.threads,
    maxHeapMb: config.entree.worker.max_heap_mb,
    taskTimeoutMs: config.entree.worker.task_timeout_s * 1000,
    onError: (error) => logger.error({ err: error }, 'an import worker failed between tasks'),
  });
  // The compliance report (docs/audit.md): API and dashboard page from the same parts.
  const compliance = createComplianceService({
    planFor: (uai, date, days) => bridge.planning.planFor(uai, date, days),
    devicesOf: (uai) => site.current.devices.get(uai),
    audit: store.audit,
    overrides: store.overrides,
    clock,
  });
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
  calendarAlertGauge.start();
  // clients.yaml and the generated clients, live: a new client works, a removed one stops, at once.
  const clientsHolder = new ClientsHolder({ clientsFile, dataDir }, clients.clients);
  clientsHolder.onReload((result) => {
    if (result.ok) {
      authenticator.replaceClients(result.clients);
      if (result.added.length + result.removed.length + result.changed.length === 0) return;
      logger.info(
        { added: result.added, removed: result.removed, changed: result.changed },
        'clients reloaded',
      );
    } else {
      logger.error({ problems: result.problems }, 'clients file invalid: keeping the previous valid clients');
    }
    auditLog.sink(clientsReloadEvents(result, clock.now()));
  });
  clientsHolder.start();
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
    ...(brokerAccess ? { brokerAccess: brokerAccess.stats } : {}),
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
      planFor: (uai, date, days) => bridge.planning.planFor(uai, date, days),
      devicesOf: (uai) => site.current.devices.get(uai),
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
      partnerPrivateKeyPem,
      limits: entreeLimits(config.entree),
      runImportTask: importPool.run,
      onImported: (report, importedBy) => {
        logger.info({ uai: report.uai, version: report.version, by: importedBy }, 'timetable imported');
        auditLog.sink([importAuditEntry(report, importedBy, 'http', clock.now())]);
        bridge.onImported(report.uai);
        void calendarAlertGauge.refresh();
      },
    },
    readiness: async () => [
      ...bridge.readiness(),
      ...loopMonitor.readiness(),
      ...anchoring.monitor.readinessProblems(),
    ],
    formBodyLimitBytes: config.server.form_body_limit_kb * 1024,
    throttle: new LoginThrottle({
      maxFailures: config.auth.throttle.max_failures,
      windowMs: config.auth.throttle.window_s * 1000,
      maxTracked: config.auth.throttle.max_tracked,
      clock,
    }),
    logError: (error, where) => logger.error({ err: error, ...where }, 'request failed'),
  });
  let demoGateway: SimulatedGateway | null = null;
  // Every part after the HTTP server, in reverse order of their start.
  const stopParts = async (): Promise<void> => {
    await demoGateway?.stop();
    await freezer.stop();
    await meterIngest.stop();
    await bridge.stop();
    await telemetry.stop();
    brokerAccess?.stop();
    retention.stop();
    await auditLog.stop();
    anchoring.stop();
    calendarAlertGauge.stop();
    site.stop();
    clientsHolder.stop();
    await importPool.close();
    await viewPool.close();
    loopMonitor.stop();
    await store.close();
  };
  let server: ReturnType<typeof serve> | null = null;
  // `env` is @hono/node-server's `{ incoming, outgoing }`: the remote address (throttling) and the
  // socket (the 413's graceful close) come from it.
  try {
    server = await listen((request, env) => app.fetch(request, env), config.server.host, port);
  } catch (error) {
    await stopParts();
    throw error;
  }

  // The demo lycée's simulated gateway (docs/gateway-contract.md), so the gateway tracking shows
  // acknowledgements and measured temperatures from the first minute. Its password is the
  // public demo one of devices/0670999X.yaml; a site that changed it just runs without it.
  const demoDevices = site.current.devices.get(DEMO_UAI)?.value;
  if (config.demo.enabled && config.demo.gateway && demoDevices?.gateways[0]) {
    try {
      demoGateway = await startSimulatedGateway({
        url: bridge.mqttUrl,
        uai: DEMO_UAI,
        gateway: demoDevices.gateways[0].id,
        username: demoDevices.gateways[0].username,
        password: DEMO_GATEWAY_PASSWORD,
        zones: demoDevices.zones,
        prefix: config.mqtt.prefix,
        clock,
        logger: logger.child({ part: 'demo-gateway' }),
      });
      logger.info({ gateway: demoDevices.gateways[0].id }, 'simulated demo gateway connected');
    } catch (error) {
      logger.warn(
        { err: error },
        'the simulated demo gateway could not log in (demo password changed?): running without it',
      );
    }
  }
  logger.info({ url, mqtt: bridge.mqttUrl }, 'HTTP server listening');

  return {
    url,
    port,
    store,
    bridge,
    mqttUrl: bridge.mqttUrl,
    credentialsFile: clients.credentialsFile,
    routes: () => app.routes.map((r) => ({ method: r.method, path: r.path })),
    clients: clientsHolder,
    async stop() {
      await new Promise<void>((done) => {
        if (!server) return done();
        server.close(() => done());
        // Keep-alive sockets (browsers, API clients) would hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await stopParts();
      logger.info('stopped');
    },
  };
}

/** Imports the demo lycée once (first start), through the same path as any ENTRÉE import. */
async function seedDemo(store: Store, clock: Clock, logger: Logger): Promise<void> {
  if (await store.timetables.currentMeta(DEMO_UAI)) return;
  const bytes = new TextEncoder().encode(JSON.stringify(buildDemoTimetable(clock.now())));
  const report = await ingestTimetable(
    store,
    { bytes, uai: DEMO_UAI, format: 'json', importedBy: 'demo-seed' },
    clock.now(),
  );
  if (!report.unchanged)
    await store.audit.append([importAuditEntry(report, 'demo-seed', 'seed', clock.now())]);
  logger.info({ uai: DEMO_UAI, version: report.version, counts: report.counts }, 'demo lycée imported');
}

/**
 * The port the server will listen on, checked free now without accepting anything: a fixed port by
 * trying to connect to it (refused: free), port 0 (tests, several instances on one host) by
 * letting the system choose one, which no client knows yet. The server binds it after start-up;
 * another process taking it meanwhile makes that bind, and the start, fail.
 */
async function reservePort(hostname: string, port: number): Promise<number> {
  if (port !== 0) {
    if (await answers(hostname, port))
      throw listenError(Object.assign(new Error('in use'), { code: 'EADDRINUSE' }), hostname, port);
    return port;
  }
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: hostname, port: 0, exclusive: true }, () => {
      const chosen = (probe.address() as AddressInfo).port;
      probe.close(() => resolvePort(chosen));
    });
  });
}

/** Whether something accepts connections on `port` of `hostname` (a wildcard host: loopback). */
function answers(hostname: string, port: number): Promise<boolean> {
  const host = hostname === '0.0.0.0' ? '127.0.0.1' : hostname === '::' ? '::1' : hostname;
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function listenError(error: NodeJS.ErrnoException, hostname: string, port: number): Error {
  return error.code === 'EADDRINUSE'
    ? new Error(
        `HTTP port ${port} on ${hostname} is already in use: set server.port in config/local.yaml or SCOPE_ENERGIE_SERVER__PORT`,
      )
    : error;
}

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
): Promise<ReturnType<typeof serve>> {
  return new Promise((resolveServer, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolveServer(server));
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, hostname, port)));
  });
}
