/**
 * MQTT contract helpers, in the spirit of Home Assistant's `tests/components/mqtt/common.py`
 * `help_test_*` (home-assistant/core): small, independent observers that connect to a REAL
 * broker (embedded aedes or the external one at MQTT_URL) with a raw mqtt.js client, so the
 * assertions do not go through the code under test.
 *
 * Vocabulary:
 * - `collectMessages(url, creds, filter)`: a live subscriber recording `{topic, payload, retain, qos}`.
 * - `expectRetained(url, creds, topic, payload)`: a FRESH subscriber gets exactly that retained message.
 * - `expectNoRetained(url, creds, topic)`: a fresh subscriber gets nothing before a marker.
 * - `barrier(url, creds, collector, topic)`: a marker through the broker ends a negative check.
 * - `connectOutcome(url, creds)`: the CONNACK return code of an attempt (0 = accepted).
 * - `waitFor(check)`: polls until `check` returns a value.
 * - `uniquePrefix()`, `clearRetained(...)`: isolation on a shared broker.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { expect } from 'vitest';

export interface MqttCredentials {
  username?: string;
  password?: string;
}

export interface CollectedMessage {
  topic: string;
  /** Parsed JSON; null for an empty payload (a cleared retained message); the text when not JSON. */
  payload: unknown;
  retain: boolean;
  qos: number;
}

export interface Collector {
  readonly filter: string;
  /** The QoS the broker granted, or 128 when it refused the subscription. */
  readonly granted: number;
  readonly messages: CollectedMessage[];
  /** Resolves with the first message (already received or to come) satisfying `predicate`. */
  waitForMessage(
    predicate?: (message: CollectedMessage) => boolean,
    timeoutMs?: number,
  ): Promise<CollectedMessage>;
  /** Resolves once at least `count` messages arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<CollectedMessage[]>;
  /** The underlying client (e.g. to check `connected`). */
  readonly client: MqttClient;
  close(): Promise<void>;
}

/** A topic prefix no other run shares, so retained messages on a shared broker never collide. */
export function uniquePrefix(): string {
  return `test-${randomBytes(5).toString('hex')}/v1`;
}

/** The external broker for this run (CI exports MQTT_URL), or why its cases are skipped. */
export function externalBroker(): { url: string } | { skipReason: string } {
  const url = process.env['MQTT_URL'];
  if (url) return { url };
  return {
    skipReason:
      'MQTT_URL is not set: the external-broker (Mosquitto) cases are skipped; run with MQTT_URL=mqtt://127.0.0.1:1883',
  };
}

/** True for mqtt.js's rejection of a SUBACK carrying 0x80 (MQTT 3.1.1 §3.9.3). */
export function isSubackFailure(error: unknown): boolean {
  const granted = (error as { packet?: { granted?: unknown } } | undefined)?.packet?.granted;
  return Array.isArray(granted) && granted.includes(128);
}

export function parsePayload(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function clientOptions(credentials: MqttCredentials, extra: IClientOptions = {}): IClientOptions {
  return {
    clientId: `test-observer-${randomBytes(5).toString('hex')}`,
    username: credentials.username,
    password: credentials.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...extra,
  };
}

/** Connects a raw client; rejects with the broker's refusal (error `code` = CONNACK return code). */
export async function connectRaw(
  url: string,
  credentials: MqttCredentials,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  const client = mqtt.connect(url, clientOptions(credentials, extra));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error(`connection to ${url} closed before CONNACK`)));
    });
  } catch (error) {
    client.end(true);
    throw error;
  }
  client.on('error', () => {});
  return client;
}

/** The CONNACK return code a connection attempt gets: 0 accepted, 4 bad credentials, 5 not authorized… */
export async function connectOutcome(url: string, credentials: MqttCredentials): Promise<number> {
  try {
    const client = await connectRaw(url, credentials);
    await client.endAsync();
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
}

export async function collectMessages(
  url: string,
  credentials: MqttCredentials,
  filter: string,
  options: { qos?: 0 | 1 | 2 } = {},
): Promise<Collector> {
  const client = await connectRaw(url, credentials);
  const messages: CollectedMessage[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, raw, packet) => {
    messages.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos });
    for (const wake of [...waiters]) wake();
  });
  let granted: number;
  try {
    const [grant] = await client.subscribeAsync(filter, { qos: options.qos ?? 1 });
    granted = grant?.qos ?? 128;
  } catch (error) {
    // mqtt.js rejects a SUBACK 0x80 (failure) instead of returning the grant.
    if (!isSubackFailure(error)) throw error;
    granted = 128;
  }
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const wake = (): void => {
        const value = check();
        if (value === undefined) return;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} on ${filter}; got ${JSON.stringify(messages)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(wake);
      wake();
    });
  return {
    filter,
    granted,
    messages,
    client,
    waitForMessage: (predicate = () => true, timeoutMs = 5_000) =>
      until(() => messages.find(predicate), timeoutMs, 'a matching message'),
    waitForCount: (count, timeoutMs = 5_000) =>
      until(() => (messages.length >= count ? messages : undefined), timeoutMs, `${count} message(s)`),
    close: async () => {
      await client.endAsync(true);
    },
  };
}

