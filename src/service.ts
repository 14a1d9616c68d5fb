/**
 * The composition root of the running service (`scope-energie serve`, `npm start`): reads the
 * configuration, builds each part from one context, starts them in order and stops them in
 * reverse. Holds no business logic.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { createHttpApp } from './app/app.js';
import { createMetrics } from './app/metrics.js';
import { createAnchoring } from './audit/audit-anchoring.js';
import { auditRoutes } from './audit/audit-routes.js';
import { importAuditEntry } from './audit/import-audit.js';
import { Authenticator } from './auth/authenticator.js';
import { clientSchema } from './auth/clients.js';
import { loadClients } from './auth/load-clients.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { loadSigningKey } from './auth/signing-key.js';
import { createAuditBatcher } from './bridge/audit-batcher.js';
import { reloadEvents } from './bridge/audit-events.js';
import { type Bridge, INTERNAL_BRIDGE_CLIENT, startBridge } from './bridge/bridge.js';
import { type BrokerAccess, startBrokerAccess } from './broker-access/broker-access.js';
import { isSchoolZone } from './calendar/index.js';
import type { Config } from './config/schema.js';
import { CalendarAlertGauge } from './dashboard/calendar-alert-gauge.js';
import { dashboardDepsOf } from './dashboard/service-deps.js';
import { buildDemoTimetable, DEMO_GATEWAY_PASSWORD, DEMO_UAI } from './demo/demo-lycee.js';
import { type Clock, systemClock } from './domain/clock.js';
import { type SimulatedGateway, startSimulatedGateway } from './gateway/simulated-gateway.js';
import { EventLoopMonitor } from './http/event-loop-monitor.js';
import type { Logger } from './log/logger.js';
import { savingsRoutes } from './savings/savings-routes.js';
import { createImportPool, entreeLimits } from './scope/entree/import-pool.js';
import { ingestTimetable } from './scope/entree/ingest.js';
import { createViewPool, occupancyRunnerOf } from './scope/vue/view-pool.js';
import { CalendarSource } from './site/calendars.js';
import { describeSiteChange } from './site/site-change.js';
import { SiteHolder } from './site/site-holder.js';
import { createSessionRevocationRepository } from './store/session-revocation-repository.js';
import { openStore, type Store } from './store/store.js';
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
  stop(): Promise<void>;
}

export async function startService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const clock = context.clock ?? systemClock;
  const baseDir = context.baseDir ?? process.cwd();
  const dataDir = resolve(baseDir, config.storage.data_dir);
  mkdirSync(dataDir, { recursive: true });

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
  // The in-process bridge reads SORTIE like any energy consumer; it has no secret, only tokens
  // minted in this process.
  const internalClient = clientSchema.parse({
    id: INTERNAL_BRIDGE_CLIENT,
    name: 'Pont énergie intégré',
    role: 'consumer',
    purpose: 'sobriete-energetique',
    uais: ['*'],
  });
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
    clients: [...clients.clients, internalClient],
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
  // Listen first: the bridge reads the embedded SORTIE over HTTP, so it needs the URL before the
  // app (which mounts the bridge's routes) exists. Requests before then get 503.
  // `env` is @hono/node-server's `{ incoming, outgoing }`: the remote address (throttling) and the
  // socket (the 413's graceful close) come from it.
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response(
      JSON.stringify({
        errors: [{ code: 'starting', message: 'the service is starting', where: 'service' }],
      }),
      {
        status: 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
      },
    );
  const server = await listen((request, env) => handle(request, env), config.server.host, config.server.port);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;

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
  // The devices and rules the service starts on: hashes, rules version and who last changed them.
  auditLog.sink(
    reloadEvents(
      { ok: true, site: site.current, change: describeSiteChange([], site.current.files) },
      clock.now(),
    ),
  );
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
      httpUrl: url,
      mintToken: () => authenticator.mintToken(INTERNAL_BRIDGE_CLIENT),
      audit: auditLog.sink,
      ...(brokerAccess ? { brokerAccess } : {}),
      onReported: (row) => telemetryIngestor.offer(row),
    });
  } catch (error) {
    anchoring.stop();
    brokerAccess?.stop();
    site.stop();
    await new Promise<void>((done) => server.close(() => done()));
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
  // VUE's week and data-quality check and the dashboard's unmapped-rooms alert decode and walk the
  // stored timetable: in a worker of their own, with the import workers' limits.
  const viewPool = createViewPool({
    maxHeapMb: config.entree.worker.max_heap_mb,
    taskTimeoutMs: config.entree.worker.task_timeout_s * 1000,
    onError: (error) => logger.error({ err: error }, 'a view worker failed between tasks'),
  });
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
  // The dashboard's calendar alerts for /metrics, through the same per-version cache of dates.
  const calendarAlertGauge = new CalendarAlertGauge({
    deps: dashboard,
    schools: () => site.current.devices.values(),
    onError: (error, uai) => logger.warn({ err: error, uai }, 'calendar alerts not refreshed'),
  });
  calendarAlertGauge.start();
  const metrics = createMetrics();
  metrics.setSources({
    schoolAlerts: () => calendarAlertGauge.values(),
    eventLoopDelayP99: () => loopMonitor.p99Seconds(),
    syncStatus: () => bridge.sync.status(),
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
    // SORTIE's occupancy bodies decode and expand the stored timetable: in the view worker too.
    sortie: { store, calendars, runOccupancy: occupancyRunnerOf(viewPool.run) },
    vue: {
      store,
      clock,
      calendars,
      devicesDir: resolve(baseDir, config.paths.devices_dir),
      publicUrl: config.server.public_url,
      runView: viewPool.run,
    },
    dashboard,
    docs: { version: SERVICE_VERSION, serverUrl: config.server.public_url },
    bridge: bridge.routes,
    savings: savingsRoutes({
      planFor: (uai, date, days) => bridge.planning.planFor(uai, date, days),
      devicesOf: (uai) => site.current.devices.get(uai),
      calendars,
    }),
    audit: auditRoutes({
      audit: store.audit,
      monitor: anchoring.monitor,
      checkpointer: anchoring.checkpointer,
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
  handle = (request, env) => app.fetch(request, env);

  // The demo lycée's simulated gateway (docs/gateway-contract.md), so the gateway tracking shows
  // acknowledgements and measured temperatures from the first minute. Its password is the
  // public demo one of devices/0670999X.yaml; a site that changed it just runs without it.
  let demoGateway: SimulatedGateway | null = null;
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
    async stop() {
      await new Promise<void>((done) => {
        server.close(() => done());
        // Keep-alive sockets (browsers, the bridge's own SORTIE client) would hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await demoGateway?.stop();
      await bridge.stop();
      await telemetry.stop();
      brokerAccess?.stop();
      await auditLog.stop();
      anchoring.stop();
      calendarAlertGauge.stop();
      site.stop();
      await importPool.close();
      await viewPool.close();
      loopMonitor.stop();
      await store.close();
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

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
): Promise<ReturnType<typeof serve>> {
  return new Promise((resolveServer, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolveServer(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `HTTP port ${port} on ${hostname} is already in use: set server.port in config/local.yaml or SCOPE_ENERGIE_SERVER__PORT`,
          ),
        );
      } else reject(error);
    });
  });
}
