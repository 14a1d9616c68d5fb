/**
 * The reference gateway over a REAL broker (embedded aedes on an ephemeral port; the external one
 * at MQTT_URL when set). The bridge is played by a raw mqtt.js client with the bridge's
 * credentials, and every assertion is made by an independent subscriber with the bridge's
 * credentials (test/helpers/mqtt-contract.ts), never through the gateway's own state alone.
 * Time is a ManualClock and simulation steps are explicit `tick()` calls: no test sleeps.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import type { DesiredPayload, SchedulePayload } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { type SimulatedGateway, startSimulatedGateway } from '../../src/gateway/simulated-gateway.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import {
  type Collector,
  clearRetained,
  collectMessages,
  connectRaw,
  expectRetained,
  externalBroker,
  uniquePrefix,
} from '../helpers/mqtt-contract.js';

const UAI = '0670999X';
const BRIDGE = { username: 'bridge', password: 'bridge-secret' };
const GATEWAY = { username: 'gw-test', password: 'gw-test-secret' };
const T0 = Date.parse('2026-03-02T07:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

/** H = 100 W/K, τ = 10 h: the hand-computed room of thermal-model.test.ts (4 kW heater). */
const ZONES = [
  {
    id: 'salle-a',
    gateway: 'gw-test',
    functions: ['heating', 'lighting'] as const,
    loss_coefficient_w_per_k: 100,
    time_constant_h: 10,
  },
  // Driven by another gateway of the school: its messages must be left alone.
  { id: 'salle-b', gateway: 'gw-other', functions: ['heating'] as const },
].map((zone) => ({ ...zone, functions: [...zone.functions] }));

function desired(
  rev: number,
  mode: DesiredPayload['mode'],
  setpoint: number | undefined,
  from: number,
  to: number,
): DesiredPayload {
  return {
    rev,
    mode,
    ...(setpoint !== undefined ? { setpoint_c: setpoint } : {}),
    valid_until: iso(to),
    reason: { rule: 'R241-26' },
    issued_at: iso(from),
  };
}

async function publishRetained(client: MqttClient, topic: string, payload: unknown): Promise<void> {
  await client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: true });
}

interface ReportedMessage {
  applied_rev: number;
  mode: string;
  setpoint_c?: number;
  measured_c?: number;
  source: string;
  ts: string;
}

