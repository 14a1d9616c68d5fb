/**
 * A client that behaves like zigbee2mqtt (lib/mqtt.ts of Koenkk/zigbee2mqtt: Last Will on
 * `{base}/bridge/state`, `online` published retained on connect, then a subscription to
 * `{base}/#`; device state and availability messages) against the bridge's real publisher and
 * gateway tracker, with devices/ applied to the embedded aedes broker and to a Mosquitto 2 with
 * dynamic security provisioned by the service. The zone's device models come from
 * config/device-profiles.yaml. It proves: commands sent while zigbee2mqtt was down reach it when
 * its `bridge/state` turns online; its device state becomes the zone's `reported` and the zone
 * stops lagging; a change at the device reads `source: manual`; its Will marks the gateway
 * offline; another school's base topic is refused to it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import type { ZoneTarget } from '../../src/bridge/adapters/adapter.js';
import { bridgeExtraAcl, zoneTargetsOf } from '../../src/bridge/adapters/index.js';
import { z2mBaseTopic } from '../../src/bridge/adapters/zigbee2mqtt.js';
import { gatewayCredentials } from '../../src/bridge/bridge.js';
import { GatewayTracker } from '../../src/bridge/gateway-tracker.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { DynsecClient } from '../../src/broker-access/dynsec-client.js';
import { MosquittoProvisioner } from '../../src/broker-access/mosquitto-provisioner.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import type { ZoneFunction } from '../../src/devices/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { loadSite, type Site } from '../../src/site/load-site.js';
import {
  type DynsecMosquitto,
  mosquittoSkipReason,
  startDynsecMosquitto,
} from '../helpers/mosquitto-dynsec.js';
import { type CollectedMessage, connectRaw, parsePayload, waitFor } from '../helpers/mqtt-contract.js';
import { temporaryStore } from './dispatch-fixtures.js';

const PREFIX = 'sobriete/v1';
const topics = new MqttTopics(PREFIX);
const UAI_A = '0670080Y';
const UAI_B = '0750654D';

interface Login {
  username: string;
  password: string;
}
const Z2M_A: Login = { username: 'a-gw-z2m', password: 'a-gw-z2m-password' };
const Z2M_B: Login = { username: 'b-gw-z2m', password: 'b-gw-z2m-password' };
const BRIDGE: Login = { username: 'scope-energie-bridge', password: 'bridge-password-for-tests' };
const hashes = new Map<string, string>();
const hashOf = (login: Login): string => {
  const hash = hashes.get(login.username) ?? hashSecret(login.password);
  hashes.set(login.username, hash);
  return hash;
};

/** School A: a Tuya TS0601 valve and a SONOFF relay on `zigbee2mqtt`; school B on `z2m-b`. */
function schoolFile(uai: string, login: Login, options: string): string {
  return [
    'school:',
    `  uai: "${uai}"`,
    `  name: "Lycée ${uai}"`,
    'gateways:',
    '  - id: gw-z2m',
    `    username: ${login.username}`,
    `    password_hash: "${hashOf(login)}"`,
    '    adapter: zigbee2mqtt',
    'zones:',
    '  - id: salle-1',
    '    name: Salle 1',
    '    gateway: gw-z2m',
    '    rooms: [S1]',
    '    functions: [heating, lighting]',
    '    category: classroom',
    '    heating_type: hydronic',
    '    device_models: { heating: TS0601_thermostat, lighting: ZBMINI }',
    `    adapter_options: ${options}`,
    '',
  ].join('\n');
}

async function writeSite(dir: string): Promise<Site> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, `${UAI_A}.yaml`),
    schoolFile(UAI_A, Z2M_A, '{ heating_device: vanne-a, lighting_device: relais-a }'),
  );
  await writeFile(
    join(dir, `${UAI_B}.yaml`),
    schoolFile(UAI_B, Z2M_B, '{ heating_device: vanne-b, lighting_device: relais-b, base_topic: z2m-b }'),
  );
  return loadSite({ devicesDir: dir, rulesDir: resolve('rules') });
}

const clock = new ManualClock(Date.parse('2026-12-03T07:00:00Z'));

interface BrokerUnderTest {
  url: string;
  close(): Promise<void>;
}
type BrokerFactory = (site: Site) => Promise<BrokerUnderTest>;

const embedded: BrokerFactory = async (site) => {
  const broker = await startEmbeddedBroker({
    port: 0,
    prefix: PREFIX,
    bridgeCredentials: {
      username: BRIDGE.username,
      passwordHash: hashOf(BRIDGE),
      extraAcl: bridgeExtraAcl(zoneTargetsOf([...site.devices.values()])),
    },
    gateways: gatewayCredentials(site, topics, 'test', clock.now()),
    logger: pino({ level: 'silent' }),
  });
  return { url: broker.url, close: () => broker.close() };
};

const mosquitto: BrokerFactory = async (site) => {
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
  const report = await provisioner.reconcile(() => site, {
    reason: 'test',
    passwords: new Map([Z2M_A, Z2M_B].map((l) => [l.username, l.password])),
  });
  expect(report, server.log()).toMatchObject({ ok: true, needsCredentials: [], conflicts: [] });
  return { url: server.url, close: () => server.stop() };
};

