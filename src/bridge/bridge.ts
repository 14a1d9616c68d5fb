/**
 * The energy bridge, declared as parts (issue 14; docs/architecture.md, "Parts and their
 * lifecycle"): sync from SORTIE → planning (with overrides and scheduled events) → plan feed →
 * dispatcher → publisher → MQTT, beside gateway tracking, the broker link and the leases. Each
 * piece is built with what it uses; the list at the end says what starts after what, and the
 * composition stops them in the reverse order. Reloads, audit and cluster signals reach the parts
 * by subscription (site-reloads.ts, audit-trail.ts, cluster-link.ts).
 */
import { hostname } from 'node:os';
import { Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.js';
import { SchoolLeases } from '../cluster/school-leases.js';
import type { Config } from '../config/schema.js';
import { MqttTopics } from '../contract/topics.js';
import type { Clock } from '../domain/clock.js';
import { Composition } from '../lifecycle/composition.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import type { EmbeddedBroker } from '../mqtt/broker.js';
import { MqttConnection } from '../mqtt/connection.js';
import type { CalendarSource } from '../site/calendars.js';
import type { SiteHolder } from '../site/site-holder.js';
import type { Store } from '../store/store.js';
import { zoneTargetsOf } from './adapters/index.js';
import { z2mBaseTopic } from './adapters/zigbee2mqtt.js';
import type { AuditSink } from './audit-events.js';
import { AuditTrail, auditedAcks, auditedPublisher } from './audit-trail.js';
import { createBookingFeedPool } from './booking-feed-pool.js';
import { BookingFeeds } from './booking-feeds.js';
import { bridgeRoutes } from './bridge-routes.js';
import { BrokerWatch, brokerLinkOf, tlsOptions } from './broker-link.js';
import { ClusterSignals, leaseParts } from './cluster-link.js';
import { clusterRoutes } from './cluster-routes.js';
import { Dispatcher } from './dispatcher.js';
import { eventsRoutes } from './events-routes.js';
import { EventsService } from './events-service.js';
import { gatewayRoutes } from './gateway-routes.js';
import { GatewayTracker, type GatewayTrackerOptions, telling } from './gateway-tracker.js';
import { HomeAssistantCommands } from './ha-commands.js';
import { OptimumStartSource, type OptimumStartSourceOptions } from './optimum-start-source.js';
import { OverridesService } from './overrides-service.js';
import { MutablePlanFeed } from './plan-feed.js';
import { nextPlannedChange, PlanningService } from './planning.js';
import { BridgePublisher, type PublisherStats } from './publisher.js';
import { ScheduledJob } from './scheduled-job.js';
import { SiteReloads } from './site-reloads.js';
import type { SortieSource } from './sortie-source.js';
import { SyncService } from './sync.js';

export { gatewayCredentials } from './broker-link.js';

export interface BridgeContext {
  config: Config;
  baseDir: string;
  store: Store;
  site: SiteHolder;
  calendars: CalendarSource;
  clock: Clock;
  logger: Logger;
  version: string;
  /**
   * Where occupancy comes from: this service's SORTIE in process (the embedded default) or a
   * remote hub's HTTP client (sortie-source.ts, `occupancySourceOf`).
   */
  sortie: SortieSource;
  /** The dashboard's base URL for Home Assistant's `configuration_url`; none: not announced. */
  publicUrl?: string | undefined;
  /** Where plan changes, publishes, overrides and reloads are recorded (the audit log). */
  audit?: AuditSink;
  /**
   * An external broker's provisioning (src/broker-access/): on a devices/ reload the bridge runs
   * it between the adapters' withdrawals and announcements. Absent: the operator's ACL.
   */
  brokerAccess?: { reconcile(reason: string): Promise<void> };
  /** Every `reported` of an owned school, for the telemetry store (issue 16). */
  onReported?: GatewayTrackerOptions['onReported'];
  /**
   * Optimum start (issue 17, docs/optimum-start.md): a school's outdoor temperature source; with
   * it, each school's learned warm-ups are computed from the telemetry store before planning.
   */
  optimumStartOutdoor?: OptimumStartSourceOptions['outdoorOf'];
}

export interface Bridge {
  /** `/api/overrides`, `/api/etablissements/{uai}/plan`, `/api/gateways` (behind requireAuth). */
  routes: Hono<AuthEnv>;
  /** ENTRÉE hook: a new version reaches the plan and MQTT without waiting for the cron. */
  onImported(uai: string): void;
  readiness(): string[];
  publisherStats(): PublisherStats;
  /** The broker URL the bridge publishes to (embedded or external). */
  readonly mqttUrl: string;
  readonly embeddedBroker: EmbeddedBroker | null;
  readonly sync: SyncService;
  readonly planning: PlanningService;
  readonly dispatcher: Dispatcher;
  readonly tracker: GatewayTracker;
  readonly overrides: OverridesService;
  /** Scheduled events (docs/events.md). */
  readonly events: EventsService;
  /** The schools' booking feeds and their health. */
  readonly bookingFeeds: BookingFeeds;
  /** This instance's share of the schools (issue 8). */
  readonly leases: SchoolLeases;
  /** The bridge's MQTT session, for parts that read gateway topics beside it (meters). */
  readonly connection: MqttConnection;
  readonly topics: MqttTopics;
  stop(): Promise<void>;
}

/** Builds and starts a bridge; a failed start stops what had started and throws its error. */
export async function startBridge(context: BridgeContext): Promise<Bridge> {
  const bridge = createBridge(context);
  await bridge.start();
  return bridge;
}

/** The bridge's parts, built and declared; nothing runs before `start()`. */
export function createBridge(context: BridgeContext): Bridge & Part {
  const { config, store, site, clock, logger, calendars, audit } = context;
  const topics = new MqttTopics(config.mqtt.prefix);
  const mqttLogger = logger.child({ part: 'mqtt' });
  const targets = () => zoneTargetsOf([...site.current.devices.values()]);
  // SQLite serves one process: a fixed id lets a restart after a crash take its schools back at
  // once instead of waiting for its previous life's leases to lapse.
  const instanceId =
    config.cluster.instance_id ?? (store.dialect === 'sqlite' ? 'local' : defaultInstanceId());
  const actor = `bridge/${instanceId}`;

  // The broker (ours or external) and the bridge's session with it.
  const broker = brokerLinkOf({ ...context, topics });
  const connection = new MqttConnection({
    url: () => broker.url(),
    ...(broker.username ? { username: broker.username } : {}),
    ...(broker.password ? { password: broker.password } : {}),
    // Unique per instance: a broker disconnects the older of two sessions with one client id.
    clientId: `scope-energie-bridge-${instanceId}`,
    keepaliveSeconds: config.mqtt.keepalive_s,
    reconnect: { maxDelayMs: config.mqtt.reconnect_max_s * 1000 },
    prefix: config.mqtt.prefix,
    version: context.version,
    tls: tlsOptions(context),
    clock,
    logger: mqttLogger,
  });
  // Several instances on one database split the schools by lease; alone, an instance holds them
  // all through the same path (docs/deployment.md). Cut off from the broker, an instance hands
  // its schools over after half a lease TTL (the watch).
  const leases: SchoolLeases = new SchoolLeases({
    repository: store.leases,
    instanceId,
    schools: () => site.current.devices.keys(),
    takeoverMs: config.cluster.takeover_s * 1000,
    eligible: (): boolean => watch.reachable(),
    // Several instances exist only on PostgreSQL: there, wait one renewal period after joining so
    // instances started together claim their own shares straight away (docs/deployment.md).
    settleMs: store.dialect === 'postgres' ? (config.cluster.takeover_s * 1000) / 6 : 0,
    logger: logger.child({ part: 'leases' }),
  });
  const watch: BrokerWatch = new BrokerWatch(connection, leases, () => broker.url());
  const owns = (uai: string) => leases.owns(uai);

  // The pipeline: occupancy, overrides and events → planning → feed → dispatcher → publisher.
  const feed = new MutablePlanFeed();
  const publisher = new BridgePublisher({
    connection,
    topics,
    version: context.version,
    targets: targets(),
    maxMessagesPerSecond: config.mqtt.max_messages_per_second,
    echoLimit: config.mqtt.echo_limit,
    adaptive: config.mqtt.adaptive_window,
    mayPublish: owns,
    ...(context.publicUrl ? { publicUrl: context.publicUrl } : {}),
    logger: mqttLogger,
  });
  const sync = new SyncService({
    client: context.sortie,
    repository: store.sync,
    site,
    clock,
    cron: config.sync.cron,
    staleAfterHours: config.sync.stale_after_hours,
    concurrency: config.sync.concurrency,
    owns,
    logger: logger.child({ part: 'sync' }),
  });
  const overrides = new OverridesService({
    repository: store.overrides,
    site,
    clock,
    // "next-change" reads the files, the calendar and the held occupancy, not the planning.
    nextChange: nextPlannedChange({ site, calendars, occupancy: sync }),
    logger: logger.child({ part: 'overrides' }),
    audit,
  });
  const events = new EventsService({
    repository: store.events,
    site,
    calendars,
    occupancy: sync,
    clock,
    audit,
  });
  // Feeds are untrusted input: parsed in a worker with the import workers' limits.
  const feedPool = createBookingFeedPool({
    maxHeapMb: config.entree.worker.max_heap_mb,
    taskTimeoutMs: config.entree.worker.task_timeout_s * 1000,
    onError: (error) => logger.warn({ err: error }, 'booking feed worker lost'),
  });
  const bookingFeeds = new BookingFeeds({
    site,
    repository: store.events,
    events,
    parse: feedPool.parse,
    clock,
    baseDir: context.baseDir,
    owns,
    logger: logger.child({ part: 'booking-feeds' }),
  });
  // Each minute, the feeds whose period elapsed (UTC cron, like every interval job).
  const feedJob = new ScheduledJob({
    expression: '* * * * *',
    name: 'booking-feeds',
    run: () => bookingFeeds.pollDue(),
    clock,
    logger: logger.child({ part: 'booking-feeds' }),
  });
  const optimumStart = context.optimumStartOutdoor
    ? new OptimumStartSource({ telemetry: store.telemetry, outdoorOf: context.optimumStartOutdoor })
    : undefined;
  const planning = new PlanningService({
    site,
    calendars,
    occupancy: sync,
    overrides,
    events,
    feed,
    clock,
    loadOccupancy: (uai, dates) => sync.loadRange(uai, dates),
    owns,
    ready: (uai) => sync.attempted(uai),
    ...(optimumStart
      ? { optimumStart: (uai: string, now: number) => optimumStart.snapshotFor(uai, now) }
      : {}),
    logger: logger.child({ part: 'planning' }),
  });
  const dispatcher = new Dispatcher({
    feed,
    // The tracker keeps each school's report until the school's latest revs change.
    publisher: telling(auditedPublisher(publisher, audit, clock, actor), (uai) => tracker.latestChanged(uai)),
    repository: store.bridgeState,
    clock,
    fenceOf: (uai) => leases.fenceOf(uai),
    logger: mqttLogger,
  });
  // Home Assistant's commands become overrides (issue 15); a refused one snaps the entity back.
  const haCommands = new HomeAssistantCommands({
    connection,
    overrides,
    republish: (uai, zone, fn) => publisher.republishDesired(uai, zone, fn),
    owns,
    logger: mqttLogger,
  });
  const tracker = new GatewayTracker({
    connection,
    topics,
    repository: store.bridgeState,
    latest: (uai, zone, fn) => dispatcher.latest(uai, zone, fn),
    zones: targets(),
    clock,
    owns,
    reportedMaxPerMinute: config.mqtt.reported_max_per_minute,
    logger: mqttLogger,
    // zigbee2mqtt back online: a `/set` sent while it was down is lost, send its zones' again.
    onZ2mOnline: (base) => void resendZ2m(publisher, base, mqttLogger),
    ...(context.onReported ? { onReported: context.onReported } : {}),
    ...auditedAcks(audit, clock),
  });
  const cluster = new ClusterSignals({
    signals: store.signals,
    instanceId,
    leases,
    sync,
    planning,
    overrides,
    events,
    logger,
  });
  const held = leaseParts({ instanceId, leases, sync, planning, logger });

  // What starts after what; the composition stops them in the reverse order.
  const composition = new Composition(
    [
      { name: 'broker', part: broker },
      // Its stop (offline status, clean disconnect) comes after every part that publishes.
      { name: 'mqtt-session', part: { start() {}, stop: () => connection.stop() }, needs: ['broker'] },
      { name: 'audit-trail', part: new AuditTrail({ audit, feed, site, overrides, clock, actor }) },
      { name: 'publisher', part: publisher, needs: ['mqtt-session'] },
      {
        name: 'ha-commands',
        part: { start: () => haCommands.updateTargets(targets()), stop: () => haCommands.stop() },
        needs: ['publisher'],
      },
      { name: 'tracker', part: tracker, needs: ['mqtt-session'] },
      // After the publisher: its connect handler (re-publish everything) runs first.
      { name: 'broker-watch', part: watch, needs: ['publisher'] },
      // Before the overrides: the expiries their start records reach the other instances too.
      { name: 'cluster-signals', part: cluster },
      { name: 'overrides', part: overrides, needs: ['audit-trail'] },
      { name: 'held-occupancy', part: { start: () => sync.load(), stop() {} } },
      { name: 'leases', part: held.leases, needs: ['held-occupancy'] },
      {
        name: 'site-reloads',
        part: new SiteReloads({
          site,
          leases,
          tracker,
          publisher,
          haCommands,
          applyRights: (current) => broker.applyRights(current),
          logger: mqttLogger,
        }),
        needs: ['publisher', 'tracker', 'ha-commands', 'leases'],
      },
      { name: 'planning', part: planning, needs: ['overrides', 'leases', 'audit-trail'] },
      { name: 'dispatcher', part: dispatcher, needs: ['planning', 'publisher'] },
      {
        name: 'booking-feeds',
        part: {
          start() {
            feedJob.start();
            void bookingFeeds
              .pollDue()
              .catch((error: unknown) => logger.warn({ err: error }, 'booking feeds not polled at start'));
          },
          async stop() {
            await feedJob.stop();
            await feedPool.close();
          },
        },
        needs: ['planning'],
      },
      {
        // Another instance's Last Will says the service is offline; while this one runs, it is not.
        name: 'status-watch',
        part: statusWatch(connection, topics),
        needs: ['mqtt-session'],
      },
      // First connect: online status, then every zone's desired state and schedule, once.
      {
        name: 'connect',
        part: { start: () => watch.connect(), stop() {} },
        needs: ['dispatcher', 'tracker', 'ha-commands', 'broker-watch', 'status-watch'],
      },
      { name: 'sync', part: sync, needs: ['connect'] },
      // Stops first: the leases are given up before anything else stops (cluster-link.ts).
      { name: 'handover', part: held.handover, needs: ['sync'] },
    ],
    logger.child({ composition: 'bridge' }),
  );

  const routes = new Hono<AuthEnv>();
  routes.route(
    '/',
    bridgeRoutes({
      overrides,
      planning,
      clock,
      timezoneOf: (uai) => site.current.devices.get(uai)?.value.school.timezone,
    }),
  );
  routes.route('/', eventsRoutes({ events }));
  routes.route('/', gatewayRoutes({ tracker }));
  routes.route('/', clusterRoutes({ leases, repository: store.leases }));

  return {
    routes,
    get mqttUrl() {
      return broker.url();
    },
    get embeddedBroker() {
      return broker.embedded();
    },
    sync,
    planning,
    dispatcher,
    tracker,
    overrides,
    events,
    bookingFeeds,
    leases,
    connection,
    topics,
    onImported(uai) {
      // Never throws: syncNow records failures in the sync status. Another instance may hold
      // the school: it hears of the import through the store.
      if (leases.owns(uai)) void sync.syncNow(uai);
      else cluster.send({ kind: 'timetable', uai });
    },
    readiness: () => composition.problems(),
    health: () => composition.problems(),
    publisherStats: () => publisher.stats(),
    async start() {
      await composition.start();
      logger.info(
        {
          broker: broker.url(),
          schools: site.current.devices.size,
          instance: instanceId,
          held: leases.owned().length,
        },
        'bridge started',
      );
    },
    stop: () => composition.stop(),
  };
}

/** Subscribes to the service's status topic and says `online` again when another instance's Will says offline. */
function statusWatch(connection: MqttConnection, topics: MqttTopics): Part {
  let watching: { unsubscribe(): Promise<void> } | undefined;
  return {
    async start() {
      watching = await connection.subscribe(topics.bridgeStatus().topic, (message) => {
        if (message.payload.toString('utf8').includes('"offline"')) void connection.reassertOnline();
      });
    },
    async stop() {
      await watching?.unsubscribe();
      watching = undefined;
    },
  };
}

async function resendZ2m(publisher: BridgePublisher, base: string, logger: Logger): Promise<void> {
  await publisher
    .resendCommands((t) => t.adapter === 'zigbee2mqtt' && z2mBaseTopic(t) === base)
    .then(
      (tally) => logger.info({ base_topic: base, ...tally }, 'zigbee2mqtt online: commands re-sent'),
      (error: unknown) =>
        logger.error({ error: (error as Error).message }, 'zigbee2mqtt command re-send failed'),
    );
}

/** Host name and process id: unique among processes of a deployment unless configured otherwise. */
function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 48) || 'host';
  return `${host}-${process.pid}`;
}
