/**
 * This instance's share of the schools (issue 8, docs/deployment.md): a heartbeat keeps it in the
 * live set, rendezvous hashing over that set says which schools it should hold, and leases in the
 * store make that exclusive. Every `renewMs`:
 *   1. heartbeat (the live set and the database's now);
 *   2. give up, FIRST locally then in the store, the schools another live instance should hold
 *      (a rejoining instance gets its share back; nothing else moves, so no flapping);
 *   3. claim or renew the rest of its share: free and expired leases are taken, live ones of
 *      others are left alone until they lapse (a dead instance's schools move after its lease TTL).
 *
 * Local validity: a lease counts as held only until `tick start + ttl − margin` on this process's
 * MONOTONIC clock. The store's expiry is `database now + ttl` read after the tick started, so the
 * local deadline always comes first, whatever the clocks of the machines say; a process paused
 * (SIGSTOP, GC, VM freeze) past it stops publishing the moment it runs again, before it even talks
 * to the store. Writes are fenced in the store as well (`assertLeaseHeld` with the epoch).
 *
 * With the default 30 s takeover delay: TTL 15 s, renewal every 5 s (two renewals may fail before
 * a lease lapses), so a dead instance's schools are claimed at most TTL + one renewal ≈ 20 s after
 * its last renewal, leaving the new holder ~10 s to plan and re-publish them within the delay
 * (measured in docs/performance.md, "Scale-out").
 */
import { randomUUID } from 'node:crypto';
import type { Part } from '../lifecycle/part.js';
import {
  isDuplicateInstanceError,
  type LeaseFence,
  type LeaseRepository,
} from '../store/lease-repository.js';
import { shareOf } from './rendezvous.js';

export interface SchoolLeasesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SchoolLeasesOptions {
  repository: LeaseRepository;
  instanceId: string;
  /** Every school the site plans (its devices files): the set shared out. */
  schools: () => Iterable<string>;
  /** The longest a dead instance's schools stay unowned; default 30 s. */
  takeoverMs?: number;
  logger?: SchoolLeasesLogger;
  /** Monotonic milliseconds (tests pause it); default `performance.now`. */
  monotonicNow?: () => number;
  /**
   * Whether this instance can do the work now (its broker link is up): when not, it hands every
   * school over and leaves the live set until it can again, so a partition from the BROKER moves
   * the schools as a partition from the database does. Default: always.
   */
  eligible?: () => boolean;
  /**
   * At start, time between joining the live set and claiming: instances started together then see
   * each other before claiming, instead of the first one up claiming and planning every school
   * only to hand most of them over one renewal later. Default 0.
   */
  settleMs?: number;
}

/** One of the two lists is empty: releases are always told before the acquisitions of a tick. */
export interface LeaseChange {
  acquired: string[];
  released: string[];
}

export interface SchoolLeasesStats {
  instanceId: string;
  /** The live set as of the last successful heartbeat (`lastTickAt`): stale while the store is not reached. */
  live: string[];
  held: number;
  ticks: number;
  failedTicks: number;
  /** Failed rounds whose store call timed out (a frozen or unreachable database), a subset of failedTicks. */
  timedOutTicks: number;
  /** Epoch ms (database clock) of the last successful tick, or null. */
  lastTickAt: number | null;
  /** Milliseconds since the store last answered a lease round (null: never), on the monotonic clock. */
  storeSilentMs: number | null;
}

export const DEFAULT_TAKEOVER_MS = 30_000;

/** At stop, the longest wait for a round in flight and for the hand-over write (a frozen store). */
const STOP_STORE_WAIT_MS = 2_000;

async function boundedBy<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Held {
  epoch: number;
  /** Monotonic ms until which this instance may act for the school. */
  validUntil: number;
}

