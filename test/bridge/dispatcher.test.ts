import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/bridge/dispatcher.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import type { Store } from '../../src/store/store.js';
import {
  barrier,
  type CollectedMessage,
  clearRetained,
  collectMessages,
  expectRetained,
  waitFor,
} from '../helpers/mqtt-contract.js';
import {
  type BrokerTarget,
  embeddedTarget,
  external,
  mondayZone,
  mosquittoTarget,
  schoolPlan,
  temporaryStore,
  timeline,
  UAI,
} from './dispatch-fixtures.js';
import { ManualScheduler } from './manual-scheduler.js';

const VERSION = '0.1.0-test';

interface Bridge {
  connection: MqttConnection;
  publisher: BridgePublisher;
  dispatcher: Dispatcher;
  stop(): Promise<void>;
}

describe('Dispatcher against the embedded aedes broker', () =>
  dispatcherContract(() => embeddedTarget(), true));
describe.skipIf(!('url' in external))('Dispatcher against the external broker (MQTT_URL)', () =>
  dispatcherContract(mosquittoTarget, false),
);

/** `restartable`: only the embedded broker can be restarted by a test. */
function dispatcherContract(makeTarget: () => Promise<BrokerTarget>, restartable: boolean): void {
  let target: BrokerTarget;
  let stores: Awaited<ReturnType<typeof temporaryStore>>;
  const bridges: Bridge[] = [];
  const collectors: { close(): Promise<void> }[] = [];
  let topics: MqttTopics;

  async function setUp(): Promise<void> {
    target = await makeTarget();
    stores = await temporaryStore();
    topics = new MqttTopics(target.prefix);
  }

  afterEach(async () => {
    for (const bridge of bridges.splice(0)) await bridge.stop();
    for (const collector of collectors.splice(0)) await collector.close();
    if (target) {
      const zoneTopics = ['b-est'].flatMap((zone) =>
        (['heating', 'lighting'] as const).flatMap((fn) => [
          topics.desired(UAI, zone, fn).topic,
          topics.schedule(UAI, zone, fn).topic,
        ]),
      );
      await clearRetained(target.url, target.observer, [...zoneTopics, topics.bridgeStatus().topic]).catch(
        () => {},
      );
      await target.close();
    }
    await stores?.cleanup();
  });

  async function startBridge(
    store: Store,
    feed: MutablePlanFeed,
    clock: ManualClock,
    scheduler: ManualScheduler,
  ): Promise<Bridge> {
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      clock,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 },
    });
    const publisher = new BridgePublisher({ connection, topics, version: VERSION });
    const dispatcher = new Dispatcher({ feed, publisher, repository: store.bridgeState, clock, scheduler });
    await publisher.start();
    await dispatcher.start();
    await connection.start();
    const bridge: Bridge = {
      connection,
      publisher,
      dispatcher,
      async stop() {
        await dispatcher.stop();
        await publisher.stop();
        await connection.stop();
      },
    };
    bridges.push(bridge);
    return bridge;
  }

  async function collect(filter: string) {
    const collector = await collectMessages(target.url, target.observer, filter);
    collectors.push(collector);
    return collector;
  }

  const desiredOf = (messages: CollectedMessage[], fn: string) =>
    messages
      .filter((m) => m.topic.endsWith(`/${fn}/desired`) && m.payload !== null)
      .map((m) => m.payload as { rev: number; mode: string; issued_at: string; valid_until: string });

  it('a gateway subscribing late gets the current desired state and schedule, retained', async () => {
    await setUp();
    const clock = new ManualClock(Date.parse('2026-03-02T07:00:00.000Z'));
    const feed = new MutablePlanFeed();
    const plan = schoolPlan(UAI, [mondayZone()]);
    feed.set(plan);
    await startBridge(stores.store, feed, clock, new ManualScheduler(clock));
    // What the gateway receives names the plan it came from (issue 21).
    const trace = { plan_hash: plan.hash, timetable_version: 1, rules_version: 'test' };

    const gatewayCredentials = target.name === 'aedes' ? target.gateway : target.observer;
    await expectRetained(target.url, gatewayCredentials, topics.desired(UAI, 'b-est', 'heating').topic, {
      rev: 1,
      mode: 'comfort',
      setpoint_c: 19,
      valid_until: '2026-03-02T16:30:00.000Z',
      reason: { rule: 'defaults.heating.comfort', basis: 'test basis', kind: 'occupied' },
      issued_at: '2026-03-02T07:00:00.000Z',
      trace,
    });
    await expectRetained(target.url, gatewayCredentials, topics.desired(UAI, 'b-est', 'lighting').topic, {
      rev: 1,
      mode: 'on',
      valid_until: '2026-03-02T16:40:00.000Z',
      reason: { rule: 'defaults.lighting.on', basis: 'test basis', kind: 'occupied' },
      issued_at: '2026-03-02T07:00:00.000Z',
      trace,
    });
    await expectRetained(target.url, gatewayCredentials, topics.schedule(UAI, 'b-est', 'heating').topic, {
      issued_at: '2026-03-02T07:00:00.000Z',
      valid_until: '2026-03-04T07:00:00.000Z',
      entries: [
        { from: '2026-03-02T06:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
        { from: '2026-03-02T16:30:00.000Z', mode: 'eco', setpoint_c: 16 },
        { from: '2026-03-03T06:00:00.000Z', mode: 'comfort', setpoint_c: 19 },
        { from: '2026-03-03T16:30:00.000Z', mode: 'eco', setpoint_c: 16 },
      ],
      fallback_mode: 'eco',
    });
  });

  it('fires transitions at their exact UTC instants across both 2026 DST nights', async () => {
    await setUp();
    // Spring: Friday 27 March 17:00 CET = 16:00Z; Monday 30 March 06:00 CEST = 04:00Z (after
    // the 29 March switch); 17:00 CEST = 15:00Z. Autumn: Friday 23 October 17:00 CEST = 15:00Z;
    // Monday 26 October 06:00 CET = 05:00Z (after the 25 October switch).
    const spring = timeline(
      'heating',
      [
        ['2026-03-27T06:00:00.000Z', 'comfort', 19],
        ['2026-03-27T16:00:00.000Z', 'frost', 8],
        ['2026-03-30T04:00:00.000Z', 'comfort', 19],
        ['2026-03-30T15:00:00.000Z', 'eco', 16],
      ],
      '2026-03-31T12:00:00.000Z',
    );
    const autumn = timeline(
      'heating',
      [
        ['2026-10-23T05:00:00.000Z', 'comfort', 19],
        ['2026-10-23T15:00:00.000Z', 'frost', 8],
        ['2026-10-26T05:00:00.000Z', 'comfort', 19],
        ['2026-10-26T16:00:00.000Z', 'eco', 16],
      ],
      '2026-10-27T12:00:00.000Z',
    );
    const clock = new ManualClock(Date.parse('2026-03-27T12:00:00.000Z'));
    const scheduler = new ManualScheduler(clock);
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: spring } }]));
    const collector = await collect(topics.desired(UAI, 'b-est', 'heating').topic);
    const { dispatcher } = await startBridge(stores.store, feed, clock, scheduler);

    await scheduler.advanceTo('2026-03-31T00:00:00.000Z', dispatcher);
    await collector.waitForCount(4);
    expect(
      desiredOf(collector.messages, 'heating').map((p) => [p.rev, p.mode, p.issued_at, p.valid_until]),
    ).toEqual([
      [1, 'comfort', '2026-03-27T12:00:00.000Z', '2026-03-27T16:00:00.000Z'],
      [2, 'frost', '2026-03-27T16:00:00.000Z', '2026-03-30T04:00:00.000Z'],
      [3, 'comfort', '2026-03-30T04:00:00.000Z', '2026-03-30T15:00:00.000Z'],
      [4, 'eco', '2026-03-30T15:00:00.000Z', '2026-03-31T12:00:00.000Z'],
    ]);
    // One timer at a time, never longer than the 1 h cap.
    expect(Math.max(...scheduler.delays)).toBeLessThanOrEqual(3_600_000);
    expect(scheduler.pending()).toHaveLength(1);

    // The plan is replaced by the autumn one while running (a plan change), then autumn passes.
    clock.set('2026-10-23T12:00:00.000Z');
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: autumn } }]));
    await dispatcher.idle();
    await scheduler.advanceTo('2026-10-27T00:00:00.000Z', dispatcher);
    await collector.waitForCount(8);
    expect(
      desiredOf(collector.messages, 'heating')
        .slice(4)
        .map((p) => [p.rev, p.mode, p.issued_at]),
    ).toEqual([
      [5, 'comfort', '2026-10-23T12:00:00.000Z'],
      [6, 'frost', '2026-10-23T15:00:00.000Z'],
      [7, 'comfort', '2026-10-26T05:00:00.000Z'],
      [8, 'eco', '2026-10-26T16:00:00.000Z'],
    ]);
  });

  it('after a restart publishes only the state holding now, and rev never goes back', async () => {
    await setUp();
    const clock = new ManualClock(Date.parse('2026-03-02T07:00:00.000Z'));
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [mondayZone()]));
    const scheduler = new ManualScheduler(clock);
    const first = await startBridge(stores.store, feed, clock, scheduler);
    await scheduler.advanceTo('2026-03-02T17:00:00.000Z', first.dispatcher);
    await first.stop();
    bridges.splice(bridges.indexOf(first), 1);

    // Down from 17:00 Monday to 10:00 Tuesday: the 06:00Z comfort transition happened meanwhile.
    const live = await collect(`${target.prefix}/${UAI}/+/+/desired`);
    // Barrier: the retained states the fresh subscription gets arrive before a later marker.
    const markerTopic = `${target.prefix}/${UAI}/barrier/heating/desired`;
    await barrier(target.url, target.bridge, live, markerTopic);
    const before = live.messages.length;
    const laterClock = new ManualClock(Date.parse('2026-03-03T10:00:00.000Z'));
    const reopened = await stores.reopen();
    await startBridge(reopened, feed, laterClock, new ManualScheduler(laterClock));
    await live.waitForCount(before + 2);
    // Barrier: nothing beyond the two re-published states is on its way.
    await barrier(target.url, target.bridge, live, markerTopic);
    const after = live.messages.slice(before);
    expect(
      after
        .map((m) => [
          m.topic.split('/').slice(-2).join('/'),
          (m.payload as { rev: number }).rev,
          (m.payload as { mode: string }).mode,
          (m.payload as { issued_at: string }).issued_at,
        ])
        .sort(),
    ).toEqual([
      // heating: rev 1 comfort (start), 2 eco (16:30Z); now comfort again = 3, issued now.
      ['heating/desired', 3, 'comfort', '2026-03-03T10:00:00.000Z'],
      // lighting: rev 1 on (start), 2 off (16:40Z); the plan says off until its end: same state,
      // same rev, re-published with its original issue instant.
      ['lighting/desired', 2, 'off', '2026-03-02T16:40:00.000Z'],
    ]);
  });

  if (restartable)
    it('after the broker restarts, a fresh subscriber sees the re-published state', async () => {
      await setUp();
      const clock = new ManualClock(Date.parse('2026-03-02T07:00:00.000Z'));
      const feed = new MutablePlanFeed();
      const plan = schoolPlan(UAI, [mondayZone()]);
      feed.set(plan);
      const { publisher } = await startBridge(stores.store, feed, clock, new ManualScheduler(clock));
      await target.restart!();
      await waitFor(() => publisher.stats().republications >= 2, {
        timeoutMs: 10_000,
        what: 'a second republication',
      });
      await expectRetained(target.url, target.gateway, topics.desired(UAI, 'b-est', 'heating').topic, {
        rev: 1,
        mode: 'comfort',
        setpoint_c: 19,
        valid_until: '2026-03-02T16:30:00.000Z',
        reason: { rule: 'defaults.heating.comfort', basis: 'test basis', kind: 'occupied' },
        issued_at: '2026-03-02T07:00:00.000Z',
        trace: { plan_hash: plan.hash, timetable_version: 1, rules_version: 'test' },
      });
    });
}
