/**
 * The energy bridge assembled: sync from SORTIE → planning (with overrides) → plan feed →
 * dispatcher → publisher → MQTT, plus gateway tracking, the embedded broker when configured, and
 * the bridge's HTTP routes. Built from one context; `start()` and `stop()` run the parts in order
 * (start: broker, store-backed parts, then the MQTT connection so its first connect publishes
 * everything once; stop: the reverse).
 */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.js';
import { generateToken, hashSecret } from '../auth/secrets.js';
import { SchoolLeases } from '../cluster/school-leases.js';
import type { Config } from '../config/schema.js';
import { MqttTopics } from '../contract/topics.js';
import { siteLogins } from '../devices/gateway-logins.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../log/logger.js';
import { type EmbeddedBroker, type GatewayCredentials, startEmbeddedBroker } from '../mqtt/broker.js';
import { MqttConnection } from '../mqtt/connection.js';
import type { CalendarSource } from '../site/calendars.js';
import { type LapseTimer, watchCredentialLapses } from '../site/credential-lapses.js';
import type { Site } from '../site/load-site.js';
import type { SiteHolder } from '../site/site-holder.js';
import type { Store } from '../store/store.js';
import { bridgeExtraAcl, gatewayExtraAcl, zoneTargetsOf } from './adapters/index.js';
import { z2mBaseTopic } from './adapters/zigbee2mqtt.js';
import { type AuditSink, planEvents, publishEvents, reloadEvents } from './audit-events.js';
import { createBookingFeedPool } from './booking-feed-pool.js';
import { BookingFeeds } from './booking-feeds.js';
import { bridgeRoutes } from './bridge-routes.js';
import { clusterRoutes } from './cluster-routes.js';
import { type ClusterSignal, parseClusterSignal } from './cluster-signal.js';
import { Dispatcher } from './dispatcher.js';
import { eventsRoutes } from './events-routes.js';
import { EventsService } from './events-service.js';
import { gatewayRoutes } from './gateway-routes.js';
import { GatewayTracker, type GatewayTrackerOptions } from './gateway-tracker.js';
import { HomeAssistantCommands } from './ha-commands.js';
import { OptimumStartSource, type OptimumStartSourceOptions } from './optimum-start-source.js';
import { OverridesService } from './overrides-service.js';
import { MutablePlanFeed } from './plan-feed.js';
import { PlanningService } from './planning.js';
import { BridgePublisher, type PublisherStats } from './publisher.js';
import { ScheduledJob } from './scheduled-job.js';
import type { SortieSource } from './sortie-source.js';
import { SyncService } from './sync.js';

const BRIDGE_MQTT_USERNAME = 'scope-energie-bridge';

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

