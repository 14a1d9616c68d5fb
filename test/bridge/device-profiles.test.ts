/**
 * Every profile of config/device-profiles.yaml driven through the real zigbee-herdsman-converters
 * (the library zigbee2mqtt converts `/set` messages with): for each model, the definition
 * zigbee2mqtt would pick for the profile's fingerprint is that model's; for each desired state,
 * the `/set` payload the zigbee2mqtt adapter produces is converted as zigbee2mqtt's publish
 * extension does it (one toZigbee converter per key, matched by key, each converter once per
 * message), on a stand-in device whose endpoint records every Zigbee write, command and read.
 * Every key must be an exposed, settable property with an accepted value, matched by a converter,
 * and converted without error into at least one Zigbee call. The calls are compared with
 * __snapshots__/device-profiles.test.ts.snap; the cases the issue names are spelled out below.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import * as zhc from 'zigbee-herdsman-converters';
import type { ZoneTarget } from '../../src/bridge/adapters/adapter.js';
import { zigbee2mqttAdapter } from '../../src/bridge/adapters/zigbee2mqtt.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import { type DeviceProfile, shippedDeviceProfiles } from '../../src/devices/device-profiles.js';
import type { ZoneFunction } from '../../src/devices/schema.js';

interface ZigbeeCall {
  call: 'write' | 'command' | 'read';
  cluster: string | number;
  /** Attributes written, command name, or attributes read. */
  what: unknown;
  payload?: unknown;
}

const silent = (): void => {};
zhc.setLogger({ debug: silent, info: silent, warning: silent, error: silent });

