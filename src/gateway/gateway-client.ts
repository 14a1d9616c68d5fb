/**
 * The reference gateway's MQTT side: the other end of the contract (docs/mqtt.md, MQTT
 * contract v1; docs/gateway-contract.md walks through it message by message).
 *
 * - Logs in with the gateway's credentials from devices/, with a Last Will `{state: offline}` on
 *   `{prefix}/{uai}/gateway/{id}/status` (retained, QoS 1), and publishes `online` there on every
 *   connect.
 * - Subscribes to its school's `desired` and `schedule` filters (the narrowest the ACL grants),
 *   again after every reconnect: the retained copies re-deliver the current state, and the bridge
 *   re-publishes everything when it reconnects, so nothing depends on a persistent session.
 * - Hands each message to the zone's `ZoneController` (highest rev wins), and publishes `reported`
 *   (retained, QoS 1) whenever the command in force changes, plus `reportAll()` for periodic
 *   measurements. Every `reported` is re-published on reconnect: after a broker restart the
 *   bridge's tracker must see the acknowledgements again.
 * - Publishes only while connected: a report is a snapshot, the next connect sends fresh ones.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  type DesiredPayload,
  encodePayload,
  type GatewayStatusPayload,
  MqttTopics,
  type ReportedPayload,
  type SchedulePayload,
} from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import { sameCommand, type ZoneCommand, ZoneController } from './zone-controller.js';

export interface GatewayZone {
  id: string;
  functions: readonly ZoneFunction[];
}

export interface GatewayClientOptions {
  url: string;
  uai: string;
  /** Gateway id in devices/, the `{gateway}` level of its status topic. */
  gateway: string;
  username: string;
  password: string;
  /** The zones this gateway drives (devices/ zones whose `gateway` is this one). */
  zones: readonly GatewayZone[];
  prefix?: string;
  clientId?: string;
  clock?: Clock;
  logger?: MqttLogger;
  /** Delay between reconnection attempts, default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Time allowed for TCP + CONNACK, default 10 s. */
  connectTimeoutMs?: number;
  /** The zone's measured temperature for `reported.measured_c` (heating only). */
  measure?: (zone: string) => number | undefined;
  /**
   * Called with the current instant before a message or an evaluation can change a command, so
   * that a simulation first integrates the elapsed time under the commands that were in force.
   */
  beforeChange?: (now: number) => void;
}

export interface ZoneFunctionState {
  zone: string;
  function: ZoneFunction;
  command: ZoneCommand;
  /** What was last published on `reported`, if anything. */
  reported?: ReportedPayload;
}

export class GatewayClientError extends Error {
  constructor(
    readonly code: 'refused' | 'subscription-refused' | 'unreachable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayClientError';
  }
}

interface Entry {
  zone: string;
  fn: ZoneFunction;
  controller: ZoneController;
  /** The command last reported (or computed while offline). */
  last?: ZoneCommand;
  reported?: ReportedPayload;
  /** The connection (1, 2…) on which `reported` was last delivered. */
  sentOn?: number;
}

const key = (zone: string, fn: ZoneFunction): string => `${zone}/${fn}`;

export class GatewayClient {
  private readonly topics: MqttTopics;
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private readonly entries = new Map<string, Entry>();
  private client: MqttClient | undefined;
  private stopped = false;
  private connects = 0;

  constructor(private readonly options: GatewayClientOptions) {
    this.topics = new MqttTopics(options.prefix);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    // Builds every topic once up front: a bad UAI or id fails here, not on the first message.
    this.topics.gatewayStatus(options.uai, options.gateway);
    for (const zone of options.zones) {
      for (const fn of zone.functions) {
        this.topics.reported(options.uai, zone.id, fn);
        this.entries.set(key(zone.id, fn), { zone: zone.id, fn, controller: new ZoneController(fn) });
      }
    }
  }

