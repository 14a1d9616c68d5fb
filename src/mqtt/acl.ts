/**
 * Who may publish and subscribe to what on the embedded broker (design/interfaces.md, MQTT
 * contract v1, last bullet): a gateway reads only its own school's `desired`/`schedule` and writes
 * only its own `reported`/`status`; only the bridge writes `desired`, `schedule` and
 * `bridge/status`. Pure: the broker asks, this answers.
 */
import { filterCovers, isValidFilter, isValidTopicName, topicMatchesFilter } from './filters.js';
import type { MqttTopics } from './topics.js';

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

export class TopicAcl {
  constructor(private readonly topics: MqttTopics) {}

  /** Whether `identity` may publish on `topic` (also asked for its Last Will). */
  canPublish(identity: MqttIdentity, topic: string): boolean {
    if (!isValidTopicName(topic)) return false;
    if (identity.publish?.some((filter) => topicMatchesFilter(filter, topic))) return true;
    const parsed = this.topics.parse(topic);
    if (!parsed) return false;
    if (identity.role === 'bridge') {
      return parsed.kind === 'bridge-status' || parsed.kind === 'desired' || parsed.kind === 'schedule';
    }
    if (parsed.kind === 'reported') return parsed.uai === identity.uai;
    if (parsed.kind === 'gateway-status')
      return parsed.uai === identity.uai && parsed.gateway === identity.gateway;
    return false;
  }

  /**
   * Whether `identity` may subscribe to `filter`: only if every topic the filter can match is
   * allowed, i.e. one allowed filter covers it (`filterCovers`). `{prefix}/{uai}/#` is therefore
   * refused to a gateway, since it would also match other gateways' `reported` topics.
   */
  canSubscribe(identity: MqttIdentity, filter: string): boolean {
    if (!isValidFilter(filter)) return false;
    return this.subscribeScope(identity).some((allowed) => filterCovers(allowed, filter));
  }

  /** The filters bounding what `identity` may subscribe to. */
  subscribeScope(identity: MqttIdentity): string[] {
    const extra = identity.subscribe ?? [];
    if (identity.role === 'bridge') {
      // The bridge owns the namespace: it reads `reported` and every status, and may check what
      // is retained on its own topics.
      return [`${this.topics.prefix}/#`, ...extra];
    }
    return [
      this.topics.schoolFilter(identity.uai, 'desired'),
      this.topics.schoolFilter(identity.uai, 'schedule'),
      ...extra,
    ];
  }
}
