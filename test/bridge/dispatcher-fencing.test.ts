/**
 * Dispatcher fencing (issue 8): a school is dispatched only under its lease (`fenceOf`), a lost
 * lease drops the school without the 30 s retry-everything mode, and a school whose lease epoch
 * changed (another instance held it meanwhile) continues from the revs in the store. Real store
 * (SQLite), real leases in it, real publisher and connection to an embedded aedes broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/bridge/dispatcher.js';
import type { PlanFeed } from '../../src/bridge/plan-feed.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import type { SchoolPlan } from '../../src/bridge/school-plan.js';
import { desiredContentHash, desiredContentOf } from '../../src/contract/desired-state.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import type { MqttLogger } from '../../src/mqtt/logger.js';
import type { LeaseFence } from '../../src/store/lease-repository.js';
import { barrier, type Collector, collectMessages, waitFor } from '../helpers/mqtt-contract.js';
import {
  type BrokerTarget,
  embeddedTarget,
  mondayZone,
  OTHER_UAI,
  schoolPlan,
  segment,
  temporaryStore,
  UAI,
} from './dispatch-fixtures.js';
import { ManualScheduler } from './manual-scheduler.js';

const VERSION = '0.1.0-test';
const LONG_TTL = 600_000;

/** A plan feed whose `touch` says "re-evaluate this school" without changing its plan. */
class TouchFeed implements PlanFeed {
  private readonly byUai = new Map<string, SchoolPlan>();
  private readonly listeners = new Set<(uai: string) => void>();
  plans(): Iterable<SchoolPlan> {
    return this.byUai.values();
  }
  plan(uai: string): SchoolPlan | undefined {
    return this.byUai.get(uai);
  }
  subscribe(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(plan: SchoolPlan): void {
    this.byUai.set(plan.uai, plan);
  }
  touch(uai: string): void {
    for (const listener of this.listeners) listener(uai);
  }
}

const NOW = '2026-03-02T07:00:00.000Z';

interface LogLine {
  level: keyof MqttLogger;
  message: string;
}

describe('Dispatcher with fenceOf', () => {
  let target: BrokerTarget;
  let stores: Awaited<ReturnType<typeof temporaryStore>>;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await target?.close();
    await stores?.cleanup();
  });

