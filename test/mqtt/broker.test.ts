import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { InputError } from '../../src/domain/problems.js';
import {
  type BrokerCredentials,
  type EmbeddedBroker,
  EmbeddedBrokerError,
  startEmbeddedBroker,
} from '../../src/mqtt/broker.js';
import {
  barrier,
  collectMessages,
  connectOutcome,
  connectRaw,
  expectNoRetained,
  expectRetained,
  uniquePrefix,
  waitFor,
} from '../helpers/mqtt-contract.js';

const UAI_A = '0670080Y';
const UAI_B = '0750654D';
const BRIDGE = { username: 'bridge', password: 'bridge-secret' };
const GW_A = { username: 'gw-a', password: 'gw-a-secret' };
const GW_B = { username: 'gw-b', password: 'gw-b-secret' };

const desiredPayload = {
  rev: 3,
  mode: 'eco',
  setpoint_c: 16,
  valid_until: '2026-03-02T18:00:00.000Z',
  reason: { rule: 'R241-27' },
  issued_at: '2026-03-02T16:00:00.000Z',
};

let hashes: Record<string, string>;
function credentials(extra: Partial<BrokerCredentials> = {}): BrokerCredentials {
  return {
    bridgeCredentials: { username: BRIDGE.username, passwordHash: hashes['bridge']! },
    gateways: [
      { uai: UAI_A, gateway: 'gw-1', username: GW_A.username, passwordHash: hashes['gw-a']! },
      { uai: UAI_B, gateway: 'gw-1', username: GW_B.username, passwordHash: hashes['gw-b']! },
    ],
    ...extra,
  };
}

beforeAll(() => {
  hashes = {
    bridge: hashSecret(BRIDGE.password),
    'gw-a': hashSecret(GW_A.password),
    'gw-b': hashSecret(GW_B.password),
    'gw-c': hashSecret('gw-c-secret'),
  };
});