const desired = (rev: number, mode: string, setpoint_c?: number): DesiredPayload =>
  ({
    rev,
    mode,
    ...(setpoint_c === undefined ? {} : { setpoint_c }),
    valid_until: '2026-12-03T17:00:00.000Z',
    reason: { rule: 'defaults.heating.occupied' },
    issued_at: new Date(clock.now()).toISOString(),
  }) as DesiredPayload;

/** Subscribes like zigbee2mqtt does; the granted QoS, 128 when refused. */
async function granted(client: MqttClient, filter: string): Promise<number> {
  try {
    return (await client.subscribeAsync(filter, { qos: 1 }))[0]?.qos ?? 128;
  } catch {
    return 128;
  }
}

function suite(name: string, factory: BrokerFactory, skip: string | null): void {
  describe.skipIf(skip !== null)(
    `a zigbee2mqtt-like client on ${name}${skip ? ` (skipped: ${skip})` : ''}`,
    () => {
      let dir: string;
      let broker: BrokerUnderTest;
      let stores: Awaited<ReturnType<typeof temporaryStore>>;
      let connection: MqttConnection;
      let publisher: BridgePublisher;
      let tracker: GatewayTracker;
      let targets: ZoneTarget[];
      const issued = new Map<string, { rev: number; issuedAt: number; mode: string; setpoint_c?: number }>();
      const clients: MqttClient[] = [];

      beforeAll(async () => {
        dir = await mkdtemp(join(tmpdir(), 'scope-z2m-client-'));
        const site = await writeSite(join(dir, 'devices'));
        targets = zoneTargetsOf([...site.devices.values()]);
        broker = await factory(site);
        stores = await temporaryStore();
        connection = new MqttConnection({
          url: broker.url,
          ...BRIDGE,
          prefix: PREFIX,
          version: 'test',
          clock,
        });
        publisher = new BridgePublisher({ connection, topics, version: 'test', targets });
        tracker = new GatewayTracker({
          connection,
          topics,
          repository: stores.store.bridgeState,
          latest: (uai, zone, fn) => issued.get(`${uai}/${zone}/${fn}`),
          zones: targets,
          clock,
          onZ2mOnline: (base) =>
            void publisher.resendCommands((t) => t.adapter === 'zigbee2mqtt' && z2mBaseTopic(t) === base),
        });
        await publisher.start();
        await tracker.start();
        await connection.start();
      }, 30_000);

      afterAll(async () => {
        await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
        await tracker?.stop();
        await publisher?.stop();
        await connection?.stop();
        await broker?.close();
        await stores?.cleanup();
        await rm(dir, { recursive: true, force: true });
      });

      const apply = async (uai: string, fn: ZoneFunction, payload: DesiredPayload) => {
        issued.set(`${uai}/salle-1/${fn}`, {
          rev: payload.rev,
          issuedAt: clock.now(),
          mode: payload.mode,
          ...(payload.setpoint_c === undefined ? {} : { setpoint_c: payload.setpoint_c }),
        });
        await publisher.apply([{ uai, zone: 'salle-1', function: fn, desired: payload }]);
      };
      const zoneOf = (uai: string, fn: ZoneFunction) =>
        tracker
          .report()
          .find((g) => g.uai === uai)
          ?.zones.find((z) => z.function === fn);

      it('gets the /set it missed when its bridge/state turns online, and its state acknowledges it', async () => {
        // The bridge issues while zigbee2mqtt is down: nobody receives the /set.
        await apply(UAI_A, 'heating', desired(1, 'comfort', 19));
        await apply(UAI_A, 'lighting', desired(1, 'on'));
        clock.advance(10 * 60_000);
        expect(zoneOf(UAI_A, 'heating')).toMatchObject({ latest_rev: 1, applied_rev: null, lagging: true });

        // zigbee2mqtt starts: Will, `online` retained, then its whole base topic.
        const z2m = await connectRaw(broker.url, Z2M_A, {
          will: {
            topic: 'zigbee2mqtt/bridge/state',
            payload: Buffer.from('{"state":"offline"}'),
            qos: 1,
            retain: true,
          },
        });
        clients.push(z2m);
        const received: CollectedMessage[] = [];
        z2m.on('message', (topic, raw, packet) =>
          received.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos }),
        );
        const online = z2m.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', {
          qos: 1,
          retain: true,
        });
        expect(await granted(z2m, 'zigbee2mqtt/#')).toBe(1);
        await online;
        const set = (device: string) =>
          received.find((m) => m.topic === `zigbee2mqtt/${device}/set` && !m.retain);
        await waitFor(() => set('vanne-a') && set('relais-a'), { what: 'the re-sent /set commands' });
        expect(set('vanne-a')).toEqual({
          topic: 'zigbee2mqtt/vanne-a/set',
          payload: { system_mode: 'auto', current_heating_setpoint: 19 },
          retain: false,
          qos: 1,
        });
        expect(set('relais-a')?.payload).toEqual({ state: 'ON' });
        await waitFor(() => tracker.report().find((g) => g.uai === UAI_A)?.state === 'online', {
          what: 'the gateway online',
        });

        // The devices apply it and say so.
        await z2m.publishAsync(
          'zigbee2mqtt/vanne-a',
          JSON.stringify({
            system_mode: 'auto',
            current_heating_setpoint: 19,
            local_temperature: 17.5,
            battery: 90,
          }),
          { qos: 1 },
        );
        await z2m.publishAsync('zigbee2mqtt/vanne-a/availability', '{"state":"online"}', {
          qos: 1,
          retain: true,
        });
        await z2m.publishAsync('zigbee2mqtt/relais-a', '{"state":"ON"}', { qos: 1 });
        await waitFor(() => zoneOf(UAI_A, 'lighting')?.applied_rev === 1, {
          what: 'the relay acknowledgement',
        });
        await waitFor(() => zoneOf(UAI_A, 'heating')?.available === 'online', {
          what: 'the valve availability',
        });
        expect(zoneOf(UAI_A, 'heating')).toEqual({
          zone: 'salle-1',
          function: 'heating',
          latest_rev: 1,
          applied_rev: 1,
          mode: 'comfort',
          setpoint_c: 19,
          measured_c: 17.5,
          source: 'bridge',
          reported_at: new Date(clock.now()).toISOString(),
          lagging: false,
          available: 'online',
        });
        expect(zoneOf(UAI_A, 'lighting')).toMatchObject({ applied_rev: 1, mode: 'on', lagging: false });

        // Someone turns the valve up at the device.
        await z2m.publishAsync(
          'zigbee2mqtt/vanne-a',
          JSON.stringify({ system_mode: 'auto', current_heating_setpoint: 23, local_temperature: 17.8 }),
          { qos: 1 },
        );
        await waitFor(() => zoneOf(UAI_A, 'heating')?.setpoint_c === 23, { what: 'the manual change' });
        expect(zoneOf(UAI_A, 'heating')).toMatchObject({ applied_rev: 1, mode: 'comfort', source: 'manual' });

        // A new rev reaches the live client at once (off: the valve's own mode, no setpoint).
        await apply(UAI_A, 'heating', desired(2, 'off'));
        await waitFor(
          () => received.some((m) => (m.payload as { system_mode?: string }).system_mode === 'off'),
          {
            what: 'the off command',
          },
        );
        expect(received.filter((m) => m.topic === 'zigbee2mqtt/vanne-a/set').map((m) => m.payload)).toEqual([
          { system_mode: 'auto', current_heating_setpoint: 19 },
          { system_mode: 'off' },
        ]);
      });

      it("refuses it another school's base topic, and refuses the other school's zigbee2mqtt its own", async () => {
        const z2m = await connectRaw(broker.url, Z2M_A);
        clients.push(z2m);
        for (const filter of ['z2m-b/#', 'z2m-b/+/set', 'z2m-b/vanne-b/set', '#', `${PREFIX}/#`])
          expect([filter, await granted(z2m, filter)]).toEqual([filter, 128]);
        const other = await connectRaw(broker.url, Z2M_B);
        clients.push(other);
        expect(await granted(other, 'zigbee2mqtt/#')).toBe(128);
        expect(await granted(other, 'z2m-b/#')).toBe(1);
      });

      it('goes offline on its Will, and gets its commands again when it comes back', async () => {
        const z2m = clients[0]!;
        const closed = new Promise<void>((done) => z2m.once('close', () => done()));
        z2m.stream.destroy();
        await closed;
        await waitFor(() => tracker.report().find((g) => g.uai === UAI_A)?.state === 'offline', {
          what: 'the Last Will',
        });
        const again = await connectRaw(broker.url, Z2M_A, {
          will: {
            topic: 'zigbee2mqtt/bridge/state',
            payload: Buffer.from('{"state":"offline"}'),
            qos: 1,
            retain: true,
          },
        });
        clients.push(again);
        const received: CollectedMessage[] = [];
        again.on('message', (topic, raw, packet) =>
          received.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos }),
        );
        const online = again.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', {
          qos: 1,
          retain: true,
        });
        await granted(again, 'zigbee2mqtt/#');
        await online;
        await waitFor(() => received.some((m) => m.topic === 'zigbee2mqtt/vanne-a/set'), {
          what: 'the re-sent commands',
        });
        await waitFor(() => received.some((m) => m.topic === 'zigbee2mqtt/relais-a/set'), {
          what: 'the relay command',
        });
        expect(
          received
            .filter((m) => m.topic.endsWith('/set'))
            .map((m) => [m.topic, m.payload])
            .sort(),
        ).toEqual([
          ['zigbee2mqtt/relais-a/set', { state: 'ON' }],
          ['zigbee2mqtt/vanne-a/set', { system_mode: 'off' }],
        ]);
      });
    },
  );
}

suite('the embedded broker (aedes)', embedded, null);
suite('Mosquitto with dynamic security, provisioned from devices/', mosquitto, mosquittoSkipReason());
