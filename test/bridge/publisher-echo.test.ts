/**
 * BridgePublisher with the echo guard (issue 18): it subscribes to its own desired/schedule
 * topics, sends every message once, in order, with at most `echoLimit` not yet received back, and
 * never waits on the guard when the messages come back. Real aedes broker, real MqttConnection,
 * observed by an independent raw subscriber.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { type DesiredPayload, MqttTopics } from '../../src/contract/topics.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { barrier, type Collector, collectMessages, waitFor } from '../helpers/mqtt-contract.js';
import { type BrokerTarget, embeddedTarget, UAI } from './dispatch-fixtures.js';

const HEATING: DesiredPayload<'heating'> = {
  rev: 4,
  mode: 'comfort',
  setpoint_c: 19,
  valid_until: '2026-03-02T16:30:00.000Z',
  reason: { rule: 'defaults.heating.occupied', kind: 'occupied' },
  issued_at: '2026-03-02T06:00:00.000Z',
};

describe('BridgePublisher with the echo guard (embedded broker)', () => {
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

  it('sends 60 desired messages with at most 4 not yet echoed, each once, retained, in order', async () => {
    target = await embeddedTarget({ publish: [], subscribe: ['#'] });
    const topics = new MqttTopics(target.prefix);
    connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: '0.1.0-test',
    });
    publisher = new BridgePublisher({ connection, topics, version: '0.1.0-test', echoLimit: 4 });
    await publisher.start();
    await connection.start();
    await waitFor(() => publisher!.stats().republications >= 1, { what: 'the first republication' });
    observer = await collectMessages(target.url, target.observer, `${target.prefix}/+/+/+/desired`);

    const zones = Array.from({ length: 60 }, (_, i) => `salle-${String(i + 1).padStart(3, '0')}`);
    const tally = await publisher.apply(
      zones.map((zone) => ({ uai: UAI, zone, function: 'heating' as const, desired: HEATING })),
    );
    expect(tally).toEqual({ sent: 60, dropped: 0, interrupted: 0 });
    const received = await barrier(
      target.url,
      target.bridge,
      observer,
      `${target.prefix}/${UAI}/barrier/heating/desired`,
    );
    expect(received.map((m) => m.topic)).toEqual(
      zones.map((zone) => topics.desired(UAI, zone, 'heating').topic),
    );
    expect(received.every((m) => m.qos === 1 && m.retain === false)).toBe(true);
    expect(received.map((m) => m.payload)).toEqual(zones.map(() => HEATING));
    // The guard held the publisher back (the window alone allows 16) and never had to give up.
    expect(publisher.stats().echo).toEqual({ maxInFlight: 4, stalls: 0, disabled: false });
  });
});
