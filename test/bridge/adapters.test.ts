/**
 * One contract suite per adapter, in the spirit of Home Assistant's `help_test_*` helpers: the
 * same cases (exact topics, payloads, retain flags, QoS) against the embedded broker, through the
 * real BridgePublisher and MqttConnection, observed by an independent raw client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeExtraAcl, type ZoneTarget, zoneTargetsOf } from '../../src/bridge/adapters/index.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { InputError } from '../../src/domain/problems.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import {
  barrier,
  type CollectedMessage,
  collectMessages,
  connectRaw,
  waitFor,
} from '../helpers/mqtt-contract.js';
import { type BrokerTarget, embeddedTarget, OTHER_UAI, UAI } from './dispatch-fixtures.js';

const VERSION = '0.1.0-test';

function devicesYaml(adapter: string, options: Record<string, string | number | boolean>): string {
  const lines = Object.entries(options).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`);
  return [
    'school:',
    `  uai: "${UAI}"`,
    '  name: "Lycée test"',
    'gateways:',
    '  - id: gw-1',
    '    username: gw-1',
    '    password_hash: "scrypt$16384$8$1$obW5g1k0lAIrmBU9XnF7iw==$7X+3a6eWlKzP6EV73ZMa4wQOBnK/reGSHsYH4ntfiS0="',
    `    adapter: ${adapter}`,
    'zones:',
    '  - id: salle-b101',
    '    name: "Salle B101"',
    '    gateway: gw-1',
    '    rooms: [B101]',
    '    functions: [heating, lighting]',
    '    category: classroom',
    '    heating_type: electric',
    ...(lines.length > 0 ? ['    adapter_options:', ...lines] : []),
    '',
  ].join('\n');
}

function targetsOf(adapter: string, options: Record<string, string | number | boolean>): ZoneTarget[] {
  return zoneTargetsOf([loadDevicesFile(devicesYaml(adapter, options), `devices/${UAI}.yaml`)]);
}

const HEATING: DesiredPayload<'heating'> = {
  rev: 4,
  mode: 'comfort_1',
  setpoint_c: 18,
  valid_until: '2026-03-02T16:30:00.000Z',
  reason: { rule: 'defaults.heating.occupied', kind: 'occupied' },
  issued_at: '2026-03-02T06:00:00.000Z',
};
const LIGHTING: DesiredPayload<'lighting'> = {
  rev: 2,
  mode: 'on',
  valid_until: '2026-03-02T16:40:00.000Z',
  reason: { rule: 'defaults.lighting.on', kind: 'occupied' },
  issued_at: '2026-03-02T06:50:00.000Z',
};

interface AdapterCase {
  adapter: string;
  options: Record<string, string | number | boolean>;
  /** Messages besides the contract's, given the topic prefix. */
  expected: (prefix: string) => CollectedMessage[];
  /** Which of them are re-sent on a reconnect (all of them, for every adapter). */
  birth?: { topic: string; payload: string };
}

