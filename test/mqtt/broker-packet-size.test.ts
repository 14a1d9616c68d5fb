/**
 * The embedded broker's packet size limit (`mqtt.embedded.max_packet_kb`, default 64 KiB) with real
 * mqtt.js clients and a raw TCP socket: an oversized packet closes that client's connection before
 * its payload is read, is neither delivered nor retained, and other clients keep their sessions.
 * The frame scanner behind it is checked on chunk boundaries and malformed lengths.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { DEFAULT_MAX_PACKET_BYTES, type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { MqttFrameScanner } from '../../src/mqtt/packet-size-guard.js';
import { collectMessages, connectRaw, expectRetained, uniquePrefix } from '../helpers/mqtt-contract.js';

const UAI_A = '0670080Y';
const UAI_B = '0750654D';
const BRIDGE = { username: 'bridge', password: 'bridge-secret' };
const GW_A = { username: 'gw-a', password: 'gw-a-secret' };
const GW_B = { username: 'gw-b', password: 'gw-b-secret' };

const reported = (rev: number) => ({
  applied_rev: rev,
  mode: 'eco',
  setpoint_c: 16,
  source: 'bridge',
  ts: '2026-03-02T16:00:05Z',
});

/** A JSON payload `{"pad":"xx…"}` of exactly `bytes` bytes. */
function paddedPayload(bytes: number): string {
  return JSON.stringify({ pad: 'x'.repeat(bytes - '{"pad":""}'.length) });
}

/** Total size of a QoS 0 PUBLISH: 1 type byte, the remaining length (3 bytes from 16 KiB to 2 MiB), topic, payload. */
function qos0PublishSize(topic: string, payloadBytes: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + payloadBytes;
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining;
}

function remainingLength(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return bytes;
}

