import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import {
  type ConnectEvent,
  MqttConnection,
  MqttConnectionError,
  type MqttConnectionOptions,
  type ReceivedMessage,
} from '../../src/mqtt/connection.js';
import {
  barrier,
  clearRetained,
  collectMessages,
  connectRaw,
  expectNoRetained,
  expectRetained,
  externalBroker,
  type MqttCredentials,
  uniquePrefix,
  waitFor,
} from '../helpers/mqtt-contract.js';

const UAI = '0670080Y';
const VERSION = '0.1.0-test';
const T0 = '2026-03-02T06:00:00.000Z';
const T1 = '2026-03-02T06:05:00.000Z';
const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 };

const BRIDGE = { username: 'bridge', password: 'bridge-secret' };
const GATEWAY = { username: 'gw-a', password: 'gw-a-secret' };
let bridgeHash: string;
let gatewayHash: string;
beforeAll(() => {
  bridgeHash = hashSecret(BRIDGE.password);
  gatewayHash = hashSecret(GATEWAY.password);
});

function desired(rev: number): DesiredPayload<'heating'> {
  return {
    rev,
    mode: 'comfort',
    setpoint_c: 19,
    valid_until: '2026-03-02T08:00:00.000Z',
    reason: { rule: 'R241-26', lessons: ['L1'] },
    issued_at: T0,
  };
}

/** One broker under test: a fresh embedded aedes per test, or the shared external one. */
interface Target {
  url: string;
  prefix: string;
  /** Adapter-style topic outside the contract, for QoS 0. */
  adapterTopic: string;
  bridge: MqttCredentials;
  /** A subscriber that may read everything under the prefix. */
  observer: MqttCredentials;
  gateway: MqttCredentials;
  /** Only the embedded broker can be restarted by a test. */
  restart?: () => Promise<void>;
  close(): Promise<void>;
}

type TargetFactory = () => Promise<Target>;

const embedded: TargetFactory = async () => {
  const prefix = uniquePrefix();
  const adapterTopic = `z2m-${randomBytes(4).toString('hex')}/radiateur/set`;
  const options = {
    prefix,
    bridgeCredentials: {
      username: BRIDGE.username,
      passwordHash: bridgeHash,
      extraAcl: { publish: [adapterTopic], subscribe: [adapterTopic] },
    },
    gateways: [{ uai: UAI, gateway: 'gw-1', username: GATEWAY.username, passwordHash: gatewayHash }],
  };
  let broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, ...options });
  const port = broker.port;
  return {
    url: broker.url,
    prefix,
    adapterTopic,
    bridge: BRIDGE,
    observer: BRIDGE,
    gateway: GATEWAY,
    restart: async () => {
      await broker.close();
      broker = await startEmbeddedBroker({ port, ...options });
    },
    close: () => broker.close(),
  };
};

const external = externalBroker();
const mosquitto: TargetFactory = async () => {
  if (!('url' in external)) throw new Error(external.skipReason);
  return {
    url: external.url,
    prefix: uniquePrefix(),
    adapterTopic: `z2m-${randomBytes(4).toString('hex')}/radiateur/set`,
    bridge: {},
    observer: {},
    gateway: {},
    close: async () => {},
  };
};

if (!('url' in external)) console.info(`[test/mqtt/connection] ${external.skipReason}`);

describe('MqttConnection against the embedded aedes broker', () => connectionContract(embedded));
describe.skipIf(!('url' in external))(`MqttConnection against the external broker (MQTT_URL)`, () =>
  connectionContract(mosquitto),
);