export async function startBridge(context: BridgeContext): Promise<Bridge> {
  const { config, store, site, clock, logger } = context;
  const topics = new MqttTopics(config.mqtt.prefix);
  const mqttLogger = logger.child({ part: 'mqtt' });
  const targets = () => zoneTargetsOf([...site.current.devices.values()]);

  // The bridge's own broker password: random per start when the broker is ours (only its hash
  // is given to the broker), from a file or the environment for an external one.
  let embeddedBroker: EmbeddedBroker | null = null;
  let credentialLapses: LapseTimer | undefined;
  let username = config.mqtt.username;
  // How a devices/ reload reaches the broker's access control (embedded table or provisioning).
  let applyRights: (current: Site) => Promise<void> = async () => {};
  let password = brokerPassword(context);
  if (config.mqtt.embedded.enabled) {
    username = BRIDGE_MQTT_USERNAME;
    password = generateToken('mqtt');
    const bridgeCredentials = {
      username,
      passwordHash: hashSecret(password),
      extraAcl: bridgeExtraAcl(targets()),
    };
    embeddedBroker = await startEmbeddedBroker({
      host: config.mqtt.embedded.host,
      port: config.mqtt.embedded.port,
      prefix: config.mqtt.prefix,
      maxPacketBytes: config.mqtt.embedded.max_packet_kb * 1024,
      bridgeCredentials,
      gateways: gatewayCredentials(site.current, topics, context.version, clock.now()),
      logger: mqttLogger,
    });
    logger.info({ url: embeddedBroker.url }, 'embedded MQTT broker listening');
    const refreshCredentials = (current: Site): void =>
      embeddedBroker?.updateCredentials({
        bridgeCredentials: { ...bridgeCredentials, extraAcl: bridgeExtraAcl(targets()) },
        gateways: gatewayCredentials(current, topics, context.version, clock.now()),
      });
    // A rotated gateway's previous password is refused from its valid_until on.
    credentialLapses = watchCredentialLapses(
      () => site.current,
      clock,
      () => refreshCredentials(site.current),
    );
    // On a devices/ reload the rights change between the adapters' withdrawals and their
    // announcements (see the adapters' reload below), not here.
    applyRights = async (current: Site) => {
      refreshCredentials(current);
      credentialLapses?.reschedule();
    };
  } else if (context.brokerAccess) {
    const access = context.brokerAccess;
    applyRights = () => access.reconcile('devices reloaded');
  }
  const mqttUrl = embeddedBroker?.url ?? config.mqtt.url;
  if (!mqttUrl) throw new Error('no MQTT broker: enable mqtt.embedded or set mqtt.url (MQTT_URL)');

  // Several instances on one database split the schools by lease; alone, an instance holds them
  // all through the same path (docs/deployment.md).
  // SQLite serves one process: a fixed id lets a restart after a crash take its schools back at
  // once instead of waiting for its previous life's leases to lapse.
  const instanceId =
    config.cluster.instance_id ?? (store.dialect === 'sqlite' ? 'local' : defaultInstanceId());
  const leases = new SchoolLeases({
    repository: store.leases,
    instanceId,
    schools: () => site.current.devices.keys(),
    takeoverMs: config.cluster.takeover_s * 1000,
    // Cut off from the broker, an instance hands its schools over after half a lease TTL (a
    // reconnect usually takes a second or two): see brokerReachable below.
    eligible: () => brokerReachable(),
    // Several instances exist only on PostgreSQL: there, wait one renewal period after joining so
    // instances started together claim their own shares straight away (docs/deployment.md).
    settleMs: store.dialect === 'postgres' ? (config.cluster.takeover_s * 1000) / 6 : 0,
    logger: logger.child({ part: 'leases' }),
  });
  const owns = (uai: string) => leases.owns(uai);
  const auditActor = `bridge/${instanceId}`;
  // When the broker link went down (checked every second, not only at lease ticks), so that the
  // hand-over comes half a TTL after the loss, and the first connect counts as well: an instance
  // that never reaches the broker must not sit on its share.
  let connectionStarted = false;
  let brokerDownSince: number | null = null;
  let handedOverForBroker = false;
  const brokerWatch = setInterval(() => {
    if (!connectionStarted || connection.isConnected()) {
      brokerDownSince = null;
      handedOverForBroker = false;
      return;
    }
    brokerDownSince ??= performance.now();
    if (!handedOverForBroker && !brokerReachable()) {
      handedOverForBroker = true;
      void leases.tick();
    }
  }, 1_000);
  brokerWatch.unref();
  function brokerReachable(): boolean {
    return brokerDownSince === null || performance.now() - brokerDownSince < leases.ttlMs / 2;
  }
  // A school added to devices/ is shared out now, not at the next renewal.
  site.onReload((result) => {
    if (result.ok) void leases.tick();
  });

  const connection = new MqttConnection({
    url: mqttUrl,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
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
  const feed = new MutablePlanFeed();
  const publisher = new BridgePublisher({
    connection,
    topics,
    version: context.version,
    targets: targets(),
    maxMessagesPerSecond: config.mqtt.max_messages_per_second,
    echoLimit: config.mqtt.echo_limit,
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
  // Overrides and planning refer to each other ("next-change" needs the plan): a late binding.
  let planning: PlanningService | undefined;
  const overrides = new OverridesService({
    repository: store.overrides,
    site,
    clock,
    nextChange: (...args) => planning?.nextChange(...args) ?? null,
    logger: logger.child({ part: 'overrides' }),
    audit: context.audit,
  });
  const events = new EventsService({
    repository: store.events,
    site,
    calendars: context.calendars,
    occupancy: sync,
    clock,
    audit: context.audit,
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
  planning = new PlanningService({
    site,
    calendars: context.calendars,
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
  // Home Assistant's commands become overrides (issue 15); a refused one snaps the entity back.
  const haCommands = new HomeAssistantCommands({
    connection,
    overrides,
    republish: (uai, zone, fn) => publisher.republishDesired(uai, zone, fn),
    owns,
    logger: mqttLogger,
  });
  const audit = context.audit;
  // Every new desired state the dispatcher sends is audited (re-publications of held state are not).
  const auditedPublisher = {
    apply: async (changes: Parameters<BridgePublisher['apply']>[0]) => {
      const tally = await publisher.apply(changes);
      audit?.(publishEvents(changes, clock.now(), auditActor));
      return tally;
    },
    forget: (...args: Parameters<BridgePublisher['forget']>) => publisher.forget(...args),
    // A zone or function dropped from devices/: its retained topics emptied, audited by zone.
    clear: async (...args: Parameters<BridgePublisher['clear']>) => {
      const tally = await publisher.clear(...args);
      const [uai, zone, fn] = args;
      if (tally.sent > 0)
        audit?.([
          {
            kind: 'publish',
            at: clock.now(),
            actor: auditActor,
            uai,
            zone,
            detail: {
              function: fn,
              cleared: ['desired', 'schedule'],
              reason: 'zone function removed from devices/',
            },
          },
        ]);
      return tally;
    },
  };
  const dispatcher = new Dispatcher({
    feed,
    publisher: auditedPublisher,
    repository: store.bridgeState,
    clock,
    fenceOf: (uai) => leases.fenceOf(uai),
    logger: mqttLogger,
  });
  if (audit) {
    feed.subscribe((uai) => audit(planEvents(feed, uai, clock.now(), auditActor)));
    site.onReload((result) => audit(reloadEvents(result, clock.now())));
    const audited = new Set((await overrides.events()).map((e) => e.id));
    overrides.onChange((uai) => {
      void overrides.events({ uai }).then((events) => {
        const fresh = events.filter((e) => !audited.has(e.id));
        for (const e of fresh) audited.add(e.id);
        audit(
          fresh.map((e) => ({
            kind: 'override' as const,
            at: e.at,
            actor: e.actor,
            uai: e.uai,
            zone: typeof e.detail['zone'] === 'string' ? e.detail['zone'] : undefined,
            detail: { event: e.kind, override_id: e.overrideId, ...e.detail },
          })),
        );
      });
    });
  }
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
    onZ2mOnline: (base) => {
      void publisher
        .resendCommands((t) => t.adapter === 'zigbee2mqtt' && z2mBaseTopic(t) === base)
        .then(
          (tally) => mqttLogger.info({ base_topic: base, ...tally }, 'zigbee2mqtt online: commands re-sent'),
          (error: unknown) =>
            mqttLogger.error({ error: (error as Error).message }, 'zigbee2mqtt command re-send failed'),
        );
    },
    ...(context.onReported ? { onReported: context.onReported } : {}),
    ...(context.audit
      ? {
          onAcknowledged: (ack: Parameters<NonNullable<GatewayTrackerOptions['onAcknowledged']>>[0]) =>
            context.audit?.([
              {
                kind: 'ack',
                at: clock.now(),
                actor: ack.gateway ?? 'gateway',
                uai: ack.uai,
                zone: ack.zone,
                detail: { function: ack.function, ...ack.payload },
              },
            ]),
        }
      : {}),
  });
  // A devices/ edit can add, drop or re-configure zones: the tracker lists them, adapters
  // follow, and Home Assistant entities of zones that left are withdrawn rather than left as ghosts.
  // Issue 15: withdrawals go out under the old rights, the broker's rights change, then the new
  // zones are announced; the bridge's own session survives the change (broker.ts keeps it).
  // Reloads are applied one after the other.
  let adapterUpdates: Promise<void> = Promise.resolve();
  site.onReload((result) => {
    if (!result.ok) return;
    const next = zoneTargetsOf([...result.site.devices.values()]);
    tracker.updateZones(next);
    adapterUpdates = adapterUpdates
      .then(async () => {
        await publisher.updateTargets(next, () => applyRights(result.site));
        await haCommands.updateTargets(next);
      })
      .catch((error: unknown) =>
        mqttLogger.error({ error: (error as Error).message }, 'adapter update failed'),
      );
  });

  // Changes reach the lease holder whichever instance took the request (LISTEN/NOTIFY).
  const signal = (message: Omit<ClusterSignal, 'from'>) => {
    store.signals
      .notify(JSON.stringify({ ...message, from: instanceId }))
      .catch((error: unknown) => logger.warn({ err: error }, 'cluster signal not sent'));
  };
  let stopListening: (() => Promise<void>) | undefined;
  let stopFollowingLeases: (() => void) | undefined;
  let statusWatch: { unsubscribe(): Promise<void> } | undefined;
  const stopParts = async (): Promise<void> => {
    clearInterval(brokerWatch);
    credentialLapses?.stop();
    await stopListening?.();
    stopFollowingLeases?.();
    // First: nothing of ours goes out from here on (leases are dropped locally at once), and the
    // others take the schools over at their next renewal rather than after the TTL.
    await leases.stop();
    await sync.stop();
    await dispatcher.stop();
    await feedJob.stop();
    await feedPool.close();
    await planning?.stop();
    overrides.stop();
    await tracker.stop();
    await haCommands.stop();
    await publisher.stop();
    await statusWatch?.unsubscribe();
    await connection.stop();
    await embeddedBroker?.close();
  };
  try {
    stopListening = await store.signals.listen((text) => {
      const message = parseClusterSignal(text);
      if (!message || message.from === instanceId || !leases.owns(message.uai)) return;
      if (message.kind === 'timetable') void sync.syncNow(message.uai);
      else {
        events.forget(message.uai);
        void planning?.replan(message.uai);
      }
    });
    overrides.onChange((uai) => signal({ kind: 'overrides', uai }));
    // The lease holder replans on it like on an override (its event cache is read afresh).
    events.onChange((uai) => signal({ kind: 'overrides', uai }));

    await publisher.start();
    await haCommands.updateTargets(targets());
    await tracker.start();
    await overrides.start();
    await sync.load();
    await leases.start();
    stopFollowingLeases = leases.onChange(({ acquired, released }) => {
      // Released first: a school lost and taken again (a lapse) is dropped, then planned afresh.
      for (const uai of released) void planning?.replan(uai);
      for (const uai of acquired) {
        void (async () => {
          // The previous holder's last pull, then a fresh one; never synced before: the first
          // plan waits for that pull (planning's `ready`). Planned even if the store read fails.
          try {
            await sync.reload(uai);
          } finally {
            await planning?.replan(uai);
          }
          await sync.syncNow(uai);
        })().catch((error: unknown) => logger.error({ err: error, uai }, 'taking over a school failed'));
      }
    });
    await planning.start();
    await dispatcher.start();
    feedJob.start();
    void bookingFeeds
      .pollDue()
      .catch((error: unknown) => logger.warn({ err: error }, 'booking feeds not polled at start'));
    // Another instance's Last Will says the service is offline; while this one runs, it is not.
    statusWatch = await connection.subscribe(topics.bridgeStatus().topic, (message) => {
      if (message.payload.toString('utf8').includes('"offline"')) void connection.reassertOnline();
    });
    // Back from a broker outage: rejoin at once (not at the next renewal), so the schools handed
    // over meanwhile are held, planned and re-published within seconds of the broker's return.
    connection.onConnect((event) => {
      brokerDownSince = null;
      handedOverForBroker = false;
      if (event.reconnect) void leases.tick();
    });
    // First connect: online status, then every zone's desired state and schedule, once.
    connectionStarted = true;
    await connection.start();
    await sync.start();
  } catch (error) {
    // Nothing half-started keeps the process alive (timers, the LISTEN session, leases).
    await stopParts().catch((stopError: unknown) =>
      logger.error({ err: stopError }, 'could not stop the parts of a bridge that failed to start'),
    );
    throw error;
  }
  logger.info(
    {
      broker: mqttUrl,
      schools: site.current.devices.size,
      instance: instanceId,
      held: leases.owned().length,
    },
    'bridge started',
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

  const startedPlanning = planning;
  return {
    routes,
    mqttUrl,
    embeddedBroker,
    sync,
    planning: startedPlanning,
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
      else signal({ kind: 'timetable', uai });
    },
    readiness: () => [
      ...(connectionStarted && !connection.isConnected()
        ? [
            `broker: ${mqttUrl} unreachable${brokerDownSince === null ? '' : ` for ${((performance.now() - brokerDownSince) / 1000).toFixed(1)} s`}`,
          ]
        : []),
      ...leases.readinessProblems(),
      ...sync.readinessProblems(),
    ],
    publisherStats: () => publisher.stats(),
    stop: stopParts,
  };
}

/** Host name and process id: unique among processes of a deployment unless configured otherwise. */
function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 48) || 'host';
  return `${host}-${process.pid}`;
}

/** Every gateway login at `now` for the embedded broker (a rotated gateway has two until its previous one lapses). */
export function gatewayCredentials(
  site: Site,
  topics: MqttTopics,
  version: string,
  now: number,
): GatewayCredentials[] {
  const targets = zoneTargetsOf([...site.devices.values()]);
  return siteLogins(
    [...site.devices.values()].map((devices) => devices.value),
    now,
  ).map((login) => ({
    uai: login.uai,
    gateway: login.gateway,
    username: login.username,
    passwordHash: login.passwordHash,
    extraAcl: gatewayExtraAcl(targets, login.uai, login.gateway, { topics, version }),
  }));
}

function brokerPassword({ config, baseDir }: BridgeContext): string | undefined {
  if (config.mqtt.password_file)
    return readFileSync(resolve(baseDir, config.mqtt.password_file), 'utf8').trim();
  if (config.mqtt.password_env) return process.env[config.mqtt.password_env];
  return undefined;
}

function tlsOptions({ config, baseDir }: BridgeContext) {
  const tls = config.mqtt.tls;
  const read = (file: string | undefined) => (file ? readFileSync(resolve(baseDir, file)) : undefined);
  const ca = read(tls.ca_file);
  const cert = read(tls.cert_file);
  const key = read(tls.key_file);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: tls.reject_unauthorized,
  };
}
