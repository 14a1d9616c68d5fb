import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/app/metrics.js';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { zigbee2mqttAdapter } from '../../src/bridge/adapters/zigbee2mqtt.js';
import { gatewayRoutes } from '../../src/bridge/gateway-routes.js';
import { GatewayTracker, type GatewayTrackerOptions, telling } from '../../src/bridge/gateway-tracker.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { makeClients } from '../helpers/clients.js';
import { connectRaw, waitFor } from '../helpers/mqtt-contract.js';
import { type BrokerTarget, embeddedTarget, OTHER_UAI, temporaryStore, UAI } from './dispatch-fixtures.js';

const NOW = Date.parse('2026-03-02T07:00:00.000Z');
const ZONES = [
  { uai: UAI, zone: 'b-est', gateway: 'gw-tilleuls', functions: ['heating', 'lighting'] as const },
];
/** The bridge issued heating rev 3 ten minutes ago and lighting rev 2 one minute ago. */
const LATEST: Record<string, { rev: number; issuedAt: number }> = {
  heating: { rev: 3, issuedAt: NOW - 10 * 60_000 },
  lighting: { rev: 2, issuedAt: NOW - 60_000 },
};

describe('GatewayTracker and GET /api/gateways (embedded broker)', () => {
  let target: BrokerTarget;
  let stores: Awaited<ReturnType<typeof temporaryStore>>;
  const stops: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await target?.close();
    await stores?.cleanup();
  });

  async function startTracker(store = stores.store, extra: Partial<GatewayTrackerOptions> = {}) {
    const topics = new MqttTopics(target.prefix);
    const clock = new ManualClock(NOW);
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: 'test',
      clock,
    });
    const tracker = new GatewayTracker({
      connection,
      topics,
      repository: store.bridgeState,
      latest: (uai, zone, fn) => (uai === UAI && zone === 'b-est' ? LATEST[fn] : undefined),
      zones: ZONES,
      clock,
      ...extra,
    });
    await tracker.start();
    await connection.start();
    stops.push(async () => {
      await tracker.stop();
      await connection.stop();
    });
    return { tracker, topics, clock };
  }

  it('stores valid reports and statuses, counts invalid ones, flags the lagging zone, serves them filtered', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const { tracker, topics } = await startTracker();

    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    await gateway.publishAsync(
      topics.gatewayStatus(UAI, 'gw-tilleuls').topic,
      JSON.stringify({ state: 'online' }),
      { qos: 1, retain: true },
    );
    await gateway.publishAsync(
      topics.reported(UAI, 'b-est', 'heating').topic,
      JSON.stringify({
        applied_rev: 2,
        mode: 'eco',
        setpoint_c: 16,
        measured_c: 18.6,
        source: 'bridge',
        ts: '2026-03-02T06:59:30Z',
      }),
      { qos: 1, retain: true },
    );
    // Invalid: `comfort` is not a lighting mode. Logged and counted, not stored, not fatal.
    await gateway.publishAsync(
      topics.reported(UAI, 'b-est', 'lighting').topic,
      JSON.stringify({ applied_rev: 2, mode: 'comfort', source: 'bridge', ts: '2026-03-02T06:59:30Z' }),
      { qos: 1, retain: true },
    );
    await waitFor(() => tracker.stats().received === 3, { what: 'three gateway messages' });
    await tracker.flushed();
    // Three writes: the status, the report, and the gateway's last-seen moved by the report.
    expect(tracker.stats()).toEqual({
      received: 3,
      invalid: 1,
      stored: 3,
      rejected: { 'undeclared-zone': 0, 'rate-limited': 0, 'too-large': 0 },
    });

    const expected = {
      gateways: [
        {
          uai: UAI,
          gateway: 'gw-tilleuls',
          state: 'online',
          last_seen: '2026-03-02T07:00:00.000Z',
          zones: [
            {
              zone: 'b-est',
              function: 'heating',
              latest_rev: 3,
              applied_rev: 2,
              mode: 'eco',
              setpoint_c: 16,
              measured_c: 18.6,
              source: 'bridge',
              reported_at: '2026-03-02T06:59:30Z',
              lagging: true,
            },
            {
              zone: 'b-est',
              function: 'lighting',
              latest_rev: 2,
              applied_rev: null,
              mode: null,
              setpoint_c: null,
              measured_c: null,
              source: null,
              reported_at: null,
              lagging: false,
            },
          ],
        },
      ],
    };

    const { authenticator, bearer } = makeClients([
      { id: 'manager-67', role: 'manager', uais: [UAI] },
      { id: 'manager-other', role: 'manager', uais: [OTHER_UAI] },
      { id: 'auditor', role: 'auditor', uais: [UAI] },
      { id: 'consumer', role: 'consumer', purpose: 'sobriete-energetique', uais: [UAI] },
    ]);
    const app = new Hono<AuthEnv>();
    app.use('*', requireAuth(authenticator));
    app.route('/', gatewayRoutes({ tracker }));
    const get = (id: string) => app.request('/api/gateways', { headers: bearer(id) });

    const manager = await get('manager-67');
    expect(manager.status).toBe(200);
    expect(await manager.json()).toEqual(expected);
    expect(await (await get('auditor')).json()).toEqual(expected);
    expect(await (await get('manager-other')).json()).toEqual({ gateways: [] });
    const consumer = await get('consumer');
    expect(consumer.status).toBe(403);
    expect(await consumer.json()).toEqual({
      errors: [
        {
          code: 'forbidden',
          message: 'role consumer may not use this endpoint (allowed: manager, auditor, admin)',
          where: 'Authorization header',
        },
      ],
    });
    expect((await app.request('/api/gateways')).status).toBe(401);

    // A restarted bridge (new tracker, same store, broker emptied) still knows what was reported.
    await target.restart!();
    for (const stop of stops.splice(0).reverse()) await stop();
    const reopened = await startTracker(await stores.reopen());
    expect(reopened.tracker.report()).toEqual(expected.gateways);
  });

  const report = (rev: number) =>
    JSON.stringify({
      applied_rev: rev,
      mode: 'eco',
      setpoint_c: 16,
      source: 'bridge',
      ts: '2026-03-02T06:59:30Z',
    });

  /** The counter's samples as /metrics serves them. */
  async function rejectedSamples(tracker: GatewayTracker): Promise<string[]> {
    const metrics = createMetrics();
    metrics.setSources({ reportedRejected: () => tracker.stats().rejected });
    const text = await metrics.registry.metrics();
    return text.split('\n').filter((line) => line.startsWith('scope_energie_reported_rejected_total{'));
  }

  it('drops reports for zones and functions devices/ does not declare: not stored, not audited, counted', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const acks: { zone: string; function: string; rev: number }[] = [];
    const { tracker, topics } = await startTracker(stores.store, {
      onAcknowledged: (ack) =>
        acks.push({ zone: ack.zone, function: ack.function, rev: ack.payload.applied_rev }),
    });
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));

    // 2,000 made-up zones of the gateway's own school (the broker's ACL lets it write any zone of
    // its school), plus a declared zone with a function it does not have.
    await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        gateway.publishAsync(topics.reported(UAI, `zone-inventee-${i}`, 'heating').topic, report(1), {
          qos: 1,
        }),
      ),
    );
    await gateway.publishAsync(topics.reported(UAI, 'b-est', 'ventilation').topic, report(1), { qos: 1 });
    // The declared one, last: once it is in, every earlier message has been through the tracker.
    await gateway.publishAsync(topics.reported(UAI, 'b-est', 'heating').topic, report(3), { qos: 1 });
    await waitFor(() => tracker.stats().received === 2_002, { what: '2,002 gateway messages' });
    await tracker.flushed();

    expect(tracker.stats().rejected).toEqual({ 'undeclared-zone': 2_001, 'rate-limited': 0, 'too-large': 0 });
    expect(tracker.stats().invalid).toBe(0);
    expect(acks).toEqual([{ zone: 'b-est', function: 'heating', rev: 3 }]);
    const rows = await stores.store.bridgeState.loadReported();
    expect(rows.map((r) => `${r.zone}/${r.function}/${r.payload.applied_rev}`)).toEqual(['b-est/heating/3']);
    expect(await rejectedSamples(tracker)).toEqual([
      'scope_energie_reported_rejected_total{reason="undeclared-zone"} 2001',
      'scope_energie_reported_rejected_total{reason="rate-limited"} 0',
      'scope_energie_reported_rejected_total{reason="too-large"} 0',
    ]);

    // A devices/ reload that declares a zone admits its reports from then on.
    tracker.updateZones([
      ...ZONES,
      { uai: UAI, zone: 'zone-inventee-7', gateway: 'gw-tilleuls', functions: ['heating'] },
    ]);
    await gateway.publishAsync(topics.reported(UAI, 'zone-inventee-7', 'heating').topic, report(2), {
      qos: 1,
    });
    await waitFor(() => acks.length === 2, { what: 'the newly declared zone acknowledged' });
    expect(acks[1]).toEqual({ zone: 'zone-inventee-7', function: 'heating', rev: 2 });
  });

  it('drops the live reports of a gateway over reported_max_per_minute (token bucket on the injected clock)', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const acks: number[] = [];
    const { tracker, topics, clock } = await startTracker(stores.store, {
      reportedMaxPerMinute: 5,
      onAcknowledged: (ack) => acks.push(ack.payload.applied_rev),
    });
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    const topic = topics.reported(UAI, 'b-est', 'heating').topic;
    const publish = async (revs: number[]) => {
      const before = tracker.stats().received;
      for (const rev of revs) await gateway.publishAsync(topic, report(rev), { qos: 1 });
      await waitFor(() => tracker.stats().received === before + revs.length, {
        what: `revs ${revs.join(', ')}`,
      });
      await tracker.flushed();
    };

    // A burst of 8 within the same instant: the bucket holds a minute's allowance, 5.
    await publish([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(acks).toEqual([1, 2, 3, 4, 5]);
    const stored = async () =>
      (await stores.store.bridgeState.loadReported()).map((r) => r.payload.applied_rev);
    expect(await stored()).toEqual([5]);
    // 12 s later one token is back (5 per 60 s): one more report, not two.
    clock.advance(12_000);
    await publish([9, 10]);
    expect(acks).toEqual([1, 2, 3, 4, 5, 9]);
    expect(await stored()).toEqual([9]);
    expect(tracker.stats().rejected).toEqual({ 'undeclared-zone': 0, 'rate-limited': 4, 'too-large': 0 });
    expect(await rejectedSamples(tracker)).toContain(
      'scope_energie_reported_rejected_total{reason="rate-limited"} 4',
    );
  });

  it('never parses a gateway payload over 4 KiB', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const acks: number[] = [];
    const { tracker, topics } = await startTracker(stores.store, {
      onAcknowledged: (ack) => acks.push(ack.payload.applied_rev),
    });
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    const topic = topics.reported(UAI, 'b-est', 'heating').topic;
    const padded = JSON.stringify({ ...JSON.parse(report(7)), padding: 'x'.repeat(5_000) });
    await gateway.publishAsync(topic, padded, { qos: 1 });
    await gateway.publishAsync(topic, report(8), { qos: 1 });
    await waitFor(() => tracker.stats().received === 2, { what: 'two reports' });
    expect(acks).toEqual([8]);
    expect(tracker.stats().rejected['too-large']).toBe(1);
  });

  it('keeps a school’s report between reads, and builds it again when a message, a lag or a latest rev changes it', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const desired: Record<string, { rev: number; issuedAt: number }> = {
      heating: { rev: 3, issuedAt: NOW - 10 * 60_000 },
      lighting: { rev: 2, issuedAt: NOW - 60_000 },
    };
    const { tracker, topics, clock } = await startTracker(stores.store, {
      zones: [...ZONES, { uai: OTHER_UAI, zone: 'a', gateway: 'gw-a', functions: ['heating'] }],
      latest: (uai, zone, fn) => (uai === UAI && zone === 'b-est' ? desired[fn] : undefined),
    });
    const zone = (fn: string) => tracker.schoolReport(UAI)[0]?.zones.find((z) => z.function === fn);

    // Nothing received: the gateway never seen, heating lagging (rev 3 issued 10 min ago).
    const first = tracker.schoolReport(UAI);
    expect(first).toMatchObject([{ gateway: 'gw-tilleuls', state: 'unknown', last_seen: null }]);
    expect(zone('heating')).toMatchObject({ latest_rev: 3, applied_rev: null, lagging: true });
    // Read again with nothing changed: the very report kept.
    expect(tracker.schoolReport(UAI)).toBe(first);

    // A status and a report arrive over MQTT: the next read has them.
    const gateway = await connectRaw(target.url, target.gateway);
    stops.push(() => gateway.endAsync(true).then(() => undefined));
    await gateway.publishAsync(topics.gatewayStatus(UAI, 'gw-tilleuls').topic, '{"state":"online"}', {
      qos: 1,
    });
    await waitFor(() => tracker.schoolReport(UAI)[0]?.state === 'online', { what: 'the status' });
    await gateway.publishAsync(topics.reported(UAI, 'b-est', 'heating').topic, report(3), { qos: 1 });
    await waitFor(() => zone('heating')?.applied_rev === 3, { what: 'the report' });
    expect(zone('heating')).toMatchObject({ applied_rev: 3, mode: 'eco', lagging: false });
    expect(tracker.schoolReport(UAI)[0]).toMatchObject({
      state: 'online',
      last_seen: new Date(NOW).toISOString(),
    });

    // Lighting's rev 2 (issued a minute before the start) becomes lagging as the clock passes the
    // 5-minute delay, with no message: the kept report holds until the first millisecond past it.
    const kept = tracker.schoolReport(UAI);
    expect(zone('lighting')?.lagging).toBe(false);
    clock.advance(3 * 60_000);
    expect(tracker.schoolReport(UAI)).toBe(kept);
    clock.advance(60_000);
    expect(zone('lighting')?.lagging).toBe(false);
    clock.advance(1);
    expect(zone('lighting')?.lagging).toBe(true);

    // A new rev issued: kept until the dispatcher's publication tells the tracker.
    desired.heating = { rev: 4, issuedAt: clock.now() };
    expect(zone('heating')?.latest_rev).toBe(3);
    tracker.latestChanged(UAI);
    expect(zone('heating')).toMatchObject({ latest_rev: 4, applied_rev: 3, lagging: false });

    // The region's report is every school's, by UAI, the same objects.
    expect(tracker.report()).toEqual([...tracker.schoolReport(OTHER_UAI), ...tracker.schoolReport(UAI)]);
    expect(tracker.report((uai) => uai === UAI)[0]).toBe(tracker.schoolReport(UAI)[0]);
    expect(tracker.schoolReport('0000000A')).toEqual([]);
  });

  it('tells the tracker of each school whose latest revs the dispatcher publishes or forgets', async () => {
    const told: string[] = [];
    const calls: string[] = [];
    const publisher = telling(
      {
        apply: async (changes) => {
          calls.push(`apply ${changes.length}`);
          return { sent: changes.length, dropped: 0, interrupted: 0 };
        },
        forget: (uai, zone) => calls.push(`forget ${uai} ${zone ?? '*'}`),
        clear: async (uai) => {
          calls.push(`clear ${uai}`);
          return { sent: 2, dropped: 0, interrupted: 0 };
        },
      },
      (uai) => told.push(uai),
    );
    await publisher.apply([
      { uai: UAI, zone: 'a', function: 'heating' },
      { uai: UAI, zone: 'b', function: 'heating' },
      { uai: OTHER_UAI, zone: 'a', function: 'heating' },
    ]);
    publisher.forget(OTHER_UAI, 'a', 'heating');
    await publisher.clear?.(UAI, 'a', 'heating');
    expect(told).toEqual([UAI, OTHER_UAI, OTHER_UAI]);
    expect(calls).toEqual(['apply 3', `forget ${OTHER_UAI} a`, `clear ${UAI}`]);
  });

  it('lists the zones of a devices/ reload before their first report, and drops the ones that left', async () => {
    target = await embeddedTarget();
    stores = await temporaryStore();
    const { tracker } = await startTracker();
    const zonesOf = () =>
      tracker
        .report()
        .flatMap((g) => g.zones.map((z) => `${g.uai}/${g.gateway}/${z.zone}/${z.function}`))
        .sort();
    const before = zonesOf();
    expect(before.length).toBeGreaterThan(0);
    tracker.updateZones([{ uai: UAI, zone: 'nouvelle-aile', gateway: 'gw-2', functions: ['heating'] }]);
    expect(zonesOf()).toEqual([`${UAI}/gw-2/nouvelle-aile/heating`]);
  });

  it('reads zigbee2mqtt device state, availability and bridge/state as the zone report and gateway status', async () => {
    const options = {
      heating_device: 'vanne-b-est',
      lighting_device: 'relais-b-est',
      heating_property: 'system_mode',
      heating_value_comfort: 'heat',
      heating_value_eco: 'heat',
      heating_value_off: 'off',
      heating_setpoint_property: 'current_heating_setpoint',
    };
    const zone = { ...ZONES[0]!, adapter: 'zigbee2mqtt' as const, options };
    const adapterTarget = { ...zone, name: 'B est' };
    target = await embeddedTarget(
      zigbee2mqttAdapter.bridgeAcl(adapterTarget),
      zigbee2mqttAdapter.gatewayAcl(adapterTarget, { topics: new MqttTopics('unused/v1'), version: 'test' }),
    );
    stores = await temporaryStore();
    const acks: number[] = [];
    const desired: Record<string, { rev: number; issuedAt: number; mode: string; setpoint_c?: number }> = {
      heating: { rev: 3, issuedAt: NOW - 10 * 60_000, mode: 'eco', setpoint_c: 16 },
      lighting: { rev: 2, issuedAt: NOW - 10 * 60_000, mode: 'off' },
    };
    const { tracker } = await startTracker(stores.store, {
      zones: [zone],
      latest: (uai, z, fn) => (uai === UAI && z === 'b-est' ? desired[fn] : undefined),
      onAcknowledged: (ack) => acks.push(ack.payload.applied_rev),
    });
    const heating = () => tracker.report()[0]?.zones.find((z) => z.function === 'heating');
    const lighting = () => tracker.report()[0]?.zones.find((z) => z.function === 'lighting');

    // zigbee2mqtt on connect: Last Will and birth on bridge/state, then device messages.
    const z2m = await connectRaw(target.url, target.gateway, {
      will: {
        topic: 'zigbee2mqtt/bridge/state',
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    await z2m.subscribeAsync('zigbee2mqtt/#', { qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { qos: 1, retain: true });
    await waitFor(() => tracker.report()[0]?.state === 'online', { what: 'z2m bridge/state online' });

    await z2m.publishAsync(
      'zigbee2mqtt/vanne-b-est',
      JSON.stringify({
        system_mode: 'heat',
        current_heating_setpoint: 16,
        local_temperature: 18.5,
        battery: 87,
        linkquality: 120,
      }),
      { qos: 1, retain: false },
    );
    await z2m.publishAsync('zigbee2mqtt/relais-b-est', '{"state":"ON"}', { qos: 1 });
    await waitFor(() => lighting()?.mode === 'on', { what: 'the relay state' });
    // The valve matches rev 3 (eco at 16 °C): acknowledged; the relay is on while off was asked.
    expect(heating()).toEqual({
      zone: 'b-est',
      function: 'heating',
      latest_rev: 3,
      applied_rev: 3,
      mode: 'eco',
      setpoint_c: 16,
      measured_c: 18.5,
      source: 'bridge',
      reported_at: '2026-03-02T07:00:00.000Z',
      lagging: false,
    });
    expect(lighting()).toMatchObject({
      latest_rev: 2,
      applied_rev: 0,
      mode: 'on',
      source: 'local',
      lagging: true,
    });
    expect(acks).toEqual([3, 0]);

    // Someone turns the valve up at the device: still rev 3, but `manual`.
    await z2m.publishAsync(
      'zigbee2mqtt/vanne-b-est',
      JSON.stringify({ system_mode: 'heat', current_heating_setpoint: 22, local_temperature: 18.7 }),
      { qos: 1 },
    );
    await waitFor(() => heating()?.setpoint_c === 22, { what: 'the manual setpoint' });
    expect(heating()).toMatchObject({ applied_rev: 3, mode: 'eco', measured_c: 18.7, source: 'manual' });

    // Availability in both shapes; an oversized state is dropped before parsing.
    await z2m.publishAsync('zigbee2mqtt/vanne-b-est/availability', 'offline', { qos: 1, retain: true });
    await z2m.publishAsync('zigbee2mqtt/relais-b-est/availability', '{"state":"online"}', { qos: 1 });
    await z2m.publishAsync(
      'zigbee2mqtt/vanne-b-est',
      JSON.stringify({ system_mode: 'off', pad: 'x'.repeat(5_000) }),
      { qos: 1 },
    );
    await waitFor(() => lighting()?.available === 'online', { what: 'the relay availability' });
    expect(heating()).toMatchObject({ available: 'offline', setpoint_c: 22 });
    await waitFor(() => tracker.stats().rejected['too-large'] === 1, { what: 'the oversized state dropped' });

    // zigbee2mqtt dies: its Will marks the gateway offline.
    const closed = new Promise<void>((done) => z2m.once('close', () => done()));
    z2m.stream.destroy();
    await closed;
    await waitFor(() => tracker.report()[0]?.state === 'offline', { what: 'the z2m Last Will' });
    await tracker.flushed();
    const stored = await stores.store.bridgeState.loadReported();
    expect(stored.find((r) => r.function === 'heating')?.payload).toMatchObject({
      applied_rev: 3,
      setpoint_c: 22,
      source: 'manual',
    });
  });
});
