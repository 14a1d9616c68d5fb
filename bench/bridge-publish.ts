/**
 * Time to publish the full desired state of a region — 350 lycées × 40 zones × 3 functions =
 * 42,000 zone functions, i.e. 84,000 retained QoS 1 messages (`desired` + `schedule`) — through
 * the bridge's own path (Dispatcher → BridgePublisher → MqttConnection, window 16), on the
 * embedded aedes broker and on private Mosquitto brokers started on ephemeral ports (never the
 * shared one): one with Mosquitto's DEFAULT limits, one tuned as docker-compose.yml. A wildcard
 * subscriber (mosquitto_sub, its own process) counts every message. Pacings: the default rate cap,
 * the window alone, the adaptive window (src/bridge/adaptive-window.ts) and the echo guard
 * (src/bridge/echo-guard.ts). Goal: under 5 s without loss
 * (issues 6 and 18).
 *
 * Run alone: `npx tsx bench/bridge-publish.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { hashSecret } from '../src/auth/secrets.js';
import { Dispatcher } from '../src/bridge/dispatcher.js';
import { MutablePlanFeed } from '../src/bridge/plan-feed.js';
import { BridgePublisher, type PublisherStats } from '../src/bridge/publisher.js';
import type { SchoolPlan } from '../src/bridge/school-plan.js';
import { MqttTopics } from '../src/contract/topics.js';
import { ManualClock } from '../src/domain/clock.js';
import { uaiCheckLetter } from '../src/domain/uai.js';
import { startEmbeddedBroker } from '../src/mqtt/broker.js';
import { MqttConnection } from '../src/mqtt/connection.js';
import type { Segment } from '../src/rules/segment.js';
import { openStore } from '../src/store/store.js';

export const REGION = { schools: 350, zones: 40 } as const;
const HOUR = 3_600_000;

/** `count` valid UAIs (seven digits + check letter). */
export function regionUais(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const digits = String(690_000 + i).padStart(7, '0');
    return `${digits}${uaiCheckLetter(digits)}`;
  });
}

/** A region's plans: every zone has heating, lighting and ventilation, changing at now + 2 h. */
export function regionPlans(
  now: number,
  schools: number = REGION.schools,
  zones: number = REGION.zones,
): SchoolPlan[] {
  const reason = (kind: Segment['reason']['kind']) => ({ kind, rule: `defaults.${kind}`, basis: 'bench' });
  const two = (
    fn: Segment['function'],
    before: Segment['mode'],
    after: Segment['mode'],
    setpoints?: [number, number],
  ): Segment[] => [
    {
      from: now - HOUR,
      to: now + 2 * HOUR,
      function: fn,
      mode: before,
      ...(setpoints ? { setpoint_c: setpoints[0] } : {}),
      reason: reason('short-gap'),
    },
    {
      from: now + 2 * HOUR,
      to: now + 12 * HOUR,
      function: fn,
      mode: after,
      ...(setpoints ? { setpoint_c: setpoints[1] } : {}),
      reason: reason('occupied'),
    },
  ];
  return regionUais(schools).map((uai) => ({
    uai,
    horizon: { from: now - HOUR, to: now + 12 * HOUR },
    rulesVersion: 'bench',
    timetableVersion: 1,
    fallback: false,
    zones: Array.from({ length: zones }, (_, z) => ({
      zone: `z${String(z + 1).padStart(2, '0')}`,
      name: `Zone ${z + 1}`,
      functions: {
        heating: two('heating', 'eco', 'comfort', [16, 19]),
        lighting: two('lighting', 'off', 'on'),
        ventilation: two('ventilation', 'off', 'on'),
      },
    })),
    hash: `${uai}-bench`,
  }));
}

