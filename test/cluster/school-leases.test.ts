/**
 * SchoolLeases (src/cluster/school-leases.ts): several instances on one real store, the real
 * database clock and short takeover delays. What must hold: every school has exactly one holder
 * once ticks settle, a school is never held by two instances at once, a stop hands over at the
 * next tick of the others, a rejoin takes back exactly the rendezvous share and nothing flaps,
 * and a lease that lapsed locally (a paused process) is never treated as held.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shareOf } from '../../src/cluster/rendezvous.js';
import { DEFAULT_TAKEOVER_MS, type LeaseChange, SchoolLeases } from '../../src/cluster/school-leases.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import { databaseNowMs, type LeaseRepository } from '../../src/store/lease-repository.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/wait.js';
import { storeBackends } from '../store/backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

/** Long enough that the timer ticks rarely next to the explicit `tick()` calls. */
const CALM_TAKEOVER_MS = 6_000;

function schoolsOf(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const digits = `0${String(block * 1000 + i * 7).padStart(6, '0')}`;
    return `${digits}${uaiCheckLetter(digits)}`;
  });
}

const sorted = (items: Iterable<string>) => [...items].sort();

/** Opens what a test left paused, so that stopping its instance does not hang. */
const resumers: (() => void)[] = [];

/** A repository whose calls hang while "paused", as a frozen process's would. */
function pausable(repository: LeaseRepository) {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await gate;
      return call(...args);
    };
  const wrapped: LeaseRepository = {
    heartbeat: gated(repository.heartbeat.bind(repository)),
    leave: gated(repository.leave.bind(repository)),
    claim: gated(repository.claim.bind(repository)),
    release: gated(repository.release.bind(repository)),
    leases: gated(repository.leases.bind(repository)),
    instances: gated(repository.instances.bind(repository)),
    now: gated(repository.now.bind(repository)),
  };
  resumers.push(() => open());
  return {
    repository: wrapped,
    pause() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    resume() {
      open();
    },
  };
}

