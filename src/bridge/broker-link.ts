/**
 * The bridge's link to its MQTT broker, as parts (issue 14): the broker itself when it is ours
 * (embedded aedes with the gateways' logins, refreshed on reloads and rotations), the bridge's own
 * credentials and TLS files, and the watch that hands the schools over when the link stays down.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateToken, hashSecret } from '../auth/secrets.js';
import type { SchoolLeases } from '../cluster/school-leases.js';
import type { Config } from '../config/schema.js';
import type { MqttTopics } from '../contract/topics.js';
import { siteLogins } from '../devices/gateway-logins.js';
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import { type EmbeddedBroker, type GatewayCredentials, startEmbeddedBroker } from '../mqtt/broker.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { type LapseTimer, watchCredentialLapses } from '../site/credential-lapses.js';
import type { Site } from '../site/load-site.js';
import type { SiteHolder } from '../site/site-holder.js';
import { bridgeExtraAcl, gatewayExtraAcl, zoneTargetsOf } from './adapters/index.js';

const BRIDGE_MQTT_USERNAME = 'scope-energie-bridge';

export interface BrokerLinkContext {
  config: Config;
  baseDir: string;
  site: SiteHolder;
  clock: Clock;
  logger: Logger;
  version: string;
  topics: MqttTopics;
  /** An external broker's provisioning (src/broker-access/), run on devices/ reloads. */
  brokerAccess?: { reconcile(reason: string): Promise<void> } | undefined;
}

/** The broker part and what the bridge's MQTT session needs to log in to it. */
export interface BrokerLink extends Part {
  /** The broker's URL; the embedded one's is known once this part started. */
  url(): string;
  embedded(): EmbeddedBroker | null;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** A devices/ reload's new rights: the embedded broker's table, or the external provisioning. */
  applyRights(current: Site): Promise<void>;
}

export function brokerLinkOf(context: BrokerLinkContext): BrokerLink {
  const { config } = context;
  if (config.mqtt.embedded.enabled) return new EmbeddedBrokerPart(context);
  // An external broker: the password from a file or the environment, the operator's ACL or ours.
  const access = context.brokerAccess;
  return {
    url: () => {
      if (!config.mqtt.url)
        throw new Error('no MQTT broker: enable mqtt.embedded or set mqtt.url (MQTT_URL)');
      return config.mqtt.url;
    },
    embedded: () => null,
    username: config.mqtt.username,
    password: brokerPassword(context),
    applyRights: async () => {
      await access?.reconcile('devices reloaded');
    },
    start() {
      if (!config.mqtt.url)
        throw new Error('no MQTT broker: enable mqtt.embedded or set mqtt.url (MQTT_URL)');
    },
    stop() {},
  };
}

/**
 * The embedded broker: the bridge logs in with a password random per start (only its hash is
 * given to the broker); a rotated gateway's previous password is refused from its valid_until on.
 */
class EmbeddedBrokerPart implements BrokerLink {
  readonly username = BRIDGE_MQTT_USERNAME;
  readonly password = generateToken('mqtt');
  // Hashed once: a new salted hash at a reload would read as changed credentials to the broker,
  // which then drops the bridge's session (broker.ts keeps a session whose login is unchanged).
  private readonly passwordHash = hashSecret(this.password);
  private broker: EmbeddedBroker | null = null;
  private lapses: LapseTimer | undefined;

  constructor(private readonly context: BrokerLinkContext) {}

  url(): string {
    if (!this.broker) throw new Error('the embedded MQTT broker is not started');
    return this.broker.url;
  }

  embedded(): EmbeddedBroker | null {
    return this.broker;
  }

