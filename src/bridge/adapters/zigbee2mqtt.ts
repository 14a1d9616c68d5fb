/**
 * zigbee2mqtt: `{base_topic}/{device}/set` with the payload the device's profile gives for the
 * desired state (docs/adapters.md, "zigbee2mqtt"). A zone names each function's device model
 * (`device_models`, a key of config/device-profiles.yaml): the profile says which property
 * carries the mode and which the setpoint, each mode's value, the setpoint standing for `off` on
 * a valve without off, and fixed keys (`device_mode: pilot_on`). Keys the model lacks are never
 * sent.
 *
 * Without a model, the zone's options describe the device, as before profiles existed: a
 * fil-pilote module for heating (`pilot_wire_mode` = comfort, comfort_-1, comfort_-2, eco,
 * frost_protection, off; docs/regulation.md, "Heating modes and the fil pilote") and a relay
 * (`state` = ON / OFF) for lighting and ventilation.
 *
 * Options (`adapter_options` of the zone), all optional except a device name:
 * - `device`, or `heating_device` / `lighting_device` / `ventilation_device`: friendly names;
 * - `base_topic` (default `zigbee2mqtt`);
 * - only for a function without a model: `heating_property` (default `pilot_wire_mode`),
 *   `lighting_property` / `ventilation_property` (default `state`), `{function}_value_{mode}`
 *   (the value sent for a mode, e.g. `heating_value_frost: frost`), `heating_setpoint_property`
 *   (also send `setpoint_c` under that name).
 *
 * Commands are QoS 1, never retained: zigbee2mqtt would replay a retained `/set` on its restart,
 * stale intent (homieiot/convention#150; docs/mqtt.md, "Where the shape of the contract comes
 * from"); the bridge re-sends them on every reconnect and when zigbee2mqtt's `bridge/state`
 * turns online (a `/set` sent while it was down was lost).
 */

import { topicSegmentProblem } from '../../contract/topics.js';
import { type DeviceProfile, profileCommand, shippedDeviceProfiles } from '../../devices/device-profiles.js';
import type { ZoneFunction } from '../../devices/schema.js';
import { type BridgeAdapter, NO_ACL, stringOption, type ZoneTarget } from './adapter.js';

export const PILOT_WIRE_VALUES: Readonly<Record<string, string>> = {
  comfort: 'comfort',
  comfort_1: 'comfort_-1',
  comfort_2: 'comfort_-2',
  eco: 'eco',
  frost: 'frost_protection',
  off: 'off',
};

const SWITCH_VALUES: Readonly<Record<string, string>> = { on: 'ON', off: 'OFF' };

const DEFAULT_PROPERTY: Record<ZoneFunction, string> = {
  heating: 'pilot_wire_mode',
  lighting: 'state',
  ventilation: 'state',
};

const MODES: Record<ZoneFunction, readonly string[]> = {
  heating: Object.keys(PILOT_WIRE_VALUES),
  lighting: Object.keys(SWITCH_VALUES),
  ventilation: Object.keys(SWITCH_VALUES),
};

/**
 * A setpoint property named by option has no declared range: the contract's physical bounds
 * (src/contract/topics.ts) and a 0.1 °C step, finer than any valve, so the value goes out as given.
 */
const OPTION_SETPOINT = { min_c: 0, max_c: 35, step_c: 0.1 } as const;

function deviceOf(target: Pick<ZoneTarget, 'options'>, fn: ZoneFunction): string | undefined {
  return stringOption(target.options, `${fn}_device`) ?? stringOption(target.options, 'device');
}

/** zigbee2mqtt's `mqtt.base_topic` for this zone (its default: `zigbee2mqtt`). */
export function z2mBaseTopic(target: Pick<ZoneTarget, 'options'>): string {
  return stringOption(target.options, 'base_topic') ?? 'zigbee2mqtt';
}
const baseTopic = z2mBaseTopic;

/** The friendly names of the zone's devices, per function (a function without one is left out). */
export function z2mDevices(target: Pick<ZoneTarget, 'options' | 'functions'>): Map<ZoneFunction, string> {
  const devices = new Map<ZoneFunction, string>();
  for (const fn of target.functions) {
    const device = deviceOf(target, fn);
    if (device !== undefined) devices.set(fn, device);
  }
  return devices;
}

/** The zone function's device model, when devices/ names one. */
function modelOf(target: Pick<ZoneTarget, 'models'>, fn: ZoneFunction): string | undefined {
  return target.models?.[fn];
}

/**
 * The profile of the zone function's device: its model's entry in the catalogue, else the one
 * the zone's options describe (fil pilote or relay by default).
 */
export function z2mProfile(target: Pick<ZoneTarget, 'options' | 'models'>, fn: ZoneFunction): DeviceProfile {
  const model = modelOf(target, fn);
  if (model !== undefined) {
    const profile = shippedDeviceProfiles().get(model);
    // devices/ is refused at load when a model is unknown (src/devices/load.ts).
    if (!profile) throw new Error(`device model ${model} is not in the catalogue`);
    return profile;
  }
  const defaults = fn === 'heating' ? PILOT_WIRE_VALUES : SWITCH_VALUES;
  const values: Record<string, string> = {};
  for (const mode of MODES[fn])
    values[mode] = stringOption(target.options, `${fn}_value_${mode}`) ?? defaults[mode]!;
  const setpointProperty =
    fn === 'heating' ? stringOption(target.options, 'heating_setpoint_property') : undefined;
  return {
    vendor: 'unspecified',
    description: 'described by adapter_options',
    functions: [fn],
    fingerprint: { model_id: 'unspecified' },
    mode: { property: stringOption(target.options, `${fn}_property`) ?? DEFAULT_PROPERTY[fn], values },
    ...(setpointProperty === undefined
      ? {}
      : { setpoint: { property: setpointProperty, ...OPTION_SETPOINT } }),
  };
}