/** An MQTT 3.1.1 CONNECT (§3.1) with clean session, username and password. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const field = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 60]);
  const body = Buffer.concat([variable, field(clientId), field(username), field(password)]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

describe('embedded broker: packet size limit', () => {
  let broker: EmbeddedBroker;
  let prefix: string;
  const warnings: { message: string; details: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    prefix = uniquePrefix();
    const ignore = () => {};
    broker = await startEmbeddedBroker({
      port: 0,
      prefix,
      bridgeCredentials: { username: BRIDGE.username, passwordHash: hashSecret(BRIDGE.password) },
      gateways: [
        { uai: UAI_A, gateway: 'gw-1', username: GW_A.username, passwordHash: hashSecret(GW_A.password) },
        { uai: UAI_B, gateway: 'gw-1', username: GW_B.username, passwordHash: hashSecret(GW_B.password) },
      ],
      logger: {
        debug: ignore,
        info: ignore,
        error: ignore,
        warn: (details, message) => warnings.push({ message, details: details as Record<string, unknown> }),
      },
    });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('defaults to 64 KiB', () => {
    expect(DEFAULT_MAX_PACKET_BYTES).toBe(65_536);
  });

  it('closes the connection of a gateway publishing 65 kB; the message is neither delivered nor retained, others keep their sessions', async () => {
    const topic = `${prefix}/${UAI_A}/salle-101/heating/reported`;
    const bridge = await collectMessages(broker.url, BRIDGE, `${prefix}/+/+/+/reported`);
    // Another gateway, connected and subscribed before the attack, must not notice it.
    const bystander = await collectMessages(broker.url, GW_B, `${prefix}/${UAI_B}/+/+/desired`);
    let bystanderClosed = false;
    bystander.client.once('close', () => {
      bystanderClosed = true;
    });

    const attacker = await connectRaw(broker.url, GW_A);
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.publish(topic, paddedPayload(65 * 1024), { qos: 1, retain: true });
    await closed;
    attacker.end(true);
    expect(warnings.map((w) => w.message)).toContain('mqtt packet over the size limit: connection closed');
    expect(warnings.find((w) => w.message.startsWith('mqtt packet over'))?.details).toMatchObject({
      username: GW_A.username,
      limit: 65_536,
    });

    // The same gateway, reconnected, publishes a valid report: that one (only) arrives and is retained.
    const gateway = await connectRaw(broker.url, GW_A);
    await gateway.publishAsync(topic, JSON.stringify(reported(4)), { qos: 1, retain: true });
    expect(await bridge.waitForCount(1)).toEqual([{ topic, payload: reported(4), retain: false, qos: 1 }]);
    await expectRetained(broker.url, BRIDGE, topic, reported(4));

    // The bystander's session lived through it: still connected, still subscribed.
    const desiredTopic = `${prefix}/${UAI_B}/cdi/heating/desired`;
    const publisher = await connectRaw(broker.url, BRIDGE);
    const desired = {
      rev: 1,
      mode: 'eco',
      setpoint_c: 16,
      valid_until: '2026-03-02T18:00:00.000Z',
      reason: { rule: 'R241-27' },
      issued_at: '2026-03-02T16:00:00.000Z',
    };
    await publisher.publishAsync(desiredTopic, JSON.stringify(desired), { qos: 1 });
    expect(await bystander.waitForCount(1)).toEqual([
      { topic: desiredTopic, payload: desired, retain: false, qos: 1 },
    ]);
    expect(bystanderClosed).toBe(false);
    await Promise.all([gateway.endAsync(), publisher.endAsync(), bridge.close(), bystander.close()]);
  });

  it('accepts a packet of exactly 64 KiB and refuses one byte more', async () => {
    const topic = `${prefix}/${UAI_A}/salle-102/heating/reported`;
    // 1 type byte, 3 length bytes, the topic with its 2-byte length, then the payload.
    const payloadBytes = 65_536 - (1 + 3 + 2 + Buffer.byteLength(topic));
    expect(qos0PublishSize(topic, payloadBytes)).toBe(65_536);
    const bridge = await collectMessages(broker.url, BRIDGE, topic);
    const gateway = await connectRaw(broker.url, GW_A);
    gateway.publish(topic, paddedPayload(payloadBytes), { qos: 0 });
    const [atLimit] = await bridge.waitForCount(1);
    expect(JSON.stringify(atLimit?.payload)).toHaveLength(payloadBytes);

    const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    gateway.publish(topic, paddedPayload(payloadBytes + 1), { qos: 0 });
    await closed;
    gateway.end(true);
    // A later message from a fresh connection arrives second: the oversized one never did.
    const again = await connectRaw(broker.url, GW_A);
    await again.publishAsync(topic, JSON.stringify(reported(5)), { qos: 1 });
    const messages = await bridge.waitForCount(2);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toEqual({ topic, payload: reported(5), retain: false, qos: 1 });
    await Promise.all([again.endAsync(), bridge.close()]);
  });

  it('closes a raw connection announcing a 100 MB PUBLISH as soon as its header arrives, without waiting for the payload', async () => {
    const socket: Socket = tcpConnect(broker.port, broker.host);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(connectPacket('raw-attacker', GW_A.username, GW_A.password));
    // CONNACK accepted (§3.2: 0x20 0x02 flags 0x00 code 0x00).
    await new Promise<void>((resolve) => {
      const check = () => {
        if (Buffer.concat(received).length >= 4) resolve();
        else socket.once('data', check);
      };
      check();
    });
    expect([...Buffer.concat(received).subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    // The fixed header of a 100 MB QoS 0 PUBLISH and its first bytes: never more.
    const announced = 100_000_000;
    socket.write(
      Buffer.from([0x30, ...remainingLength(announced), 0x00, 0x05, 0x61, 0x2f, 0x62, 0x2f, 0x63]),
    );
    await closed;
    expect(warnings.map((w) => w.details)).toContainEqual(
      expect.objectContaining({ bytes: 1 + 4 + announced, limit: 65_536 }),
    );
  });

  it("exempts the bridge's own connection once authenticated (its schedules can exceed 64 KiB)", async () => {
    const topic = `${prefix}/${UAI_A}/salle-103/heating/desired`;
    const gateway = await collectMessages(broker.url, GW_A, topic);
    const bridge = await connectRaw(broker.url, BRIDGE);
    await bridge.publishAsync(topic, paddedPayload(70 * 1024), { qos: 1 });
    const [message] = await gateway.waitForCount(1);
    expect(JSON.stringify(message?.payload)).toHaveLength(70 * 1024);
    expect(bridge.connected).toBe(true);
    await Promise.all([bridge.endAsync(), gateway.close()]);
  });
});

describe('MqttFrameScanner', () => {
  /** PINGREQ (§3.12), 2 bytes, and a PUBLISH of `length` remaining bytes (header only + body). */
  const ping = [0xc0, 0x00];
  const publish = (length: number) => [0x30, ...remainingLength(length), ...new Array(length).fill(0x41)];

  it('passes whole packets, however the stream is cut', () => {
    const stream = Uint8Array.from([...ping, ...publish(200), ...ping, ...publish(16_000), ...ping]);
    for (const size of [1, 2, 3, 7, 128, stream.length]) {
      const scanner = new MqttFrameScanner(16_004);
      const refused: number[] = [];
      for (let at = 0; at < stream.length; at += size) {
        if (!scanner.scan(stream.subarray(at, at + size)).ok) refused.push(at);
      }
      expect(refused).toEqual([]);
    }
  });

  it('names where the first oversized packet starts and its announced size', () => {
    const scanner = new MqttFrameScanner(100);
    const stream = Uint8Array.from([...ping, ...publish(97), ...ping, 0x30, ...remainingLength(98)]);
    // 1 + 1 + 97 = 99 bytes: under the limit; 1 + 1 + 98 = 100 is at it; 1 + 2 + 128 is over.
    expect(scanner.scan(stream)).toEqual({ ok: true });
    expect(scanner.scan(Uint8Array.from(new Array(98).fill(0x41)))).toEqual({ ok: true });
    const over = Uint8Array.from([...ping, 0x30, ...remainingLength(128)]);
    expect(scanner.scan(over)).toEqual({ ok: false, offset: 2, bytes: 131 });
  });

  it('refuses a header cut across chunks once its length is known (offset 0: it began earlier)', () => {
    const scanner = new MqttFrameScanner(1_000);
    expect(scanner.scan(Uint8Array.from([0x30, 0xff]))).toEqual({ ok: true });
    expect(scanner.scan(Uint8Array.from([0x7f]))).toEqual({ ok: false, offset: 0, bytes: 1 + 2 + 16_383 });
  });

  it('refuses a remaining length of more than four bytes (§2.2.3)', () => {
    const scanner = new MqttFrameScanner(Number.POSITIVE_INFINITY);
    const verdict = scanner.scan(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(verdict.ok).toBe(false);
    expect(verdict.ok === false && Number.isNaN(verdict.bytes)).toBe(true);
  });
});
