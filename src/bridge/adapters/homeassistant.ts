/**
 * Home Assistant MQTT discovery (docs/adapters.md, "Home Assistant"; docs/mqtt.md): one retained
 * config per entity under `{discovery_prefix}/{component}/{node_id}/{object_id}/config`,
 * re-published on every connect and when Home Assistant announces itself on its birth topic
 * (`homeassistant/status` = `online` by default, as zigbee2mqtt and ring-mqtt do).
 *
 * Isolation: the discovery prefix is per school (`homeassistant/{UAI}` by default), and a school's
 * Home Assistant gateway may read only under it, so it never sees another school's entities. Home
 * Assistant is told the prefix in its MQTT options ("Discovery prefix").
 *
 * The entities READ the contract: their state topics are the retained `desired` (and `reported`
 * for the measured temperature), with templates picking the fields; they are available when both
 * the bridge and the zone's gateway say `online`. Heating is a `climate` entity (hvac mode
 * heat/off, presets = the contract's modes, target = `setpoint_c` between the legal floor and cap)
 * plus a temperature `sensor`; lighting a `light`; ventilation a `switch`.
 *
 * Commands from Home Assistant (target temperature, preset, hvac mode, on/off) are read by the
 * bridge (src/bridge/ha-commands.ts) and become overrides through the overrides service: capped,
 * limited to 14 days, audited with Home Assistant as the author. With `optimistic: false` the
 * entity shows only what the bridge then publishes; a refused command snaps back.
 *
 * Options: `discovery_prefix` (default `homeassistant/{UAI}`), `node_id` (default
 * `scope-energie`), `birth_topic` (default `homeassistant/status`).
 */

import { HEATING_MODES, topicSegmentProblem } from '../../contract/topics.js';
import type { ZoneFunction } from '../../devices/schema.js';
import { LEGAL_CAPS } from '../../rules/schema.js';
import {
  type AdapterContext,
  type AdapterMessage,
  type BridgeAdapter,
  stringOption,
  type ZoneTarget,
} from './adapter.js';

export type HaComponent = 'climate' | 'sensor' | 'light' | 'switch';

/** The entities of one zone function: heating has a climate entity and a temperature sensor. */
const ENTITIES: Record<ZoneFunction, readonly { component: HaComponent; key: string; name: string }[]> = {
  heating: [
    { component: 'climate', key: 'heating', name: 'Chauffage' },
    { component: 'sensor', key: 'temperature', name: 'Température' },
  ],
  lighting: [{ component: 'light', key: 'lighting', name: 'Éclairage' }],
  ventilation: [{ component: 'switch', key: 'ventilation', name: 'Ventilation' }],
};

/**
 * Target temperatures offered to Home Assistant: at most the legal cap of occupied premises
 * (Code de l'énergie R241-26, 19 °C), at least the floor an override accepts (5 °C, the frost
 * protection range of docs/rules.md), in steps of 0.5 °C.
 */
export const HA_MAX_TEMP_C = LEGAL_CAPS.occupied.max_c;
export const HA_MIN_TEMP_C = 5;
export const HA_TEMP_STEP_C = 0.5;

/** What a command topic of an entity carries (src/bridge/ha-commands.ts reads them). */
export type HaCommandKind = 'temperature' | 'preset' | 'mode' | 'switch';
const COMMAND_SUFFIX: Record<HaCommandKind, string> = {
  temperature: 'temperature_set',
  preset: 'preset_set',
  mode: 'mode_set',
  switch: 'set',
};

const OPTIONS = new Set(['discovery_prefix', 'node_id', 'birth_topic']);

export function haDiscoveryPrefix(target: Pick<ZoneTarget, 'options' | 'uai'>): string {
  return stringOption(target.options, 'discovery_prefix') ?? `homeassistant/${target.uai}`;
}

function nodeId(target: ZoneTarget): string {
  return stringOption(target.options, 'node_id') ?? 'scope-energie';
}