  async function setUp(fences: Map<string, LeaseFence | null>) {
    target = await embeddedTarget({ subscribe: ['#'] });
    stores = await temporaryStore();
    const topics = new MqttTopics(target.prefix);
    const clock = new ManualClock(Date.parse(NOW));
    const scheduler = new ManualScheduler(clock);
    const feed = new TouchFeed();
    feed.set(schoolPlan(UAI, [mondayZone()]));
    feed.set(schoolPlan(OTHER_UAI, [mondayZone()]));
    const observer: Collector = await collectMessages(target.url, target.observer, `${target.prefix}/#`);
    closers.push(() => observer.close());
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      clock,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 },
    });
    const publisher = new BridgePublisher({ connection, topics, version: VERSION });
    const log: LogLine[] = [];
    const logger: MqttLogger = {
      debug: (_, message) => log.push({ level: 'debug', message }),
      info: (_, message) => log.push({ level: 'info', message }),
      warn: (_, message) => log.push({ level: 'warn', message }),
      error: (_, message) => log.push({ level: 'error', message }),
    };
    const dispatcher = new Dispatcher({
      feed,
      publisher,
      repository: stores.store.bridgeState,
      clock,
      scheduler,
      logger,
      fenceOf: (uai) => fences.get(uai) ?? null,
    });
    await publisher.start();
    await connection.start();
    await waitFor(() => publisher.stats().republications >= 1, { what: 'the first connect' });
    closers.push(async () => {
      await dispatcher.stop();
      await publisher.stop();
      await connection.stop();
    });
    const desiredOf = (uai: string, fn: 'heating' | 'lighting') =>
      observer.messages
        .filter((m) => m.topic === topics.desired(uai, 'b-est', fn).topic)
        .map((m) => {
          const p = m.payload as { rev: number; mode: string };
          return [p.rev, p.mode];
        });
    const stored = async (uai: string) =>
      (await stores.store.bridgeState.loadDesired(uai))
        .map((s) => [s.function, s.rev, s.content.mode])
        .sort();
    /**
     * Barrier: the dispatcher's queue has drained, then a marker published after that reaches the
     * observer, so every publish the evaluation made has arrived.
     */
    const settled = async () => {
      await dispatcher.idle();
      await barrier(target.url, target.bridge, observer, `${target.prefix}/${UAI}/barrier/heating/desired`);
    };
    return {
      settled,
      store: stores.store,
      topics,
      feed,
      publisher,
      dispatcher,
      scheduler,
      observer,
      log,
      desiredOf,
      stored,
    };
  }

  it('does not dispatch a school without a lease, and forgets one whose lease went', async () => {
    const fences = new Map<string, LeaseFence | null>();
    const ctx = await setUp(fences);
    const [other] = await ctx.store.leases.claim('me', [OTHER_UAI], LONG_TTL);
    fences.set(OTHER_UAI, { uai: OTHER_UAI, owner: 'me', epoch: other!.epoch });
    await ctx.dispatcher.start();
    await waitFor(
      () =>
        ctx.desiredOf(OTHER_UAI, 'heating').length === 1 && ctx.desiredOf(OTHER_UAI, 'lighting').length === 1,
    );
    await ctx.settled();
    expect(await ctx.stored(UAI)).toEqual([]);
    expect(await ctx.stored(OTHER_UAI)).toEqual([
      ['heating', 1, 'comfort'],
      ['lighting', 1, 'on'],
    ]);
    expect(ctx.observer.messages.filter((m) => m.topic.includes(`/${UAI}/`))).toEqual([]);
    expect(ctx.publisher.current(UAI, 'b-est', 'heating')).toBeUndefined();

    // Its lease comes: dispatched at the next evaluation.
    const [mine] = await ctx.store.leases.claim('me', [UAI], LONG_TTL);
    fences.set(UAI, { uai: UAI, owner: 'me', epoch: mine!.epoch });
    ctx.feed.touch(UAI);
    await ctx.dispatcher.idle();
    await waitFor(() => ctx.desiredOf(UAI, 'heating').length === 1);
    expect(ctx.publisher.current(UAI, 'b-est', 'heating')?.desired).toMatchObject({
      rev: 1,
      mode: 'comfort',
    });

    // Its lease goes: the publisher forgets it, nothing is recorded for it any more.
    fences.set(UAI, null);
    ctx.feed.touch(UAI);
    await ctx.dispatcher.idle();
    expect(ctx.publisher.current(UAI, 'b-est', 'heating')).toBeUndefined();
    expect(ctx.publisher.current(UAI, 'b-est', 'lighting')).toBeUndefined();
    expect(ctx.publisher.current(OTHER_UAI, 'b-est', 'heating')?.desired).toMatchObject({ rev: 1 });
    expect(await ctx.stored(UAI)).toEqual([
      ['heating', 1, 'comfort'],
      ['lighting', 1, 'on'],
    ]);
    // A timer wake-up does not bring it back either.
    await ctx.scheduler.advanceTo('2026-03-02T17:00:00.000Z', ctx.dispatcher);
    expect(await ctx.stored(UAI)).toEqual([
      ['heating', 1, 'comfort'],
      ['lighting', 1, 'on'],
    ]);
    expect(await ctx.stored(OTHER_UAI)).toEqual([
      ['heating', 2, 'eco'],
      ['lighting', 2, 'off'],
    ]);
  });

  it('drops a school whose lease was lost at write time, without retrying everything in 30 s', async () => {
    const fences = new Map<string, LeaseFence | null>();
    const ctx = await setUp(fences);
    // This instance believes it holds UAI at epoch 1; another took it meanwhile (epoch 2).
    await ctx.store.leases.claim('me', [UAI, OTHER_UAI], LONG_TTL);
    await ctx.store.leases.release('me', [UAI]);
    expect((await ctx.store.leases.claim('other', [UAI], LONG_TTL))[0]!.epoch).toBe(2);
    fences.set(UAI, { uai: UAI, owner: 'me', epoch: 1 });
    fences.set(OTHER_UAI, { uai: OTHER_UAI, owner: 'me', epoch: 1 });

    await ctx.dispatcher.start();
    await waitFor(() => ctx.desiredOf(OTHER_UAI, 'heating').length === 1);
    await ctx.settled();
    expect(await ctx.stored(UAI)).toEqual([]);
    expect(ctx.observer.messages.filter((m) => m.topic.includes(`/${UAI}/`))).toEqual([]);
    expect(ctx.publisher.current(UAI, 'b-est', 'heating')).toBeUndefined();
    expect(await ctx.stored(OTHER_UAI)).toEqual([
      ['heating', 1, 'comfort'],
      ['lighting', 1, 'on'],
    ]);
    expect(ctx.log.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([
      { level: 'warn', message: 'lease lost while dispatching: school dropped by this instance' },
    ]);
    // Armed for the ordinary next instant (16:30Z, capped at 1 h), not a 30 s retry.
    expect(ctx.dispatcher.stats().nextWakeAt).toBe(Date.parse('2026-03-02T08:00:00.000Z'));
    expect(ctx.scheduler.delays).not.toContain(30_000);

    // The transitions of the school it holds go on as usual.
    await ctx.scheduler.advanceTo('2026-03-02T16:35:00.000Z', ctx.dispatcher);
    expect(await ctx.stored(OTHER_UAI)).toEqual([
      ['heating', 2, 'eco'],
      ['lighting', 1, 'on'],
    ]);
    expect(await ctx.stored(UAI)).toEqual([]);
  });

  it('after holding a school under a new epoch, continues from the revs another instance stored', async () => {
    const fences = new Map<string, LeaseFence | null>();
    const ctx = await setUp(fences);
    await ctx.store.leases.claim('me', [UAI, OTHER_UAI], LONG_TTL);
    fences.set(UAI, { uai: UAI, owner: 'me', epoch: 1 });
    fences.set(OTHER_UAI, { uai: OTHER_UAI, owner: 'me', epoch: 1 });
    await ctx.dispatcher.start();
    await waitFor(() => ctx.desiredOf(UAI, 'heating').length === 1);
    expect(await ctx.stored(UAI)).toEqual([
      ['heating', 1, 'comfort'],
      ['lighting', 1, 'on'],
    ]);

    // Another instance holds UAI for a while (epoch 2) and stores two newer heating states
    // (an override, then its end) under its own fence.
    await ctx.store.leases.release('me', [UAI]);
    await ctx.store.leases.claim('other', [UAI], LONG_TTL);
    const theirs = { uai: UAI, owner: 'other', epoch: 2 };
    for (const [mode, setpoint] of [
      ['eco', 16],
      ['frost', 8],
    ] as const) {
      const content = desiredContentOf(
        segment('heating', '2026-03-02T07:00:00.000Z', '2026-03-02T16:30:00.000Z', mode, { setpoint }),
      );
      await ctx.store.bridgeState.recordDesired(
        UAI,
        [
          {
            zone: 'b-est',
            function: 'heating',
            contentHash: desiredContentHash(content),
            content,
            issuedAt: Date.parse(NOW),
          },
        ],
        theirs,
      );
    }
    expect(await ctx.stored(UAI)).toEqual([
      ['heating', 3, 'frost'],
      ['lighting', 1, 'on'],
    ]);

    // It comes back here at epoch 3: the dispatcher reads the store again rather than trusting
    // what it published at epoch 1 (comfort rev 1, the same content as its plan now).
    await ctx.store.leases.release('other', [UAI]);
    expect((await ctx.store.leases.claim('me', [UAI], LONG_TTL))[0]!.epoch).toBe(3);
    fences.set(UAI, { uai: UAI, owner: 'me', epoch: 3 });
    const before = ctx.desiredOf(UAI, 'heating').length;
    ctx.feed.touch(UAI);
    await ctx.dispatcher.idle();
    await waitFor(() => ctx.desiredOf(UAI, 'heating').length > before);
    await ctx.settled();
    expect(await ctx.stored(UAI)).toEqual([
      ['heating', 4, 'comfort'],
      ['lighting', 1, 'on'],
    ]);
    // Rev 4 goes out (never rev 1 again), and the unchanged lighting state keeps its stored rev.
    expect(ctx.desiredOf(UAI, 'heating')).toEqual([
      [1, 'comfort'],
      [4, 'comfort'],
    ]);
    expect(ctx.desiredOf(UAI, 'lighting')).toEqual([
      [1, 'on'],
      [1, 'on'],
    ]);
    expect(ctx.publisher.current(UAI, 'b-est', 'heating')?.desired).toMatchObject({
      rev: 4,
      mode: 'comfort',
    });
  });
});
