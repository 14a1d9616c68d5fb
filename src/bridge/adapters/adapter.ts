/**
 * How a zone's desired state reaches devices that do not speak the contract (docs/mqtt.md,
 * "Access control", Adapters). The native contract messages (`desired`, `schedule`) are
 * ALWAYS published: gateways, the dashboard and the tracker rely on them; an adapter only adds
 * its own messages.
 *
 * Two kinds of additions:
 * - commands: derived from one zone function's current `desired` (zigbee2mqtt `/set`, template
 *   topics). Never retained (a retained command replays stale intent, homieiot/convention#150),
 *   so they are sent on every change AND again on every (re)connect.
 * - announcements: retained descriptions published on every connect and when the consumer asks
 *   for them again (Home Assistant discovery, re-sent on `homeassistant/status` = online).
 */

import type { DesiredPayload, MqttTopics, QoS } from '../../contract/topics.js';
import type { AdapterName, ZoneFunction } from '../../devices/schema.js';
import type { ExtraAcl } from '../../mqtt/acl.js';

export type AdapterOptions = Readonly<Record<string, string | number | boolean>>;

/** One zone as adapters see it: where it is, what drives it, and its `adapter_options`. */
export interface ZoneTarget {
  uai: string;
  zone: string;
  /** The zone's name for people (devices/). */
  name: string;
  /** The school's name for people (devices/ `school.name`). */
  school?: string;
  gateway: string;
  adapter: AdapterName;
  functions: readonly ZoneFunction[];
  options: AdapterOptions;
  /** The zone's `device_models`: a config/device-profiles.yaml model per function (zigbee2mqtt). */
  models?: Readonly<Partial<Record<ZoneFunction, string>>>;
}

export interface AdapterMessage {
  topic: string;
  payload: string | Record<string, unknown>;
  retain: boolean;
  qos: QoS;
}

export interface AdapterContext {
  topics: MqttTopics;
  /** The service version (Home Assistant's `origin.sw_version`). */
  version: string;
  /** Where people reach the service (`http.public_url`): links to the dashboard page of a school. */
  publicUrl?: string;
}

/** A consumer's "I am back" message after which announcements are re-sent. */
export interface BirthTopic {
  topic: string;
  payload: string;
}

export interface BridgeAdapter {
  readonly name: AdapterName;
  /**
   * Checks a zone's `adapter_options` when devices/ is loaded; returns problems (message, option
   * key) rather than failing later at publish time.
   */
  check(target: ZoneTarget): { option: string; message: string }[];
  /** Messages carrying `desired` of one function of the zone to its devices. */
  commands(
    target: ZoneTarget,
    fn: ZoneFunction,
    desired: DesiredPayload,
    context: AdapterContext,
  ): AdapterMessage[];
  /** Retained descriptions of the zone (discovery), published on every connect. */
  announcements(target: ZoneTarget, context: AdapterContext): AdapterMessage[];
  /** Topics whose `payload` asks for the announcements again. */
  birthTopics(target: ZoneTarget): BirthTopic[];
  /** What the bridge must be allowed to publish and subscribe to for this zone (broker ACL). */
  bridgeAcl(target: ZoneTarget): Required<ExtraAcl>;
  /** What the zone's gateway needs beyond the contract's topics (broker ACL). */
  gatewayAcl(target: ZoneTarget, context: AdapterContext): Required<ExtraAcl>;
}

/** The options a zone gives, typed; `undefined` when absent. */
export function stringOption(options: AdapterOptions, key: string): string | undefined {
  const value = options[key];
  return value === undefined ? undefined : String(value);
}

export const NO_ACL: Required<ExtraAcl> = { publish: [], subscribe: [] };