/**
 * Asserts that a FRESH subscriber to `topic` receives exactly one message: `payload`, retained,
 * QoS 1 (the contract's delivery for every topic). The barrier is a second SUBSCRIBE to the same
 * filter: the broker must re-send the retained message (MQTT 3.1.1 §3.8.4), after anything it
 * sent for the first one on the same connection, so a second copy proves no extra is pending.
 */
export async function expectRetained(
  url: string,
  credentials: MqttCredentials,
  topic: string,
  payload: unknown,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const collector = await collectMessages(url, credentials, topic, { qos: 1 });
  try {
    expect(collector.granted).toBe(1);
    await collector.waitForCount(1, options.timeoutMs ?? 3_000);
    await collector.client.subscribeAsync(topic, { qos: 1 });
    await collector.waitForCount(2, options.timeoutMs ?? 3_000);
    const expected = { topic, payload, retain: true, qos: 1 };
    expect(collector.messages).toEqual([expected, expected]);
  } finally {
    await collector.close();
  }
}

/**
 * Asserts that a fresh subscriber to `topic` receives nothing retained. The barrier: `barrier`
 * (credentials allowed to publish on `topic`) publishes a non-retained marker there once the
 * subscription is acknowledged; the subscriber must see the marker and nothing before it.
 */
export async function expectNoRetained(
  url: string,
  credentials: MqttCredentials,
  topic: string,
  options: { barrier?: MqttCredentials } = {},
): Promise<void> {
  const collector = await collectMessages(url, credentials, topic, { qos: 1 });
  try {
    expect(collector.granted).toBe(1);
    const marker = await publishMarker(url, options.barrier ?? credentials, topic);
    await collector.waitForMessage((m) => isMarker(m, marker));
    expect(collector.messages).toEqual([{ topic, payload: { barrier: marker }, retain: false, qos: 1 }]);
  } finally {
    await collector.close();
  }
}

/**
 * A positive barrier for a "nothing else arrives" check on a live collector: publishes a
 * non-retained marker on `topic` (which the collector's filter must match) with `credentials`,
 * waits until the collector has it, then removes it from `collector.messages` and returns the
 * messages that arrived before it.
 */
export async function barrier(
  url: string,
  credentials: MqttCredentials,
  collector: Collector,
  topic: string,
): Promise<CollectedMessage[]> {
  const marker = await publishMarker(url, credentials, topic);
  await collector.waitForMessage((m) => isMarker(m, marker));
  const at = collector.messages.findIndex((m) => isMarker(m, marker));
  collector.messages.splice(at, 1);
  return collector.messages.slice(0, at);
}

async function publishMarker(url: string, credentials: MqttCredentials, topic: string): Promise<string> {
  const marker = randomBytes(6).toString('hex');
  const client = await connectRaw(url, credentials);
  // A broker that refuses the publish (ACL) closes the connection and never acknowledges it.
  const closed = new Promise<never>((_, reject) =>
    client.once('close', () => reject(new Error(`${url} refused the barrier marker on ${topic}`))),
  );
  closed.catch(() => {});
  try {
    await Promise.race([
      client.publishAsync(topic, JSON.stringify({ barrier: marker }), { qos: 1, retain: false }),
      closed,
    ]);
  } finally {
    await client.endAsync();
  }
  return marker;
}

function isMarker(message: CollectedMessage, marker: string): boolean {
  return (message.payload as { barrier?: unknown } | null)?.barrier === marker;
}

/** Deletes retained messages (empty retained payloads, QoS 1) left by a test on a shared broker. */
export async function clearRetained(
  url: string,
  credentials: MqttCredentials,
  topics: readonly string[],
): Promise<void> {
  if (topics.length === 0) return;
  const client = await connectRaw(url, credentials);
  // A broker that refuses the publish (ACL) closes the connection and never acknowledges it.
  const closed = new Promise<never>((_, reject) =>
    client.once('close', () =>
      reject(new Error(`${url} closed the connection while clearing ${topics.join(', ')}`)),
    ),
  );
  closed.catch(() => {});
  try {
    for (const topic of topics) {
      await Promise.race([client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true }), closed]);
    }
  } finally {
    await client.endAsync(true);
  }
}

export { waitFor } from './wait.js';
