/**
 * BridgePublisher fencing (issue 8): with `mayPublish`, the messages of a school this instance
 * does not hold never go out, neither on apply() nor in the reconnect republication, and are
 * counted in `stats().fenced`; the other schools' messages go out as usual. Real aedes broker,
 * real MqttConnection, observed by an independent raw subscriber.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ZoneTarget } from '../../src/bridge/adapters/adapter.js';
import { bridgeExtraAcl } from '../../src/bridge/adapters/index.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import {
  barrier,
  type CollectedMessage,
  type Collector,
  collectMessages,
  waitFor,
} from '../helpers/mqtt-contract.js';
import { type BrokerTarget, embeddedTarget, OTHER_UAI, UAI } from './dispatch-fixtures.js';

const VERSION = '0.1.0-test';

const HEATING: DesiredPayload<'heating'> = {
  rev: 4,
  mode: 'comfort',
  setpoint_c: 19,
  valid_until: '2026-03-02T16:30:00.000Z',
  reason: { rule: 'defaults.heating.occupied', kind: 'occupied' },
  issued_at: '2026-03-02T06:00:00.000Z',
};
const LIGHTING: DesiredPayload<'lighting'> = {
  rev: 2,
  mode: 'on',
  valid_until: '2026-03-02T16:40:00.000Z',
  reason: { rule: 'defaults.lighting.on', kind: 'occupied' },
  issued_at: '2026-03-02T06:50:00.000Z',
};

/** One zigbee2mqtt zone per school: each desired also sends a command, fenced the same way. */
function targetOf(uai: string): ZoneTarget {
  return {
    uai,
    zone: 'salle-b101',
    name: 'Salle B101',
    gateway: 'gw-1',
    adapter: 'zigbee2mqtt',
    functions: ['heating', 'lighting'],
    options: { heating_device: `radiateur-${uai}`, lighting_device: `relais-${uai}` },
  };
}

const sortByTopic = (messages: CollectedMessage[]) =>
  [...messages].sort((a, b) => a.topic.localeCompare(b.topic));

describe('BridgePublisher with mayPublish (embedded broker)', () => {
  let target: BrokerTarget | undefined;
  let connection: MqttConnection | undefined;
  let publisher: BridgePublisher | undefined;
  let observer: Collector | undefined;

  afterEach(async () => {
    await observer?.close();
    await publisher?.stop();
    await connection?.stop();
    await target?.close();
  });

  it('never sends a school it does not hold, on apply or on reconnect, and counts what it held back', async () => {
    const targets = [targetOf(UAI), targetOf(OTHER_UAI)];
    target = await embeddedTarget({ publish: bridgeExtraAcl(targets).publish, subscribe: ['#'] });
    const topics = new MqttTopics(target.prefix);
    connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      reconnect: { initialDelayMs: 50, maxDelayMs: 100, jitter: 0 },
    });
    // Only OTHER_UAI is held at first.
    const held = new Set([OTHER_UAI]);
    const asked: string[] = [];
    publisher = new BridgePublisher({
      connection,
      topics,
      version: VERSION,
      targets,
      mayPublish: (uai) => {
        asked.push(uai);
        return held.has(uai);
      },
    });
    await publisher.start();
    await connection.start();
    await waitFor(() => publisher!.stats().republications >= 1, { what: 'the first republication' });
    observer = await collectMessages(target.url, target.observer, '#');

    const messagesOf = (uai: string): CollectedMessage[] => [
      { topic: topics.desired(uai, 'salle-b101', 'heating').topic, payload: HEATING, retain: false, qos: 1 },
      {
        topic: topics.desired(uai, 'salle-b101', 'lighting').topic,
        payload: LIGHTING,
        retain: false,
        qos: 1,
      },
      {
        topic: `zigbee2mqtt/radiateur-${uai}/set`,
        payload: { pilot_wire_mode: 'comfort' },
        retain: false,
        qos: 1,
      },
      { topic: `zigbee2mqtt/relais-${uai}/set`, payload: { state: 'ON' }, retain: false, qos: 1 },
    ];
    // Barrier: a marker published after the fact reaches the observer after anything sent before.
    const settled = () =>
      barrier(
        target!.url,
        target!.bridge,
        observer!,
        `${target!.prefix}/${OTHER_UAI}/barrier/heating/desired`,
      );
    const received = () => sortByTopic(observer!.messages.filter((m) => !m.topic.endsWith('/bridge/status')));

    const tally = await publisher.apply(
      [UAI, OTHER_UAI].flatMap((uai) => [
        { uai, zone: 'salle-b101', function: 'heating' as const, desired: HEATING },
        { uai, zone: 'salle-b101', function: 'lighting' as const, desired: LIGHTING },
      ]),
    );
    expect(tally).toEqual({ sent: 4, dropped: 0, interrupted: 0 });
    await observer.waitForCount(4);
    await settled();
    expect(received()).toEqual(sortByTopic(messagesOf(OTHER_UAI)));
    expect(publisher.stats().fenced).toBe(4);
    // Asked when each message got its slot: once per message.
    expect(asked.filter((uai) => uai === UAI)).toHaveLength(4);
    // Held back, not forgotten: the state is kept for when the lease comes back.
    expect(publisher.current(UAI, 'salle-b101', 'heating')).toEqual({ desired: HEATING });

    // The reconnect republication skips it too.
    observer.messages.length = 0;
    connection.mqttClient?.stream.destroy();
    await waitFor(() => publisher!.stats().republications >= 2, { what: 'the reconnect republication' });
    await observer.waitForCount(4);
    await settled();
    expect(received()).toEqual(sortByTopic(messagesOf(OTHER_UAI)));
    expect(publisher.stats()).toMatchObject({ fenced: 8, lastRepublishMessages: 4 });

    // Held again: the next republication sends both schools, nothing more is fenced.
    held.add(UAI);
    observer.messages.length = 0;
    connection.mqttClient?.stream.destroy();
    await waitFor(() => publisher!.stats().republications >= 3, { what: 'a third republication' });
    await observer.waitForCount(8);
    await settled();
    expect(received()).toEqual(sortByTopic([...messagesOf(UAI), ...messagesOf(OTHER_UAI)]));
    expect(publisher.stats()).toMatchObject({ fenced: 8, lastRepublishMessages: 8 });

    // Lost again between apply() and the slot: a change of the fenced school sends nothing.
    held.delete(UAI);
    observer.messages.length = 0;
    const lost = await publisher.apply([
      { uai: UAI, zone: 'salle-b101', function: 'heating', desired: { ...HEATING, rev: 5 } },
    ]);
    expect(lost).toEqual({ sent: 0, dropped: 0, interrupted: 0 });
    await settled();
    expect(received()).toEqual([]);
    expect(publisher.stats().fenced).toBe(10);
  });
});
