/**
 * Who may publish and subscribe to what on the embedded broker (docs/mqtt.md, MQTT contract v1):
 * the grants of acl-matrix.ts, checked per message and subscription. Pure: the broker asks, this
 * answers.
 */

import type { MqttTopics } from '../contract/topics.js';
import { filterCovers, isValidFilter, isValidTopicName, topicMatchesFilter } from '../domain/mqtt-filters.js';
import { type AccessGrant, accessGrant, type MqttIdentity } from './acl-matrix.js';

export type { ExtraAcl, MqttIdentity } from './acl-matrix.js';

export class TopicAcl {
  // Identities are the broker's credential-table objects: one grant each, not one per message.
  private readonly grants = new WeakMap<MqttIdentity, AccessGrant>();

  constructor(private readonly topics: MqttTopics) {}

  /** The grant of `identity` (acl-matrix.ts), the one source every broker is provisioned from. */
  grant(identity: MqttIdentity): AccessGrant {
    let grant = this.grants.get(identity);
    if (!grant) {
      grant = accessGrant(this.topics, identity);
      this.grants.set(identity, grant);
    }
    return grant;
  }

  /**
   * Whether `identity` may publish on `topic` (also asked for its Last Will). Beyond the grant's
   * filters, a contract topic must parse (valid UAI, zone id, function): this broker can check
   * ids, which a pattern-matching broker (Mosquitto, EMQX) cannot.
   */
  canPublish(identity: MqttIdentity, topic: string): boolean {
    if (!isValidTopicName(topic)) return false;
    const grant = this.grant(identity);
    if (grant.publishExtra.some((filter) => topicMatchesFilter(filter, topic))) return true;
    if (!grant.publish.some((filter) => topicMatchesFilter(filter, topic))) return false;
    if (grant.publishDenied.some((filter) => topicMatchesFilter(filter, topic))) return false;
    return this.topics.parse(topic) !== null;
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
    return [...this.grant(identity).subscribe];
  }
}
