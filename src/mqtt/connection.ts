/**
 * The bridge's MQTT client: one mqtt.js 5 connection, used identically against the embedded aedes
 * broker and an external one (Mosquitto, EMQX…), only the URL and credentials change.
 *
 * Delivery policy (docs/mqtt.md, "Connection policy" and "Where the shape of the contract comes from"):
 * - Nothing is queued while disconnected: QoS 0 is dropped (mqtt.js would queue it by default,
 *   `queueQoSZero`, mqttjs/MQTT.js#1129) and so is retained QoS 1 state; stale setpoints must not
 *   land late. Publishes in flight when the link drops are abandoned, not replayed.
 * - Instead, on the first connect and on every reconnect the owner re-publishes its full current
 *   state from its `onConnect` handler. The broker's retained store is never relied upon: the
 *   embedded broker keeps it in memory only (moscajs/aedes#491) and an external one may have been
 *   restarted without persistence (Koenkk/zigbee2mqtt#9629).
 * - Reconnection is ours, not mqtt.js's fixed-period timer: exponential backoff with jitter.
 * - The bridge's Last Will is `{prefix}/bridge/status` = offline, retained, QoS 1; `online` is
 *   published on every connect and `offline` on a clean `stop()`.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  type BridgeStatusPayload,
  type ContractTopic,
  encodePayload,
  MqttTopics,
  type OnlineState,
  type QoS,
} from '../contract/topics.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { isValidFilter, isValidTopicName, topicMatchesFilter } from '../domain/mqtt-filters.js';
import type { Part } from '../lifecycle/part.js';
import { type MqttLogger, silentLogger } from './logger.js';

export interface MqttTlsOptions {
  /** PEM CA bundle to trust (a private CA for the broker). */
  ca?: string | Buffer;
  /** Client certificate and key, for brokers that authenticate by certificate. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true; false only for a lab broker with a self-signed certificate. */
  rejectUnauthorized?: boolean;
  /** TLS SNI name when it differs from the URL's host. */
  servername?: string;
}

export interface ReconnectPolicy {
  /** First retry delay, default 500 ms. */
  initialDelayMs?: number;
  /**
   * Cap, default 5 000 ms: a broker back after an outage is used within this, and the schools
   * handed over meanwhile are taken back well inside the takeover delay (issue 22).
   */
  maxDelayMs?: number;
  /** Growth per failed attempt, default 2. */
  factor?: number;
  /** ± share of the delay picked at random, default 0.2, so restarts do not retry in lockstep. */
  jitter?: number;
}

export interface MqttConnectionOptions {
  /**
   * `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`; a function when the broker is a part started
   * after this object is built (the embedded one on an ephemeral port): read at `start()`.
   */
  url: string | (() => string);
  username?: string;
  password?: string;
  /** Default `scope-energie-<8 hex>`; keep it unique per bridge instance. */
  clientId?: string;
  tls?: MqttTlsOptions;
  /** Topic prefix, default `sobriete/v1`. */
  prefix?: string;
  /** The service version, sent in `bridge/status`. */
  version: string;
  clock?: Clock;
  logger?: MqttLogger;
  /** Default 30 s. */
  keepaliveSeconds?: number;
  /** Time allowed for TCP + CONNACK, default 10 s. */
  connectTimeoutMs?: number;
  reconnect?: ReconnectPolicy;
  /** Time `stop()` gives the `offline` status and DISCONNECT, default 5 s. */
  stopTimeoutMs?: number;
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  /** True when the broker delivered it from its retained store (a fresh subscription). */
  retain: boolean;
  qos: QoS;
}

export type MessageHandler = (message: ReceivedMessage) => void;

export interface ConnectEvent {
  /** 1 on the first connect, then 2, 3… on each reconnect. */
  count: number;
  reconnect: boolean;
}

export type ConnectHandler = (event: ConnectEvent) => void | Promise<void>;

/**
 * `sent`: written (QoS 0) or acknowledged by the broker (QoS 1/2).
 * `dropped`: not connected, nothing sent; it will not be sent later.
 * `interrupted`: the link dropped before the broker acknowledged; it will not be re-sent.
 */