/** The same cases against both brokers: the connection must behave identically. */
function connectionContract(makeTarget: TargetFactory): void {
  let target: Target;
  let connection: MqttConnection | undefined;
  let clock: ManualClock;
  /** Retained topics to clear after the test, as the bridge and as a gateway (the ACL splits them). */
  let touched: string[];
  let touchedByGateway: string[];

  function connect(overrides: Partial<MqttConnectionOptions> = {}): MqttConnection {
    connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      clock,
      reconnect: FAST_RECONNECT,
      ...overrides,
    });
    return connection;
  }

  async function setUp(): Promise<MqttTopics> {
    target = await makeTarget();
    clock = new ManualClock(Date.parse(T0));
    const topics = new MqttTopics(target.prefix);
    touched = [topics.bridgeStatus().topic];
    touchedByGateway = [];
    return topics;
  }

  afterEach(async () => {
    await connection?.stop();
    connection = undefined;
    // Leave nothing retained on a shared broker.
    await clearRetained(target.url, target.observer, touched);
    await clearRetained(target.url, target.gateway, touchedByGateway);
    await target.close();
  });

  it('publishes online on connect and offline on stop, retained QoS 1, with the clock and version', async () => {
    const topics = await setUp();
    const status = topics.bridgeStatus().topic;
    const watcher = await collectMessages(target.url, target.observer, status);
    const bridge = connect();
    await bridge.start();
    expect(bridge.isConnected()).toBe(true);
    await expectRetained(target.url, target.observer, status, { state: 'online', version: VERSION, ts: T0 });

    clock.set(T1);
    await bridge.stop();
    await expectRetained(target.url, target.observer, status, { state: 'offline', version: VERSION, ts: T1 });
    // A clean stop disconnects gracefully: the Last Will is not published on top. Barrier: a
    // marker published on the status topic after the stop reaches the watcher after any Will.
    expect(await barrier(target.url, target.bridge, watcher, status)).toEqual([
      { topic: status, payload: { state: 'online', version: VERSION, ts: T0 }, retain: false, qos: 1 },
      { topic: status, payload: { state: 'offline', version: VERSION, ts: T1 }, retain: false, qos: 1 },
    ]);
    await watcher.close();
  });

  it('leaves its Last Will, offline and retained, when its socket is destroyed', async () => {
    const topics = await setUp();
    const status = topics.bridgeStatus().topic;
    // Slow reconnection, so that a fresh subscriber sees the Will before `online` replaces it.
    const bridge = connect({ reconnect: { initialDelayMs: 10_000, jitter: 0 } });
    await bridge.start();
    const watcher = await collectMessages(target.url, target.observer, status);
    await watcher.waitForCount(1);
    clock.set(T1);
    bridge.mqttClient!.stream.destroy();
    const will = await watcher.waitForMessage((m) => (m.payload as { state?: string }).state === 'offline');
    // The broker cannot stamp a Will: its ts is when the lost session was opened.
    expect(will).toEqual({
      topic: status,
      payload: { state: 'offline', version: VERSION, ts: T0 },
      retain: false,
      qos: 1,
    });
    await expectRetained(target.url, target.observer, status, { state: 'offline', version: VERSION, ts: T0 });
    expect(bridge.isConnected()).toBe(false);
    await watcher.close();
  });

  it('runs onConnect again after a dropped link, re-subscribes, and the re-published state is what a fresh subscriber sees', async () => {
    const topics = await setUp();
    const desiredTopic = topics.desired(UAI, 'salle-101', 'heating');
    const reportedTopic = topics.reported(UAI, 'salle-101', 'heating');
    touched.push(desiredTopic.topic);
    touchedByGateway.push(reportedTopic.topic);
    const bridge = connect();
    const events: ConnectEvent[] = [];
    let rev = 1;
    bridge.onConnect(async (event) => {
      events.push(event);
      expect(await bridge.publish(desiredTopic, desired(rev))).toBe('sent');
    });
    const received: ReceivedMessage[] = [];
    await bridge.subscribe(topics.allReportedFilter(), (message) => received.push(message));
    await bridge.start();
    expect(events).toEqual([{ count: 1, reconnect: false }]);
    await expectRetained(target.url, target.observer, desiredTopic.topic, desired(1));

    rev = 2;
    bridge.mqttClient!.stream.destroy();
    await waitFor(() => events.length === 2, { what: 'a second onConnect' });
    expect(events).toEqual([
      { count: 1, reconnect: false },
      { count: 2, reconnect: true },
    ]);
    await waitFor(() => bridge.isConnected(), { what: 'reconnected' });
    await expectRetained(target.url, target.observer, desiredTopic.topic, desired(2));

    // The subscription made before the drop was made again.
    const gateway = await connectRaw(target.url, target.gateway);
    const reported = { applied_rev: 2, mode: 'comfort', setpoint_c: 19, source: 'bridge', ts: T1 };
    await gateway.publishAsync(reportedTopic.topic, JSON.stringify(reported), { qos: 1, retain: true });
    await waitFor(() => received.length === 1, { what: 'the reported state' });
    expect(received.map((m) => ({ ...m, payload: JSON.parse(m.payload.toString('utf8')) }))).toEqual([
      { topic: reportedTopic.topic, payload: reported, retain: false, qos: 1 },
    ]);
    await gateway.endAsync();
    expect(bridge.stats().connects).toBe(2);
  });

  it('drops QoS 0 and retained state while disconnected; neither is delivered after reconnecting', async () => {
    const topics = await setUp();
    const desiredTopic = topics.desired(UAI, 'salle-101', 'heating');
    touched.push(desiredTopic.topic);
    const everything = await collectMessages(target.url, target.observer, `${target.prefix}/#`);
    const adapter = await collectMessages(target.url, target.observer, target.adapterTopic, { qos: 0 });
    const bridge = connect({ reconnect: { initialDelayMs: 400, jitter: 0 } });
    const events: ConnectEvent[] = [];
    bridge.onConnect(async (event) => {
      events.push(event);
      await bridge.publish(desiredTopic, desired(5));
    });
    await bridge.start();
    expect(await bridge.publish(target.adapterTopic, { state: 'comfort' }, { retain: false, qos: 0 })).toBe(
      'sent',
    );
    await adapter.waitForCount(1);

    bridge.mqttClient!.stream.destroy();
    await waitFor(() => !bridge.isConnected(), { what: 'the link to drop' });
    expect(await bridge.publish(target.adapterTopic, { state: 'eco' }, { retain: false, qos: 0 })).toBe(
      'dropped',
    );
    expect(await bridge.publish(desiredTopic, desired(99))).toBe('dropped');
    expect(bridge.stats()).toMatchObject({ dropped: 2 });

    await waitFor(() => events.length === 2 && bridge.isConnected(), { what: 'the reconnect' });
    // Barrier: after the reconnect's re-publication, a marker on the adapter topic.
    expect(await barrier(target.url, target.bridge, adapter, target.adapterTopic)).toEqual([
      { topic: target.adapterTopic, payload: { state: 'comfort' }, retain: false, qos: 0 },
    ]);
    const revs = everything.messages
      .filter((m) => m.topic === desiredTopic.topic)
      .map((m) => (m.payload as { rev: number }).rev);
    expect(revs).toEqual([5, 5]);
    await expectRetained(target.url, target.observer, desiredTopic.topic, desired(5));
    await Promise.all([everything.close(), adapter.close()]);
  });

  it('validates contract payloads before sending and clears retained messages', async () => {
    const topics = await setUp();
    const desiredTopic = topics.desired(UAI, 'cdi', 'lighting');
    touched.push(desiredTopic.topic);
    const bridge = connect();
    await bridge.start();
    const bad = { ...desired(1), mode: 'on' as const };
    await expect(bridge.publish(desiredTopic, bad)).rejects.toThrow(
      /setpoint_c is only allowed for heating, not lighting/,
    );
    const good = { ...bad, setpoint_c: undefined };
    expect(await bridge.publish(desiredTopic, good)).toBe('sent');
    await expectRetained(target.url, target.observer, desiredTopic.topic, {
      rev: 1,
      mode: 'on',
      valid_until: '2026-03-02T08:00:00.000Z',
      reason: { rule: 'R241-26', lessons: ['L1'] },
      issued_at: T0,
    });
    expect(await bridge.clearRetained(desiredTopic)).toBe('sent');
    await expectNoRetained(target.url, target.observer, desiredTopic.topic, { barrier: target.bridge });
  });
}