export function haBirthTopic(target: ZoneTarget): string {
  return stringOption(target.options, 'birth_topic') ?? 'homeassistant/status';
}

/** Home Assistant ids allow `[a-zA-Z0-9_-]`; UAIs and zone ids (devices/ schema) already do. */
export function haObjectId(target: ZoneTarget, key: string): string {
  return `${target.uai}_${target.zone}_${key}`;
}

function entityBase(target: ZoneTarget, component: HaComponent, key: string): string {
  return `${haDiscoveryPrefix(target)}/${component}/${nodeId(target)}/${haObjectId(target, key)}`;
}

export function haConfigTopic(target: ZoneTarget, fn: ZoneFunction): string {
  const main = ENTITIES[fn][0]!;
  return `${entityBase(target, main.component, main.key)}/config`;
}

/** The command topics of a zone's entities and what each carries. */
export function haCommandTopics(
  target: ZoneTarget,
): { topic: string; function: ZoneFunction; kind: HaCommandKind }[] {
  return target.functions.flatMap((fn) => {
    const main = ENTITIES[fn][0]!;
    const base = entityBase(target, main.component, main.key);
    const kinds: HaCommandKind[] = fn === 'heating' ? ['temperature', 'preset', 'mode'] : ['switch'];
    return kinds.map((kind) => ({ topic: `${base}/${COMMAND_SUFFIX[kind]}`, function: fn, kind }));
  });
}

/** Filters matching every command topic under one prefix and node (broker ACL, subscriptions). */
function commandFilters(target: ZoneTarget): string[] {
  const prefix = haDiscoveryPrefix(target);
  const node = nodeId(target);
  return Object.values(COMMAND_SUFFIX).map((suffix) => `${prefix}/+/${node}/+/${suffix}`);
}

/** The attributes Home Assistant shows with a climate/light/switch entity: why it is in that state. */
const ATTRIBUTES_TEMPLATE =
  "{{ {'rev': value_json.rev, 'reason': value_json.reason.rule, 'basis': value_json.reason.basis, 'valid_until': value_json.valid_until} | tojson }}";

