/**
 * The template adapter, for gateways with their own topic layout (BACnet, KNX, Modbus bridges
 * such as a Node-RED flow or a vendor gateway): a topic template and a payload template per zone,
 * filled from the current `desired` (docs/mqtt.md, "Payloads").
 *
 * Options (`adapter_options`):
 * - `topic_template`, `payload_template`, or per function `heating_topic_template`… (which win);
 * - placeholders: `{uai} {zone} {function} {mode} {value} {setpoint_c} {rev}`; `{value}` is
 *   `{function}_value_{mode}` when given (e.g. `heating_value_comfort: "1"` for a KNX DPT 20.102
 *   HVAC mode), else the mode; `{setpoint_c}` is `null` when the state has none, so JSON
 *   templates stay valid;
 * - `retain` (default false: a command is not retained, docs/mqtt.md, "Where the shape of the
 *   contract comes from") and `qos` (0 or 1, default 1).
 * Templates are checked when devices/ is loaded: unknown placeholders and topics with wildcards
 * are refused there, not at 07:00 on a Monday.
 */

import type { DesiredPayload, QoS } from '../../contract/topics.js';
import type { ZoneFunction } from '../../devices/schema.js';
import { type BridgeAdapter, NO_ACL, stringOption, type ZoneTarget } from './adapter.js';

export const TEMPLATE_PLACEHOLDERS = [
  'uai',
  'zone',
  'function',
  'mode',
  'value',
  'setpoint_c',
  'rev',
] as const;
type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([a-z_]+)\}/g;
/** MQTT forbids U+0000 in topic names (MQTT 3.1.1 §1.5.3). */
const NUL = String.fromCharCode(0);
const HAS_PLACEHOLDER = /\{[a-z_]+\}/;
const HEATING_AND_SWITCH_MODES = ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off', 'on'];

function templateOf(target: ZoneTarget, fn: ZoneFunction, kind: 'topic' | 'payload'): string | undefined {
  return (
    stringOption(target.options, `${fn}_${kind}_template`) ?? stringOption(target.options, `${kind}_template`)
  );
}

export function renderTemplate(template: string, values: Readonly<Record<Placeholder, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name) ? values[name as Placeholder] : whole,
  );
}

function valuesFor(
  target: ZoneTarget,
  fn: ZoneFunction,
  desired: Pick<DesiredPayload, 'mode' | 'setpoint_c' | 'rev'>,
) {
  return {
    uai: target.uai,
    zone: target.zone,
    function: fn,
    mode: desired.mode,
    value: stringOption(target.options, `${fn}_value_${desired.mode}`) ?? desired.mode,
    setpoint_c: desired.setpoint_c === undefined ? 'null' : String(desired.setpoint_c),
    rev: String(desired.rev),
  };
}

function qosOf(target: ZoneTarget): QoS {
  return target.options['qos'] === 0 ? 0 : 1;
}

export const templateAdapter: BridgeAdapter = {
  name: 'template',
  check(target) {
    const problems: { option: string; message: string }[] = [];
    const known = new Set(['topic_template', 'payload_template', 'retain', 'qos']);
    for (const fn of target.functions) {
      known.add(`${fn}_topic_template`);
      known.add(`${fn}_payload_template`);
      for (const mode of HEATING_AND_SWITCH_MODES) known.add(`${fn}_value_${mode}`);
    }
    for (const option of Object.keys(target.options)) {
      if (!known.has(option)) problems.push({ option, message: 'unknown template option' });
    }
    const qos = target.options['qos'];
    if (qos !== undefined && qos !== 0 && qos !== 1)
      problems.push({ option: 'qos', message: 'qos must be 0 or 1' });
    const retain = target.options['retain'];
    if (retain !== undefined && typeof retain !== 'boolean') {
      problems.push({ option: 'retain', message: 'retain must be true or false' });
    }
    for (const fn of target.functions) {
      for (const kind of ['topic', 'payload'] as const) {
        const template = templateOf(target, fn, kind);
        const option =
          stringOption(target.options, `${fn}_${kind}_template`) !== undefined
            ? `${fn}_${kind}_template`
            : `${kind}_template`;
        if (template === undefined) {
          problems.push({ option, message: `give ${kind}_template or ${fn}_${kind}_template` });
          continue;
        }
        for (const [, name] of template.matchAll(PLACEHOLDER)) {
          if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name!)) {
            problems.push({
              option,
              message: `unknown placeholder {${name}}; known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
            });
          }
        }
        if (kind === 'topic') {
          const sample = renderTemplate(template, valuesFor(target, fn, { mode: 'off', rev: 1 }));
          if (sample.length === 0 || /[+#]/.test(sample) || sample.includes(NUL) || sample.startsWith('$')) {
            problems.push({
              option,
              message: `the topic "${sample}" must be non-empty, without wildcards (+, #) and not start with $`,
            });
          }
        }
      }
    }
    return problems;
  },
  commands(target, fn, desired) {
    const topicTemplate = templateOf(target, fn, 'topic');
    const payloadTemplate = templateOf(target, fn, 'payload');
    if (topicTemplate === undefined || payloadTemplate === undefined) return [];
    const values = valuesFor(target, fn, desired);
    return [
      {
        topic: renderTemplate(topicTemplate, values),
        payload: renderTemplate(payloadTemplate, values),
        retain: target.options['retain'] === true,
        qos: qosOf(target),
      },
    ];
  },
  announcements: () => [],
  birthTopics: () => [],
  bridgeAcl(target) {
    const publish = new Set<string>();
    for (const fn of target.functions) {
      const template = templateOf(target, fn, 'topic');
      // Each placeholder level may take any value: allow it as a single-level wildcard.
      if (template !== undefined)
        publish.add(
          template
            .split('/')
            .map((level) => (HAS_PLACEHOLDER.test(level) ? '+' : level))
            .join('/'),
        );
    }
    return { publish: [...publish], subscribe: [] };
  },
  gatewayAcl: () => NO_ACL,
};
