/**
 * School leases and the live set (src/store/lease-repository.ts) on every backend: who may claim
 * what and when, how the fencing epoch moves, and that a write fenced by a lost lease stores
 * nothing. Expiries run on the real database clock with short TTLs; waits poll with deadlines.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DesiredContent,
  desiredContentHash,
  desiredContentOf,
} from '../../src/contract/desired-state.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import type { DesiredProposal } from '../../src/store/bridge-state-repository.js';
import {
  assertLeaseHeld,
  databaseNowMs,
  isDuplicateInstanceError,
  isLeaseLostError,
  type LeaseFence,
  LeaseLostError,
  type LeaseRepository,
} from '../../src/store/lease-repository.js';
import type { Store } from '../../src/store/store.js';
import { segment } from '../bridge/dispatch-fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

/** Short enough to wait out, long enough for a loaded CI machine to claim and check within it. */
const SHORT_TTL = 300;
const LONG_TTL = 60_000;

/** Valid UAIs, distinct per test (the tests of one backend share a database). */
function uais(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const digits = `0${String(block * 1000 + i).padStart(6, '0')}`;
    return `${digits}${uaiCheckLetter(digits)}`;
  });
}

/** Polls `attempt` until it answers a non-empty list; fails after `timeoutMs`. */
async function until<T>(attempt: () => Promise<T[]>, timeoutMs = 3_000): Promise<T[]> {
  return waitFor(
    async () => {
      const result = await attempt();
      return result.length > 0 ? result : undefined;
    },
    { timeoutMs, intervalMs: 25, what: 'a non-empty answer' },
  );
}

function proposal(mode: 'comfort' | 'eco'): DesiredProposal {
  const content: DesiredContent = desiredContentOf(
    segment('heating', '2026-03-02T06:00:00.000Z', '2026-03-02T16:30:00.000Z', mode, {
      setpoint: mode === 'comfort' ? 19 : 16,
    }),
  );
  return {
    zone: 'b-est',
    function: 'heating',
    contentHash: desiredContentHash(content),
    content,
    issuedAt: Date.parse('2026-03-02T06:00:00.000Z'),
  };
}

/** Waits until the DATABASE clock is past `instant`. */
async function waitPast(store: Store, instant: number): Promise<void> {
  await waitFor(
    async () => {
      const row = await store.db
        .selectNoFrom(databaseNowMs(store.dialect).as('now'))
        .executeTakeFirstOrThrow();
      return Number(row.now) > instant;
    },
    { timeoutMs: 3_000, intervalMs: 25, what: `the database clock to pass ${instant}` },
  );
}

const leaseOf = async (repo: LeaseRepository, uai: string) =>
  (await repo.leases()).find((l) => l.uai === uai);