describe.each(backends)('SchoolLeases on $name', (backend) => {
  const running: SchoolLeases[] = [];
  let store: Store;

  beforeAll(async () => {
    store = await backend.open();
  });

  afterEach(async () => {
    for (const resume of resumers.splice(0)) resume();
    await Promise.all(running.splice(0).map((leases) => leases.stop()));
  });

  interface Instance {
    leases: SchoolLeases;
    events: LeaseChange[];
  }

  /**
   * An instance whose `slowTick()` runs one round whose claim outlasts the local deadline (a
   * stalled event loop, a saturated pool): its monotonic clock moves one TTL during the claim.
   */
  async function slowRoundInstance(id: string, schools: readonly string[]) {
    let jump = 0;
    let slow = false;
    let ttl = 0;
    const base = store.leases;
    const slowRepository: LeaseRepository = {
      ...base,
      claim: async (...args) => {
        if (slow) jump += ttl;
        return base.claim(...args);
      },
    };
    const a = await instance(id, schools, {
      repository: slowRepository,
      monotonicNow: () => performance.now() + jump,
    });
    ttl = a.leases.ttlMs;
    const slowTick = async () => {
      slow = true;
      try {
        await a.leases.tick();
      } finally {
        slow = false;
      }
    };
    return { a, slowTick };
  }

  async function instance(
    id: string,
    schools: readonly string[],
    options: {
      takeoverMs?: number;
      monotonicNow?: () => number;
      repository?: LeaseRepository;
      eligible?: () => boolean;
    } = {},
  ): Promise<Instance> {
    const leases = new SchoolLeases({
      repository: options.repository ?? store.leases,
      instanceId: id,
      schools: () => schools,
      takeoverMs: options.takeoverMs ?? CALM_TAKEOVER_MS,
      ...(options.monotonicNow ? { monotonicNow: options.monotonicNow } : {}),
      ...(options.eligible ? { eligible: options.eligible } : {}),
    });
    const events: LeaseChange[] = [];
    leases.onChange((change) => events.push(change));
    running.push(leases);
    return { leases, events };
  }

  /** What the events from `from` on added up to. */
  function netChange(events: readonly LeaseChange[], from = 0): LeaseChange {
    const slice = events.slice(from);
    return {
      acquired: sorted(slice.flatMap((e) => e.acquired)),
      released: sorted(slice.flatMap((e) => e.released)),
    };
  }

  function expectDisjoint(instances: readonly Instance[]): void {
    const seen = new Map<string, string>();
    for (const { leases } of instances) {
      for (const uai of leases.owned()) {
        expect(seen.get(uai), `${uai} held by ${seen.get(uai)} and ${leases.instanceId}`).toBeUndefined();
        seen.set(uai, leases.instanceId);
      }
    }
  }

  async function storeOwners(
    schools: readonly string[],
  ): Promise<Map<string, { owner: string; epoch: number }>> {
    const rows = (await store.leases.leases()).filter((l) => schools.includes(l.uai));
    return new Map(rows.map((l) => [l.uai, { owner: l.owner, epoch: l.epoch }]));
  }

  async function liveOwners(schools: readonly string[]): Promise<Record<string, string>> {
    // The database's now (not a heartbeat: a probe instance would change everyone's share).
    const { now } = await store.db
      .selectNoFrom(databaseNowMs(store.dialect).as('now'))
      .executeTakeFirstOrThrow()
      .then((row) => ({ now: Number(row.now) }));
    const rows = (await store.leases.leases()).filter((l) => schools.includes(l.uai) && l.expiresAt > now);
    return Object.fromEntries(rows.map((l) => [l.uai, l.owner]));
  }

  it('derives its TTL and renewal period from the takeover delay and refuses a tiny one', async () => {
    const defaults = new SchoolLeases({ repository: store.leases, instanceId: 'x', schools: () => [] });
    expect([DEFAULT_TAKEOVER_MS, defaults.ttlMs, defaults.renewMs]).toEqual([30_000, 15_000, 5_000]);
    expect(
      () =>
        new SchoolLeases({ repository: store.leases, instanceId: 'x', schools: () => [], takeoverMs: 599 }),
    ).toThrow('takeover delay must be at least 600 ms, got 599');
  });

  it('three instances split the schools: each holds its rendezvous share, none twice', async () => {
    const schools = schoolsOf(1, 60);
    const all = [
      await instance('split-a', schools),
      await instance('split-b', schools),
      await instance('split-c', schools),
    ];
    const ids = all.map((i) => i.leases.instanceId);
    // Alone at first, A takes every school.
    await all[0]!.leases.start();
    expect(all[0]!.leases.owned()).toEqual(sorted(schools));
    for (const i of all.slice(1)) {
      await i.leases.start();
      expectDisjoint(all);
    }
    // A hands over what is no longer its share, then the others claim theirs.
    for (const i of all) {
      await i.leases.tick();
      expectDisjoint(all);
    }
    for (const i of all) {
      expect(i.leases.owned()).toEqual(sorted(shareOf(i.leases.instanceId, schools, ids)));
      expect(i.leases.stats()).toMatchObject({ instanceId: i.leases.instanceId, live: ids, failedTicks: 0 });
      for (const uai of i.leases.owned()) {
        expect(i.leases.owns(uai)).toBe(true);
        expect(i.leases.fenceOf(uai)).toEqual({ uai, owner: i.leases.instanceId, epoch: expect.any(Number) });
      }
    }
    const owners = await storeOwners(schools);
    for (const uai of schools) {
      const holder = all.find((i) => i.leases.owns(uai))!;
      expect(owners.get(uai)).toEqual({
        owner: holder.leases.instanceId,
        epoch: holder.leases.fenceOf(uai)!.epoch,
      });
    }
    expect(await liveOwners(schools)).toEqual(
      Object.fromEntries(
        sorted(schools).map((uai) => [uai, all.find((i) => i.leases.owns(uai))!.leases.instanceId]),
      ),
    );
    // A's events: everything at start, then the others' shares released.
    expect(netChange(all[0]!.events)).toEqual({
      acquired: sorted(schools),
      released: sorted(schools.filter((uai) => !shareOf('split-a', schools, ids).has(uai))),
    });
  });

  it('a stop hands the schools over at the next tick of the other; a rejoin takes back exactly its share, without flapping', async () => {
    const schools = schoolsOf(2, 40);
    const a = await instance('hand-a', schools);
    const b = await instance('hand-b', schools);
    await a.leases.start();
    await b.leases.start();
    await a.leases.tick();
    await b.leases.tick();
    const ids = ['hand-a', 'hand-b'];
    const shareOfA = sorted(shareOf('hand-a', schools, ids));
    const shareOfB = sorted(shareOf('hand-b', schools, ids));
    expect(shareOfA.length).toBeGreaterThan(0);
    expect(shareOfB.length).toBeGreaterThan(0);
    expect(a.leases.owned()).toEqual(shareOfA);
    expect(b.leases.owned()).toEqual(shareOfB);
    const epochsBefore = await storeOwners(schools);

    // Stop: A's listeners hear the release before the store does, and B takes them at its next tick.
    const aMark = a.events.length;
    const bMark = b.events.length;
    await a.leases.stop();
    expect(a.events.slice(aMark)).toEqual([{ acquired: [], released: shareOfA }]);
    expect(a.leases.owned()).toEqual([]);
    await b.leases.tick();
    expect(netChange(b.events, bMark)).toEqual({ acquired: shareOfA, released: [] });
    expect(b.leases.owned()).toEqual(sorted(schools));
    expect(b.leases.stats().live).toEqual(['hand-b']);
    const afterStop = await storeOwners(schools);
    for (const uai of shareOfA) {
      expect(afterStop.get(uai)).toEqual({ owner: 'hand-b', epoch: epochsBefore.get(uai)!.epoch + 1 });
    }
    for (const uai of shareOfB) expect(afterStop.get(uai)).toEqual(epochsBefore.get(uai));

    // Rejoin (a new process with the same id): nothing of B's is taken while B holds it live
    // (B's timer may already have handed some back by then)…
    const bMark2 = b.events.length;
    const again = await instance('hand-a', schools);
    await again.leases.start();
    expectDisjoint([again, b]);
    for (const uai of again.leases.owned()) expect(shareOfA).toContain(uai);
    // …B hands A's share back at its next tick, and A claims exactly that at its own.
    await b.leases.tick();
    expect(netChange(b.events, bMark2)).toEqual({ acquired: [], released: shareOfA });
    expect(b.leases.owned()).toEqual(shareOfB);
    await again.leases.tick();
    expect(netChange(again.events)).toEqual({ acquired: shareOfA, released: [] });
    expect(again.leases.owned()).toEqual(shareOfA);
    const afterRejoin = await storeOwners(schools);
    for (const uai of shareOfA) {
      expect(afterRejoin.get(uai)).toEqual({ owner: 'hand-a', epoch: epochsBefore.get(uai)!.epoch + 2 });
    }

    // Settled: more ticks on both sides change nothing (no flapping), and renewals keep the epochs.
    const marks = [again.events.length, b.events.length];
    for (let round = 0; round < 4; round++) {
      await again.leases.tick();
      await b.leases.tick();
      expectDisjoint([again, b]);
    }
    expect([again.events.length, b.events.length]).toEqual(marks);
    expect(await storeOwners(schools)).toEqual(afterRejoin);
  });

  it('a paused instance stops holding its leases at its local deadline, and two never hold a school at once', async () => {
    const schools = schoolsOf(3, 24);
    // TTL 800 ms, renewal every 200 ms, local margin 80 ms.
    const takeoverMs = 1_200;
    let jump = 0;
    const frozen = pausable(store.leases);
    const a = await instance('pause-a', schools, {
      takeoverMs,
      monotonicNow: () => performance.now() + jump,
      repository: frozen.repository,
    });
    const b = await instance('pause-b', schools, { takeoverMs });
    await a.leases.start();
    await b.leases.start();
    await a.leases.tick();
    await b.leases.tick();
    const ids = ['pause-a', 'pause-b'];
    const shareOfA = sorted(shareOf('pause-a', schools, ids));
    expect(a.leases.owned()).toEqual(shareOfA);
    const held = await storeOwners(schools);

    // Frozen: its store calls hang, and its monotonic clock has moved past the TTL when it wakes.
    frozen.pause();
    jump = a.leases.ttlMs;
    for (const uai of shareOfA) {
      expect(a.leases.owns(uai)).toBe(false);
      expect(a.leases.fenceOf(uai)).toBeNull();
    }
    expect(a.leases.owned()).toEqual([]);
    expect(a.leases.stats().held).toBe(0);

    // B takes A's schools only once A's leases ran out in the database, each with a new epoch.
    await waitFor(
      async () => {
        await b.leases.tick();
        expectDisjoint([a, b]);
        return b.leases.owned().length >= schools.length;
      },
      { what: "B to take A's schools over" },
    );
    const takenOver = await storeOwners(schools);
    for (const uai of shareOfA) {
      expect(takenOver.get(uai)).toEqual({ owner: 'pause-b', epoch: held.get(uai)!.epoch + 1 });
    }

    // A wakes: it reports its schools released, once each, and holds none of them while B does.
    // (B's own timer may see A live again and hand them back at once: then A acquires them anew.)
    const aMark = a.events.length;
    frozen.resume();
    await a.leases.tick();
    const woke = netChange(a.events, aMark);
    expect(woke.released).toEqual(shareOfA);
    for (const uai of woke.acquired) expect(shareOfA).toContain(uai);
    expectDisjoint([a, b]);

    // Then the ordinary rejoin: B hands back, A takes them under yet newer epochs.
    await b.leases.tick();
    expectDisjoint([a, b]);
    await a.leases.tick();
    expectDisjoint([a, b]);
    expect(a.leases.owned()).toEqual(shareOfA);
    const back = await storeOwners(schools);
    for (const uai of shareOfA) {
      expect(back.get(uai)).toEqual({ owner: 'pause-a', epoch: held.get(uai)!.epoch + 2 });
      expect(a.leases.fenceOf(uai)).toEqual({ uai, owner: 'pause-a', epoch: held.get(uai)!.epoch + 2 });
    }
  });

  it('a failing store never makes tick throw, and leases lapse locally at their deadline', async () => {
    const schools = schoolsOf(4, 6);
    let jump = 0;
    let failing = false;
    const base = store.leases;
    const failingRepository: LeaseRepository = {
      ...base,
      heartbeat: (...args) =>
        failing ? Promise.reject(new Error('connection refused')) : base.heartbeat(...args),
    };
    const a = await instance('fail-a', schools, {
      repository: failingRepository,
      monotonicNow: () => performance.now() + jump,
    });
    await a.leases.start();
    expect(a.leases.owned()).toEqual(sorted(schools));
    failing = true;
    await a.leases.tick();
    expect(a.leases.stats().failedTicks).toBeGreaterThanOrEqual(1);
    // Still within the local deadline: held.
    expect(a.leases.owned()).toEqual(sorted(schools));
    const mark = a.events.length;
    jump = a.leases.ttlMs;
    expect(a.leases.owned()).toEqual([]);
    await a.leases.tick();
    expect(a.events.slice(mark)).toEqual([{ acquired: [], released: sorted(schools) }]);
    failing = false;
  });

  it('hands every school over at once while not eligible (broker unreachable), and rejoins after', async () => {
    const schools = schoolsOf(5, 12);
    let brokerUp = true;
    const a = await instance('elig-a', schools, { eligible: () => brokerUp });
    const b = await instance('elig-b', schools);
    await a.leases.start();
    await b.leases.start();
    await a.leases.tick();
    await b.leases.tick();
    await a.leases.tick();
    const shareOfA = a.leases.owned();
    expect(shareOfA.length).toBeGreaterThan(0);
    expect(sorted([...shareOfA, ...b.leases.owned()])).toEqual(sorted(schools));

    brokerUp = false;
    const mark = a.events.length;
    await a.leases.tick();
    expect(a.leases.owned()).toEqual([]);
    expect(netChange(a.events, mark)).toEqual({ acquired: [], released: shareOfA });
    // Released and out of the live set: the other instance takes everything at its next tick,
    // without waiting for a TTL.
    await b.leases.tick();
    expect(b.leases.owned()).toEqual(sorted(schools));
    expect(b.leases.stats().live).toEqual(['elig-b']);
    expectDisjoint([a, b]);

    brokerUp = true;
    await a.leases.tick(); // rejoins the live set; its share is still held by b
    await b.leases.tick(); // b hands a's share back
    await a.leases.tick(); // a claims it
    expect(a.leases.owned()).toEqual(shareOfA);
    expectDisjoint([a, b]);
  });

  it('a lease that lapses locally during a slow renewal is told released, then acquired at the next round', async () => {
    const schools = schoolsOf(6, 4);
    const { a, slowTick } = await slowRoundInstance('slow-a', schools);
    await a.leases.start();
    expect(a.leases.owned()).toEqual(sorted(schools));
    const mark = a.events.length;
    await slowTick();
    // What was skipped while owns() was false must be redone: dropped at once, and not told
    // acquired by the slow round, whose claims had lapsed here before they arrived.
    expect(a.events.slice(mark)).toEqual([{ acquired: [], released: sorted(schools) }]);
    expect(a.leases.owned()).toEqual([]);
    // The next round claims them afresh (the same epochs: the store kept them) and plans them.
    await a.leases.tick();
    expect(a.events.slice(mark)).toEqual([
      { acquired: [], released: sorted(schools) },
      { acquired: sorted(schools), released: [] },
    ]);
    expect(a.leases.owned()).toEqual(sorted(schools));
  });

  it('a stop right after a slow round releases in the store what that round claimed and did not keep', async () => {
    const schools = schoolsOf(7, 4);
    const { a, slowTick } = await slowRoundInstance('slow-stop-a', schools);
    await a.leases.start();
    await slowTick();
    expect(a.leases.owned()).toEqual([]);
    // The store still names this instance for them, live, until it is told.
    expect(await liveOwners(schools)).toEqual(
      Object.fromEntries(sorted(schools).map((u) => [u, 'slow-stop-a'])),
    );
    await a.leases.stop();
    expect(await liveOwners(schools)).toEqual({});
  });
});
