/**
 * Clean removal (issue 20): a zone or function dropped from devices/ leaves no retained `desired`
 * or `schedule` behind — after a reload (the plan loses it) and after a restart (the store still
 * has it from before) — on aedes and on the external broker. Proven with a real wildcard
 * subscriber, each "nothing of the removed zone arrives" ending on a later message that did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/bridge/dispatcher.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import type { Store } from '../../src/store/store.js';
import { clearRetained, collectMessages } from '../helpers/mqtt-contract.js';
import {
  type BrokerTarget,
  embeddedTarget,
  external,
  mondayZone,
  mosquittoTarget,
  schoolPlan,
  temporaryStore,
  UAI,
} from './dispatch-fixtures.js';
import { ManualScheduler } from './manual-scheduler.js';

const VERSION = '0.1.0-test';
const KEPT = 'b-est';
const REMOVED = 'old-b-est';
const FUNCTIONS = ['heating', 'lighting'] as const;

describe('clean removal on the embedded aedes broker', () => removalContract(() => embeddedTarget()));
describe.skipIf(!('url' in external))('clean removal on the external broker (MQTT_URL)', () =>
  removalContract(mosquittoTarget),
);

function removalContract(makeTarget: () => Promise<BrokerTarget>): void {
  let target: BrokerTarget;
  let stores: Awaited<ReturnType<typeof temporaryStore>>;
  let topics: MqttTopics;
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (target) {
      const zoneTopics = [KEPT, REMOVED].flatMap((zone) =>
        FUNCTIONS.flatMap((fn) => [
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

  async function startBridge(store: Store, feed: MutablePlanFeed, clock: ManualClock) {
    const scheduler = new ManualScheduler(clock);
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
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop();
      await publisher.stop();
      await connection.stop();
    };
    cleanups.push(stop);
    return { dispatcher, scheduler, stop };
  }

  const removedTopics = () =>
    FUNCTIONS.flatMap((fn) => [
      topics.desired(UAI, REMOVED, fn).topic,
      topics.schedule(UAI, REMOVED, fn).topic,
    ]);

  /** A fresh wildcard subscriber: what the broker still retains for the school, up to a later live message. */
  async function retainedAfterRemoval(dispatcher: Dispatcher, scheduler: ManualScheduler) {
    const fresh = await collectMessages(target.url, target.observer, `${target.prefix}/#`);
    cleanups.push(() => fresh.close());
    // The kept zone's retained messages prove delivery works; then its 16:30Z transition, a live
    // message sent after the subscription, bounds the wait for anything of the removed zone.
    await fresh.waitForMessage((m) => m.topic === topics.desired(UAI, KEPT, 'heating').topic && m.retain);
    await scheduler.advanceTo('2026-03-02T16:30:00.000Z', dispatcher);
    const live = await fresh.waitForMessage(
      (m) =>
        m.topic === topics.desired(UAI, KEPT, 'heating').topic &&
        (m.payload as { mode?: string } | null)?.mode === 'eco',
    );
    expect(live.retain).toBe(false);
    return fresh.messages;
  }

  it('a zone dropped from the plan (devices/ reload) has its retained desired and schedule emptied', async () => {
    target = await makeTarget();
    stores = await temporaryStore();
    topics = new MqttTopics(target.prefix);
    const clock = new ManualClock(Date.parse('2026-03-02T07:00:00.000Z'));
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [mondayZone(), mondayZone('old-')]));
    const { dispatcher, scheduler } = await startBridge(stores.store, feed, clock);

    const watcher = await collectMessages(target.url, target.observer, `${target.prefix}/#`);
    cleanups.push(() => watcher.close());
    await watcher.waitForMessage((m) => m.topic === topics.desired(UAI, REMOVED, 'lighting').topic);
    expect((await stores.store.bridgeState.loadDesired(UAI)).map((r) => r.zone).sort()).toEqual([
      KEPT,
      KEPT,
      REMOVED,
      REMOVED,
    ]);

    feed.set(schoolPlan(UAI, [mondayZone()]));
    await dispatcher.idle();
    // The live subscriber sees each retained topic of the removed zone emptied (a null payload).
    for (const topic of removedTopics())
      await watcher.waitForMessage((m) => m.topic === topic && m.payload === null);

    const messages = await retainedAfterRemoval(dispatcher, scheduler);
    expect(messages.filter((m) => m.topic.includes(`/${REMOVED}/`))).toEqual([]);
    expect(
      messages
        .filter((m) => m.retain && m.topic.includes(`/${UAI}/`))
        .map((m) => m.topic)
        .sort(),
    ).toEqual(
      FUNCTIONS.flatMap((fn) => [
        topics.desired(UAI, KEPT, fn).topic,
        topics.schedule(UAI, KEPT, fn).topic,
      ]).sort(),
    );
    // Forgotten by the store: not re-published, not cleared again.
    expect((await stores.store.bridgeState.loadDesired(UAI)).map((r) => r.zone)).toEqual([KEPT, KEPT]);
  });

  it('a zone the store still holds from before a restart is emptied at start', async () => {
    target = await makeTarget();
    stores = await temporaryStore();
    topics = new MqttTopics(target.prefix);
    const clock = new ManualClock(Date.parse('2026-03-02T07:00:00.000Z'));
    const before = new MutablePlanFeed();
    before.set(schoolPlan(UAI, [mondayZone(), mondayZone('old-')]));
    const first = await startBridge(stores.store, before, clock);
    const watcher = await collectMessages(target.url, target.observer, `${target.prefix}/#`);
    cleanups.push(() => watcher.close());
    await watcher.waitForMessage((m) => m.topic === topics.schedule(UAI, REMOVED, 'lighting').topic);
    await first.stop();

    // Edited while stopped: the new devices/ no longer has the zone.
    const after = new MutablePlanFeed();
    after.set(schoolPlan(UAI, [mondayZone()]));
    const { dispatcher, scheduler } = await startBridge(stores.store, after, clock);
    for (const topic of removedTopics())
      await watcher.waitForMessage((m) => m.topic === topic && m.payload === null);

    const messages = await retainedAfterRemoval(dispatcher, scheduler);
    // Nothing retained and no setpoint for it; the store's rows go once a clear was acknowledged
    // while connected (the evaluation at 16:30Z repeated it live, as empty payloads).
    expect(
      messages.filter((m) => m.topic.includes(`/${REMOVED}/`) && (m.retain || m.payload !== null)),
    ).toEqual([]);
    expect((await stores.store.bridgeState.loadDesired(UAI)).map((r) => r.zone)).toEqual([KEPT, KEPT]);
  });
}
