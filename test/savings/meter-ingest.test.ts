/**
 * Meter indexes and outdoor temperatures over MQTT (issue 16) through the embedded broker with
 * its ACL: the school's gateway publishes, the bridge stores once per instant, refuses the
 * invalid and the future, and the readings reach the store (real SQLite).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { MeterIngest } from '../../src/savings/meter-ingest.js';
import { type BrokerTarget, embeddedTarget, temporaryStore, UAI } from '../bridge/dispatch-fixtures.js';
import { connectRaw, waitFor } from '../helpers/mqtt-contract.js';

const NOW = Date.parse('2026-01-12T07:00:00.000Z');

describe('MeterIngest (embedded broker)', () => {
  let target: BrokerTarget | undefined;
  let stores: Awaited<ReturnType<typeof temporaryStore>> | undefined;
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await target?.close();
    await stores?.cleanup();
  });

  it('stores a gateway’s meter index and outdoor temperature once per instant, drops bad ones', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const store = stores.store;
    const topics = new MqttTopics(target.prefix);
    const clock = new ManualClock(NOW);
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: 'test',
      clock,
    });
    const ingest = new MeterIngest({
      connection,
      topics,
      repository: store.meters,
      knows: (uai) => uai === UAI,
      clock,
    });
    await ingest.start();
    await connection.start();
    stops.push(async () => {
      await ingest.stop();
      await connection.stop();
    });
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    const meter = topics.meterReported(UAI, 'gaz').topic;
    const outdoor = topics.outdoorReported(UAI).topic;
    const send = (topic: string, payload: unknown) =>
      gateway.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
        qos: 1,
      });

    await send(meter, { index_kwh: 73_100, ts: '2026-01-11T23:00:00Z' });
    await send(meter, { index_kwh: 73_100, ts: '2026-01-11T23:00:00Z' });
    await send(meter, { index_kwh: 73_340.5, ts: '2026-01-12T06:00:00Z' });
    await send(meter, { index_kwh: -3, ts: '2026-01-12T06:30:00Z' });
    await send(meter, '{not json');
    await send(meter, { index_kwh: 80_000, ts: '2026-01-12T08:00:00Z' }); // an hour ahead of the bridge
    // The last message: once it is stored, every earlier one has been handled (QoS 1, in order).
    await send(outdoor, { temperature_c: -2.5, ts: '2026-01-12T06:00:00Z' });
    await waitFor(
      async () => {
        await ingest.flushed();
        return ingest.stats().received === 7 && ingest.stats().stored === 3;
      },
      { what: 'the outdoor reading stored' },
    );

    expect(ingest.stats()).toEqual({
      received: 7,
      stored: 3,
      duplicates: 1,
      rejected: {
        'unknown-school': 0,
        'rate-limited': 0,
        'too-large': 0,
        invalid: 2,
        future: 1,
        conflict: 0,
      },
    });
    const readings = await store.meters.meterReadings(UAI, null, 0, NOW + 86_400_000);
    expect(
      readings.map((r) => [r.meter, new Date(r.ts).toISOString(), r.kind, r.valueKwh, r.source]),
    ).toEqual([
      ['gaz', '2026-01-11T23:00:00.000Z', 'index', 73_100, 'mqtt'],
      ['gaz', '2026-01-12T06:00:00.000Z', 'index', 73_340.5, 'mqtt'],
    ]);
    expect(await store.meters.outdoorReadings(UAI, 0, NOW)).toEqual([
      { ts: Date.parse('2026-01-12T06:00:00Z'), temperatureC: -2.5 },
    ]);
  });
});