describe.each(backends)('lease repository on $name', (backend) => {
  // First: the only test that touches the live set, so the instances it sees are exactly its own.
  it('heartbeat answers the live instances sorted, drops an expired one, and leave removes one', async () => {
    const store = await backend.open();
    const repo = store.leases;
    const first = await repo.heartbeat('bridge-c', LONG_TTL);
    expect(first.live).toEqual(['bridge-c']);
    // The database's now, not far from this process's (same machine).
    expect(Math.abs(first.now - Date.now())).toBeLessThan(5_000);
    await repo.heartbeat('bridge-a', LONG_TTL);
    await repo.heartbeat('bridge-short', SHORT_TTL);
    expect((await repo.heartbeat('bridge-b', LONG_TTL)).live).toEqual([
      'bridge-a',
      'bridge-b',
      'bridge-c',
      'bridge-short',
    ]);
    const instances = await repo.instances();
    expect(instances.map((i) => i.instanceId)).toEqual(['bridge-a', 'bridge-b', 'bridge-c', 'bridge-short']);
    const short = instances.find((i) => i.instanceId === 'bridge-short')!;
    // Two reads of the clock in one statement: equal up to rounding.
    expect(short.expiresAt - short.heartbeatAt).toBeGreaterThanOrEqual(SHORT_TTL);
    expect(short.expiresAt - short.heartbeatAt).toBeLessThanOrEqual(SHORT_TTL + 5);

    const live = await waitFor(
      async () => {
        const answer = (await repo.heartbeat('bridge-a', LONG_TTL)).live;
        return answer.includes('bridge-short') ? undefined : answer;
      },
      { timeoutMs: 3_000, intervalMs: 25, what: 'bridge-short to expire' },
    );
    expect(live).toEqual(['bridge-a', 'bridge-b', 'bridge-c']);

    // A heartbeat keeps started_at and moves heartbeat_at on.
    const beforeBeat = (await repo.instances()).find((i) => i.instanceId === 'bridge-c')!;
    await waitPast(store, beforeBeat.heartbeatAt);
    await repo.heartbeat('bridge-c', LONG_TTL);
    const afterBeat = (await repo.instances()).find((i) => i.instanceId === 'bridge-c')!;
    expect(afterBeat.startedAt).toBe(beforeBeat.startedAt);
    expect(afterBeat.heartbeatAt).toBeGreaterThan(beforeBeat.heartbeatAt);

    await repo.leave('bridge-b');
    expect((await repo.heartbeat('bridge-a', LONG_TTL)).live).toEqual(['bridge-a', 'bridge-c']);
    expect((await repo.instances()).map((i) => i.instanceId)).toEqual([
      'bridge-a',
      'bridge-c',
      'bridge-short',
    ]);
  });

  it('claims free schools at epoch 1 and keeps live leases from other instances', async () => {
    const repo = (await backend.open()).leases;
    const schools = uais(1, 3);
    const got = await repo.claim('a', schools, LONG_TTL);
    expect(got.map((l) => [l.uai, l.epoch])).toEqual(schools.map((uai) => [uai, 1]));
    const rows = (await repo.leases()).filter((l) => schools.includes(l.uai));
    expect(rows.map((l) => [l.uai, l.owner, l.epoch])).toEqual(schools.map((uai) => [uai, 'a', 1]));
    for (const row of rows) {
      expect(row.expiresAt - row.acquiredAt).toBeGreaterThanOrEqual(LONG_TTL);
      expect(row.expiresAt - row.acquiredAt).toBeLessThanOrEqual(LONG_TTL + 5);
    }

    // Another instance gets only what is free.
    const extra = uais(1, 4)[3]!;
    expect(await repo.claim('b', [...schools, extra], LONG_TTL)).toEqual([
      { uai: extra, epoch: 1, expiresAt: expect.any(Number) },
    ]);
    expect((await leaseOf(repo, schools[0]!))?.owner).toBe('a');
    expect(await repo.claim('b', [], LONG_TTL)).toEqual([]);
  });

  it('a renewal by the owner keeps the epoch and pushes the expiry on', async () => {
    const store = await backend.open();
    const repo = store.leases;
    const [uai] = uais(2, 1) as [string];
    const [first] = await repo.claim('a', [uai], SHORT_TTL * 4);
    // The renewal comes at least 30 ms after the claim, on the database's clock.
    await waitPast(store, first!.expiresAt - SHORT_TTL * 4 + 30);
    const [renewed] = await repo.claim('a', [uai], LONG_TTL);
    expect(renewed!.epoch).toBe(first!.epoch);
    expect(renewed!.expiresAt).toBeGreaterThan(first!.expiresAt);
    const row = (await leaseOf(repo, uai))!;
    expect(row).toEqual({
      uai,
      owner: 'a',
      epoch: 1,
      // A renewal is the same tenure: it keeps the acquisition instant.
      acquiredAt: row.acquiredAt,
      expiresAt: renewed!.expiresAt,
    });
    expect(renewed!.expiresAt - row.acquiredAt).toBeGreaterThanOrEqual(LONG_TTL + 30);
  });

  it('after expiry another instance claims at epoch + 1, and the old owner renews nothing', async () => {
    const repo = (await backend.open()).leases;
    const [uai] = uais(3, 1) as [string];
    const [held] = await repo.claim('a', [uai], SHORT_TTL);
    expect(held!.epoch).toBe(1);
    expect(await repo.claim('b', [uai], SHORT_TTL)).toEqual([]);

    const [taken] = await until(() => repo.claim('b', [uai], LONG_TTL));
    expect(taken!.epoch).toBe(2);
    const row = (await leaseOf(repo, uai))!;
    expect(row.owner).toBe('b');
    // Taken only once the old lease had run out, on the database clock.
    expect(row.acquiredAt).toBeGreaterThanOrEqual(held!.expiresAt);

    expect(await repo.claim('a', [uai], LONG_TTL)).toEqual([]);
    expect(await leaseOf(repo, uai)).toEqual(row);
    // Releasing what it no longer holds does nothing either.
    await repo.release('a', [uai]);
    expect(await leaseOf(repo, uai)).toEqual(row);
  });

  it('an owner whose own lease lapsed takes it again as a new tenure (epoch + 1)', async () => {
    const store = await backend.open();
    const repo = store.leases;
    const [uai] = uais(4, 1) as [string];
    const [lease] = await repo.claim('a', [uai], SHORT_TTL);
    await waitPast(store, lease!.expiresAt);
    expect((await repo.claim('a', [uai], LONG_TTL)).map((l) => l.epoch)).toEqual([2]);
  });

  it('claims a school listed twice once', async () => {
    const repo = (await backend.open()).leases;
    const [uai] = uais(10, 1) as [string];
    expect((await repo.claim('a', [uai, uai], LONG_TTL)).map((l) => [l.uai, l.epoch])).toEqual([[uai, 1]]);
  });

  it('release makes a lease claimable at once, and the next owner gets a higher epoch', async () => {
    const repo = (await backend.open()).leases;
    const schools = uais(5, 2);
    await repo.claim('a', schools, LONG_TTL);
    await repo.release('a', [schools[0]!]);
    expect((await repo.claim('b', schools, LONG_TTL)).map((l) => [l.uai, l.epoch])).toEqual([
      [schools[0], 2],
    ]);
    await repo.release('b', [schools[0]!]);
    expect((await repo.claim('a', [schools[0]!], LONG_TTL)).map((l) => l.epoch)).toEqual([3]);
    // A row is never deleted: its epoch only grows across releases.
    expect(
      (await repo.leases()).filter((l) => schools.includes(l.uai)).map((l) => [l.owner, l.epoch]),
    ).toEqual([
      ['a', 3],
      ['a', 1],
    ]);
  });

  it('concurrent claims for the same 50 schools never give one school to two instances', async () => {
    const a = await backend.open();
    // Two better-sqlite3 connections in one thread would deadlock in the busy handler; SQLite has
    // one writer process anyway. PostgreSQL: two pools on one schema, as two instances.
    const b = backend.name === 'postgres' ? await backend.open() : a;
    const schools = uais(6, 50);
    const reversed = [...schools].reverse();
    for (let round = 1; round <= 20; round++) {
      // Opposite orders: the worst case for row-lock ordering.
      const [gotA, gotB] = await Promise.all([
        a.leases.claim('a', schools, LONG_TTL),
        b.leases.claim('b', reversed, LONG_TTL),
      ]);
      const ofA = new Set(gotA.map((l) => l.uai));
      const both = gotB.filter((l) => ofA.has(l.uai)).map((l) => l.uai);
      expect(both, `round ${round}`).toEqual([]);
      expect(gotA.length + gotB.length, `round ${round}`).toBe(50);
      // Every school changed hands once per round (free, then released): one epoch per round.
      for (const lease of [...gotA, ...gotB]) expect(lease.epoch).toBe(round);
      const rows = (await a.leases.leases()).filter((l) => schools.includes(l.uai));
      expect(rows.map((l) => [l.uai, l.owner]).sort()).toEqual(
        [...gotA.map((l) => [l.uai, 'a']), ...gotB.map((l) => [l.uai, 'b'])].sort(),
      );
      await Promise.all([a.leases.release('a', schools), b.leases.release('b', schools)]);
    }
  });

  describe('fencing a desired-state write (assertLeaseHeld)', () => {
    const stored = async (store: Store, uai: string) =>
      (await store.bridgeState.loadDesired(uai)).map((s) => [s.zone, s.rev, s.content.mode]);

    async function expectLost(store: Store, fence: LeaseFence): Promise<void> {
      const error = await store.bridgeState.recordDesired(fence.uai, [proposal('eco')], fence).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLeaseLostError(error)).toBe(true);
      expect(error).toBeInstanceOf(LeaseLostError);
      expect((error as LeaseLostError).fence).toEqual(fence);
      expect((error as Error).message).toBe(
        `lease of ${fence.uai} lost by ${fence.owner} (epoch ${fence.epoch})`,
      );
    }

    it('stores under the live fence, refuses a stale epoch or another owner and stores nothing', async () => {
      const store = await backend.open();
      const [uai] = uais(7, 1) as [string];
      await store.leases.claim('a', [uai], LONG_TTL);
      const written = await store.bridgeState.recordDesired(uai, [proposal('comfort')], {
        uai,
        owner: 'a',
        epoch: 1,
      });
      expect(written.map((s) => s.rev)).toEqual([1]);

      // A hands over and takes it again: epoch 2; a write under epoch 1 is refused.
      await store.leases.release('a', [uai]);
      expect((await store.leases.claim('a', [uai], LONG_TTL))[0]!.epoch).toBe(2);
      await expectLost(store, { uai, owner: 'a', epoch: 1 });
      await expectLost(store, { uai, owner: 'b', epoch: 2 });
      expect(await stored(store, uai)).toEqual([['b-est', 1, 'comfort']]);

      // Without any lease row at all.
      const [free] = uais(7, 2).slice(1) as [string];
      await expectLost(store, { uai: free, owner: 'a', epoch: 1 });
      expect(await stored(store, free)).toEqual([]);

      expect(
        (await store.bridgeState.recordDesired(uai, [proposal('eco')], { uai, owner: 'a', epoch: 2 })).map(
          (s) => s.rev,
        ),
      ).toEqual([2]);
    });

    it('refuses a write once the lease expired, even before anyone else claims it', async () => {
      const store = await backend.open();
      const [uai] = uais(8, 1) as [string];
      await store.leases.claim('a', [uai], SHORT_TTL);
      const fence = { uai, owner: 'a', epoch: 1 };
      expect((await store.bridgeState.recordDesired(uai, [proposal('comfort')], fence))[0]!.rev).toBe(1);
      await waitPast(store, (await leaseOf(store.leases, uai))!.expiresAt);
      await expectLost(store, fence);
      expect(await stored(store, uai)).toEqual([['b-est', 1, 'comfort']]);
    });

    // SQLite's write transaction is exclusive: there is no takeover to race with.
    if (backend.name === 'postgres')
      it('a takeover waits for a fenced write in progress to commit (FOR SHARE)', async () => {
        const a = await backend.open();
        const b = await backend.open();
        const [uai] = uais(9, 1) as [string];
        await a.leases.claim('a', [uai], SHORT_TTL);
        let claimed: number | undefined;
        let takeover: Promise<unknown> | undefined;
        await a.db.transaction().execute(async (trx) => {
          await assertLeaseHeld(trx, 'postgres', { uai, owner: 'a', epoch: 1 });
          // The lease runs out while the write is still open; B then tries to take it.
          await waitPast(b, (await leaseOf(b.leases, uai))!.expiresAt);
          takeover = b.leases.claim('b', [uai], LONG_TTL).then((got) => {
            claimed = Date.now();
            return got;
          });
          // Barrier: the server shows B's claim waiting on the lock this write holds.
          await waitFor(
            async () => {
              const { rows } = await sql<{ n: number }>`
                select count(*)::int as n from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock'
                  and query like '%school_leases%'`.execute(b.db);
              return (rows[0]?.n ?? 0) > 0;
            },
            { timeoutMs: 3_000, what: "B's claim to wait on the lock" },
          );
          expect(claimed).toBeUndefined();
        });
        const got = (await takeover) as { epoch: number }[];
        expect(got.map((l) => l.epoch)).toEqual([2]);
      });

    if (backend.name === 'postgres')
      it('a claim skips a school whose row a stuck session keeps locked, and takes the others', async () => {
        const a = await backend.open();
        const b = await backend.open();
        const [stuck, free] = uais(10, 2) as [string, string];
        await a.leases.claim('a', [stuck, free], SHORT_TTL);
        let release: () => void = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        // A's fenced write on `stuck` never finishes (its process paused mid-transaction).
        const write = a.db.transaction().execute(async (trx) => {
          await assertLeaseHeld(trx, 'postgres', { uai: stuck, owner: 'a', epoch: 1 });
          await held;
        });
        try {
          await waitPast(b, (await leaseOf(b.leases, stuck))!.expiresAt);
          const started = Date.now();
          const got = await b.leases.claim('b', [stuck, free], LONG_TTL);
          // Not blocked behind the stuck row: the free school is taken, the stuck one left for later.
          expect(Date.now() - started).toBeLessThan(5_000);
          expect(got.map((l) => [l.uai, l.epoch])).toEqual([[free, 2]]);
        } finally {
          release();
          await write;
        }
        const later = await b.leases.claim('b', [stuck, free], LONG_TTL);
        expect(later.map((l) => [l.uai, l.epoch])).toEqual([
          [stuck, 2],
          [free, 2],
        ]);
      });

    it('refuses the heartbeat of a second live process under the same instance id', async () => {
      const store = await backend.open();
      await store.leases.heartbeat('twin', LONG_TTL, 'boot-1');
      await expect(store.leases.heartbeat('twin', LONG_TTL, 'boot-2')).rejects.toSatisfy(
        isDuplicateInstanceError,
      );
      // The first keeps its place; once it leaves, the second may join.
      expect((await store.leases.heartbeat('twin', LONG_TTL, 'boot-1')).live).toContain('twin');
      await store.leases.leave('twin', 'boot-2'); // not its row: nothing happens
      await expect(store.leases.heartbeat('twin', LONG_TTL, 'boot-2')).rejects.toSatisfy(
        isDuplicateInstanceError,
      );
      await store.leases.leave('twin', 'boot-1');
      expect((await store.leases.heartbeat('twin', LONG_TTL, 'boot-2')).live).toContain('twin');
      await store.leases.leave('twin', 'boot-2');
    });
  });
});