describe('simulated gateway over the embedded broker', () => {
  const clock = new ManualClock(T0);
  let broker: EmbeddedBroker;
  let port: number;
  let prefix: string;
  let bridge: MqttClient;
  let reports: Collector;
  let gateway: SimulatedGateway;
  const topic = (zone: string, fn: string, kind: string) => `${prefix}/${UAI}/${zone}/${fn}/${kind}`;
  const heatingReports = () =>
    reports.messages
      .filter((m) => m.topic === topic('salle-a', 'heating', 'reported'))
      .map((m) => m.payload as ReportedMessage);
  const credentials = () => ({
    bridgeCredentials: { username: BRIDGE.username, passwordHash: hashSecret(BRIDGE.password) },
    gateways: [
      {
        uai: UAI,
        gateway: 'gw-test',
        username: GATEWAY.username,
        passwordHash: hashSecret(GATEWAY.password),
      },
    ],
  });
  const startBroker = async (onPort: number) => {
    broker = await startEmbeddedBroker({ port: onPort, prefix, ...credentials() });
    port = broker.port;
  };
  const waitForReport = (check: (r: ReportedMessage) => boolean) =>
    reports.waitForMessage(
      (m) => m.topic === topic('salle-a', 'heating', 'reported') && check(m.payload as ReportedMessage),
    );

  beforeAll(async () => {
    prefix = uniquePrefix();
    await startBroker(0);
    bridge = await connectRaw(broker.url, BRIDGE);
  });

  afterAll(async () => {
    await gateway?.stop();
    await reports?.close();
    await bridge?.endAsync(true);
    await broker?.close();
  });

  it('late subscription: a gateway started after the bridge published gets the retained desired and acknowledges it', async () => {
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(7, 'comfort', 19, T0, T0 + 4 * HOUR),
    );
    await publishRetained(
      bridge,
      topic('salle-a', 'lighting', 'desired'),
      desired(3, 'on', undefined, T0, T0 + 4 * HOUR),
    );
    // Another gateway's zone: not in this gateway's reports.
    await publishRetained(
      bridge,
      topic('salle-b', 'heating', 'desired'),
      desired(2, 'comfort', 19, T0, T0 + 4 * HOUR),
    );
    reports = await collectMessages(broker.url, BRIDGE, `${prefix}/${UAI}/+/+/reported`);

    gateway = await startSimulatedGateway({
      url: broker.url,
      uai: UAI,
      gateway: 'gw-test',
      ...GATEWAY,
      zones: ZONES,
      prefix,
      clock,
      outdoorC: 0,
      initialC: 10,
      tickMs: 0,
      reconnectPeriodMs: 100,
    });

    const acknowledged = await waitForReport((r) => r.applied_rev === 7);
    expect(acknowledged.payload).toEqual({
      applied_rev: 7,
      mode: 'comfort',
      setpoint_c: 19,
      measured_c: 10,
      source: 'bridge',
      ts: '2026-03-02T07:00:00.000Z',
    });
    expect(acknowledged.retain).toBe(false); // a live subscriber sees it as a live publication
    const lighting = await reports.waitForMessage(
      (m) =>
        m.topic === topic('salle-a', 'lighting', 'reported') &&
        (m.payload as ReportedMessage).applied_rev === 3,
    );
    expect(lighting.payload).toEqual({
      applied_rev: 3,
      mode: 'on',
      source: 'bridge',
      ts: '2026-03-02T07:00:00.000Z',
    });
    await expectRetained(broker.url, BRIDGE, `${prefix}/${UAI}/gateway/gw-test/status`, { state: 'online' });
    await expectRetained(broker.url, BRIDGE, topic('salle-a', 'heating', 'reported'), acknowledged.payload);
    expect(reports.messages.some((m) => m.topic === topic('salle-b', 'heating', 'reported'))).toBe(false);
  });

  it('ignores an older rev and applies a newer one', async () => {
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(6, 'off', undefined, T0, T0 + 4 * HOUR),
    );
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(8, 'comfort', 18, T0, T0 + 4 * HOUR),
    );
    await waitForReport((r) => r.applied_rev === 8);
    // Messages on one connection arrive in order: rev 6 was handled (and ignored) before rev 8.
    expect(heatingReports().map((r) => [r.applied_rev, r.mode, r.setpoint_c])).toEqual([
      [7, 'comfort', 19],
      [8, 'comfort', 18],
    ]);
  });

  it('measures the room warming under comfort: 10 °C → 12.9 °C after 1 h at full power (4 kWh)', async () => {
    clock.advance(HOUR);
    await gateway.tick();
    const room = gateway.state().rooms.find((r) => r.zone === 'salle-a');
    // Still below the 18 °C setpoint, so full power: T_eq = 40 °C, T = 40 − 30·e^(−0.1) = 12.85488.
    expect(room?.temperatureC).toBeCloseTo(12.85488, 4);
    expect(room?.energyKWh).toBeCloseTo(4, 9);
    expect(gateway.state().rooms.map((r) => r.zone)).toEqual(['salle-a']);
  });

  it('after a broker restart reconnects, restores its retained report and applies what the bridge re-publishes', async () => {
    await reports.close();
    await bridge.endAsync(true);
    await broker.close();
    await startBroker(port);
    // Retained state died with the broker; the gateway re-publishes status and reports on reconnect
    // (seen live or retained, depending on who of the observer and the gateway connects first).
    const status = await collectMessages(broker.url, BRIDGE, `${prefix}/${UAI}/gateway/gw-test/status`);
    reports = await collectMessages(broker.url, BRIDGE, `${prefix}/${UAI}/+/+/reported`);
    await status.waitForMessage((m) => (m.payload as { state: string }).state === 'online');
    await status.close();
    const restored = await waitForReport((r) => r.applied_rev === 8);
    expect(restored.payload).toEqual({
      applied_rev: 8,
      mode: 'comfort',
      setpoint_c: 18,
      measured_c: 12.9,
      source: 'bridge',
      ts: '2026-03-02T08:00:00.000Z',
    });
    await expectRetained(broker.url, BRIDGE, `${prefix}/${UAI}/gateway/gw-test/status`, { state: 'online' });
    await expectRetained(broker.url, BRIDGE, topic('salle-a', 'heating', 'reported'), restored.payload);

    // The bridge reconnects and re-publishes its current state (same rev 8), then a new rev 9.
    bridge = await connectRaw(broker.url, BRIDGE);
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(8, 'comfort', 18, T0, T0 + 4 * HOUR),
    );
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(9, 'eco', 16, T0 + HOUR, T0 + 2 * HOUR),
    );
    const applied = await waitForReport((r) => r.applied_rev === 9);
    expect(applied.payload).toEqual({
      applied_rev: 9,
      mode: 'eco',
      setpoint_c: 16,
      measured_c: 12.9,
      source: 'bridge',
      ts: '2026-03-02T08:00:00.000Z',
    });
  });

  it('after a bridge restart that re-publishes a stale rev keeps the highest rev', async () => {
    await bridge.endAsync(true);
    bridge = await connectRaw(broker.url, BRIDGE);
    const before = heatingReports().length;
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(5, 'comfort', 19, T0, T0 + 4 * HOUR),
    );
    await publishRetained(
      bridge,
      topic('salle-a', 'heating', 'desired'),
      desired(9, 'eco', 16, T0 + HOUR, T0 + 2 * HOUR),
    );
    // A schedule is a fresh message the gateway must process after both desired documents.
    const schedule: SchedulePayload = {
      issued_at: iso(T0 + HOUR),
      valid_until: iso(T0 + 4 * HOUR),
      entries: [
        { from: iso(T0 + 2 * HOUR), mode: 'comfort', setpoint_c: 19 },
        { from: iso(T0 + 3 * HOUR), mode: 'eco', setpoint_c: 16 },
      ],
      fallback_mode: 'frost',
    };
    await publishRetained(bridge, topic('salle-a', 'heating', 'schedule'), schedule);
    // A last message that does produce a report: once it is acknowledged, everything before it
    // on this connection has been handled.
    await publishRetained(
      bridge,
      topic('salle-a', 'lighting', 'desired'),
      desired(4, 'off', undefined, T0 + HOUR, T0 + 2 * HOUR),
    );
    await reports.waitForMessage(
      (m) =>
        m.topic === topic('salle-a', 'lighting', 'reported') &&
        (m.payload as ReportedMessage).applied_rev === 4,
    );
    // Neither the stale rev 5, nor the duplicate rev 9, nor the schedule (same command now) produced a report.
    expect(heatingReports().slice(before)).toEqual([]);
    expect(
      gateway.state().zones.find((z) => z.zone === 'salle-a' && z.function === 'heating')?.command,
    ).toEqual({
      mode: 'eco',
      setpointC: 16,
      source: 'bridge',
      basis: 'desired',
      appliedRev: 9,
    });
  });

  it('with the bridge silent past valid_until follows the schedule, then the fallback, never comfort by itself', async () => {
    await bridge.endAsync(true);
    const seen: [string, string, number | undefined, string][] = [];
    for (const hours of [2.5, 3.5, 4.5, 30]) {
      clock.set(T0 + hours * HOUR);
      await gateway.tick();
      const report = await waitForReport((r) => r.ts === iso(T0 + hours * HOUR));
      const payload = report.payload as ReportedMessage;
      seen.push([payload.ts, payload.mode, payload.setpoint_c, payload.source]);
      expect(payload.applied_rev).toBe(9);
    }
    expect(seen).toEqual([
      ['2026-03-02T09:30:00.000Z', 'comfort', 19, 'bridge'], // schedule entry from 09:00 (the bridge's plan)
      ['2026-03-02T10:30:00.000Z', 'eco', 16, 'bridge'], // schedule entry from 10:00
      ['2026-03-02T11:30:00.000Z', 'frost', 8, 'local'], // schedule ran out at 11:00: fallback
      ['2026-03-03T13:00:00.000Z', 'frost', 8, 'local'], // and it stays there
    ]);
  });

  it('cools in fallback and reports the measured temperature in the periodic reports', async () => {
    const room = gateway.state().rooms.find((r) => r.zone === 'salle-a');
    // Frost at 8 °C with 0 °C outdoors: after a day and more without heat demand the room holds 8 °C.
    expect(room?.temperatureC).toBe(8);
    const last = heatingReports().at(-1);
    expect(last?.measured_c).toBe(8);
  });

  it('publishes offline on stop', async () => {
    await gateway.stop();
    await expectRetained(broker.url, BRIDGE, `${prefix}/${UAI}/gateway/gw-test/status`, { state: 'offline' });
  });
});