function entityConfig(
  target: ZoneTarget,
  fn: ZoneFunction,
  entity: { component: HaComponent; key: string; name: string },
  context: AdapterContext,
): Record<string, unknown> {
  const desired = context.topics.desired(target.uai, target.zone, fn).topic;
  const reported = context.topics.reported(target.uai, target.zone, fn).topic;
  const base = entityBase(target, entity.component, entity.key);
  const school = target.school ?? target.uai;
  const common: Record<string, unknown> = {
    name: entity.name,
    unique_id: `${nodeId(target)}_${haObjectId(target, entity.key)}`,
    device: {
      identifiers: [`${nodeId(target)}_${target.uai}_${target.zone}`],
      name: `${school} — ${target.name}`,
      manufacturer: 'scope-energie',
      model: `zone ${target.zone} (${target.uai})`,
      suggested_area: target.name,
      ...(context.publicUrl
        ? { configuration_url: `${context.publicUrl.replace(/\/+$/, '')}/tableau-de-bord/${target.uai}` }
        : {}),
    },
    // Home Assistant asks integrations that publish discovery to say who they are.
    origin: { name: 'scope-energie', sw_version: context.version },
    // Available only while the bridge AND the zone's gateway are online (docs/gateway-contract.md).
    availability: [
      { topic: context.topics.bridgeStatus().topic, value_template: '{{ value_json.state }}' },
      {
        topic: context.topics.gatewayStatus(target.uai, target.gateway).topic,
        value_template: '{{ value_json.state }}',
      },
    ],
    availability_mode: 'all',
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
  };
  if (entity.component === 'sensor') {
    return {
      ...common,
      state_topic: reported,
      value_template: '{{ value_json.measured_c }}',
      device_class: 'temperature',
      state_class: 'measurement',
      unit_of_measurement: '°C',
      suggested_display_precision: 1,
    };
  }
  const attributes = { json_attributes_topic: desired, json_attributes_template: ATTRIBUTES_TEMPLATE };
  if (entity.component === 'climate') {
    return {
      ...common,
      ...attributes,
      modes: ['heat', 'off'],
      mode_state_topic: desired,
      mode_state_template: "{{ 'off' if value_json.mode == 'off' else 'heat' }}",
      mode_command_topic: `${base}/${COMMAND_SUFFIX.mode}`,
      preset_modes: HEATING_MODES.filter((mode) => mode !== 'off'),
      preset_mode_state_topic: desired,
      preset_mode_value_template: "{{ 'none' if value_json.mode == 'off' else value_json.mode }}",
      preset_mode_command_topic: `${base}/${COMMAND_SUFFIX.preset}`,
      temperature_state_topic: desired,
      // `off` has no setpoint: show the floor rather than an empty (invalid) value.
      temperature_state_template: `{{ value_json.setpoint_c | default(${HA_MIN_TEMP_C}) }}`,
      temperature_command_topic: `${base}/${COMMAND_SUFFIX.temperature}`,
      current_temperature_topic: reported,
      current_temperature_template: '{{ value_json.measured_c }}',
      min_temp: HA_MIN_TEMP_C,
      max_temp: HA_MAX_TEMP_C,
      temp_step: HA_TEMP_STEP_C,
      temperature_unit: 'C',
      precision: 0.5,
      optimistic: false,
    };
  }
  return {
    ...common,
    ...attributes,
    state_topic: desired,
    command_topic: `${base}/${COMMAND_SUFFIX.switch}`,
    optimistic: false,
    ...(entity.component === 'light'
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
    const prefix = haDiscoveryPrefix(target);
    const prefixProblem = prefix
      .split('/')
      .map((level) => topicSegmentProblem(level))
      .find((p) => p !== null);
    if (prefixProblem) problems.push({ option: 'discovery_prefix', message: `"${prefix}" ${prefixProblem}` });
    const node = nodeId(target);
    if (!/^[A-Za-z0-9_-]+$/.test(node))
      problems.push({ option: 'node_id', message: `"${node}" may hold only letters, digits, _ and -` });
    const birth = haBirthTopic(target);
    const birthProblem = birth
      .split('/')
      .map((level) => topicSegmentProblem(level))
      .find((p) => p !== null);
    if (birthProblem) problems.push({ option: 'birth_topic', message: `"${birth}" ${birthProblem}` });
    return problems;
  },
  commands: () => [],
  announcements(target, context): AdapterMessage[] {
    return target.functions.flatMap((fn) =>
      ENTITIES[fn].map((entity) => ({
        topic: `${entityBase(target, entity.component, entity.key)}/config`,
        payload: entityConfig(target, fn, entity, context),
        retain: true,
        qos: 1 as const,
      })),
    );
  },
  birthTopics: (target) => [{ topic: haBirthTopic(target), payload: 'online' }],
  bridgeAcl(target) {
    // By prefix and node, not by zone: a zone leaving devices/ keeps the right to withdraw its
    // entities (empty retained configs) whatever the order of the reload's steps.
    const prefix = haDiscoveryPrefix(target);
    return {
      publish: [`${prefix}/+/${nodeId(target)}/+/config`],
      subscribe: [haBirthTopic(target), ...commandFilters(target)],
    };
  },
  gatewayAcl(target, context) {
    // Home Assistant subscribes to its whole discovery prefix (the school's), reads the bridge
    // status and its own gateway status (availability) and its school's `reported` (temperature),
    // and publishes its birth/Will and the commands, never a config.
    const prefix = haDiscoveryPrefix(target);
    return {
      publish: [haBirthTopic(target), ...commandFilters(target)],
      subscribe: [
        `${prefix}/#`,
        context.topics.bridgeStatus().topic,
        context.topics.gatewayStatus(target.uai, target.gateway).topic,
        `${context.topics.prefix}/${target.uai}/+/+/reported`,
      ],
    };
  },
};
