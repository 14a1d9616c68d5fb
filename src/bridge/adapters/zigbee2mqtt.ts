/**
 * zigbee2mqtt: `{base_topic}/{device}/set` with the device's value for the mode (docs/regulation.md, "Heating modes and the fil pilote").
 * Heating drives a fil-pilote module (NodOn SIN-4-FP-21, Legrand 064882…): zigbee2mqtt exposes
 * the six orders as `pilot_wire_mode` = comfort, comfort_-1, comfort_-2, eco, frost_protection,
 * off. Lighting and ventilation drive a relay: `state` = ON / OFF.
 *
 * Options (`adapter_options` of the zone), all optional except a device name:
 * - `device`, or `heating_device` / `lighting_device` / `ventilation_device`: friendly names;
 * - `heating_property` (default `pilot_wire_mode`), `lighting_property` / `ventilation_property`
 *   (default `state`);
 * - `{function}_value_{mode}`: the value sent for a mode, for models that name them differently
 *   (e.g. `heating_value_frost: frost`);
 * - `heating_setpoint_property`: also send `setpoint_c` under that name (thermostatic valves:
 *   `current_heating_setpoint`);
 * - `base_topic` (default `zigbee2mqtt`).
 *
 * Commands are QoS 1, never retained: zigbee2mqtt would replay a retained `/set` on its restart,
 * stale intent (homieiot/convention#150; docs/mqtt.md, "Where the shape of the contract comes from"); the bridge re-sends them on every reconnect.
 */
import type { ZoneFunction } from '../../devices/schema.js';
import { topicSegmentProblem } from '../../mqtt/topics.js';
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

function deviceOf(target: ZoneTarget, fn: ZoneFunction): string | undefined {
  return stringOption(target.options, `${fn}_device`) ?? stringOption(target.options, 'device');
}

function baseTopic(target: ZoneTarget): string {
  return stringOption(target.options, 'base_topic') ?? 'zigbee2mqtt';
}

function deviceValue(target: ZoneTarget, fn: ZoneFunction, mode: string): string {
  const override = stringOption(target.options, `${fn}_value_${mode}`);
  if (override !== undefined) return override;
  return (fn === 'heating' ? PILOT_WIRE_VALUES : SWITCH_VALUES)[mode] ?? mode;
}

function knownOptions(target: ZoneTarget): Set<string> {
  const known = new Set(['device', 'base_topic', 'heating_setpoint_property']);
  for (const fn of target.functions) {
    known.add(`${fn}_device`);
    known.add(`${fn}_property`);
    for (const mode of MODES[fn]) known.add(`${fn}_value_${mode}`);
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
        problems.push({
          option,
          message: `unknown zigbee2mqtt option; known: ${[...known].sort().join(', ')}`,
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
    const payload: Record<string, unknown> = {
      [stringOption(target.options, `${fn}_property`) ?? DEFAULT_PROPERTY[fn]]: deviceValue(
        target,
        fn,
        desired.mode,
      ),
    };
    const setpointProperty = stringOption(target.options, 'heating_setpoint_property');
    if (fn === 'heating' && setpointProperty !== undefined && desired.setpoint_c !== undefined) {
      payload[setpointProperty] = desired.setpoint_c;
    }
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
    return { publish: [...publish], subscribe: [] };
  },
  gatewayAcl: () => NO_ACL,
};
