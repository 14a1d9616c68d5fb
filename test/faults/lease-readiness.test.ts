/**
 * Issue 22, "readiness that tells the truth" on the lease side (src/cluster/school-leases.ts): with
 * the real store and an injected monotonic clock, an instance whose store stops answering (calls
 * hang, as on a frozen database) says so within two renewals, and says it holds none of its share
 * once its leases lapsed; a renewal that failed by timeout is counted apart; all clears on the
 * next answered round.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SchoolLeases } from '../../src/cluster/school-leases.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import type { LeaseRepository } from '../../src/store/lease-repository.js';
import { storeBackends } from '../store/backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const SCHOOLS = Array.from({ length: 4 }, (_, i) => {
  const digits = `0${String(990_000 + i).padStart(6, '0')}`;
  return `${digits}${uaiCheckLetter(digits)}`;
});

/** A repository whose calls hang while `paused`, and fail with `failure` while it is set. */
function faulty(repository: LeaseRepository) {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  let failure: Error | undefined;
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await gate;
      if (failure) throw failure;
      return call(...args);
    };
  return {
    repository: {
      heartbeat: wrap(repository.heartbeat.bind(repository)),
      leave: wrap(repository.leave.bind(repository)),
      claim: wrap(repository.claim.bind(repository)),
      release: wrap(repository.release.bind(repository)),
      leases: wrap(repository.leases.bind(repository)),
      instances: wrap(repository.instances.bind(repository)),
      now: wrap(repository.now.bind(repository)),
    } satisfies LeaseRepository,
    pause() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    resume: () => open(),
    fail(error: Error | undefined) {
      failure = error;
    },
  };
}

describe.each(backends)('lease readiness on $name', (backend) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reports a silent store within two renewals, a lapsed share, timed-out renewals, and clears once answered', async () => {
    const store = await backend.open();
    const fault = faulty(store.leases);
    let mono = 1_000_000;
    // 60 s takeover: TTL 30 s, renewal 10 s, margin 2 s; the timer never ticks during the test.
    const leases = new SchoolLeases({
      repository: fault.repository,
      instanceId: `ready-${backend.name}`,
      schools: () => SCHOOLS,
      takeoverMs: 60_000,
      monotonicNow: () => mono,
    });
    cleanups.push(
      () => leases.stop(),
      () => fault.resume(),
    );
    await leases.start();
    expect(leases.owned()).toEqual([...SCHOOLS].sort());
    expect(leases.readinessProblems()).toEqual([]);

    // Frozen store: the round hangs. Within two renewals plus the margin nothing is said yet.
    fault.pause();
    const hung = leases.tick();
    mono += 2 * 10_000 + 2_000;
    expect(leases.readinessProblems()).toEqual([]);
    mono += 1;
    expect(leases.readinessProblems()).toEqual(['store: lease renewals not answered for 22.0 s']);
    // Past the local lease validity the instance holds nothing of its share.
    mono += 10_000;
    expect(leases.owned()).toEqual([]);
    expect(leases.readinessProblems()).toEqual([
      'store: lease renewals not answered for 32.0 s',
      'leases: holds none of its 4 school(s) yet',
    ]);

    // The client gives up on the frozen server: a timed-out renewal, counted apart.
    fault.fail(new Error('Query read timeout'));
    fault.resume();
    await hung;
    expect(leases.stats()).toMatchObject({ failedTicks: 1, timedOutTicks: 1 });
    expect(leases.readinessProblems()[0]).toBe(
      'store: lease renewals not answered for 32.0 s (Query read timeout)',
    );

    // The store answers again: the next round takes the share back and readiness clears.
    fault.fail(undefined);
    await leases.tick();
    expect(leases.owned()).toEqual([...SCHOOLS].sort());
    expect(leases.readinessProblems()).toEqual([]);
    expect(leases.stats()).toMatchObject({ failedTicks: 1, timedOutTicks: 1, storeSilentMs: 0 });
  });
});