const CASES: AdapterCase[] = [
  { adapter: 'native', options: {}, expected: () => [] },
  {
    adapter: 'zigbee2mqtt',
    options: {
      heating_device: 'radiateur-b101',
      lighting_device: 'relais-b101',
      heating_value_frost: 'frost',
    },
    expected: () => [
      {
        topic: 'zigbee2mqtt/radiateur-b101/set',
        payload: { pilot_wire_mode: 'comfort_-1' },
        retain: false,
        qos: 1,
      },
      { topic: 'zigbee2mqtt/relais-b101/set', payload: { state: 'ON' }, retain: false, qos: 1 },
    ],
  },
  {
    adapter: 'template',
    options: {
      topic_template: 'knx/{uai}/{zone}/{function}/write',
      payload_template: '{"value": "{value}", "setpoint": {setpoint_c}, "rev": {rev}}',
      heating_value_comfort_1: '1',
      lighting_value_on: 'true',
    },
    expected: () => [
      {
        topic: `knx/${UAI}/salle-b101/heating/write`,
        payload: { value: '1', setpoint: 18, rev: 4 },
        retain: false,
        qos: 1,
      },
      {
        topic: `knx/${UAI}/salle-b101/lighting/write`,
        payload: { value: 'true', setpoint: null, rev: 2 },
        retain: false,
        qos: 1,
      },
    ],
  },
  {
    adapter: 'homeassistant',
    options: {},
    birth: { topic: 'homeassistant/status', payload: 'online' },
    expected: (prefix) => {
      const desired = (fn: string) => `${prefix}/${UAI}/salle-b101/${fn}/desired`;
      const device = {
        identifiers: [`scope-energie_${UAI}_salle-b101`],
        name: 'Lycée test — Salle B101',
        manufacturer: 'scope-energie',
        model: `zone salle-b101 (${UAI})`,
        suggested_area: 'Salle B101',
      };
      const common = {
        device,
        origin: { name: 'scope-energie', sw_version: VERSION },
        availability: [
          { topic: `${prefix}/bridge/status`, value_template: '{{ value_json.state }}' },
          { topic: `${prefix}/${UAI}/gateway/gw-1/status`, value_template: '{{ value_json.state }}' },
        ],
        availability_mode: 'all',
        payload_available: 'online',
        payload_not_available: 'offline',
        qos: 1,
      };
      const attributes = (fn: string) => ({
        json_attributes_topic: desired(fn),
        json_attributes_template:
          "{{ {'rev': value_json.rev, 'reason': value_json.reason.rule, 'basis': value_json.reason.basis, 'valid_until': value_json.valid_until} | tojson }}",
      });
      const base = (component: string, key: string) =>
        `homeassistant/${UAI}/${component}/scope-energie/${UAI}_salle-b101_${key}`;
      return [
        {
          topic: `${base('climate', 'heating')}/config`,
          retain: true,
          qos: 1,
          payload: {
            name: 'Chauffage',
            unique_id: `scope-energie_${UAI}_salle-b101_heating`,
            ...common,
            ...attributes('heating'),
            modes: ['heat', 'off'],
            mode_state_topic: desired('heating'),
            mode_state_template: "{{ 'off' if value_json.mode == 'off' else 'heat' }}",
            mode_command_topic: `${base('climate', 'heating')}/mode_set`,
            preset_modes: ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost'],
            preset_mode_state_topic: desired('heating'),
            preset_mode_value_template: "{{ 'none' if value_json.mode == 'off' else value_json.mode }}",
            preset_mode_command_topic: `${base('climate', 'heating')}/preset_set`,
            temperature_state_topic: desired('heating'),
            temperature_state_template: '{{ value_json.setpoint_c | default(5) }}',
            temperature_command_topic: `${base('climate', 'heating')}/temperature_set`,
            current_temperature_topic: `${prefix}/${UAI}/salle-b101/heating/reported`,
            current_temperature_template: '{{ value_json.measured_c }}',
            min_temp: 5,
            max_temp: 19,
            temp_step: 0.5,
            temperature_unit: 'C',
            precision: 0.5,
            optimistic: false,
          },
        },
        {
          topic: `${base('sensor', 'temperature')}/config`,
          retain: true,
          qos: 1,
          payload: {
            name: 'Température',
            unique_id: `scope-energie_${UAI}_salle-b101_temperature`,
            ...common,
            state_topic: `${prefix}/${UAI}/salle-b101/heating/reported`,
            value_template: '{{ value_json.measured_c }}',
            device_class: 'temperature',
            state_class: 'measurement',
            unit_of_measurement: '°C',
            suggested_display_precision: 1,
          },
        },
        {
          topic: `${base('light', 'lighting')}/config`,
          retain: true,
          qos: 1,
          payload: {
            name: 'Éclairage',
            unique_id: `scope-energie_${UAI}_salle-b101_lighting`,
            ...common,
            ...attributes('lighting'),
            state_topic: desired('lighting'),
            command_topic: `${base('light', 'lighting')}/set`,
            optimistic: false,
            state_value_template: "{{ 'ON' if value_json.mode == 'on' else 'OFF' }}",
          },
        },
      ];
    },
  },
];