export type PublishOutcome = 'sent' | 'dropped' | 'interrupted';

export interface PublishOptions {
  retain: boolean;
  qos: QoS;
}

export interface Subscription {
  readonly filter: string;
  /** Removes this handler; the MQTT subscription goes when its last handler does. */
  unsubscribe(): Promise<void>;
}

export interface ConnectionStats {
  connects: number;
  published: number;
  dropped: number;
  interrupted: number;
}

export type MqttConnectionErrorCode = 'refused' | 'stopped' | 'subscription-refused' | 'bad-topic';

export class MqttConnectionError extends Error {
  constructor(
    readonly code: MqttConnectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MqttConnectionError';
  }
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3), worded for an operator. */
const CONNACK_REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad username or password',
  5: 'not authorized',
};

interface SubscriptionEntry {
  qos: QoS;
  handlers: Set<MessageHandler>;
}

export class MqttConnection implements Part {
  readonly topics: MqttTopics;
  private readonly options: MqttConnectionOptions;
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private readonly clientId: string;
  private client: MqttClient | undefined;
  private readonly connectHandlers = new Set<ConnectHandler>();
  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  private readonly pending = new Set<(outcome: PublishOutcome) => void>();
  private readonly counters: ConnectionStats = { connects: 0, published: 0, dropped: 0, interrupted: 0 };
  private online = false;
  private stopping = false;
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private droppedSinceOffline = 0;
  private connectChain: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private started:
    | { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void; settled: boolean }
    | undefined;

  constructor(options: MqttConnectionOptions) {
    this.options = options;
    this.topics = new MqttTopics(options.prefix);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.clientId = options.clientId ?? `scope-energie-${randomBytes(4).toString('hex')}`;
  }

  /** The broker's URL (read when first needed: see `MqttConnectionOptions.url`). */
  get url(): string {
    const { url } = this.options;
    return typeof url === 'string' ? url : url();
  }

  /**
   * Connects; resolves after the first connect is complete (`online` published, subscriptions
   * made, `onConnect` handlers run). Network failures are retried with backoff and do not reject;
   * a CONNACK refusal on the first connect (bad credentials) rejects with code `refused`.
   */
  start(): Promise<void> {
    if (this.started) return this.started.promise;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Handled here so that a caller who does not await start() is not crashed by a later
    // rejection (e.g. stop() before the first connect); awaiting callers still see it.
    promise.catch(() => {});
    this.started = { promise, resolve, reject, settled: false };
    if (this.stopping) {
      this.settleStart(
        new MqttConnectionError('stopped', 'the MQTT connection was stopped before it started'),
      );
      return promise;
    }
    let client: MqttClient;
    try {
      client = mqtt.connect(this.url, this.clientOptions());
    } catch (error) {
      // mqtt.js throws synchronously on an unusable URL (unknown protocol, no host).
      this.settleStart(error as Error);
      return promise;
    }
    this.client = client;
    // Serialised: a link that drops and comes back while the handlers still run queues a second
    // full re-publish after the first instead of interleaving with it.
    client.on('connect', () => {
      // No Nagle: a subscriber's PUBACKs are small writes that Nagle would hold until the broker's
      // delayed ACK (~40 ms), and Mosquitto sends a subscriber at most 20 unacknowledged messages:
      // 20 messages per 40 ms (docs/performance.md, "Bridge publication").
      const stream = client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
      stream?.setNoDelay?.(true);
      this.connectChain = this.connectChain
        .then(() => this.handleConnect())
        .catch((error: unknown) =>
          this.logger.error({ error: (error as Error).message }, 'mqtt connect handling failed'),
        );
    });
    client.on('close', () => this.handleClose());
    client.on('error', (error) => this.handleError(error));
    client.on('message', (topic, payload, packet) =>
      this.dispatch({ topic, payload, retain: packet.retain, qos: packet.qos }),
    );
    return promise;
  }

