import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { gatewayRoutes } from '../../src/bridge/gateway-routes.js';
import { GatewayTracker } from '../../src/bridge/gateway-tracker.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { MqttTopics } from '../../src/mqtt/topics.js';
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

  async function startTracker(store = stores.store) {
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
    expect(tracker.stats()).toEqual({ received: 3, invalid: 1, stored: 3 });

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
});