describe.each(CASES)('adapter $adapter (embedded broker)', (adapterCase) => {
  let target: BrokerTarget | undefined;
  let connection: MqttConnection | undefined;
  let publisher: BridgePublisher | undefined;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await publisher?.stop();
    await connection?.stop();
    await target?.close();
  });

  it('publishes the contract messages and exactly its own, again on reconnect and on the consumer birth', async () => {
    const targets = targetsOf(adapterCase.adapter, adapterCase.options);
    const acl = bridgeExtraAcl(targets);
    target = await embeddedTarget({ publish: [...acl.publish, 'homeassistant/status'], subscribe: ['#'] });
    const topics = new MqttTopics(target.prefix);
    connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      reconnect: { initialDelayMs: 50, maxDelayMs: 100, jitter: 0 },
    });
    publisher = new BridgePublisher({ connection, topics, version: VERSION, targets });
    await publisher.start();
    await connection.start();
    const observer = await collectMessages(target.url, target.observer, '#');
    closers.push(() => observer.close());

    await publisher.apply([
      { uai: UAI, zone: 'salle-b101', function: 'heating', desired: HEATING },
      { uai: UAI, zone: 'salle-b101', function: 'lighting', desired: LIGHTING },
    ]);
    const contract: CollectedMessage[] = [
      { topic: topics.desired(UAI, 'salle-b101', 'heating').topic, payload: HEATING, retain: false, qos: 1 },
      {
        topic: topics.desired(UAI, 'salle-b101', 'lighting').topic,
        payload: LIGHTING,
        retain: false,
        qos: 1,
      },
    ];
    const own = adapterCase.expected(target.prefix);
    // Announcements (retained) were published at connect, before the observer: it gets them retained.
    const announcements = own.filter((m) => m.retain);
    const commands = own.filter((m) => !m.retain);
    const expectedNow = [...announcements, ...contract, ...commands];
    await observer.waitForCount(expectedNow.length + 1);
    // Barrier: a marker the bridge publishes after the fact reaches the observer after the rest.
    await barrier(target.url, target.bridge, observer, topics.desired(UAI, 'barrier', 'heating').topic);
    const withoutStatus = (messages: CollectedMessage[]) =>
      messages.filter((m) => !m.topic.endsWith('/bridge/status'));
    expect(sortByTopic(withoutStatus(observer.messages))).toEqual(sortByTopic(expectedNow));

    // A reconnect re-sends the contract messages, the commands and the announcements.
    observer.messages.length = 0;
    connection.mqttClient?.stream.destroy();
    await waitFor(() => publisher!.stats().republications >= 2, {
      timeoutMs: 5_000,
      what: 'the reconnect republication',
    });
    // Barrier: a marker the bridge publishes after the fact reaches the observer after the rest.
    await barrier(target.url, target.bridge, observer, topics.desired(UAI, 'barrier', 'heating').topic);
    expect(sortByTopic(withoutStatus(observer.messages))).toEqual(
      sortByTopic([...contract, ...commands, ...announcements.map((m) => ({ ...m, retain: false }))]),
    );

    if (adapterCase.birth) {
      observer.messages.length = 0;
      const ha = await connectRaw(target.url, target.bridge);
      closers.push(() => ha.endAsync(true));
      await ha.publishAsync(adapterCase.birth.topic, adapterCase.birth.payload, { qos: 1 });
      await observer.waitForCount(announcements.length + 1);
      await barrier(target.url, target.bridge, observer, topics.desired(UAI, 'barrier', 'heating').topic);
      expect(
        sortByTopic(withoutStatus(observer.messages).filter((m) => m.topic !== adapterCase.birth!.topic)),
      ).toEqual(sortByTopic(announcements.map((m) => ({ ...m, retain: false }))));
    }
  });
});

describe('adapter options are checked when devices/ is loaded', () => {
  it('names the file, line and option of every problem', () => {
    const file = `devices/${UAI}.yaml`;
    const attempt = () =>
      zoneTargetsOf([
        loadDevicesFile(
          devicesYaml('template', {
            topic_template: 'knx/{zone}/{colour}',
            retain: 'yes',
            heating_devise: 'x',
          }),
          file,
        ),
      ]);
    expect(attempt).toThrow(InputError);
    try {
      attempt();
    } catch (error) {
      expect((error as InputError).problems).toEqual([
        {
          code: 'bad-adapter-options',
          message: 'template adapter: unknown template option',
          where: `${file}:20 (zones[0].adapter_options.heating_devise)`,
        },
        {
          code: 'bad-adapter-options',
          message: 'template adapter: retain must be true or false',
          where: `${file}:19 (zones[0].adapter_options.retain)`,
        },
        {
          code: 'bad-adapter-options',
          message:
            'template adapter: unknown placeholder {colour}; known: {uai} {zone} {function} {mode} {value} {setpoint_c} {rev}',
          where: `${file}:18 (zones[0].adapter_options.topic_template)`,
        },
        {
          code: 'bad-adapter-options',
          message: 'template adapter: give payload_template or heating_payload_template',
          where: `${file}:10 (zones[0].adapter_options.payload_template)`,
        },
        {
          code: 'bad-adapter-options',
          message:
            'template adapter: unknown placeholder {colour}; known: {uai} {zone} {function} {mode} {value} {setpoint_c} {rev}',
          where: `${file}:18 (zones[0].adapter_options.topic_template)`,
        },
        {
          code: 'bad-adapter-options',
          message: 'template adapter: give payload_template or lighting_payload_template',
          where: `${file}:10 (zones[0].adapter_options.payload_template)`,
        },
      ]);
    }
  });

  it('requires a zigbee2mqtt device name for every function', () => {
    expect(() => targetsOf('zigbee2mqtt', { heating_device: 'radiateur' })).toThrow(
      `devices/${UAI}.yaml:10 (zones[0].adapter_options.lighting_device): zigbee2mqtt adapter: give device or lighting_device: the zigbee2mqtt friendly name`,
    );
  });

  it('refuses a zigbee2mqtt base topic that two gateways share, even across schools', () => {
    const ours = loadDevicesFile(devicesYaml('zigbee2mqtt', { device: 'vanne' }), `devices/${UAI}.yaml`);
    const load = (base: string) =>
      zoneTargetsOf([
        ours,
        loadDevicesFile(
          devicesYaml('zigbee2mqtt', { device: 'vanne', base_topic: base }).replace(UAI, OTHER_UAI),
          `devices/${OTHER_UAI}.yaml`,
        ),
      ]);
    expect(() => load('zigbee2mqtt/annexe')).toThrow(
      `devices/${OTHER_UAI}.yaml:19 (zones[0].adapter_options.base_topic): zigbee2mqtt adapter: base_topic "zigbee2mqtt/annexe" overlaps "zigbee2mqtt" of gateway ${UAI}/gw-1: each zigbee2mqtt instance needs its own base topic (its gateway gets "zigbee2mqtt/annexe/#" on the broker)`,
    );
    expect(load('z2m-b')).toHaveLength(2);
  });
});