  /**
   * Publishes `offline` (retained, QoS 1) when connected, then disconnects cleanly so the broker
   * discards the Last Will. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.settleStart(
      new MqttConnectionError('stopped', 'the MQTT connection was stopped before it connected'),
    );
    const client = this.client;
    if (!client) return;
    const timeoutMs = this.options.stopTimeoutMs ?? 5_000;
    if (client.connected) {
      // One budget for both steps: stop() never takes longer than the stop timeout.
      const deadline = performance.now() + timeoutMs;
      const left = () => Math.max(0, deadline - performance.now());
      await withTimeout(this.publishStatus('offline'), left());
      const ended = await withTimeout(client.endAsync(), left());
      if (ended === 'timeout') forceClose(client);
    } else {
      forceClose(client);
    }
    this.settlePending('interrupted');
    this.online = false;
  }

  /**
   * Registers a handler run after each connect: the first one and every reconnect, including
   * after the embedded broker restarted empty. The bridge re-publishes ALL its current `desired`
   * and `schedule` state here (retained, QoS 1); it never relies on the broker having kept it.
   * Handlers run in registration order and are awaited; a failing handler is logged, not fatal.
   * Returns a function that unregisters the handler.
   */
  onConnect(handler: ConnectHandler): () => void {
    this.connectHandlers.add(handler);
    return () => this.connectHandlers.delete(handler);
  }

  /** True between a CONNACK and the loss of the link. */
  isConnected(): boolean {
    return this.online && this.client?.connected === true;
  }

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  /**
   * Publishes `online` again (when connected): with several instances, one's Last Will must not
   * leave the service marked offline while another still runs (issue 8).
   */
  async reassertOnline(): Promise<void> {
    if (this.isConnected() && !this.stopping) await this.publishStatus('online');
  }

  /** The mqtt.js client, for diagnostics and tests (e.g. to cut the socket). Do not publish on it. */
  get mqttClient(): MqttClient | undefined {
    return this.client;
  }

  /** Publishes a contract message: retain flag and QoS come from the contract, the payload is validated. */
  publish<P>(topic: ContractTopic<P>, payload: P): Promise<PublishOutcome>;
  /** Publishes on any other topic (adapters: zigbee2mqtt `/set`, Home Assistant discovery…). */
  publish(
    topic: string,
    payload: string | Uint8Array | Record<string, unknown>,
    options: PublishOptions,
  ): Promise<PublishOutcome>;
  publish(
    topic: ContractTopic<unknown> | string,
    payload: unknown,
    options?: PublishOptions,
  ): Promise<PublishOutcome> {
    if (typeof topic !== 'string') {
      let body: Buffer;
      try {
        body = encodePayload(topic, payload);
      } catch (error) {
        return Promise.reject(error);
      }
      return this.send(topic.topic, body, { retain: topic.retain, qos: topic.qos });
    }
    if (!isValidTopicName(topic)) {
      return Promise.reject(
        new MqttConnectionError('bad-topic', `"${topic}" is not a topic one can publish on`),
      );
    }
    return this.send(topic, toBuffer(payload), options ?? { retain: false, qos: 0 });
  }

  /** Deletes a retained message: an empty retained payload (MQTT 3.1.1 §3.3.1.3). */
  clearRetained(topic: ContractTopic<unknown> | string): Promise<PublishOutcome> {
    const name = typeof topic === 'string' ? topic : topic.topic;
    return this.send(name, Buffer.alloc(0), { retain: true, qos: 1 });
  }

  /**
   * Adds `handler` for messages matching `filter`; the subscription is made now when connected
   * and again after every reconnect. Rejects with `subscription-refused` when the broker refuses
   * it now (the ACL). Avoid overlapping filters: a broker may then deliver a message twice.
   */
  async subscribe(
    filter: string,
    handler: MessageHandler,
    options: { qos?: QoS } = {},
  ): Promise<Subscription> {
    if (!isValidFilter(filter)) {
      throw new MqttConnectionError('bad-topic', `"${filter}" is not a valid MQTT topic filter`);
    }
    const qos = options.qos ?? 1;
    let entry = this.subscriptions.get(filter);
    const isNew = !entry;
    if (!entry) {
      entry = { qos, handlers: new Set() };
      this.subscriptions.set(filter, entry);
    }
    entry.handlers.add(handler);
    const subscription: Subscription = {
      filter,
      unsubscribe: async () => {
        const current = this.subscriptions.get(filter);
        if (!current?.handlers.delete(handler) || current.handlers.size > 0) return;
        this.subscriptions.delete(filter);
        if (this.isConnected()) await this.client?.unsubscribeAsync(filter).catch(() => undefined);
      },
    };
    if (isNew && this.isConnected()) {
      const granted = await this.subscribeNow(filter, qos);
      if (granted === 'refused') {
        this.subscriptions.delete(filter);
        throw new MqttConnectionError(
          'subscription-refused',
          `the broker refused the subscription to ${filter}`,
        );
      }
    }
    return subscription;
  }