describe('MqttConnection against the embedded broker only', () => {
  let broker: EmbeddedBroker | undefined;
  let connection: MqttConnection | undefined;
  afterEach(async () => {
    await connection?.stop();
    await broker?.close();
    connection = undefined;
    broker = undefined;
  });

  async function start(prefix: string, port = 0): Promise<EmbeddedBroker> {
    broker = await startEmbeddedBroker({
      port,
      prefix,
      bridgeCredentials: { username: BRIDGE.username, passwordHash: bridgeHash },
      gateways: [{ uai: UAI, gateway: 'gw-1', username: GATEWAY.username, passwordHash: gatewayHash }],
    });
    return broker;
  }

  it('re-publishes everything after the broker restarts empty on the same port', async () => {
    const prefix = uniquePrefix();
    const first = await start(prefix);
    const topics = new MqttTopics(prefix);
    const desiredTopic = topics.desired(UAI, 'salle-101', 'heating');
    const clock = new ManualClock(Date.parse(T0));
    connection = new MqttConnection({
      url: first.url,
      ...BRIDGE,
      prefix,
      version: VERSION,
      clock,
      reconnect: FAST_RECONNECT,
    });
    const events: ConnectEvent[] = [];
    connection.onConnect(async (event) => {
      events.push(event);
      await connection?.publish(desiredTopic, desired(event.count));
    });
    await connection.start();
    await expectRetained(first.url, GATEWAY, desiredTopic.topic, desired(1));

    const port = first.port;
    await first.close();
    await waitFor(() => connection?.isConnected() === false, { what: 'the bridge to notice' });
    clock.set(T1);
    const second = await start(prefix, port);
    await waitFor(() => events.length === 2 && connection?.isConnected(), {
      what: 'onConnect after the restart',
    });
    expect(events[1]).toEqual({ count: 2, reconnect: true });
    await expectRetained(second.url, GATEWAY, desiredTopic.topic, desired(2));
    await expectRetained(second.url, BRIDGE, topics.bridgeStatus().topic, {
      state: 'online',
      version: VERSION,
      ts: T1,
    });
  });

  it('rejects start() with a clear error on bad credentials instead of retrying forever', async () => {
    const prefix = uniquePrefix();
    const b = await start(prefix);
    connection = new MqttConnection({
      url: b.url,
      username: 'bridge',
      password: 'wrong',
      prefix,
      version: VERSION,
    });
    const error = await connection.start().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect((error as MqttConnectionError).code).toBe('refused');
    expect((error as Error).message).toBe(
      `the MQTT broker at ${b.url} refused the connection: bad username or password (CONNACK 4)`,
    );
    // The refusal stopped the connection: once stop() settles no reconnect can be scheduled.
    await connection.stop();
    expect(connection.stats().connects).toBe(0);
  });

  it('rejects a subscription the ACL refuses, and keeps the connection', async () => {
    const prefix = uniquePrefix();
    const b = await start(prefix);
    connection = new MqttConnection({ url: b.url, ...BRIDGE, prefix, version: VERSION });
    await connection.start();
    const error = await connection
      .subscribe('zigbee2mqtt/#', () => {})
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect([(error as MqttConnectionError).code, (error as Error).message]).toEqual([
      'subscription-refused',
      'the broker refused the subscription to zigbee2mqtt/#',
    ]);
    expect(connection.isConnected()).toBe(true);
  });
});