function sortByTopic<M extends { topic: string; payload?: unknown }>(messages: M[]): M[] {
  return [...messages].sort(
    (a, b) =>
      a.topic.localeCompare(b.topic) ||
      String(JSON.stringify(a.payload)).localeCompare(String(JSON.stringify(b.payload))),
  );
}

describe('adapter settings reloaded from devices/', () => {
  let target: BrokerTarget | undefined;
  let connection: MqttConnection | undefined;
  let publisher: BridgePublisher | undefined;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await publisher?.stop();
    await connection?.stop();
    await target?.close();
  });

  it('withdraws the Home Assistant entities of a zone that left and announces a new one', async () => {
    const haTargets = targetsOf('homeassistant', {});
    const b101 = haTargets[0]!;
    const b102: ZoneTarget = { ...b101, zone: 'salle-b102', name: 'Salle B102', functions: ['heating'] };
    target = await embeddedTarget({ publish: ['homeassistant/#'], subscribe: ['#'] });
    const topics = new MqttTopics(target.prefix);
    connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
    });
    publisher = new BridgePublisher({ connection, topics, version: VERSION, targets: [b101] });
    await publisher.start();
    await connection.start();
    const config = (zone: string, component: string, key: string) =>
      `homeassistant/${UAI}/${component}/scope-energie/${UAI}_${zone}_${key}/config`;

    const observer = await collectMessages(target.url, target.observer, 'homeassistant/#');
    closers.push(() => observer.close());
    await observer.waitForCount(3); // B101's climate, temperature sensor and light configs, retained
    observer.messages.length = 0;

    // B101 leaves, B102 (heating only) arrives.
    const tally = await publisher.updateTargets([b102]);
    expect(tally).toEqual({ sent: 5, dropped: 0, interrupted: 0 });
    await observer.waitForCount(5);
    const seen = observer.messages.map((m) => ({ topic: m.topic, empty: m.payload === null }));
    expect(sortByTopic(seen)).toEqual(
      sortByTopic([
        { topic: config('salle-b101', 'climate', 'heating'), empty: true },
        { topic: config('salle-b101', 'sensor', 'temperature'), empty: true },
        { topic: config('salle-b101', 'light', 'lighting'), empty: true },
        { topic: config('salle-b102', 'climate', 'heating'), empty: false },
        { topic: config('salle-b102', 'sensor', 'temperature'), empty: false },
      ]),
    );
    // What a Home Assistant starting now finds: B102 only.
    const fresh = await collectMessages(target.url, target.observer, 'homeassistant/#');
    closers.push(() => fresh.close());
    await fresh.waitForCount(2);
    // Barrier: a non-retained marker on B102's own config topic, published after the subscription.
    await barrier(target.url, target.bridge, fresh, config('salle-b102', 'climate', 'heating'));
    expect(sortByTopic(fresh.messages.map((m) => ({ topic: m.topic, retain: m.retain })))).toEqual(
      sortByTopic([
        { topic: config('salle-b102', 'climate', 'heating'), retain: true },
        { topic: config('salle-b102', 'sensor', 'temperature'), retain: true },
      ]),
    );

    // The same settings again: nothing to withdraw or announce.
    expect(await publisher.updateTargets([b102])).toEqual({ sent: 0, dropped: 0, interrupted: 0 });
  });
});