  private clientOptions(): IClientOptions {
    const tls = this.options.tls;
    return {
      clientId: this.clientId,
      username: this.options.username,
      password: this.options.password,
      // aedes speaks MQTT 3.1.1 only; the same protocol everywhere keeps behaviour identical.
      protocolVersion: 4,
      clean: true,
      keepalive: this.options.keepaliveSeconds ?? 30,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      // Reconnection is driven by `scheduleReconnect` (backoff); mqtt.js only retries at a fixed period.
      reconnectPeriod: 0,
      // Subscriptions are re-made by `handleConnect`, whatever the session state.
      resubscribe: false,
      queueQoSZero: false,
      will: this.will(),
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername } : {}),
      rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    };
  }

  private will(): IClientOptions['will'] {
    const topic = this.topics.bridgeStatus();
    // The broker cannot stamp the Will when it fires, so `ts` is when this session was opened.
    return {
      topic: topic.topic,
      payload: encodePayload(topic, this.statusPayload('offline')),
      qos: 1,
      retain: true,
    };
  }

  private statusPayload(state: OnlineState): BridgeStatusPayload {
    return { state, version: this.options.version, ts: new Date(this.clock.now()).toISOString() };
  }

  private publishStatus(state: OnlineState): Promise<PublishOutcome> {
    return this.publish(this.topics.bridgeStatus(), this.statusPayload(state));
  }

  private async handleConnect(): Promise<void> {
    if (this.stopping || this.client?.connected !== true) return;
    this.online = true;
    this.failedAttempts = 0;
    this.droppedSinceOffline = 0;
    this.counters.connects += 1;
    const event: ConnectEvent = { count: this.counters.connects, reconnect: this.counters.connects > 1 };
    this.logger.info({ url: this.url, clientId: this.clientId, ...event }, 'mqtt connected');

    await this.publishStatus('online');
    for (const [filter, entry] of this.subscriptions) {
      const granted = await this.subscribeNow(filter, entry.qos);
      if (granted === 'refused') this.logger.error({ filter }, 'mqtt subscription refused by the broker');
    }
    for (const handler of [...this.connectHandlers]) {
      try {
        await handler(event);
      } catch (error) {
        this.logger.error({ error: (error as Error).message, ...event }, 'mqtt onConnect handler failed');
      }
    }
    this.settleStart();
  }

  private async subscribeNow(filter: string, qos: QoS): Promise<QoS | 'refused' | 'interrupted'> {
    try {
      const [grant] = (await this.client?.subscribeAsync(filter, { qos })) ?? [];
      // MQTT 3.1.1 SUBACK 0x80 = failure (§3.9.3); an empty grant list means the same here.
      if (!grant || grant.qos === 128) return 'refused';
      return grant.qos;
    } catch (error) {
      // mqtt.js rejects a SUBACK 0x80 with the packet attached instead of returning the grant.
      const granted = (error as { packet?: { granted?: unknown } }).packet?.granted;
      if (Array.isArray(granted) && granted.includes(128)) return 'refused';
      this.logger.warn({ filter, error: (error as Error).message }, 'mqtt subscribe interrupted');
      return 'interrupted';
    }
  }

  private handleClose(): void {
    if (this.online) {
      this.online = false;
      this.logger.warn({ url: this.url }, 'mqtt connection lost');
    }
    // mqtt.js keeps QoS 1 publishes the lost session never acknowledged in `outgoing`, and a
    // graceful end() waits for that to empty: after a reconnect (a new clean session, which will
    // never acknowledge them) stop() then hung past its timeout with the socket open, and the
    // process never exited. They are abandoned by design (nothing is replayed): drop them now.
    const client = this.client;
    if (client) {
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    }
    this.settlePending('interrupted');
    if (this.stopping) return;
    this.scheduleReconnect();
  }

  private handleError(error: Error): void {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number' && CONNACK_REFUSALS[code] !== undefined) {
      const message = `the MQTT broker at ${this.url} refused the connection: ${CONNACK_REFUSALS[code]} (CONNACK ${code})`;
      if (this.counters.connects === 0) {
        // A first refusal is a configuration error: stop instead of retrying forever.
        this.logger.error({ url: this.url, code }, message);
        this.settleStart(new MqttConnectionError('refused', message, { cause: error }));
        void this.stop();
        return;
      }
      this.logger.error({ url: this.url, code }, `${message}; retrying`);
      return;
    }
    this.logger.warn({ url: this.url, error: error.message }, 'mqtt connection error');
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopping) return;
    const policy = this.options.reconnect ?? {};
    const initial = policy.initialDelayMs ?? 500;
    const max = policy.maxDelayMs ?? 5_000;
    const factor = policy.factor ?? 2;
    const jitter = policy.jitter ?? 0.2;
    const base = Math.min(max, initial * factor ** this.failedAttempts);
    const delay = Math.round(base * (1 + jitter * (2 * Math.random() - 1)));
    this.failedAttempts += 1;
    this.logger.info({ delayMs: delay, attempt: this.failedAttempts }, 'mqtt reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      const client = this.client;
      if (!client || this.stopping) return;
      // The Will's `ts` should describe this new session.
      client.options.will = this.will();
      // `reconnect()` without stores gives mqtt.js fresh ones: nothing from the lost session is
      // replayed, the onConnect handlers re-publish the current state instead.
      client.reconnect();
    }, delay);
  }

  private send(topic: string, body: Buffer, options: PublishOptions): Promise<PublishOutcome> {
    const client = this.client;
    if (!client || !this.isConnected()) {
      this.counters.dropped += 1;
      this.droppedSinceOffline += 1;
      const details = {
        topic,
        qos: options.qos,
        retain: options.retain,
        droppedSinceOffline: this.droppedSinceOffline,
      };
      // One warning per outage, the rest at debug: an outage may drop thousands.
      if (this.droppedSinceOffline === 1) this.logger.warn(details, 'mqtt not connected: publish dropped');
      else this.logger.debug(details, 'mqtt not connected: publish dropped');
      return Promise.resolve('dropped');
    }
    return new Promise((resolve) => {
      const settle = (outcome: PublishOutcome): void => {
        if (!this.pending.delete(settle)) return;
        if (outcome === 'sent') this.counters.published += 1;
        else this.counters.interrupted += 1;
        resolve(outcome);
      };
      this.pending.add(settle);
      client.publish(topic, body, { qos: options.qos, retain: options.retain }, (error) =>
        settle(error ? 'interrupted' : 'sent'),
      );
    });
  }

  private settlePending(outcome: PublishOutcome): void {
    for (const settle of [...this.pending]) settle(outcome);
  }

  private settleStart(error?: Error): void {
    const started = this.started;
    if (!started || started.settled) return;
    started.settled = true;
    if (error) started.reject(error);
    else started.resolve();
  }

  private dispatch(message: ReceivedMessage): void {
    for (const [filter, entry] of this.subscriptions) {
      if (!topicMatchesFilter(filter, message.topic)) continue;
      for (const handler of entry.handlers) {
        try {
          handler(message);
        } catch (error) {
          this.logger.error(
            { topic: message.topic, error: (error as Error).message },
            'mqtt message handler failed',
          );
        }
      }
    }
  }
}

function toBuffer(payload: unknown): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/**
 * Ends the client at once whatever state mqtt.js is in: `end(true)` alone returns without touching
 * the socket when a graceful end() is already under way (`disconnecting`).
 */
function forceClose(client: MqttClient): void {
  client.end(true);
  client.stream?.destroy();
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