/** Buffers (Tuya datapoint values) as byte arrays, so the recorded calls read as data. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

// The converters tell a device, an endpoint and a group apart by constructor name.
class Endpoint {
  readonly ID = 1;
  readonly clusters = {};
  readonly calls: ZigbeeCall[] = [];
  constructor(readonly device: Device) {}
  get deviceIeeeAddress(): string {
    return this.device.ieeeAddr;
  }
  getDevice(): Device {
    return this.device;
  }
  async write(cluster: string | number, attributes: unknown): Promise<void> {
    this.calls.push({ call: 'write', cluster, what: plain(attributes) });
  }
  async command(cluster: string | number, command: string, payload: unknown): Promise<void> {
    this.calls.push({ call: 'command', cluster, what: command, payload: plain(payload) });
  }
  async read(cluster: string | number, attributes: unknown): Promise<Record<string, never>> {
    this.calls.push({ call: 'read', cluster, what: plain(attributes) });
    return {};
  }
  supportsInputCluster(): boolean {
    return true;
  }
  supportsOutputCluster(): boolean {
    return true;
  }
  getClusterAttributeValue(): undefined {
    return undefined;
  }
  saveClusterAttributeKeyValue(): void {}
}

class Device {
  readonly ieeeAddr = '0x00124b0000000001';
  readonly networkAddress = 1;
  readonly type = 'EndDevice';
  readonly interviewCompleted = true;
  readonly powerSource = 'Battery';
  readonly meta: Record<string, unknown> = {};
  readonly customClusters = {};
  readonly endpoints: Endpoint[];
  constructor(
    readonly modelID: string,
    readonly manufacturerName: string | undefined,
  ) {
    this.endpoints = [new Endpoint(this)];
  }
  getEndpoint(id: number): Endpoint | undefined {
    return this.endpoints.find((e) => e.ID === id);
  }
  save(): void {}
}

type Definition = NonNullable<Awaited<ReturnType<typeof zhc.findByDevice>>>;

/** The exposed property `key` of the definition, with its access and accepted values. */
function exposeOf(definition: Definition, device: Device, key: string): Record<string, unknown> | undefined {
  const exposes =
    typeof definition.exposes === 'function' ? definition.exposes(device as never, {}) : definition.exposes;
  const walk = (list: readonly unknown[]): Record<string, unknown> | undefined => {
    for (const item of list as Record<string, unknown>[]) {
      if (item['property'] === key && item['features'] === undefined) return item;
      const inner = Array.isArray(item['features']) ? walk(item['features']) : undefined;
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(exposes);
}

/** Why zigbee2mqtt would not accept `value` for this expose, or null. */
function exposeProblem(expose: Record<string, unknown> | undefined, value: unknown): string | null {
  if (!expose) return 'not exposed by the definition';
  // exposes access bits: 1 state, 2 set, 4 get (zigbee-herdsman-converters lib/exposes).
  if (((expose['access'] as number) & 2) === 0) return 'exposed but not settable';
  if (expose['type'] === 'enum' && !(expose['values'] as unknown[]).includes(value))
    return `value ${JSON.stringify(value)} not among ${JSON.stringify(expose['values'])}`;
  if (expose['type'] === 'binary' && value !== expose['value_on'] && value !== expose['value_off'])
    return `value ${JSON.stringify(value)} is neither ${String(expose['value_on'])} nor ${String(expose['value_off'])}`;
  if (expose['type'] === 'numeric') {
    const min = expose['value_min'] as number | undefined;
    const max = expose['value_max'] as number | undefined;
    if (typeof value !== 'number' || (min !== undefined && value < min) || (max !== undefined && value > max))
      return `value ${JSON.stringify(value)} outside ${min}–${max}`;
  }
  return null;
}

/**
 * A `/set` payload converted as zigbee2mqtt's publish extension does: per key, the first
 * converter whose key list has it (or that has none), each converter once per message.
 */
async function convert(
  definition: Definition,
  fingerprint: DeviceProfile['fingerprint'],
  message: Record<string, unknown>,
): Promise<{ calls: ZigbeeCall[]; problems: string[] }> {
  zhc.clearGlobalStore();
  const device = new Device(fingerprint.model_id, fingerprint.manufacturer_name);
  const endpoint = device.endpoints[0]!;
  const used = new Set<unknown>();
  const problems: string[] = [];
  for (const [key, value] of Object.entries(message)) {
    const problem = exposeProblem(exposeOf(definition, device, key), value);
    if (problem) problems.push(`${key}: ${problem}`);
    const converter = definition.toZigbee.find((c) => (!c.key || c.key.includes(key)) && !c.endpoints);
    if (!converter?.convertSet) {
      problems.push(`${key}: no toZigbee converter`);
      continue;
    }
    if (used.has(converter)) continue;
    used.add(converter);
    const before = endpoint.calls.length;
    const meta = {
      endpoint_name: undefined,
      options: {},
      message: { ...message },
      device,
      state: {},
      membersState: undefined,
      mapped: definition,
      publish: silent,
    };
    try {
      await converter.convertSet(endpoint as never, key, value, meta as never);
    } catch (error) {
      problems.push(`${key}: ${(error as Error).message}`);
      continue;
    }
    if (endpoint.calls.length === before) problems.push(`${key}: converted into no Zigbee call`);
  }
  return { calls: endpoint.calls, problems };
}

const HEATING_STATES: { mode: DesiredPayload<'heating'>['mode']; setpoint_c?: number }[] = [
  { mode: 'comfort', setpoint_c: 19 },
  { mode: 'comfort_1', setpoint_c: 18 },
  { mode: 'comfort_2', setpoint_c: 17 },
  { mode: 'eco', setpoint_c: 16 },
  { mode: 'frost', setpoint_c: 8 },
  { mode: 'off' },
];
const SWITCH_STATES: { mode: DesiredPayload<'lighting'>['mode'] }[] = [{ mode: 'on' }, { mode: 'off' }];

function desired(state: { mode: string; setpoint_c?: number }): DesiredPayload {
  return {
    rev: 7,
    ...state,
    valid_until: '2026-12-03T18:00:00.000Z',
    reason: { rule: 'defaults.heating.occupied' },
    issued_at: '2026-12-03T07:00:00.000Z',
  } as DesiredPayload;
}

function commandFor(model: string, fn: ZoneFunction, state: { mode: string; setpoint_c?: number }) {
  const target: ZoneTarget = {
    uai: '0670999X',
    zone: 'salle-b101',
    name: 'Salle B101',
    gateway: 'gw-z2m',
    adapter: 'zigbee2mqtt',
    functions: [fn],
    options: { device: 'appareil-b101' },
    models: { [fn]: model },
  };
  const messages = zigbee2mqttAdapter.commands(target, fn, desired(state), {
    topics: new MqttTopics('sobriete/v1'),
    version: 'test',
  });
  expect(messages.map((m) => [m.topic, m.retain, m.qos])).toEqual([
    ['zigbee2mqtt/appareil-b101/set', false, 1],
  ]);
  return messages[0]!.payload as Record<string, unknown>;
}

const profiles = [...shippedDeviceProfiles()];
const definitions = new Map<string, Definition>();

describe('device profiles against zigbee-herdsman-converters', () => {
  beforeAll(async () => {
    for (const [model, profile] of profiles) {
      const { model_id, manufacturer_name } = profile.fingerprint;
      const definition = await zhc.findByDevice(new Device(model_id, manufacturer_name) as never);
      if (definition) definitions.set(model, definition);
    }
  }, 60_000);

  it('covers the models the issue names, a relay and a light', () => {
    expect(profiles.map(([model]) => model)).toEqual(
      expect.arrayContaining([
        '014G2461',
        'SRTS-A01',
        'TS0601_thermostat',
        'TV02-Zigbee',
        'BTH-RA',
        'TRVZB',
        'SIN-4-FP-21',
        '064882',
        'TWC-R01',
        'ZBMINI',
        'LED1836G9',
      ]),
    );
  });

  it.each(profiles)('%s: the fingerprint finds this model in zigbee2mqtt', (model) => {
    expect(definitions.get(model)?.model).toBe(model);
  });

  it.each(profiles)('%s: every /set converts into Zigbee calls without error', async (model, profile) => {
    const definition = definitions.get(model);
    expect(definition, 'definition').toBeDefined();
    const recorded: Record<string, { set: Record<string, unknown>; zigbee: ZigbeeCall[] }> = {};
    for (const fn of profile.functions) {
      for (const state of fn === 'heating' ? HEATING_STATES : SWITCH_STATES) {
        const set = commandFor(model, fn, state);
        const { calls, problems } = await convert(definition!, profile.fingerprint, set);
        expect(problems, `${model} ${fn} ${state.mode}: ${JSON.stringify(set)}`).toEqual([]);
        recorded[`${fn} ${state.mode}`] = { set, zigbee: calls };
      }
    }
    expect(recorded).toMatchSnapshot();
  });

  it('sends what each model needs, and nothing it lacks', async () => {
    // Danfoss Ally: no mode at all (system_mode is heat only); off is its lowest setpoint, sent
    // as Danfoss's scheduled (non-aggressive) setpoint command.
    expect(commandFor('014G2461', 'heating', { mode: 'eco', setpoint_c: 16 })).toEqual({
      occupied_heating_setpoint_scheduled: 16,
    });
    expect(commandFor('014G2461', 'heating', { mode: 'off' })).toEqual({
      occupied_heating_setpoint_scheduled: 5,
    });
    const danfoss = await convert(
      definitions.get('014G2461')!,
      { model_id: 'eTRV0100' },
      { occupied_heating_setpoint_scheduled: 5 },
    );
    expect(danfoss.calls).toEqual([
      {
        call: 'command',
        cluster: 'hvacThermostat',
        what: 'danfossSetpointCommand',
        payload: { setpointType: 0, setpoint: 500 },
      },
    ]);
    // Tuya TS0601 regulates in auto only; off is its own mode, with no setpoint.
    expect(commandFor('TS0601_thermostat', 'heating', { mode: 'comfort', setpoint_c: 19.2 })).toEqual({
      system_mode: 'auto',
      current_heating_setpoint: 19,
    });
    expect(commandFor('TS0601_thermostat', 'heating', { mode: 'off' })).toEqual({ system_mode: 'off' });
    // Legrand 064882: device_mode pilot_on first, then the pilot-wire order.
    expect(commandFor('064882', 'heating', { mode: 'frost', setpoint_c: 8 })).toEqual({
      device_mode: 'pilot_on',
      pilot_wire_mode: 'frost_protection',
    });
    expect(Object.keys(commandFor('064882', 'heating', { mode: 'eco', setpoint_c: 16 }))).toEqual([
      'device_mode',
      'pilot_wire_mode',
    ]);
    // THALEOS TWC-R01: antifrost and comfort_1/comfort_2 (six-order mode on).
    expect(commandFor('TWC-R01', 'heating', { mode: 'frost', setpoint_c: 8 })).toEqual({
      device_mode_type: 'ON',
      pilot_wire_mode: 'antifrost',
    });
    expect(commandFor('TWC-R01', 'heating', { mode: 'comfort_2', setpoint_c: 17 })).toMatchObject({
      pilot_wire_mode: 'comfort_2',
    });
    // Bosch BTH-RA: pause is its off.
    expect(commandFor('BTH-RA', 'heating', { mode: 'off' })).toEqual({ operating_mode: 'pause' });
    // A relay and a light: state only.
    expect(commandFor('ZBMINI', 'ventilation', { mode: 'on' })).toEqual({ state: 'ON' });
    expect(commandFor('LED1836G9', 'lighting', { mode: 'off' })).toEqual({ state: 'OFF' });
  });

  it('catches the payloads the issue found wrong (the harness is no rubber stamp)', async () => {
    const problemsOf = async (model: string, message: Record<string, unknown>) => {
      const [, profile] = profiles.find(([m]) => m === model)!;
      return (await convert(definitions.get(model)!, profile.fingerprint, message)).problems;
    };
    expect(await problemsOf('014G2461', { system_mode: 'off' })).toEqual([
      'system_mode: value "off" not among ["heat"]',
    ]);
    expect(await problemsOf('TWC-R01', { pilot_wire_mode: 'frost_protection' })).toEqual([
      'pilot_wire_mode: value "frost_protection" not among ["comfort","eco","antifrost","off","comfort_1","comfort_2"]',
      expect.stringMatching(/^pilot_wire_mode: /),
    ]);
    expect(await problemsOf('SIN-4-FP-21', { current_heating_setpoint: 19 })).toEqual([
      'current_heating_setpoint: not exposed by the definition',
      expect.stringMatching(/^current_heating_setpoint: /),
    ]);
  });
});