describe('embedded broker: authentication and ACL', () => {
  let broker: EmbeddedBroker;
  let prefix: string;
  const logs: { level: string; message: string; details: object }[] = [];

  beforeAll(async () => {
    prefix = uniquePrefix();
    const record = (level: string) => (details: object, message: string) =>
      logs.push({ level, message, details });
    broker = await startEmbeddedBroker({
      port: 0,
      prefix,
      ...credentials(),
      logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('listens on an ephemeral port of 127.0.0.1 and gives its URL', () => {
    expect(broker.host).toBe('127.0.0.1');
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
  });

  it('refuses anonymous clients (CONNACK 5), wrong passwords and unknown users (CONNACK 4)', async () => {
    expect(await connectOutcome(broker.url, {})).toBe(5);
    expect(await connectOutcome(broker.url, { username: GW_A.username, password: 'wrong' })).toBe(4);
    expect(await connectOutcome(broker.url, { username: 'nobody', password: GW_A.password })).toBe(4);
    expect(await connectOutcome(broker.url, { username: GW_A.username })).toBe(5);
    expect(await connectOutcome(broker.url, GW_A)).toBe(0);
    expect(logs.filter((l) => l.message === 'mqtt connection refused').map((l) => l.details)).toContainEqual(
      expect.objectContaining({ username: 'nobody', reason: 'bad username or password' }),
    );
  });

  it("lets a gateway read its own school's desired state, retained, QoS 1", async () => {
    const topic = `${prefix}/${UAI_A}/salle-101/heating/desired`;
    const bridge = await connectRaw(broker.url, BRIDGE);
    await bridge.publishAsync(topic, JSON.stringify(desiredPayload), { qos: 1, retain: true });
    await expectRetained(broker.url, GW_A, topic, desiredPayload);
    // The wildcard the contract gives gateways works too.
    const wildcard = await collectMessages(broker.url, GW_A, `${prefix}/${UAI_A}/+/+/desired`);
    expect(wildcard.granted).toBe(1);
    expect(await wildcard.waitForCount(1)).toEqual([
      { topic, payload: desiredPayload, retain: true, qos: 1 },
    ]);
    await wildcard.close();
    await bridge.endAsync();
  });

  it("refuses a gateway's subscription to another school (SUBACK 0x80) and delivers nothing", async () => {
    const topic = `${prefix}/${UAI_B}/cdi/heating/desired`;
    const bridge = await connectRaw(broker.url, BRIDGE);
    await bridge.publishAsync(topic, JSON.stringify(desiredPayload), { qos: 1, retain: true });
    const exact = await collectMessages(broker.url, GW_A, topic);
    const wide = await collectMessages(broker.url, GW_A, `${prefix}/${UAI_A}/#`);
    expect([exact.granted, wide.granted]).toEqual([128, 128]);
    await bridge.publishAsync(topic, JSON.stringify({ ...desiredPayload, rev: 4 }), { qos: 1, retain: true });
    // Barrier: the broker routed a later message (published after rev 4) to a granted
    // subscription of the same gateway, so rev 4 would have reached the refused ones by now.
    const granted = `${prefix}/${UAI_A}/barrier/heating/desired`;
    const own = await collectMessages(broker.url, GW_A, granted);
    expect(own.granted).toBe(1);
    expect(await barrier(broker.url, BRIDGE, own, granted)).toEqual([]);
    await own.close();
    expect([exact.messages, wide.messages]).toEqual([[], []]);
    // The refusal keeps the connection: the client was not punished for asking.
    expect([exact.client.connected, wide.client.connected]).toEqual([true, true]);
    // The other school's gateway does see it.
    await expectRetained(broker.url, GW_B, topic, { ...desiredPayload, rev: 4 });
    await Promise.all([exact.close(), wide.close(), bridge.endAsync()]);
  });

  it('never delivers a desired state published by a gateway, and disconnects that gateway', async () => {
    const topic = `${prefix}/${UAI_A}/salle-102/heating/desired`;
    const watcher = await collectMessages(broker.url, BRIDGE, `${prefix}/#`);
    const gateway = await connectRaw(broker.url, GW_A);
    const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    gateway.publish(topic, JSON.stringify({ ...desiredPayload, mode: 'comfort' }), { qos: 1, retain: true });
    await closed;
    expect((await barrier(broker.url, BRIDGE, watcher, topic)).filter((m) => m.topic === topic)).toEqual([]);
    await expectNoRetained(broker.url, BRIDGE, topic);
    expect(
      logs.filter((l) => l.message === 'mqtt publish refused by ACL').map((l) => l.details),
    ).toContainEqual(expect.objectContaining({ username: GW_A.username, topic }));
    gateway.end(true);
    await watcher.close();
  });

  it('refuses bridge/status and schedule from a gateway too', async () => {
    for (const topic of [`${prefix}/bridge/status`, `${prefix}/${UAI_A}/salle-101/heating/schedule`]) {
      const gateway = await connectRaw(broker.url, GW_A);
      const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
      gateway.publish(topic, '{"state":"offline"}', { qos: 1, retain: true });
      await closed;
      gateway.end(true);
      await expectNoRetained(broker.url, BRIDGE, topic);
    }
  });

  it('delivers a gateway-published reported state of its own school to the bridge, exactly', async () => {
    const topic = `${prefix}/${UAI_A}/salle-101/heating/reported`;
    const reported = {
      applied_rev: 3,
      mode: 'eco',
      setpoint_c: 16,
      measured_c: 18.5,
      source: 'bridge',
      ts: '2026-03-02T16:00:05Z',
    };
    const bridge = await collectMessages(broker.url, BRIDGE, `${prefix}/+/+/+/reported`);
    expect(bridge.granted).toBe(1);
    const gateway = await connectRaw(broker.url, GW_A);
    await gateway.publishAsync(topic, JSON.stringify(reported), { qos: 1, retain: true });
    expect(await bridge.waitForCount(1)).toEqual([{ topic, payload: reported, retain: false, qos: 1 }]);
    await expectRetained(broker.url, BRIDGE, topic, reported);
    // Another school's reported topic is not the gateway's to write.
    const foreign = `${prefix}/${UAI_B}/salle-101/heating/reported`;
    const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    gateway.publish(foreign, JSON.stringify(reported), { qos: 1, retain: true });
    await closed;
    gateway.end(true);
    await expectNoRetained(broker.url, BRIDGE, foreign, { barrier: GW_B });
    await bridge.close();
  });

  it("publishes a gateway's own-status Last Will, and drops a Will aimed at someone else's topic", async () => {
    const own = `${prefix}/${UAI_A}/gateway/gw-1/status`;
    const foreign = `${prefix}/${UAI_B}/gateway/gw-1/status`;
    const watcher = await collectMessages(broker.url, BRIDGE, `${prefix}/+/gateway/+/status`);
    const offline = JSON.stringify({ state: 'offline' });
    const honest = await connectRaw(broker.url, GW_A, {
      will: { topic: own, payload: Buffer.from(offline), qos: 1, retain: true },
    });
    const rogue = await connectRaw(broker.url, GW_A, {
      will: { topic: foreign, payload: Buffer.from(offline), qos: 1, retain: true },
    });
    honest.stream.destroy();
    rogue.stream.destroy();
    expect(await watcher.waitForCount(1)).toEqual([
      { topic: own, payload: { state: 'offline' }, retain: false, qos: 1 },
    ]);
    // Barrier: the other school's gateway publishes its own status after both Wills fired.
    expect((await barrier(broker.url, GW_B, watcher, foreign)).map((m) => m.topic)).toEqual([own]);
    await expectRetained(broker.url, BRIDGE, own, { state: 'offline' });
    await expectNoRetained(broker.url, BRIDGE, foreign, { barrier: GW_B });
    honest.end(true);
    rogue.end(true);
    await watcher.close();
  });

  it('refuses a client id held by another user (CONNACK 2), so a gateway cannot kick the bridge off', async () => {
    const bridge = await connectRaw(broker.url, BRIDGE, { clientId: 'scope-energie-main' });
    let error: unknown;
    try {
      await connectRaw(broker.url, GW_A, { clientId: 'scope-energie-main' });
    } catch (caught) {
      error = caught;
    }
    expect((error as { code?: number }).code).toBe(2);
    expect(bridge.connected).toBe(true);
    await bridge.endAsync();
  });
});

describe('embedded broker: credential reload', () => {
  it('admits a new gateway and disconnects a removed one, without a restart', async () => {
    // The service's pino logger satisfies MqttLogger.
    const logger = pino({ level: 'silent' });
    const broker = await startEmbeddedBroker({ port: 0, prefix: uniquePrefix(), ...credentials(), logger });
    try {
      const gwC = { username: 'gw-c', password: 'gw-c-secret' };
      expect(await connectOutcome(broker.url, gwC)).toBe(4);
      const gatewayA = await connectRaw(broker.url, GW_A);
      const gatewayB = await connectRaw(broker.url, GW_B);
      const aClosed = new Promise<void>((resolve) => gatewayA.once('close', () => resolve()));
      expect(broker.connectedClients()).toBe(2);

      const base = credentials();
      broker.updateCredentials({
        bridgeCredentials: base.bridgeCredentials,
        gateways: [
          base.gateways[1]!,
          { uai: UAI_A, gateway: 'gw-3', username: 'gw-c', passwordHash: hashes['gw-c']! },
        ],
      });
      await aClosed;
      expect(gatewayB.connected).toBe(true);
      expect(await connectOutcome(broker.url, GW_A)).toBe(4);
      expect(await connectOutcome(broker.url, gwC)).toBe(0);
      await waitFor(() => broker.connectedClients() === 1, { what: 'only gw-b connected' });
      gatewayA.end(true);
      await gatewayB.endAsync();
    } finally {
      await broker.close();
    }
  });

  it("keeps the bridge's session when a reload changes only its rights, and applies the new rights (issue 15)", async () => {
    const prefix = uniquePrefix();
    const broker = await startEmbeddedBroker({
      port: 0,
      prefix,
      ...credentials({
        bridgeCredentials: {
          username: BRIDGE.username,
          passwordHash: hashes['bridge']!,
          extraAcl: { publish: ['ha-old/#'], subscribe: ['ha-old/#', 'ha-new/#'] },
        },
      }),
    });
    try {
      const bridge = await connectRaw(broker.url, BRIDGE);
      let closed = false;
      bridge.once('close', () => {
        closed = true;
      });
      const watcher = await connectRaw(broker.url, BRIDGE, { clientId: `watcher-${prefix}` });
      const seen: string[] = [];
      watcher.on('message', (topic) => seen.push(topic));
      await watcher.subscribeAsync(['ha-old/#', 'ha-new/#'], { qos: 1 });
      broker.updateCredentials(
        credentials({
          bridgeCredentials: {
            username: BRIDGE.username,
            passwordHash: hashes['bridge']!,
            extraAcl: { publish: ['ha-new/#'], subscribe: ['ha-old/#', 'ha-new/#'] },
          },
        }),
      );
      // The new right works on the same session, acknowledged and delivered…
      await bridge.publishAsync('ha-new/config', 'x', { qos: 1 });
      await waitFor(() => seen.includes('ha-new/config'), { what: 'the publish under the new right' });
      expect(closed).toBe(false);
      expect(bridge.connected).toBe(true);
      // …and the removed one is refused (aedes closes a session that publishes outside its rights).
      const refused = new Promise<void>((resolve) => bridge.once('close', () => resolve()));
      bridge.publish('ha-old/config', 'x', { qos: 1 });
      await refused;
      expect(seen).toEqual(['ha-new/config']);
      bridge.end(true);
      await watcher.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('refuses a credential table with clear-text passwords or duplicate usernames, naming each', async () => {
    const base = credentials();
    let error: unknown;
    try {
      await startEmbeddedBroker({
        port: 0,
        bridgeCredentials: { username: 'bridge', passwordHash: 'hunter2' },
        gateways: [
          { ...base.gateways[0]!, username: 'bridge' },
          { ...base.gateways[1]!, gateway: 'gw/+' },
        ],
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      {
        code: 'mqtt-credentials',
        message: 'password must be stored hashed (scrypt$… or sha256$…), never in clear',
        where: 'bridgeCredentials.passwordHash',
      },
      { code: 'mqtt-credentials', message: 'username "bridge" is used twice', where: 'gateways[0].username' },
      {
        code: 'bad-topic-segment',
        message: 'gateway id contains an MQTT wildcard or separator (+, #, /)',
        where: 'gateways[1].gateway',
      },
    ]);
  });
});

describe('embedded broker: port in use', () => {
  let squatter: Server;
  afterEach(async () => {
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });

  it('fails with a clear EmbeddedBrokerError, not a crash trace', async () => {
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const address = squatter.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    let error: unknown;
    try {
      await startEmbeddedBroker({ port, ...credentials() });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EmbeddedBrokerError);
    expect((error as EmbeddedBrokerError).code).toBe('port-in-use');
    expect((error as Error).message).toBe(
      `port ${port} on 127.0.0.1 is in use (another MQTT broker such as Mosquitto?) — set mqtt.embedded.port, or set mqtt.embedded.enabled to false and use mqtt.url`,
    );
  });
});
