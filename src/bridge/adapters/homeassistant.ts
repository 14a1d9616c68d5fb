/**
 * Home Assistant MQTT discovery (docs/mqtt.md, "Where the shape of the contract comes from"): one retained
 * config per zone function under `{discovery_prefix}/{component}/{node_id}/{object_id}/config`,
 * re-published on every connect and when Home Assistant announces itself on
 * `{discovery_prefix}/status` = `online` (its birth message, as zigbee2mqtt and ring-mqtt do).
 *
 * The entities READ the contract: their state topics are the retained `desired` (and `reported`
 * for the measured temperature), with templates picking the fields, and their availability is
 * the bridge status. Heating is a `climate` entity (hvac mode heat/off, presets = the contract's
 * modes, target temperature = `setpoint_c`); lighting a `light`; ventilation a `switch`.
 *
 * Home Assistant requires command topics for `light`, `switch` and climate presets. They point
 * under the discovery prefix and the bridge does NOT act on them: a person changes a zone through
 * an override (`POST /api/overrides`, audited), not a toggle; with a state topic and
 * `optimistic: false`, the entity snaps back to the desired state.
 *
 * Options: `discovery_prefix` (default `homeassistant`), `node_id` (default `scope-energie`).
 */

import { HEATING_MODES, topicSegmentProblem } from '../../contract/topics.js';
import type { ZoneFunction } from '../../devices/schema.js';
import {
  type AdapterContext,
  type AdapterMessage,
  type BridgeAdapter,
  stringOption,
  type ZoneTarget,
} from './adapter.js';

const COMPONENT: Record<ZoneFunction, 'climate' | 'light' | 'switch'> = {
  heating: 'climate',
  lighting: 'light',
  ventilation: 'switch',
};

const ENTITY_NAME: Record<ZoneFunction, string> = {
  heating: 'Chauffage',
  lighting: 'Éclairage',
  ventilation: 'Ventilation',
};

const OPTIONS = new Set(['discovery_prefix', 'node_id']);

function discoveryPrefix(target: ZoneTarget): string {
  return stringOption(target.options, 'discovery_prefix') ?? 'homeassistant';
}

function nodeId(target: ZoneTarget): string {
  return stringOption(target.options, 'node_id') ?? 'scope-energie';
}

/** Home Assistant ids allow `[a-zA-Z0-9_-]`; UAIs and zone ids (devices/ schema) already do. */
export function haObjectId(target: ZoneTarget, fn: ZoneFunction): string {
  return `${target.uai}_${target.zone}_${fn}`;
}

export function haConfigTopic(target: ZoneTarget, fn: ZoneFunction): string {
  return `${discoveryPrefix(target)}/${COMPONENT[fn]}/${nodeId(target)}/${haObjectId(target, fn)}/config`;
}

function entityBase(target: ZoneTarget, fn: ZoneFunction): string {
  return `${discoveryPrefix(target)}/${COMPONENT[fn]}/${nodeId(target)}/${haObjectId(target, fn)}`;
}

function discoveryConfig(
  target: ZoneTarget,
  fn: ZoneFunction,
  context: AdapterContext,
): Record<string, unknown> {
  const desired = context.topics.desired(target.uai, target.zone, fn).topic;
  const base = entityBase(target, fn);
  const common: Record<string, unknown> = {
    name: ENTITY_NAME[fn],
    unique_id: `${nodeId(target)}_${haObjectId(target, fn)}`,
    device: {
      identifiers: [`${nodeId(target)}_${target.uai}_${target.zone}`],
      name: target.name,
      manufacturer: 'scope-energie',
      model: `zone ${target.zone} (${target.uai})`,
    },
    // Home Assistant asks integrations that publish discovery to say who they are.
    origin: { name: 'scope-energie', sw_version: context.version },
    availability_topic: context.topics.bridgeStatus().topic,
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
  };
  if (fn === 'heating') {
    return {
      ...common,
      modes: ['heat', 'off'],
      mode_state_topic: desired,
      mode_state_template: "{{ 'off' if value_json.mode == 'off' else 'heat' }}",
      mode_command_topic: `${base}/mode_set`,
      preset_modes: HEATING_MODES.filter((mode) => mode !== 'off'),
      preset_mode_state_topic: desired,
      preset_mode_value_template: "{{ 'none' if value_json.mode == 'off' else value_json.mode }}",
      preset_mode_command_topic: `${base}/preset_set`,
      temperature_state_topic: desired,
      temperature_state_template: '{{ value_json.setpoint_c }}',
      current_temperature_topic: context.topics.reported(target.uai, target.zone, fn).topic,
      current_temperature_template: '{{ value_json.measured_c }}',
      temperature_unit: 'C',
      precision: 0.5,
      optimistic: false,
    };
  }
  return {
    ...common,
    state_topic: desired,
    command_topic: `${base}/set`,
    optimistic: false,
    ...(fn === 'lighting'
      ? { state_value_template: "{{ 'ON' if value_json.mode == 'on' else 'OFF' }}" }
      : { value_template: "{{ 'ON' if value_json.mode == 'on' else 'OFF' }}" }),
  };
}

export const homeAssistantAdapter: BridgeAdapter = {
  name: 'homeassistant',
  check(target) {
    const problems: { option: string; message: string }[] = [];
    for (const option of Object.keys(target.options)) {
      if (!OPTIONS.has(option)) {
        problems.push({ option, message: `unknown homeassistant option; known: ${[...OPTIONS].join(', ')}` });
      }
    }
    for (const [option, value] of [
      ['discovery_prefix', discoveryPrefix(target)],
      ['node_id', nodeId(target)],
    ] as const) {
      const problem =
        option === 'node_id' && !/^[A-Za-z0-9_-]+$/.test(value)
          ? 'may hold only letters, digits, _ and -'
          : topicSegmentProblem(value);
      if (problem) problems.push({ option, message: `"${value}" ${problem}` });
    }
    return problems;
  },
  commands: () => [],
  announcements(target, context): AdapterMessage[] {
    return target.functions.map((fn) => ({
      topic: haConfigTopic(target, fn),
      payload: discoveryConfig(target, fn, context),
      retain: true,
      qos: 1,
    }));
  },
  birthTopics: (target) => [{ topic: `${discoveryPrefix(target)}/status`, payload: 'online' }],
  bridgeAcl(target) {
    return {
      publish: target.functions.map((fn) => haConfigTopic(target, fn)),
      subscribe: [`${discoveryPrefix(target)}/status`],
    };
  },
  gatewayAcl(target, context) {
    // Home Assistant reads the discovery configs, the bridge status (availability) and its
    // school's `reported` (current temperature), and publishes its own birth and the ignored commands.
    const prefix = discoveryPrefix(target);
    const node = nodeId(target);
    return {
      publish: [
        `${prefix}/status`,
        `${prefix}/+/${node}/+/set`,
        `${prefix}/+/${node}/+/mode_set`,
        `${prefix}/+/${node}/+/preset_set`,
      ],
      subscribe: [
        `${prefix}/#`,
        context.topics.bridgeStatus().topic,
        `${context.topics.prefix}/${target.uai}/+/+/reported`,
      ],
    };
  },
};