export class SchoolLeases implements Part {
  readonly instanceId: string;
  /** This process's start: tells it apart from another live process misconfigured with the same id. */
  private readonly boot = randomUUID();
  readonly ttlMs: number;
  readonly renewMs: number;
  private readonly marginMs: number;
  private readonly monotonicNow: () => number;
  private held = new Map<string, Held>();
  private readonly listeners = new Set<(change: LeaseChange) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  /** Leases the last round claimed in the store but did not keep: it outlasted their validity. */
  private readonly claimedNotHeld = new Set<string>();
  private live: string[] = [];
  private readonly counters = { ticks: 0, failedTicks: 0, timedOutTicks: 0 };
  private lastTickAt: number | null = null;
  private standingAside = false;
  /** Monotonic ms of the last round the store answered (tick or stand-aside), and of the first start. */
  private storeAnsweredAt: number | null = null;
  private startedAt: number | null = null;
  private lastFailure: string | null = null;
  private consecutiveFailures = 0;

  constructor(private readonly options: SchoolLeasesOptions) {
    const takeover = options.takeoverMs ?? DEFAULT_TAKEOVER_MS;
    if (!(takeover >= 600)) throw new Error(`takeover delay must be at least 600 ms, got ${takeover}`);
    this.instanceId = options.instanceId;
    this.ttlMs = Math.round(takeover / 2);
    this.renewMs = Math.round(takeover / 6);
    // Room for a slow store round trip and timer lateness between two checks.
    this.marginMs = Math.min(2_000, Math.round(this.ttlMs / 10));
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  /** Joins the live set and takes this instance's share before returning. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.monotonicNow();
    const settleMs = this.options.settleMs ?? 0;
    if (settleMs > 0) {
      try {
        await this.options.repository.heartbeat(this.instanceId, this.ttlMs, this.boot);
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'first heartbeat failed; claiming at the first tick');
      }
      await new Promise((resolve) => setTimeout(resolve, settleMs));
    }
    await this.tick();
    this.schedule();
  }

  /** Gives every lease up (listeners hear it first) and leaves the live set: the others take over at once. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A round stuck on a frozen store must not hold the stop past its deadline: the schools are
    // dropped locally now whatever it does, and the store is told if it answers in time.
    await boundedBy(this.ticking, STOP_STORE_WAIT_MS);
    const released = [...this.held.keys()];
    this.held.clear();
    if (released.length > 0) this.emit({ acquired: [], released });
    const inStore = this.heldInStore(released);
    try {
      const told = await boundedBy(
        (async () => {
          await this.options.repository.release(this.instanceId, inStore);
          await this.options.repository.leave(this.instanceId, this.boot);
        })(),
        STOP_STORE_WAIT_MS,
      );
      if (told === 'timeout') throw new Error(`the store did not answer within ${STOP_STORE_WAIT_MS} ms`);
    } catch (error) {
      // The leases then lapse after their TTL: slower, never wrong.
      this.options.logger?.warn({ err: error }, 'could not release leases on stop; they will lapse');
    }
  }

  onChange(listener: (change: LeaseChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while this instance holds a live lease on `uai`: the guard before every publish. */
  owns(uai: string): boolean {
    const held = this.held.get(uai);
    return held !== undefined && this.monotonicNow() < held.validUntil;
  }

  /** The fence for a write on behalf of `uai`, or null when this instance does not hold it. */
  fenceOf(uai: string): LeaseFence | null {
    const held = this.held.get(uai);
    if (!held || this.monotonicNow() >= held.validUntil) return null;
    return { uai, owner: this.instanceId, epoch: held.epoch };
  }

  owned(): string[] {
    return [...this.held.keys()].filter((uai) => this.owns(uai)).sort();
  }

  stats(): SchoolLeasesStats {
    return {
      instanceId: this.instanceId,
      live: [...this.live],
      held: this.owned().length,
      ...this.counters,
      lastTickAt: this.lastTickAt,
      storeSilentMs:
        this.storeAnsweredAt === null ? null : Math.round(this.monotonicNow() - this.storeAnsweredAt),
    };
  }

  /** The part's health (lifecycle/part.ts): the same problems as `readinessProblems()`. */
  health(): string[] {
    return this.readinessProblems();
  }

  /**
   * What `/readyz` lists against this instance's share (issue 22): the store not answering lease
   * rounds (the last answer older than two renewals, or the last round failed), or a share the
   * instance holds none of. Empty when all is well, and before `start()`.
   */
  readinessProblems(): string[] {
    if (!this.running || this.startedAt === null) return [];
    const now = this.monotonicNow();
    const problems: string[] = [];
    const silentSince = this.storeAnsweredAt ?? this.startedAt;
    const silentMs = now - silentSince;
    if (this.lastFailure !== null || silentMs > 2 * this.renewMs + this.marginMs) {
      problems.push(
        `store: lease renewals not answered for ${(silentMs / 1000).toFixed(1)} s${this.lastFailure ? ` (${this.lastFailure})` : ''}`,
      );
    }
    if (!this.standingAside && this.live.includes(this.instanceId)) {
      const share = shareOf(this.instanceId, this.options.schools(), this.live).size;
      if (share > 0 && this.owned().length === 0) {
        problems.push(`leases: holds none of its ${share} school(s) yet`);
      }
    }
    return problems;
  }

  /** One heartbeat-release-claim round (also run by the timer); never throws. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => (this.running ? this.runTick() : undefined));
    return this.ticking;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.nextDelayMs());
  }

  /**
   * The renewal period; after a failed round, sooner (0.5 s doubling to 2 s, ±20 % jitter, never
   * beyond the period): a store back from an outage or a restart is used within seconds, which
   * a full period (5 s by default) would make up to twice as long.
   */
  private nextDelayMs(): number {
    if (this.consecutiveFailures === 0) return this.renewMs;
    const base = Math.min(2_000, 500 * 2 ** (this.consecutiveFailures - 1));
    return Math.min(this.renewMs, Math.round(base * (0.8 + 0.4 * Math.random())));
  }

  private async runTick(): Promise<void> {
    const { repository, instanceId } = this.options;
    if (this.options.eligible && !this.options.eligible()) {
      await this.standAside();
      return;
    }
    this.standingAside = false;
    const started = this.monotonicNow();
    const released: string[] = [];
    // Leases that lapsed locally (the store was unreachable, or this process was paused): whatever
    // the store says now, what was planned and published under them is forgotten and redone.
    for (const [uai, held] of this.held) {
      if (started >= held.validUntil) {
        this.held.delete(uai);
        released.push(uai);
      }
    }
    try {
      const { now, live } = await repository.heartbeat(instanceId, this.ttlMs, this.boot);
      this.live = live;
      const share = shareOf(instanceId, this.options.schools(), live);
      const handOver = [...this.held.keys()].filter((uai) => !share.has(uai));
      for (const uai of handOver) this.held.delete(uai);
      released.push(...handOver);
      if (released.length > 0) this.emit({ acquired: [], released: [...released] });
      released.length = 0;
      if (handOver.length > 0) {
        await repository.release(instanceId, handOver);
        this.options.logger?.info(
          { schools: handOver.length, live },
          'schools handed over to another instance',
        );
      }
      const claimed = await repository.claim(instanceId, [...share], this.ttlMs);
      const validUntil = started + this.ttlMs - this.marginMs;
      const afterClaim = this.monotonicNow();
      // A round slower than a lease's local validity (the process was paused, the store hung):
      // what it claimed has already lapsed here. Holding it would tell listeners "acquired" for
      // schools that owns() already refuses, and the next round would release and acquire them
      // again (seen as a double release under load). The next round claims them afresh.
      const got = afterClaim < validUntil ? claimed : [];
      this.claimedNotHeld.clear();
      if (got.length < claimed.length) {
        for (const lease of claimed) this.claimedNotHeld.add(lease.uai);
        this.options.logger?.warn(
          { schools: claimed.length, roundMs: Math.round(afterClaim - started) },
          'lease round outlasted the lease validity: claiming again at the next round',
        );
      }
      const acquired: string[] = [];
      const next = new Map<string, Held>();
      for (const lease of got) {
        const previous = this.held.get(lease.uai);
        // A new tenure: not held, another epoch, or held but lapsed locally DURING this tick (a
        // slow store round trip): what was done meanwhile (owns() was false) must be redone.
        if (!previous || previous.epoch !== lease.epoch || afterClaim >= previous.validUntil) {
          if (previous) released.push(lease.uai);
          acquired.push(lease.uai);
        }
        next.set(lease.uai, { epoch: lease.epoch, validUntil });
      }
      for (const uai of this.held.keys()) if (!next.has(uai)) released.push(uai);
      // Listeners hear "released" while the school is not held (they drop it), then "acquired"
      // once it is (they plan it afresh): never both at once.
      for (const uai of released) this.held.delete(uai);
      if (released.length > 0) this.emit({ acquired: [], released: released.sort() });
      this.held = next;
      this.counters.ticks += 1;
      this.lastTickAt = now;
      this.storeAnswered();
      if (acquired.length > 0) {
        this.emit({ acquired: acquired.sort(), released: [] });
        this.options.logger?.info({ schools: acquired.length, live }, 'school leases acquired');
      }
    } catch (error) {
      this.storeFailed(error);
      if (isDuplicateInstanceError(error)) {
        // Both processes would hold the same leases under one fencing identity: this one steps
        // back at once and keeps trying, taking over only once the other is gone.
        for (const uai of this.held.keys()) released.push(uai);
        this.held.clear();
      }
      if (released.length > 0) this.emit({ acquired: [], released });
      this.options.logger?.error(
        { err: error },
        'lease renewal failed: schools stop being published when their lease lapses locally',
      );
    }
  }

  /** Not eligible: every school goes to the others at once (not after the TTL), once. */
  private async standAside(): Promise<void> {
    const released = [...this.held.keys()];
    this.held.clear();
    this.live = [];
    if (released.length > 0) this.emit({ acquired: [], released });
    if (!this.standingAside) {
      this.options.logger?.warn(
        { schools: released.length },
        'broker unreachable: handing every school over until it is back',
      );
    }
    this.standingAside = true;
    const inStore = this.heldInStore(released);
    try {
      if (inStore.length > 0) await this.options.repository.release(this.options.instanceId, inStore);
      await this.options.repository.leave(this.options.instanceId, this.boot);
      this.storeAnswered();
    } catch (error) {
      this.storeFailed(error);
      this.options.logger?.error({ err: error }, 'could not hand schools over; their leases will lapse');
    }
  }

  /**
   * What this instance holds in the store, to release: `released` (held here) and the leases a
   * slow round claimed there and did not keep (runTick), which the others should not wait a TTL
   * for. Forgets the latter.
   */
  private heldInStore(released: readonly string[]): string[] {
    const inStore = [...new Set([...released, ...this.claimedNotHeld])].sort();
    this.claimedNotHeld.clear();
    return inStore;
  }

  private storeAnswered(): void {
    this.storeAnsweredAt = this.monotonicNow();
    this.lastFailure = null;
    this.consecutiveFailures = 0;
  }

  private storeFailed(error: unknown): void {
    this.counters.failedTicks += 1;
    this.consecutiveFailures += 1;
    if (isTimeout(error)) this.counters.timedOutTicks += 1;
    this.lastFailure = error instanceof Error ? error.message : String(error);
  }

  private emit(change: LeaseChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.logger?.error({ err: error }, 'lease change listener failed');
      }
    }
  }
}

/**
 * The store did not answer in time: the server cancelled the statement (57014 statement_timeout,
 * 55P03 lock_timeout) or the client gave up waiting (pg's query_timeout and connection timeout).
 */
function isTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === '57014' || code === '55P03') return true;
  return typeof message === 'string' && /timeout|timed out/i.test(message);
}