interface Counter {
  count(): number;
  distinct(): number;
  topics(): string[];
  waitFor(expected: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A wildcard subscriber counting messages on `filter`, in ITS OWN PROCESS (`mosquitto_sub`, QoS 1)
 * like a real consumer: in this process it would share the event loop with the publisher under
 * test and slow both. Falls back to an in-process mqtt.js client when mosquitto_sub is missing.
 */
export async function countingSubscriber(
  url: string,
  credentials: { username?: string; password?: string },
  filter: string,
): Promise<Counter> {
  const topics = new Set<string>();
  let count = 0;
  const waitFor = async (expected: number, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (count < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  const parsed = new URL(url);
  const sub = spawnSync('mosquitto_sub', ['--help']).error === undefined;
  if (sub && parsed.protocol === 'mqtt:') {
    const args = [
      '-h',
      parsed.hostname,
      '-p',
      parsed.port || '1883',
      '-q',
      '1',
      '-V',
      'mqttv311',
      '-t',
      filter,
      '-F',
      '%t',
    ];
    if (credentials.username !== undefined) args.push('-u', credentials.username);
    if (credentials.password !== undefined) args.push('-P', credentials.password);
    // Its output goes to a file, never a pipe: a pipe this busy process drains late would block
    // mosquitto_sub, which would stop reading its socket and overflow the broker's queue.
    const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-counter-'));
    const file = path.join(dir, 'topics.txt');
    const out = openSync(file, 'w');
    const child = spawn('mosquitto_sub', args, { stdio: ['ignore', out, 'inherit'] });
    closeSync(out);
    const refresh = (): void => {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.pop();
      count = lines.length;
      topics.clear();
      for (const line of lines) topics.add(line);
    };
    // mosquitto_sub prints nothing once subscribed: give it time to connect and subscribe.
    await new Promise((r) => setTimeout(r, 500));
    return {
      count: () => {
        refresh();
        return count;
      },
      distinct: () => {
        refresh();
        return topics.size;
      },
      topics: () => {
        refresh();
        return [...topics];
      },
      async waitFor(expected, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        let last = -1;
        // Done when the expected count arrived, or nothing came for 2 s (a loss would never arrive).
        let quietSince = Date.now();
        for (;;) {
          refresh();
          if (count >= expected || Date.now() > deadline) return;
          if (count !== last) {
            last = count;
            quietSince = Date.now();
          } else if (Date.now() - quietSince > 2_000) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      close: async () => {
        child.kill();
        await new Promise((r) => child.once('exit', r));
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const client = await mqtt.connectAsync(url, {
    ...credentials,
    clientId: `bench-counter-${randomBytes(4).toString('hex')}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  client.on('message', (topic) => {
    count += 1;
    topics.add(topic);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    count: () => count,
    distinct: () => topics.size,
    topics: () => [...topics],
    waitFor,
    close: () => client.endAsync(true),
  };
}

export interface RegionRun {
  /** Messages the subscriber counted (desired + schedule). */
  counted: number;
  distinctTopics: number;
  /** Messages counted after the second republication (2 × expected when nothing is lost). */
  countedAfterSecond: number;
  expected: number;
  /** The connect-time republication, ms. */
  republishMs: number;
  /** A second, explicit republication, ms. */
  secondRepublishMs: number;
  /** Dispatcher start (42k evaluations, revs stored in SQLite), ms. */
  dispatcherStartMs: number;
  /** The publisher's adaptive window after the run (when `adaptive`). */
  adaptive?: PublisherStats['adaptive'];
  /** Empties the retained store of what the run left. */
  clear(): Promise<void>;
}

/** One full run against a broker; the caller starts and stops the broker. */
export async function runRegion(
  url: string,
  credentials: { username?: string; password?: string },
  options: {
    schools?: number;
    zones?: number;
    prefix?: string;
    maxMessagesPerSecond?: number;
    echoLimit?: number;
    /** Adaptive window (adaptive-window.ts) up to `window`. */
    adaptive?: boolean;
    window?: number;
  } = {},
): Promise<RegionRun> {
  const prefix = options.prefix ?? `bench-${randomBytes(4).toString('hex')}/v1`;
  const topics = new MqttTopics(prefix);
  const now = Date.parse('2026-03-02T07:00:00.000Z');
  const clock = new ManualClock(now);
  const feed = new MutablePlanFeed();
  const plans = regionPlans(now, options.schools, options.zones);
  for (const plan of plans) feed.set(plan);
  const expected = plans.reduce((n, p) => n + p.zones.length * 3 * 2, 0);

  const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-bench-'));
  const store = await openStore({ dataDir: dir });
  const connection = new MqttConnection({ url, ...credentials, prefix, version: 'bench', clock });
  const publisher = new BridgePublisher({
    connection,
    topics,
    version: 'bench',
    ...(options.maxMessagesPerSecond === undefined
      ? {}
      : { maxMessagesPerSecond: options.maxMessagesPerSecond }),
    ...(options.echoLimit === undefined ? {} : { echoLimit: options.echoLimit }),
    ...(options.adaptive ? { adaptive: true } : {}),
    ...(options.window === undefined ? {} : { window: options.window }),
  });
  // The dispatcher never needs its timer here: the first transition is 2 h away.
  const dispatcher = new Dispatcher({
    feed,
    publisher,
    repository: store.bridgeState,
    clock,
    scheduler: { setTimer: () => undefined, clearTimer: () => {} },
  });
  const counter = await countingSubscriber(url, credentials, `${prefix}/+/+/+/+`);
  try {
    await publisher.start();
    let started = performance.now();
    await dispatcher.start();
    const dispatcherStartMs = performance.now() - started;
    // Connecting runs the full republication (onConnect) before start() resolves.
    await connection.start();
    const republishMs = publisher.stats().lastRepublishMs ?? Number.NaN;
    await counter.waitFor(expected, 30_000);
    const counted = counter.count();
    const distinctTopics = counter.distinct();
    started = performance.now();
    await publisher.republishAll();
    const secondRepublishMs = performance.now() - started;
    await counter.waitFor(2 * expected, 30_000);
    // Every topic the run wrote, from the plans (not from the counter, which misses lost ones).
    const allTopics = plans.flatMap((plan) =>
      plan.zones.flatMap((zone) =>
        (['heating', 'lighting', 'ventilation'] as const).flatMap((fn) => [
          topics.desired(plan.uai, zone.zone, fn).topic,
          topics.schedule(plan.uai, zone.zone, fn).topic,
        ]),
      ),
    );
    allTopics.push(topics.bridgeStatus().topic);
    return {
      counted,
      distinctTopics,
      countedAfterSecond: counter.count(),
      expected,
      republishMs,
      secondRepublishMs,
      dispatcherStartMs,
      ...(options.adaptive ? { adaptive: publisher.stats().adaptive } : {}),
      clear: async () => {
        // A raw client: an MqttConnection would leave its own retained bridge status behind.
        const clearer = await mqtt.connectAsync(url, {
          ...credentials,
          protocolVersion: 4,
          clean: true,
          reconnectPeriod: 0,
        });
        // A sliding window, as the publisher does: lockstep batches would stall ~40 ms each on
        // Nagle + delayed ACK once the pipe empties.
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < allTopics.length) {
            await clearer.publishAsync(allTopics[next++]!, Buffer.alloc(0), { qos: 1, retain: true });
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        await clearer.endAsync();
      },
    };
  } finally {
    await counter.close();
    await dispatcher.stop();
    await publisher.stop();
    await connection.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchBridgePublish(report: (line: string) => void): Promise<void> {
  const bridge = { username: 'bench-bridge', password: randomBytes(12).toString('hex') };
  const describe = (name: string, run: RegionRun) =>
    `${name}: region ${REGION.schools} × ${REGION.zones} × 3 = ${run.expected} messages; connect-time republish ${(run.republishMs / 1000).toFixed(2)} s, again ${(run.secondRepublishMs / 1000).toFixed(2)} s; received ${run.counted}/${run.expected} (${run.distinctTopics} distinct topics), after the second ${run.countedAfterSecond}/${2 * run.expected}; dispatcher start ${(run.dispatcherStartMs / 1000).toFixed(2)} s`;
  // The default pacing (window 16, 10,000 msg/s), then the window alone (no rate cap).
  const aedes: RegionRun[] = [];
  for (const rate of [undefined, 0]) {
    // A fresh broker per run: its retained store starts empty.
    const prefix = `bench-${randomBytes(4).toString('hex')}/v1`;
    const broker = await startEmbeddedBroker({
      port: 0,
      prefix,
      bridgeCredentials: { username: bridge.username, passwordHash: hashSecret(bridge.password) },
      gateways: [],
    });
    try {
      const run = await runRegion(broker.url, bridge, {
        prefix,
        ...(rate === undefined ? {} : { maxMessagesPerSecond: rate }),
      });
      aedes.push(run);
      report(describe(`aedes (embedded), ${rate === undefined ? 'default pacing' : 'window only'}`, run));
    } finally {
      await broker.close();
    }
  }
  if (spawnSync('mosquitto', ['-h']).error !== undefined) {
    report('mosquitto: skipped (no mosquitto binary)');
    return;
  }
  // Private brokers on ephemeral ports (never the shared one): Mosquitto's DEFAULT limits
  // (max_inflight_messages 20, max_queued_messages 1000), then a tuned one as docker-compose.yml.
  const modes: {
    label: string;
    tuned: boolean;
    rate?: number;
    echoLimit?: number;
    adaptive?: boolean;
    window?: number;
  }[] = [
    { label: 'default pacing (10,000 msg/s)', tuned: false },
    { label: 'window only', tuned: false, rate: 0 },
    { label: 'adaptive window (1–16), no rate cap', tuned: false, rate: 0, adaptive: true },
    {
      label: 'tuned broker, adaptive window (1–256), no rate cap',
      tuned: true,
      rate: 0,
      adaptive: true,
      window: 256,
    },
    { label: `echo guard ${ECHO_LIMIT}, no rate cap`, tuned: false, rate: 0, echoLimit: ECHO_LIMIT },
    {
      label: `tuned broker, echo guard ${ECHO_LIMIT}, no rate cap`,
      tuned: true,
      rate: 0,
      echoLimit: ECHO_LIMIT,
    },
    { label: 'tuned broker, window only', tuned: true, rate: 0 },
  ];
  for (const mode of modes) {
    const broker = await privateMosquitto(mode.tuned);
    try {
      const run = await runRegion(
        broker.url,
        {},
        {
          ...(mode.rate === undefined ? {} : { maxMessagesPerSecond: mode.rate }),
          ...(mode.echoLimit === undefined ? {} : { echoLimit: mode.echoLimit }),
          ...(mode.adaptive ? { adaptive: true } : {}),
          ...(mode.window === undefined ? {} : { window: mode.window }),
        },
      );
      report(
        `${describe(`mosquitto (private, ${mode.tuned ? 'tuned' : 'default limits'}), ${mode.label}`, run)}; lost ${run.expected - run.counted}; under 5 s without loss: ${run.republishMs < 5_000 && run.counted === run.expected ? 'yes' : 'no'}${run.adaptive ? `; adaptive window at the end ${run.adaptive.window}, base PUBACK round trip ${run.adaptive.baseRttMs?.toFixed(2)} ms` : ''}`,
      );
    } finally {
      await broker.stop();
    }
  }
}

/** Messages not yet received back that the echo guard allows: half of Mosquitto's default queue. */
const ECHO_LIMIT = 500;

export async function privateMosquitto(tuned: boolean): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-bench-mqtt-'));
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n${tuned ? 'max_inflight_messages 0\nmax_queued_messages 100000\n' : ''}`,
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('private mosquitto did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchBridgePublish((line) => console.log(`- ${line}`));
}