  /** Connects and subscribes; rejects when the broker refuses the credentials or a subscription. */
  start(): Promise<void> {
    const { options } = this;
    const statusTopic = this.topics.gatewayStatus(options.uai, options.gateway);
    const offline: GatewayStatusPayload = { state: 'offline' };
    const clientOptions: IClientOptions = {
      clientId: options.clientId ?? `gw-${options.uai}-${options.gateway}-${randomBytes(3).toString('hex')}`,
      username: options.username,
      password: options.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      // Subscriptions are made again in the connect handler, in a known order before the reports.
      resubscribe: false,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // A report queued while offline would land stale; the connect handler sends fresh ones.
      queueQoSZero: false,
      will: {
        topic: statusTopic.topic,
        payload: encodePayload(statusTopic, offline),
        qos: 1,
        retain: true,
      },
    };
    const client = mqtt.connect(options.url, clientOptions);
    this.client = client;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        if (error) {
          client.end(true);
          reject(error);
        } else resolve();
      };
      client.on('connect', () => {
        this.connects += 1;
        this.onConnect().then(
          () => settle(),
          (error: Error) => {
            if (!settled) settle(error);
            else this.logger.error({ err: error }, 'gateway: re-subscribing after a reconnect failed');
          },
        );
      });
      client.on('error', (error) => {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'number' && !settled) {
          settle(
            new GatewayClientError('refused', `${options.url} refused ${options.username}: CONNACK ${code}`),
          );
          return;
        }
        this.logger.warn({ err: error }, 'gateway: mqtt error');
      });
      client.on('close', () => {
        if (!settled && this.connects === 0 && !client.reconnecting) {
          settle(new GatewayClientError('unreachable', `could not connect to ${options.url}`));
        }
      });
      client.on('offline', () => this.logger.warn({ url: options.url }, 'gateway: disconnected, retrying'));
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
    });
  }

  /** Publishes `offline` and disconnects cleanly, so the broker discards the Will. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await this.publishStatus('offline');
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Re-evaluates every zone at the clock's instant and reports those whose command changed. */
  async evaluate(): Promise<void> {
    const now = this.clock.now();
    this.options.beforeChange?.(now);
    const changed = [...this.entries.values()].filter(
      (entry) => !entry.last || !sameCommand(entry.last, entry.controller.commandAt(now)),
    );
    await Promise.all(changed.map((entry) => this.report(entry)));
  }

  /** Publishes every zone's `reported` (periodic measurements, and after each connect). */
  async reportAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => this.report(entry)));
  }

  /** The command in force for a zone and function at the clock's instant. */
  commandOf(zone: string, fn: ZoneFunction): ZoneCommand | undefined {
    return this.entries.get(key(zone, fn))?.controller.commandAt(this.clock.now());
  }

  /** The earliest instant after `now` at which some command may change without a message. */
  nextChangeAfter(now: number): number | undefined {
    const due = [...this.entries.values()]
      .map((entry) => entry.controller.nextChangeAfter(now))
      .filter((at): at is number => at !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** Commands in force per zone and function at `at`, for a simulation integrating piecewise. */
  commandsAt(at: number): Map<string, ZoneCommand> {
    const commands = new Map<string, ZoneCommand>();
    for (const entry of this.entries.values())
      commands.set(key(entry.zone, entry.fn), entry.controller.commandAt(at));
    return commands;
  }

  state(): ZoneFunctionState[] {
    const now = this.clock.now();
    return [...this.entries.values()].map((entry) => ({
      zone: entry.zone,
      function: entry.fn,
      command: entry.controller.commandAt(now),
      ...(entry.reported ? { reported: entry.reported } : {}),
    }));
  }

  private async onConnect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await this.publishStatus('online');
    for (const kind of ['desired', 'schedule'] as const) {
      const filter = this.topics.schoolFilter(this.options.uai, kind);
      const granted = await client.subscribeAsync(filter, { qos: 1 }).catch((error: unknown) => {
        throw new GatewayClientError('subscription-refused', `the broker refused ${filter}`, {
          cause: error,
        });
      });
      if (granted.some((grant) => grant.qos === 128)) {
        throw new GatewayClientError('subscription-refused', `the broker refused ${filter}`);
      }
    }
    this.logger.info({ url: this.options.url, connects: this.connects }, 'gateway: connected and subscribed');
    // Retained messages delivered on subscription may already have produced reports on this
    // connection; the others (after a broker restart, the broker lost them) are sent now.
    const connection = this.connects;
    await Promise.all(
      [...this.entries.values()]
        .filter((entry) => entry.sentOn !== connection)
        .map((entry) => this.report(entry)),
    );
  }

  private onMessage(topic: string, payload: Buffer): void {
    const decoded = this.topics.decode(topic, payload);
    if (!decoded.ok) {
      this.logger.warn({ problem: decoded.problem }, 'gateway: message refused');
      return;
    }
    const { parsed } = decoded;
    // An empty retained payload clears the bridge's copy; what was applied still holds until its
    // valid_until, then the schedule and the fallback take over as usual.
    if (decoded.payload === null) return;
    if (parsed.kind !== 'desired' && parsed.kind !== 'schedule') return;
    if (parsed.uai !== this.options.uai) return;
    const entry = this.entries.get(key(parsed.zone, parsed.function));
    if (!entry) return; // a zone of another gateway of the same school
    const now = this.clock.now();
    this.options.beforeChange?.(now);
    if (parsed.kind === 'desired') {
      const desired = decoded.payload as DesiredPayload;
      const outcome = entry.controller.offerDesired(desired);
      if (outcome !== 'applied') {
        this.logger.debug(
          { topic, rev: desired.rev, applied: entry.controller.appliedRev(), outcome },
          'gateway: desired ignored',
        );
        return;
      }
    } else if (entry.controller.offerSchedule(decoded.payload as SchedulePayload) === 'older') {
      return;
    }
    const command = entry.controller.commandAt(now);
    if (entry.last && sameCommand(entry.last, command)) return;
    void this.report(entry);
  }

  private async report(entry: Entry): Promise<void> {
    const now = this.clock.now();
    const command = entry.controller.commandAt(now);
    entry.last = command;
    const measured = entry.fn === 'heating' ? this.options.measure?.(entry.zone) : undefined;
    const payload: ReportedPayload = {
      applied_rev: command.appliedRev,
      mode: command.mode,
      ...(command.setpointC !== undefined ? { setpoint_c: command.setpointC } : {}),
      ...(measured !== undefined ? { measured_c: Math.round(measured * 10) / 10 } : {}),
      source: command.source,
      ts: new Date(now).toISOString(),
    };
    const client = this.client;
    if (!client?.connected) return;
    const topic = this.topics.reported(this.options.uai, entry.zone, entry.fn);
    try {
      const connection = this.connects;
      await client.publishAsync(topic.topic, encodePayload(topic, payload), { qos: 1, retain: true });
      entry.reported = payload;
      entry.sentOn = connection;
    } catch (error) {
      this.logger.warn({ err: error, topic: topic.topic }, 'gateway: reported not delivered');
    }
  }

  private async publishStatus(state: 'online' | 'offline'): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const topic = this.topics.gatewayStatus(this.options.uai, this.options.gateway);
    const payload: GatewayStatusPayload = { state };
    try {
      await client.publishAsync(topic.topic, encodePayload(topic, payload), { qos: 1, retain: true });
    } catch (error) {
      this.logger.warn({ err: error, state }, 'gateway: status not delivered');
    }
  }
}
