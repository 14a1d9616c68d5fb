/**
 * The contract's access matrix as data (docs/mqtt.md, "Who may do what"): for each identity, the
 * topic filters it may publish to and subscribe under. One description for every broker: the
 * embedded broker asks `TopicAcl` (acl.ts), which reads these grants; Mosquitto's dynamic
 * security roles and the EMQX ACL rows (src/broker-access/) are written from the same grants.
 * Pure: no I/O.
 */

import { GATEWAY_LEVEL, METER_LEVEL, type MqttTopics, OUTDOOR_LEVEL } from '../contract/topics.js';
import { ZONE_FUNCTIONS } from '../devices/schema.js';

/** Extra topics for non-native adapters (zigbee2mqtt `/set`, Home Assistant discovery…). */
export interface ExtraAcl {
  /** Filters whose topics this client may also publish to. */
  publish?: readonly string[];
  /** Filters that bound what this client may also subscribe to. */
  subscribe?: readonly string[];
}

export type MqttIdentity =
  | ({ role: 'bridge'; username: string } & ExtraAcl)
  | ({ role: 'gateway'; username: string; uai: string; gateway: string } & ExtraAcl);

export interface AccessGrant {
  /** Contract topics (filters) the identity may publish to. */
  readonly publish: readonly string[];
  /**
   * Filters matched by `publish` that are still refused: the reserved `gateway` level, where a
   * `+` for the zone would otherwise let a zone topic pose as a gateway's. They win over `publish`.
   */
  readonly publishDenied: readonly string[];
  /** Adapter topics outside the contract the identity may publish to. */
  readonly publishExtra: readonly string[];
  /** Filters bounding what the identity may subscribe to (contract and adapter topics). */
  readonly subscribe: readonly string[];
}

/**
 * What `identity` may do. A gateway: read its school's `desired` and `schedule`, write its
 * school's `reported`, its school's meter and outdoor readings (issue 16) and its own `status`
 * (also its Last Will). The bridge: write `desired`,
 * `schedule` and `bridge/status` for every school, read the whole namespace.
 */
export function accessGrant(topics: MqttTopics, identity: MqttIdentity): AccessGrant {
  const p = topics.prefix;
  const extra = {
    publishExtra: [...(identity.publish ?? [])],
    subscribe: [...(identity.subscribe ?? [])],
  };
  if (identity.role === 'bridge') {
    return {
      publish: [
        `${p}/bridge/status`,
        ...ZONE_FUNCTIONS.flatMap((fn) => [`${p}/+/+/${fn}/desired`, `${p}/+/+/${fn}/schedule`]),
      ],
      publishDenied: [`${p}/+/${GATEWAY_LEVEL}/+/desired`, `${p}/+/${GATEWAY_LEVEL}/+/schedule`],
      publishExtra: extra.publishExtra,
      // The bridge owns the namespace: it reads `reported` and every status, and may check what
      // is retained on its own topics.
      subscribe: [`${p}/#`, ...extra.subscribe],
    };
  }
  return {
    publish: [
      ...ZONE_FUNCTIONS.map((fn) => `${p}/${identity.uai}/+/${fn}/reported`),
      topics.gatewayStatus(identity.uai, identity.gateway).topic,
      `${p}/${identity.uai}/${METER_LEVEL}/+/reported`,
      `${p}/${identity.uai}/${OUTDOOR_LEVEL}/reported`,
    ],
    publishDenied: [`${p}/${identity.uai}/${GATEWAY_LEVEL}/+/reported`],
    publishExtra: extra.publishExtra,
    subscribe: [
      topics.schoolFilter(identity.uai, 'desired'),
      topics.schoolFilter(identity.uai, 'schedule'),
      ...extra.subscribe,
    ],
  };
}