/** Whether two base topics overlap: one's `#` would reach the other's topics. */
export function baseTopicsOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

function knownOptions(target: ZoneTarget): Set<string> {
  const known = new Set(['device', 'base_topic']);
  for (const fn of target.functions) {
    known.add(`${fn}_device`);
    // A model's profile decides the payload: options describing the device are for zones without one.
    if (modelOf(target, fn) !== undefined) continue;
    known.add(`${fn}_property`);
    for (const mode of MODES[fn]) known.add(`${fn}_value_${mode}`);
    if (fn === 'heating') known.add('heating_setpoint_property');
  }
  return known;
}

/** zigbee2mqtt friendly names may contain `/` (groups) but no wildcard. */
function deviceProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (/[+#]/.test(name)) return 'contains an MQTT wildcard (+, #)';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with /';
  return null;
}

export const zigbee2mqttAdapter: BridgeAdapter = {
  name: 'zigbee2mqtt',
  check(target) {
    const problems: { option: string; message: string }[] = [];
    const known = knownOptions(target);
    for (const option of Object.keys(target.options)) {
      if (!known.has(option)) {
        const fn = target.functions.find(
          (f) => option.startsWith(`${f}_`) && modelOf(target, f) !== undefined,
        );
        problems.push({
          option,
          message:
            fn === undefined
              ? `unknown zigbee2mqtt option; known: ${[...known].sort().join(', ')}`
              : `${fn} has device model "${modelOf(target, fn)}": its profile (config/device-profiles.yaml) decides the payload; remove this option or add a profile`,
        });
      }
    }
    for (const fn of target.functions) {
      const device = deviceOf(target, fn);
      if (device === undefined) {
        problems.push({
          option: `${fn}_device`,
          message: `give device or ${fn}_device: the zigbee2mqtt friendly name`,
        });
        continue;
      }
      const problem = deviceProblem(device);
      if (problem) problems.push({ option: `${fn}_device`, message: `device name "${device}" ${problem}` });
    }
    for (const level of baseTopic(target).split('/')) {
      const problem = topicSegmentProblem(level);
      if (problem) problems.push({ option: 'base_topic', message: `level "${level}" ${problem}` });
    }
    return problems;
  },
  commands(target, fn, desired) {
    const device = deviceOf(target, fn);
    if (device === undefined) return [];
    const payload = profileCommand(z2mProfile(target, fn), fn, desired);
    if (Object.keys(payload).length === 0) return [];
    return [{ topic: `${baseTopic(target)}/${device}/set`, payload, retain: false, qos: 1 }];
  },
  announcements: () => [],
  birthTopics: () => [],
  bridgeAcl(target) {
    const publish = new Set<string>();
    for (const fn of target.functions) {
      const device = deviceOf(target, fn);
      if (device !== undefined) publish.add(`${baseTopic(target)}/${device}/set`);
    }
    // The bridge reads back what zigbee2mqtt says of the zone's devices (gateway-tracker.ts):
    // their state, their availability and zigbee2mqtt's own `bridge/state`; nothing else.
    const subscribe = new Set<string>([`${baseTopic(target)}/bridge/state`]);
    for (const device of z2mDevices(target).values()) {
      subscribe.add(`${baseTopic(target)}/${device}`);
      subscribe.add(`${baseTopic(target)}/${device}/availability`);
    }
    return { publish: [...publish], subscribe: [...subscribe] };
  },
  gatewayAcl(target, context) {
    // zigbee2mqtt subscribes to its whole base topic and publishes under it (bridge/state as
    // its birth and Last Will, bridge/info, devices, device state, availability, responses):
    // the gateway that runs it gets that base topic, and only it. A base topic overlapping the
    // contract's prefix would let the gateway write `desired`: no rights at all then.
    const base = baseTopic(target);
    if (baseTopicsOverlap(base, context.topics.prefix)) return NO_ACL;
    return { publish: [`${base}/#`], subscribe: [`${base}/#`] };
  },
};

/**
 * Base topics claimed by more than one gateway (`uai/gateway`), overlapping included: one
 * zigbee2mqtt instance per base topic, else a gateway of school A would read and write the
 * devices of school B. Returned as `[index of the later target, message]`.
 */
export function z2mBaseTopicConflicts(targets: readonly ZoneTarget[]): [number, string][] {
  const owners: { base: string; owner: string }[] = [];
  const conflicts: [number, string][] = [];
  targets.forEach((target, index) => {
    if (target.adapter !== 'zigbee2mqtt') return;
    const base = baseTopic(target);
    const owner = `${target.uai}/${target.gateway}`;
    const clash = owners.find((o) => o.owner !== owner && baseTopicsOverlap(o.base, base));
    if (clash) {
      conflicts.push([
        index,
        `base_topic "${base}" overlaps "${clash.base}" of gateway ${clash.owner}: each zigbee2mqtt instance needs its own base topic (its gateway gets "${base}/#" on the broker)`,
      ]);
      return;
    }
    if (!owners.some((o) => o.owner === owner && o.base === base)) owners.push({ base, owner });
  });
  return conflicts;
}