  async start(): Promise<void> {
    const { config, site, clock, logger } = this.context;
    const mqttLogger = logger.child({ part: 'mqtt' });
    this.broker = await startEmbeddedBroker({
      host: config.mqtt.embedded.host,
      port: config.mqtt.embedded.port,
      prefix: config.mqtt.prefix,
      maxPacketBytes: config.mqtt.embedded.max_packet_kb * 1024,
      bridgeCredentials: this.bridgeCredentials(),
      gateways: this.gateways(site.current),
      logger: mqttLogger,
    });
    logger.info({ url: this.broker.url }, 'embedded MQTT broker listening');
    this.lapses = watchCredentialLapses(
      () => site.current,
      clock,
      () => this.refresh(site.current),
    );
  }

  async stop(): Promise<void> {
    this.lapses?.stop();
    this.lapses = undefined;
    await this.broker?.close();
  }

  /** Between the adapters' withdrawals and their announcements (reloads.ts), not at the file event. */
  async applyRights(current: Site): Promise<void> {
    this.refresh(current);
    this.lapses?.reschedule();
  }

  private refresh(current: Site): void {
    this.broker?.updateCredentials({
      bridgeCredentials: this.bridgeCredentials(),
      gateways: this.gateways(current),
    });
  }

  private bridgeCredentials() {
    return {
      username: this.username,
      passwordHash: this.passwordHash,
      extraAcl: bridgeExtraAcl(zoneTargetsOf([...this.context.site.current.devices.values()])),
    };
  }

  private gateways(current: Site): GatewayCredentials[] {
    const { topics, version, clock } = this.context;
    return gatewayCredentials(current, topics, version, clock.now());
  }
}

/**
 * When the link went down (checked every second, not only at lease ticks), so that the hand-over
 * comes half a lease TTL after the loss (a reconnect usually takes a second or two); the first
 * connect counts as well: an instance that never reaches the broker must not sit on its share.
 * Back from an outage, the instance rejoins at once rather than at the next renewal.
 */
export class BrokerWatch implements Part {
  private connecting = false;
  private downSince: number | null = null;
  private handedOver = false;
  private timer: NodeJS.Timeout | undefined;
  private offConnect: (() => void) | undefined;

  constructor(
    private readonly connection: MqttConnection,
    private readonly leases: Pick<SchoolLeases, 'tick' | 'ttlMs'>,
    private readonly url: () => string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), 1_000);
    this.timer.unref();
    this.offConnect = this.connection.onConnect((event) => {
      this.downSince = null;
      this.handedOver = false;
      if (event.reconnect) void this.leases.tick();
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.offConnect?.();
  }

  /** The first connect: online status, then every zone's desired state and schedule, once. */
  connect(): Promise<void> {
    this.connecting = true;
    return this.connection.start();
  }

  /** False once the link has been down for half a lease TTL. */
  reachable(): boolean {
    return this.downSince === null || performance.now() - this.downSince < this.leases.ttlMs / 2;
  }

  health(): string[] {
    if (!this.connecting || this.connection.isConnected()) return [];
    const since =
      this.downSince === null ? '' : ` for ${((performance.now() - this.downSince) / 1000).toFixed(1)} s`;
    return [`broker: ${this.url()} unreachable${since}`];
  }

  private check(): void {
    if (!this.connecting || this.connection.isConnected()) {
      this.downSince = null;
      this.handedOver = false;
      return;
    }
    this.downSince ??= performance.now();
    if (!this.handedOver && !this.reachable()) {
      this.handedOver = true;
      void this.leases.tick();
    }
  }
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

function brokerPassword({
  config,
  baseDir,
}: Pick<BrokerLinkContext, 'config' | 'baseDir'>): string | undefined {
  if (config.mqtt.password_file)
    return readFileSync(resolve(baseDir, config.mqtt.password_file), 'utf8').trim();
  if (config.mqtt.password_env) return process.env[config.mqtt.password_env];
  return undefined;
}

/** The bridge session's TLS material, read from the configured files. */
export function tlsOptions({ config, baseDir }: Pick<BrokerLinkContext, 'config' | 'baseDir'>) {
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
