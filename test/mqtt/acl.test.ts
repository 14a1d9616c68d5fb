import { describe, expect, it } from 'vitest';
import { MqttTopics } from '../../src/contract/topics.js';
import { type MqttIdentity, TopicAcl } from '../../src/mqtt/acl.js';

const acl = new TopicAcl(new MqttTopics('p/v1'));
const bridge: MqttIdentity = { role: 'bridge', username: 'bridge' };
const gateway: MqttIdentity = { role: 'gateway', username: 'gw-a', uai: '0670080Y', gateway: 'gw-1' };
const zigbee: MqttIdentity = {
  role: 'gateway',
  username: 'z2m',
  uai: '0670080Y',
  gateway: 'z2m',
  publish: ['zigbee2mqtt/+'],
  subscribe: ['zigbee2mqtt/+/set'],
};

describe('TopicAcl.canPublish', () => {
  it.each([
    [bridge, 'p/v1/bridge/status', true],
    [bridge, 'p/v1/0670080Y/salle-101/heating/desired', true],
    [bridge, 'p/v1/0750654D/salle-101/lighting/schedule', true],
    [bridge, 'p/v1/0670080Y/salle-101/heating/reported', false],
    [bridge, 'p/v1/0670080Y/gateway/gw-1/status', false],
    [bridge, 'zigbee2mqtt/radiateur/set', false],
    [gateway, 'p/v1/0670080Y/salle-101/heating/reported', true],
    [gateway, 'p/v1/0670080Y/gateway/gw-1/status', true],
    [gateway, 'p/v1/0670080Y/gateway/gw-2/status', false],
    [gateway, 'p/v1/0750654D/salle-101/heating/reported', false],
    [gateway, 'p/v1/0670080Y/salle-101/heating/desired', false],
    [gateway, 'p/v1/0670080Y/salle-101/heating/schedule', false],
    [gateway, 'p/v1/bridge/status', false],
    [gateway, 'p/v1/0670080Y/salle-101/cooling/reported', false],
    [gateway, '$SYS/broker/clients', false],
    [gateway, 'p/v1/0670080Y/+/heating/reported', false],
    [zigbee, 'zigbee2mqtt/radiateur', true],
    [zigbee, 'zigbee2mqtt/radiateur/set', false],
  ] as const)('%o publishes %s: %s', (identity, topic, expected) => {
    expect(acl.canPublish(identity, topic)).toBe(expected);
  });
});

describe('TopicAcl.canSubscribe', () => {
  it.each([
    [gateway, 'p/v1/0670080Y/+/+/desired', true],
    [gateway, 'p/v1/0670080Y/+/+/schedule', true],
    [gateway, 'p/v1/0670080Y/salle-101/heating/desired', true],
    [gateway, 'p/v1/0670080Y/+/heating/desired', true],
    [gateway, 'p/v1/0750654D/+/+/desired', false],
    [gateway, 'p/v1/+/+/+/desired', false],
    [gateway, 'p/v1/0670080Y/#', false],
    [gateway, 'p/v1/0670080Y/+/+/+', false],
    [gateway, 'p/v1/0670080Y/+/+/reported', false],
    [gateway, 'p/v1/bridge/status', false],
    [gateway, '#', false],
    [gateway, 'p/v1/0670080Y/+/+/desired/#', false],
    [bridge, 'p/v1/+/+/+/reported', true],
    [bridge, 'p/v1/+/gateway/+/status', true],
    [bridge, 'p/v1/#', true],
    [bridge, '#', false],
    [bridge, '$SYS/#', false],
    [bridge, 'zigbee2mqtt/#', false],
    [zigbee, 'zigbee2mqtt/+/set', true],
    [zigbee, 'zigbee2mqtt/#', false],
    [gateway, 'p/v1/0670080Y/#/x', false],
  ] as const)('%o subscribes %s: %s', (identity, filter, expected) => {
    expect(acl.canSubscribe(identity, filter)).toBe(expected);
  });
});
