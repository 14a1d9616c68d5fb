/**
 * The access matrix of docs/mqtt.md, ONE test body run against every broker the service supports:
 * the embedded aedes broker (credentials from devices/ through the bridge's mapping) and a
 * Mosquitto 2 of the test's own with dynamic security, provisioned by the service from the same
 * devices/ (MosquittoProvisioner). Every "never delivered" check ends on a later message that
 * proves delivery works, never on a fixed wait.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { bridgeExtraAcl, zoneTargetsOf } from '../../src/bridge/adapters/index.js';
import { gatewayCredentials } from '../../src/bridge/bridge.js';
import { DynsecClient } from '../../src/broker-access/dynsec-client.js';
import { MosquittoProvisioner } from '../../src/broker-access/mosquitto-provisioner.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { loadSite, type Site } from '../../src/site/load-site.js';
import {
  type DynsecMosquitto,
  mosquittoSkipReason,
  startDynsecMosquitto,
} from '../helpers/mosquitto-dynsec.js';
import {
  type CollectedMessage,
  collectMessages,
  connectOutcome,
  connectRaw,
  type MqttCredentials,
  parsePayload,
} from '../helpers/mqtt-contract.js';
import { waitFor } from '../helpers/wait.js';

const PREFIX = 'sobriete/v1';
const UAI_A = '0670080Y';
const UAI_B = '0750654D';
const HA = 'ha-test';
const topics = new MqttTopics(PREFIX);

interface Login {
  username: string;
  password: string;
}
const GW_A: Login = { username: 'a-gw-1', password: 'a-gw-1-password' };
const GW_A_HA: Login = { username: 'a-gw-ha', password: 'a-gw-ha-password' };
const GW_B: Login = { username: 'b-gw-1', password: 'b-gw-1-password' };
const GW_A_Z2M: Login = { username: 'a-gw-z2m', password: 'a-gw-z2m-password' };
const GW_B_Z2M: Login = { username: 'b-gw-z2m', password: 'b-gw-z2m-password' };
/** School A's zigbee2mqtt runs on the default base topic, school B's on its own. */
const Z2M_A = 'zigbee2mqtt';
const Z2M_B = 'z2m-b';
const GW_B2: Login = { username: 'b-gw-2', password: 'b-gw-2-password' };
const BRIDGE: Login = { username: 'scope-energie-bridge', password: 'bridge-password-for-tests' };

const hashes = new Map<string, string>();
function hashOf(login: Login): string {
  let hash = hashes.get(login.username);
  if (!hash) {
    hash = hashSecret(login.password);
    hashes.set(login.username, hash);
  }
  return hash;
}