describe('MqttConnection reconnection policy', () => {
  it('retries with exponential backoff up to the cap, and starts over after a success', async () => {
    const prefix = uniquePrefix();
    const options = {
      prefix,
      bridgeCredentials: { username: BRIDGE.username, passwordHash: bridgeHash },
      gateways: [],
    };
    let broker = await startEmbeddedBroker({ port: 0, ...options });
    const port = broker.port;
    const delays: number[] = [];
    const ignore = (): void => {};
    const connection = new MqttConnection({
      url: broker.url,
      ...BRIDGE,
      prefix,
      version: VERSION,
      reconnect: { initialDelayMs: 40, factor: 2, maxDelayMs: 150, jitter: 0 },
      logger: {
        debug: ignore,
        warn: ignore,
        error: ignore,
        info: (details, message) => {
          if (message === 'mqtt reconnect scheduled') delays.push((details as { delayMs: number }).delayMs);
        },
      },
    });
    try {
      await connection.start();
      await broker.close();
      await waitFor(() => delays.length >= 5, { what: 'five reconnect attempts' });
      expect(delays.slice(0, 5)).toEqual([40, 80, 150, 150, 150]);
      broker = await startEmbeddedBroker({ port, ...options });
      await waitFor(() => connection.isConnected(), { what: 'the reconnect' });
      delays.length = 0;
      await broker.close();
      await waitFor(() => delays.length >= 1, { what: 'the first retry after the second outage' });
      expect(delays[0]).toBe(40);
    } finally {
      await connection.stop();
      await broker.close();
    }
  });

  it('keeps retrying an unreachable broker without failing start(), until stop()', async () => {
    const broker = await startEmbeddedBroker({
      port: 0,
      bridgeCredentials: { username: BRIDGE.username, passwordHash: bridgeHash },
      gateways: [],
    });
    const url = broker.url;
    await broker.close();
    let attempts = 0;
    const ignore = (): void => {};
    const connection = new MqttConnection({
      url,
      ...BRIDGE,
      version: VERSION,
      reconnect: { initialDelayMs: 20, maxDelayMs: 20, jitter: 0 },
      logger: {
        debug: ignore,
        warn: ignore,
        error: ignore,
        info: (_details, message) => {
          if (message === 'mqtt reconnect scheduled') attempts++;
        },
      },
    });
    const started = connection.start();
    await waitFor(() => attempts >= 3, { what: 'three retries' });
    expect(connection.isConnected()).toBe(false);
    await connection.stop();
    const error = await started.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect([(error as MqttConnectionError).code, (error as Error).message]).toEqual([
      'stopped',
      'the MQTT connection was stopped before it connected',
    ]);
  });
});
