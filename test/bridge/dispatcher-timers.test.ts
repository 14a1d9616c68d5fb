/**
 * The dispatcher's own timer (the default setTimeout scheduler) under vitest fake timers: exact
 * transition instants, the 1 h cap, clock jumps, plan changes. What it hands the publisher is
 * recorded; publishing itself is covered against real brokers in dispatcher.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Dispatcher } from '../../src/bridge/dispatcher.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import type { StateChange } from '../../src/bridge/publisher.js';
import { schoolPlan, temporaryStore, timeline, UAI } from './dispatch-fixtures.js';

const HEATING = timeline(
  'heating',
  [
    ['2026-03-01T23:00:00.000Z', 'eco', 16],
    ['2026-03-02T06:00:00.000Z', 'comfort', 19],
    ['2026-03-02T16:30:00.000Z', 'eco', 16],
    ['2026-03-03T06:00:00.000Z', 'comfort', 19],
  ],
  '2026-03-04T23:00:00.000Z',
);

describe('Dispatcher timers (setTimeout under fake timers)', () => {
  let stores: Awaited<ReturnType<typeof temporaryStore>>;
  let dispatcher: Dispatcher | undefined;
  const applied: StateChange[][] = [];
  const publisher = {
    apply: async (changes: readonly StateChange[]) => {
      applied.push([...changes]);
      return { sent: changes.length, dropped: 0, interrupted: 0 };
    },
    forget: () => {},
  };

  beforeEach(async () => {
    stores = await temporaryStore();
    applied.length = 0;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(new Date('2026-03-02T07:00:00.000Z'));
  });

  afterEach(async () => {
    await dispatcher?.stop();
    vi.useRealTimers();
    await stores.cleanup();
  });

  const desiredSeen = () =>
    applied.flat().flatMap((c) => (c.desired ? [[c.desired.rev, c.desired.mode, c.desired.issued_at]] : []));

  it('fires at the exact instant, waiting at most 1 h at a time', async () => {
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: HEATING } }]));
    dispatcher = new Dispatcher({ feed, publisher, repository: stores.store.bridgeState });
    await dispatcher.start();
    expect(dispatcher.stats().nextWakeAt).toBe(Date.parse('2026-03-02T08:00:00.000Z'));
    await vi.advanceTimersByTimeAsync(Date.parse('2026-03-02T16:30:00.000Z') - Date.now());
    await dispatcher.idle();
    expect(desiredSeen()).toEqual([
      [1, 'comfort', '2026-03-02T07:00:00.000Z'],
      [2, 'eco', '2026-03-02T16:30:00.000Z'],
    ]);
    expect(dispatcher.stats()).toMatchObject({
      clockJumps: 0,
      nextWakeAt: Date.parse('2026-03-02T17:30:00.000Z'),
    });
  });

  it('after a clock jump publishes the state holding at the new now, once', async () => {
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: HEATING } }]));
    dispatcher = new Dispatcher({ feed, publisher, repository: stores.store.bridgeState });
    await dispatcher.start();
    // The wall clock jumps 11 h ahead (NTP step, VM resume) while the monotonic timer does not move.
    vi.setSystemTime(new Date('2026-03-02T18:00:00.000Z'));
    await vi.advanceTimersByTimeAsync(3_600_000);
    await dispatcher.idle();
    expect(dispatcher.stats().clockJumps).toBe(1);
    expect(desiredSeen()).toEqual([
      [1, 'comfort', '2026-03-02T07:00:00.000Z'],
      [2, 'eco', '2026-03-02T19:00:00.000Z'],
    ]);
  });

  it('re-arms after a plan change', async () => {
    const feed = new MutablePlanFeed();
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: HEATING } }]));
    dispatcher = new Dispatcher({ feed, publisher, repository: stores.store.bridgeState });
    await dispatcher.start();
    // An evening event: comfort now until 07:20, then eco.
    const changed = timeline(
      'heating',
      [
        ['2026-03-02T06:00:00.000Z', 'comfort', 19],
        ['2026-03-02T07:20:00.000Z', 'eco', 16],
      ],
      '2026-03-03T06:00:00.000Z',
    );
    feed.set(schoolPlan(UAI, [{ zone: 'b-est', name: 'B', functions: { heating: changed } }]));
    await dispatcher.idle();
    expect(dispatcher.stats().nextWakeAt).toBe(Date.parse('2026-03-02T07:20:00.000Z'));
    await vi.advanceTimersByTimeAsync(20 * 60_000);
    await dispatcher.idle();
    expect(desiredSeen()).toEqual([
      [1, 'comfort', '2026-03-02T07:00:00.000Z'],
      // The comfort segment now ends at 07:20: a new valid_until is a new state.
      [2, 'comfort', '2026-03-02T07:00:00.000Z'],
      [3, 'eco', '2026-03-02T07:20:00.000Z'],
    ]);
    expect(applied.flat().find((c) => c.desired?.rev === 2)?.desired?.valid_until).toBe(
      '2026-03-02T07:20:00.000Z',
    );
  });
});