function schoolFile(
  uai: string,
  gateways: { id: string; login: Login; adapter?: string; options?: string }[],
): string {
  const lines = [`school:`, `  uai: "${uai}"`, `  name: "Lycée ${uai}"`, `gateways:`];
  for (const g of gateways) {
    lines.push(
      `  - id: ${g.id}`,
      `    username: ${g.login.username}`,
      `    password_hash: "${hashOf(g.login)}"`,
      `    adapter: ${g.adapter ?? 'native'}`,
    );
  }
  lines.push('zones:');
  gateways.forEach((g, i) => {
    lines.push(
      `  - id: salle-${i + 1}`,
      `    name: Salle ${i + 1}`,
      `    gateway: ${g.id}`,
      `    rooms: [S${i + 1}]`,
      `    functions: [heating]`,
      `    category: classroom`,
      `    heating_type: hydronic`,
    );
    if (g.adapter === 'homeassistant') lines.push(`    adapter_options: { discovery_prefix: ${HA} }`);
    if (g.options) lines.push(`    adapter_options: ${g.options}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The devices/ of the test: A has a native gateway, a Home Assistant one and a zigbee2mqtt one;
 * B a native gateway and a zigbee2mqtt one on another base topic.
 */
const FIRST = {
  [UAI_A]: [
    { id: 'gw-1', login: GW_A },
    { id: 'gw-ha', login: GW_A_HA, adapter: 'homeassistant' },
    { id: 'gw-z2m', login: GW_A_Z2M, adapter: 'zigbee2mqtt', options: '{ device: vanne-a }' },
  ],
  [UAI_B]: [
    { id: 'gw-1', login: GW_B },
    {
      id: 'gw-z2m',
      login: GW_B_Z2M,
      adapter: 'zigbee2mqtt',
      options: `{ device: vanne-b, base_topic: ${Z2M_B} }`,
    },
  ],
};
/** After the reload: A's native gateway removed, a second gateway for B. */
const SECOND = {
  [UAI_A]: [{ id: 'gw-ha', login: GW_A_HA, adapter: 'homeassistant' }],
  [UAI_B]: [
    { id: 'gw-1', login: GW_B },
    { id: 'gw-2', login: GW_B2 },
  ],
};

async function writeSite(dir: string, schools: typeof FIRST | typeof SECOND): Promise<Site> {
  await rm(dir, { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  for (const [uai, gateways] of Object.entries(schools)) {
    await writeFile(join(dir, `${uai}.yaml`), schoolFile(uai, gateways));
  }
  return loadSite({ devicesDir: dir, rulesDir: resolve('rules') });
}

/** A broker under test: its URL, and how devices/ reaches it. */
interface BrokerUnderTest {
  url: string;
  /** Applies a devices/ set, as the service does at start and on reload. */
  apply(site: Site, issued: readonly Login[]): Promise<void>;
  close(): Promise<void>;
}

type BrokerFactory = () => Promise<BrokerUnderTest>;

const clock = new ManualClock(Date.parse('2026-12-03T08:00:00Z'));

const embedded: BrokerFactory = async () => {
  let site: Site | undefined;
  const broker = await startEmbeddedBroker({
    port: 0,
    prefix: PREFIX,
    bridgeCredentials: { username: BRIDGE.username, passwordHash: hashOf(BRIDGE) },
    gateways: [],
    logger: pino({ level: 'silent' }),
  });
  return {
    url: broker.url,
    async apply(next) {
      site = next;
      broker.updateCredentials({
        bridgeCredentials: {
          username: BRIDGE.username,
          passwordHash: hashOf(BRIDGE),
          extraAcl: bridgeExtraAcl(zoneTargetsOf([...next.devices.values()])),
        },
        gateways: gatewayCredentials(site, topics, 'test', clock.now()),
      });
    },
    close: () => broker.close(),
  };
};

const mosquitto: BrokerFactory = async () => {
  const server: DynsecMosquitto = await startDynsecMosquitto();
  const provisioner = new MosquittoProvisioner({
    connect: () =>
      DynsecClient.connect({
        url: server.url,
        username: server.admin.username,
        password: server.admin.password,
      }),
    topics,
    version: 'test',
    clock,
    logger: pino({ level: 'silent' }),
    bridge: BRIDGE,
  });
  return {
    url: server.url,
    async apply(site, issued) {
      // At issue time `gateway credentials` provisions the clear password; later runs keep it.
      const report = await provisioner.reconcile(() => site, {
        reason: 'test',
        passwords: new Map(issued.map((l) => [l.username, l.password])),
      });
      expect(report, server.log()).toMatchObject({ ok: true, needsCredentials: [], conflicts: [] });
    },
    close: () => server.stop(),
  };
};

/** Publishes `topic` and waits until the broker has dealt with it (PUBACK, or it closed the session). */
async function publishSettled(
  client: MqttClient,
  topic: string,
  payload: unknown,
  options = {},
): Promise<void> {
  const closed = new Promise<void>((done) => client.once('close', () => done()));
  await Promise.race([
    client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: true, ...options }).catch(() => {}),
    closed,
  ]);
}

/** Subscribes and returns the granted QoS (128 = refused). */
async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  try {
    const [grant] = await client.subscribeAsync(filter, { qos: 1 });
    return grant?.qos ?? 128;
  } catch {
    return 128;
  }
}

const desired = (rev: number) => ({
  rev,
  mode: 'eco',
  setpoint_c: 16,
  valid_until: '2026-12-03T18:00:00.000Z',
  reason: { rule: 'R241-27' },
  issued_at: '2026-12-03T08:00:00.000Z',
});

function topicsOf(messages: readonly CollectedMessage[]): string[] {
  return messages.map((m) => m.topic);
}

function contract(name: string, factory: BrokerFactory, skip: string | null): void {
  describe.skipIf(skip !== null)(`access contract on ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let broker: BrokerUnderTest;
    let dir: string;
    const clients: MqttClient[] = [];
    const connect = async (login: MqttCredentials, extra = {}) => {
      const client = await connectRaw(broker.url, login, extra);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'scope-acl-contract-'));
      broker = await factory();
      await broker.apply(await writeSite(join(dir, 'devices'), FIRST), [
        GW_A,
        GW_A_HA,
        GW_B,
        GW_A_Z2M,
        GW_B_Z2M,
      ]);
    }, 30_000);
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await broker?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses anonymous clients, unknown users and wrong passwords', async () => {
      expect(await connectOutcome(broker.url, {})).toBe(5);
      expect(await connectOutcome(broker.url, { username: GW_A.username, password: 'wrong' })).not.toBe(0);
      expect(await connectOutcome(broker.url, { username: 'nobody', password: GW_A.password })).not.toBe(0);
      expect(await connectOutcome(broker.url, GW_A)).toBe(0);
    });

    it("lets a gateway read its own school's desired and schedule, and nothing of another school", async () => {
      const bridge = await connect(BRIDGE);
      const gateway = await connect(GW_A);
      const received: CollectedMessage[] = [];
      gateway.on('message', (topic, raw, packet) =>
        received.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos }),
      );
      const refused = [
        `${PREFIX}/${UAI_B}/+/+/desired`,
        `${PREFIX}/${UAI_B}/salle-1/heating/desired`,
        `${PREFIX}/${UAI_A}/#`,
        `${PREFIX}/+/+/+/desired`,
        `${PREFIX}/${UAI_A}/+/+/reported`,
        `${PREFIX}/#`,
        '#',
        `${PREFIX}/bridge/status`,
      ];
      for (const filter of refused)
        expect([filter, await grantedQos(gateway, filter)]).toEqual([filter, 128]);
      expect(await grantedQos(gateway, topics.schoolFilter(UAI_A, 'desired'))).toBe(1);
      expect(await grantedQos(gateway, topics.schoolFilter(UAI_A, 'schedule'))).toBe(1);

      const foreign = topics.desired(UAI_B, 'salle-1', 'heating').topic;
      const own = topics.desired(UAI_A, 'salle-1', 'heating').topic;
      await publishSettled(bridge, foreign, desired(1));
      await publishSettled(bridge, own, desired(2));
      await waitUntil(() => received.some((m) => m.topic === own));
      expect(received).toEqual([{ topic: own, payload: desired(2), retain: false, qos: 1 }]);
    });

    it('lets a gateway write its own school reported and its own status, nothing else', async () => {
      const watcher = await collectMessages(broker.url, BRIDGE, `${PREFIX}/#`);
      const forbidden = [
        topics.reported(UAI_B, 'salle-1', 'heating').topic, // another school
        topics.gatewayStatus(UAI_A, 'gw-ha').topic, // another gateway's status
        topics.gatewayStatus(UAI_B, 'gw-1').topic,
        topics.desired(UAI_A, 'salle-1', 'heating').topic, // only the bridge writes desired
        topics.schedule(UAI_A, 'salle-1', 'heating').topic,
        `${PREFIX}/bridge/status`,
        `${PREFIX}/${UAI_A}/gateway/gw-1/reported`, // the reserved gateway level is no zone
      ];
      for (const topic of forbidden) {
        // A broker may close the session of a client that publishes where it may not (aedes does).
        const gateway = await connect(GW_A);
        await publishSettled(gateway, topic, { state: 'forged' });
      }
      const gateway = await connect(GW_A);
      const reported = topics.reported(UAI_A, 'salle-1', 'heating').topic;
      const status = topics.gatewayStatus(UAI_A, 'gw-1').topic;
      await publishSettled(gateway, reported, { applied_rev: 2 });
      await publishSettled(gateway, status, { state: 'online' });
      await watcher.waitForMessage((m) => m.topic === status && !m.retain);
      // Live messages only: retained ones are what earlier cases left.
      expect(topicsOf(watcher.messages.filter((m) => !m.retain))).toEqual([reported, status]);
      await watcher.close();
    });

    it("delivers a gateway's Will on its own status, never one aimed at another school", async () => {
      const watcher = await collectMessages(broker.url, BRIDGE, `${PREFIX}/+/gateway/+/status`);
      const foreign = topics.gatewayStatus(UAI_B, 'gw-1').topic;
      const own = topics.gatewayStatus(UAI_A, 'gw-1').topic;
      const offline = Buffer.from(JSON.stringify({ state: 'offline' }));
      // A broker may refuse the CONNECT of a forbidden Will outright, or accept and drop the Will.
      const rogue = await connectRaw(broker.url, GW_A, {
        will: { topic: foreign, payload: offline, qos: 1, retain: true },
      }).catch(() => null);
      if (rogue) {
        const closed = new Promise<void>((done) => rogue.once('close', () => done()));
        rogue.stream.destroy();
        await closed;
      }
      const honest = await connectRaw(broker.url, GW_A, {
        will: { topic: own, payload: offline, qos: 1, retain: true },
      });
      honest.stream.destroy();
      await watcher.waitForMessage((m) => m.topic === own && !m.retain);
      expect(topicsOf(watcher.messages.filter((m) => !m.retain))).toEqual([own]);
      await watcher.close();
    });

    it("gives an adapter gateway its adapter's topics, and only that gateway", async () => {
      // Home Assistant's birth and Will go to its default birth topic, read by the bridge alone.
      const birth = 'homeassistant/status';
      const watcher = await collectMessages(broker.url, BRIDGE, birth);
      expect(watcher.granted).toBe(1);
      const native = await connect(GW_A);
      expect(await grantedQos(native, `${HA}/#`)).toBe(128);
      await publishSettled(native, birth, 'forged');
      const ha = await connect(GW_A_HA);
      expect(await grantedQos(ha, `${HA}/#`)).toBe(1);
      expect(await grantedQos(ha, 'homeassistant/#')).toBe(128);
      expect(await grantedQos(ha, birth)).toBe(128);
      expect(await grantedQos(ha, `${PREFIX}/${UAI_A}/+/+/reported`)).toBe(1);
      expect(await grantedQos(ha, `${PREFIX}/${UAI_B}/+/+/reported`)).toBe(128);
      await publishSettled(ha, birth, 'online', { retain: false });
      await watcher.waitForMessage((m) => m.payload === 'online');
      expect(watcher.messages.map((m) => m.payload)).toEqual(['online']);
      await watcher.close();
    });

    it("lets zigbee2mqtt run on its gateway's base topic, and touch no other school's", async () => {
      const state = `${Z2M_A}/bridge/state`;
      const watcher = await collectMessages(broker.url, BRIDGE, state);
      const devices = await collectMessages(broker.url, BRIDGE, `${Z2M_A}/vanne-a`);
      const availability = await collectMessages(broker.url, BRIDGE, `${Z2M_A}/vanne-a/availability`);
      expect([watcher.granted, devices.granted, availability.granted]).toEqual([1, 1, 1]);
      // Another school's zigbee2mqtt, or a native gateway, cannot pose as school A's.
      const foreign = await connect(GW_B_Z2M);
      expect(await grantedQos(foreign, `${Z2M_A}/#`)).toBe(128);
      expect(await grantedQos(foreign, `${Z2M_A}/+/set`)).toBe(128);
      await publishSettled(foreign, state, { state: 'forged' });
      const native = await connect(GW_A);
      expect(await grantedQos(native, `${Z2M_A}/#`)).toBe(128);
      await publishSettled(native, state, { state: 'forged-too' });

      // What zigbee2mqtt does on connect: Will and birth on bridge/state, its whole base topic.
      const offline = Buffer.from(JSON.stringify({ state: 'offline' }));
      const z2m = await connectRaw(broker.url, GW_A_Z2M, {
        will: { topic: state, payload: offline, qos: 1, retain: true },
      });
      clients.push(z2m);
      const commands: CollectedMessage[] = [];
      z2m.on('message', (topic, raw, packet) =>
        commands.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos }),
      );
      for (const filter of [`${Z2M_A}/#`, `${Z2M_A}/+/set`, `${Z2M_A}/vanne-a/set`])
        expect([filter, await grantedQos(z2m, filter)]).toEqual([filter, 1]);
      for (const filter of [`${Z2M_B}/#`, '#', `${PREFIX}/#`])
        expect([filter, await grantedQos(z2m, filter)]).toEqual([filter, 128]);
      await publishSettled(z2m, state, { state: 'online' });
      await watcher.waitForMessage((m) => !m.retain);
      expect(watcher.messages.filter((m) => !m.retain).map((m) => m.payload)).toEqual([{ state: 'online' }]);
      await publishSettled(z2m, `${Z2M_A}/vanne-a`, { pilot_wire_mode: 'eco' }, { retain: false });
      await publishSettled(z2m, `${Z2M_A}/vanne-a/availability`, { state: 'online' });
      expect((await devices.waitForMessage()).payload).toEqual({ pilot_wire_mode: 'eco' });
      expect((await availability.waitForMessage((m) => !m.retain)).payload).toEqual({ state: 'online' });
      expect(z2m.connected).toBe(true);

      // The bridge's command reaches it.
      const bridge = await connect(BRIDGE);
      await publishSettled(bridge, `${Z2M_A}/vanne-a/set`, { pilot_wire_mode: 'comfort' }, { retain: false });
      await waitUntil(() => commands.some((m) => m.topic === `${Z2M_A}/vanne-a/set`));

      // Its Last Will fires on its own bridge/state.
      const closed = new Promise<void>((done) => z2m.once('close', () => done()));
      z2m.stream.destroy();
      await closed;
      await watcher.waitForMessage((m) => !m.retain && (m.payload as { state?: string }).state === 'offline');
      expect(watcher.messages.filter((m) => !m.retain).map((m) => m.payload)).toEqual([
        { state: 'online' },
        { state: 'offline' },
      ]);
      await Promise.all([watcher.close(), devices.close(), availability.close()]);
    });

    it('follows a devices/ reload: an added gateway gets in, a removed one is refused', async () => {
      expect(await connectOutcome(broker.url, GW_B2)).not.toBe(0);
      await broker.apply(await writeSite(join(dir, 'devices'), SECOND), [GW_B2]);
      expect(await connectOutcome(broker.url, GW_B2)).toBe(0);
      expect(await connectOutcome(broker.url, GW_A)).not.toBe(0);
      expect(await connectOutcome(broker.url, GW_B)).toBe(0);
      // The new gateway has its school's rights and its own status, not another gateway's.
      const watcher = await collectMessages(broker.url, BRIDGE, `${PREFIX}/${UAI_B}/gateway/+/status`);
      const added = await connect(GW_B2);
      await publishSettled(added, topics.gatewayStatus(UAI_B, 'gw-1').topic, { state: 'forged' });
      const again = await connect(GW_B2);
      await publishSettled(again, topics.gatewayStatus(UAI_B, 'gw-2').topic, { state: 'online' });
      await watcher.waitForMessage((m) => m.topic.endsWith('/gw-2/status') && !m.retain);
      expect(topicsOf(watcher.messages.filter((m) => !m.retain))).toEqual([
        topics.gatewayStatus(UAI_B, 'gw-2').topic,
      ]);
      await watcher.close();
    });
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  await waitFor(check, { timeoutMs, intervalMs: 10 });
}

contract('the embedded broker (aedes)', embedded, null);
contract('Mosquitto with dynamic security, provisioned from devices/', mosquitto, mosquittoSkipReason());