const external = externalBroker();

describe.skipIf('skipReason' in external)('simulated gateway over the external broker (MQTT_URL)', () => {
  const url = 'url' in external ? external.url : '';
  const prefix = uniquePrefix();
  const clock = new ManualClock(T0);
  const heating = `${prefix}/${UAI}/salle-a/heating`;
  afterAll(async () => {
    await clearRetained(url, BRIDGE, [
      `${heating}/desired`,
      `${heating}/reported`,
      `${prefix}/${UAI}/gateway/gw-test/status`,
    ]);
  });

  it('late subscription, older rev ignored, fallback after valid_until', async () => {
    const bridge = await connectRaw(url, BRIDGE);
    const reports = await collectMessages(url, BRIDGE, `${heating}/reported`);
    try {
      await publishRetained(bridge, `${heating}/desired`, desired(4, 'comfort', 19, T0, T0 + HOUR));
      const gateway = await startSimulatedGateway({
        url,
        uai: UAI,
        gateway: 'gw-test',
        ...GATEWAY,
        zones: [ZONES[0]!],
        prefix,
        clock,
        tickMs: 0,
      });
      try {
        await reports.waitForMessage((m) => (m.payload as ReportedMessage).applied_rev === 4);
        await publishRetained(bridge, `${heating}/desired`, desired(3, 'off', undefined, T0, T0 + HOUR));
        clock.set(T0 + 2 * HOUR);
        await gateway.tick();
        const fallback = await reports.waitForMessage(
          (m) => (m.payload as ReportedMessage).source === 'local',
        );
        expect(fallback.payload).toMatchObject({
          applied_rev: 4,
          mode: 'eco',
          setpoint_c: 16,
          ts: iso(T0 + 2 * HOUR),
        });
      } finally {
        await gateway.stop();
      }
    } finally {
      await reports.close();
      await bridge.endAsync(true);
    }
  });
});
