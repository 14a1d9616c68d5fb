/**
 * Turns school plans into timed desired-state publications (issue 6, "Dispatcher"):
 * - at start, the state that holds NOW for every zone function (never replaying past
 *   transitions: docs/mqtt.md, "Where the shape of the contract comes from"), with revs continued from the store;
 * - ONE timer on the next transition instant across all schools, in epoch ms from the plans
 *   (already UTC: no local-time arithmetic here, so DST nights need no special case), each wait
 *   capped at `maxTimerMs` (setTimeout's limit is 24.8 days, and clocks drift);
 * - at each transition, the zones whose state changed: new rev, `desired`, and a fresh 48 h
 *   `schedule`;
 * - after a plan change (feed), the school's zones are re-evaluated;
 * - after a clock jump (a timer firing far from the wall-clock instant it was armed for), every
 *   zone is re-evaluated at the new now;
 * - every schedule is re-issued once it is `scheduleRefreshMs` old, so a gateway always holds
 *   a day or more ahead.
 *
 * All work runs in one serial queue: a timer, a plan change and a stop never interleave.
 *
 * Several instances (issue 8): a school is dispatched only under its lease (`fenceOf`); its revs
 * are allocated in a transaction that checks the lease epoch, and a school taken over from another
 * instance has its stored revs read afresh, so revs keep increasing across owners.
 */

import {
  desiredContentHash,
  desiredContentOf,
  desiredPayload,
  nextBoundaryAfter,
  sameScheduleEntries,
  schedulePayload,
  segmentAt,
} from '../contract/desired-state.js';
import type { SchedulePayload } from '../contract/topics.js';
import type { ZoneFunction } from '../devices/schema.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import type { Segment } from '../rules/segment.js';
import type {
  BridgeStateRepository,
  DesiredProposal,
  StoredDesired,
} from '../store/bridge-state-repository.js';
import { isLeaseLostError, type LeaseFence } from '../store/lease-repository.js';
import type { PlanFeed } from './plan-feed.js';
import type { BridgePublisher, StateChange } from './publisher.js';
import { SchoolKeyedMap } from './school-keyed-map.js';
import type { SchoolPlan } from './school-plan.js';

/** Timers, injectable so tests can drive them (vitest fake timers or a manual scheduler). */
export interface Scheduler {
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** `setTimeout`, looked up at each call so fake timers installed later are used. */
export const timeoutScheduler: Scheduler = {
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** `clear` empties a removed zone function's retained topics; without it they are only forgotten. */
export type DispatcherPublisher = Pick<BridgePublisher, 'apply' | 'forget'> &
  Partial<Pick<BridgePublisher, 'clear'>>;

export interface DispatcherOptions {
  feed: PlanFeed;
  publisher: DispatcherPublisher;
  repository: BridgeStateRepository;
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: MqttLogger;
  /** Longest single wait; default 1 h. */
  maxTimerMs?: number;
  /** A wake-up further than this from its wall-clock instant is a clock jump; default 60 s. */
  jumpToleranceMs?: number;
  /** Age at which a schedule is re-issued; default 24 h (half its 48 h span). */
  scheduleRefreshMs?: number;
  /**
   * The lease a school's revs are allocated under; null when this instance does not hold the
   * school (then it is not dispatched). Without it every school is this instance's.
   */
  fenceOf?: (uai: string) => LeaseFence | null;
}

export interface DispatcherStats {
  /** Evaluations run (start, timers, plan changes, jumps). */
  evaluations: number;
  /** Desired states that got a new rev. */
  transitions: number;
  clockJumps: number;
  /** Epoch ms the timer is armed for (the wall-clock instant), or null. */
  nextWakeAt: number | null;
}

interface Tracked {
  uai: string;
  zone: string;
  function: ZoneFunction;
  /** The stored desired state currently published. */
  desired?: StoredDesired;
  schedule?: SchedulePayload;
  /**
   * When `schedule` is due again (its issued_at + scheduleRefreshMs), epoch ms: kept as a number
   * because arm() reads it for every zone function after each school's evaluation, and parsing
   * issued_at there cost ~12 s of a region's first cycle (350 schools × 28,000 zone functions).
   */
  scheduleRefreshAt?: number;
  /** Next instant this zone function may change, epoch ms. */
  nextAt?: number;
}

/** No schedule yet, or its refresh instant has come. */
function scheduleStale(tracked: Tracked, now: number): boolean {
  return tracked.scheduleRefreshAt === undefined || tracked.scheduleRefreshAt <= now;
}

const HOUR_MS = 3_600_000;
const RETRY_MS = 30_000;
const keyOf = (uai: string, zone: string, fn: string): string => `${uai}/${zone}/${fn}`;

export class Dispatcher implements Part {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: MqttLogger;
  private readonly maxTimerMs: number;
  private readonly jumpToleranceMs: number;
  private readonly scheduleRefreshMs: number;
  private readonly tracked = new SchoolKeyedMap<Tracked>((t) => t.uai);
  private readonly stored = new SchoolKeyedMap<StoredDesired>((s) => s.uai);
  private queue: Promise<void> = Promise.resolve();
  private timer: unknown;
  private armedFor: number | null = null;
  private dirty = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private storedLoaded = false;
  /**
   * Schools whose stored revs are current in `stored`, with the lease epoch they were read under
   * (dropped when a school is forgotten; read again when the epoch changes).
   */
  private readonly storedSchools = new Map<string, number | undefined>();
  private retryAll = false;
  private readonly counters = { evaluations: 0, transitions: 0, clockJumps: 0 };

  constructor(private readonly options: DispatcherOptions) {
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? timeoutScheduler;
    this.logger = options.logger ?? silentLogger;
    this.maxTimerMs = options.maxTimerMs ?? HOUR_MS;
    this.jumpToleranceMs = options.jumpToleranceMs ?? 60_000;
    this.scheduleRefreshMs = options.scheduleRefreshMs ?? 24 * HOUR_MS;
  }

  /** Loads the stored revs, publishes the state holding now for every zone, arms the timer. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.feed.subscribe((uai) => {
      this.dirty.add(uai);
      this.enqueue(() => this.evaluateDirty());
    });
    await this.enqueue(() => this.evaluateEverything());
  }

  /** Disarms the timer and stops listening; waits for work in progress. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.disarm();
    await this.queue;
  }

  /** Resolves once the work queued so far (timer, plan changes) is done. */
  idle(): Promise<void> {
    return this.queue;
  }

  stats(): DispatcherStats {
    return { ...this.counters, nextWakeAt: this.armedFor };
  }

  /**
   * The latest rev, its issue instant and what it asks per zone function (for the gateway
   * tracker, which matches zigbee2mqtt device state against the mode and setpoint).
   */
  latest(
    uai: string,
    zone: string,
    fn: ZoneFunction,
  ): { rev: number; issuedAt: number; mode: string; setpoint_c?: number } | undefined {
    const desired = this.tracked.get(keyOf(uai, zone, fn))?.desired;
    if (!desired) return undefined;
    const { mode, setpoint_c } = desired.content;
    return {
      rev: desired.rev,
      issuedAt: desired.issuedAt,
      mode,
      ...(setpoint_c === undefined ? {} : { setpoint_c }),
    };
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (!this.running) return;
      try {
        await work();
      } catch (error) {
        this.logger.error(
          { error: (error as Error).message },
          'dispatcher evaluation failed: retrying in 30 s',
        );
        // Start over shortly (every school, at the then current now) rather than going silent
        // until the next plan change.
        this.retryAll = true;
        this.arm(Math.min(this.maxTimerMs, RETRY_MS));
      }
    });
    this.queue = next;
    return next;
  }

  /** Every school from scratch: at start, and to recover after a failed evaluation. */
  private async evaluateEverything(): Promise<void> {
    this.retryAll = true;
    if (!this.storedLoaded) {
      // Epochs read BEFORE the load: a school whose lease changes hands meanwhile is not marked
      // current, so its first evaluation re-reads what the previous holder wrote.
      const epochs = new Map(
        [...this.options.feed.plans()].map((plan) => [plan.uai, this.options.fenceOf?.(plan.uai)?.epoch]),
      );
      const rows = await this.options.repository.loadDesired();
      this.stored.clear();
      for (const s of rows) this.stored.set(keyOf(s.uai, s.zone, s.function), s);
      for (const [uai, epoch] of epochs) {
        if (this.options.fenceOf?.(uai)?.epoch === epoch) this.storedSchools.set(uai, epoch);
      }
      this.storedLoaded = true;
    }
    const changes: StateChange[] = [];
    for (const plan of [...this.options.feed.plans()])
      changes.push(...(await this.evaluateSchool(plan.uai, 'all')));
    await this.publish(changes);
    this.retryAll = false;
    this.arm();
  }

  private async evaluateDirty(): Promise<void> {
    const uais = [...this.dirty];
    this.dirty.clear();
    const changes: StateChange[] = [];
    for (const uai of uais) changes.push(...(await this.evaluateSchool(uai, 'all')));
    await this.publish(changes);
    this.arm();
  }

  private async wake(): Promise<void> {
    if (this.retryAll) {
      await this.evaluateEverything();
      return;
    }
    const now = this.clock.now();
    const expected = this.armedFor;
    this.armedFor = null;
    const jumped = expected !== null && Math.abs(now - expected) > this.jumpToleranceMs;
    if (jumped) {
      this.counters.clockJumps += 1;
      this.logger.warn(
        { expected: new Date(expected).toISOString(), now: new Date(now).toISOString() },
        'clock jump detected: re-evaluating every zone',
      );
    }
    const uais = new Set<string>();
    for (const tracked of this.tracked.values()) {
      const scheduleDue = tracked.scheduleRefreshAt !== undefined && tracked.scheduleRefreshAt <= now;
      if (jumped || scheduleDue || (tracked.nextAt !== undefined && tracked.nextAt <= now))
        uais.add(tracked.uai);
    }
    const changes: StateChange[] = [];
    for (const uai of uais) changes.push(...(await this.evaluateSchool(uai, jumped ? 'all' : 'due')));
    await this.publish(changes);
    this.arm();
  }

  /**
   * Re-evaluates one school at now. `all`: every zone function (start, plan change, clock jump),
   * schedules re-issued when their entries changed; `due`: those whose next instant has come or
   * whose schedule is old.
   */
  /**
   * One publication for everything an evaluation round changed: the publisher pipelines it through
   * its window, where one apply per school waited for each school's PUBACKs in turn (a region's
   * first start spent most of its time idle that way).
   */
  private async publish(changes: readonly StateChange[]): Promise<void> {
    if (changes.length > 0) await this.options.publisher.apply(changes);
  }

  /** Re-evaluates one school; answers the changes to publish (recorded in the store already). */
  private async evaluateSchool(uai: string, scope: 'all' | 'due'): Promise<StateChange[]> {
    this.counters.evaluations += 1;
    const now = this.clock.now();
    const plan = this.options.feed.plan(uai);
    const fence = this.options.fenceOf ? this.options.fenceOf(uai) : undefined;
    if (!plan || fence === null) {
      this.forgetSchool(uai);
      return [];
    }
    if (!this.storedSchools.has(uai) || this.storedSchools.get(uai) !== fence?.epoch) {
      // New to this instance (taken over, or back after a hand-over or a lapse): another instance
      // may have moved its revs on meanwhile, so nothing held from before counts.
      this.tracked.deleteSchool(uai);
      this.stored.deleteSchool(uai);
      for (const row of await this.options.repository.loadDesired(uai))
        this.stored.set(keyOf(row.uai, row.zone, row.function), row);
      this.storedSchools.set(uai, fence?.epoch);
    }
    const trace = {
      plan_hash: plan.hash,
      timetable_version: plan.timetableVersion,
      rules_version: plan.rulesVersion,
    };
    const proposals: DesiredProposal[] = [];
    const pending: { tracked: Tracked; segments: readonly Segment[]; desired?: StoredDesired }[] = [];
    const seen = new Set<string>();
    for (const { zone, segments, fn } of zoneFunctions(plan)) {
      const key = keyOf(uai, zone, fn);
      seen.add(key);
      let tracked = this.tracked.get(key);
      if (!tracked) {
        tracked = { uai, zone, function: fn };
        this.tracked.set(key, tracked);
      }
      const scheduleDue = scheduleStale(tracked, now);
      const transitionDue = tracked.nextAt === undefined || tracked.nextAt <= now;
      if (scope === 'due' && !scheduleDue && !transitionDue) continue;
      tracked.nextAt = nextBoundaryAfter(segments, now);
      const segment = segmentAt(segments, now);
      if (!segment) {
        if (tracked.desired) {
          this.logger.warn(
            { uai, zone, function: fn },
            'no plan segment holds now: nothing new published for this zone',
          );
        }
        pending.push({ tracked, segments });
        continue;
      }
      const content = desiredContentOf(segment, trace);
      const hash = desiredContentHash(content);
      // What this instance published, else what the store holds from before a restart.
      const current = tracked.desired ?? this.stored.get(key);
      if (current?.contentHash === hash) {
        // Unchanged: publish the stored document (same rev, same bytes) only if not yet done.
        pending.push({ tracked, segments, ...(tracked.desired ? {} : { desired: current }) });
      } else {
        proposals.push({ zone, function: fn, contentHash: hash, content, issuedAt: now });
        pending.push({ tracked, segments });
      }
    }
    for (const [key, tracked] of this.tracked.ofSchool(uai)) {
      if (!seen.has(key)) {
        this.tracked.delete(key);
        this.options.publisher.forget(uai, tracked.zone, tracked.function);
      }
    }
    await this.clearRemoved(uai, seen, fence);

    const recorded = new Map<string, StoredDesired>();
    let written: StoredDesired[];
    try {
      written = await this.options.repository.recordDesired(uai, proposals, fence);
    } catch (error) {
      if (!isLeaseLostError(error)) throw error;
      // Another instance holds the school now: nothing of ours may go out for it.
      this.logger.warn({ uai }, 'lease lost while dispatching: school dropped by this instance');
      this.forgetSchool(uai);
      return [];
    }
    for (const stored of written) {
      const key = keyOf(stored.uai, stored.zone, stored.function);
      this.stored.set(key, stored);
      recorded.set(key, stored);
      this.counters.transitions += 1;
    }

    const changes: StateChange[] = [];
    for (const entry of pending) {
      const { tracked, segments } = entry;
      const desired = entry.desired ?? recorded.get(keyOf(uai, tracked.zone, tracked.function));
      const change: StateChange = { uai, zone: tracked.zone, function: tracked.function };
      if (desired) {
        tracked.desired = desired;
        change.desired = desiredPayload(desired.content, desired.rev, desired.issuedAt);
      }
      const schedule = schedulePayload(tracked.function, segments, now);
      if (schedule) {
        const old = tracked.schedule;
        if (
          change.desired ||
          scheduleStale(tracked, now) ||
          old === undefined ||
          !sameScheduleEntries(old, schedule)
        ) {
          tracked.schedule = schedule;
          tracked.scheduleRefreshAt = Date.parse(schedule.issued_at) + this.scheduleRefreshMs;
          change.schedule = schedule;
        }
      }
      if (change.desired || change.schedule) changes.push(change);
    }
    return changes;
  }

  /**
   * Zone functions of this school stored from before (a devices/ reload, or a restart after an
   * edit) that its plan no longer has: their retained topics are emptied, then their rows
   * deleted. A row stays while its clear did not fully go out (offline, lease lost), so the next
   * evaluation tries again. Runs only under the school's lease (evaluateSchool's caller checked).
   */
  private async clearRemoved(uai: string, seen: ReadonlySet<string>, fence: LeaseFence | undefined) {
    const clear = this.options.publisher.clear?.bind(this.options.publisher);
    if (!clear) return;
    const removed = this.stored.ofSchool(uai).filter(([key]) => !seen.has(key));
    const cleared: { key: string; zone: string; function: ZoneFunction }[] = [];
    for (const [key, stored] of removed) {
      const tally = await clear(uai, stored.zone, stored.function);
      if (tally.sent === 2) cleared.push({ key, zone: stored.zone, function: stored.function });
    }
    if (cleared.length === 0) return;
    try {
      await this.options.repository.forgetDesired(uai, cleared, fence);
    } catch (error) {
      if (!isLeaseLostError(error)) throw error;
      return;
    }
    for (const { key } of cleared) this.stored.delete(key);
    this.logger.info(
      { uai, cleared: cleared.map((c) => `${c.zone}/${c.function}`) },
      'removed zone functions: retained desired and schedule emptied',
    );
  }

  private forgetSchool(uai: string): void {
    this.tracked.deleteSchool(uai);
    this.storedSchools.delete(uai);
    this.options.publisher.forget(uai);
    this.logger.info({ uai }, 'school plan removed: no longer dispatched');
  }

  /** Arms the single timer on the earliest next instant (capped), or after `delayOverride`. */
  private arm(delayOverride?: number): void {
    this.disarm();
    if (!this.running) return;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const tracked of this.tracked.values()) {
      if (tracked.nextAt !== undefined && tracked.nextAt < next) next = tracked.nextAt;
      if (tracked.scheduleRefreshAt !== undefined && tracked.scheduleRefreshAt < next)
        next = tracked.scheduleRefreshAt;
    }
    const delay = delayOverride ?? Math.max(0, Math.min(next - now, this.maxTimerMs));
    this.armedFor = now + delay;
    this.timer = this.scheduler.setTimer(() => {
      this.timer = undefined;
      void this.enqueue(() => this.wake());
    }, delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.scheduler.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = null;
  }
}

function* zoneFunctions(
  plan: SchoolPlan,
): Iterable<{ zone: string; fn: ZoneFunction; segments: readonly Segment[] }> {
  for (const entry of plan.zones) {
    for (const [fn, segments] of Object.entries(entry.functions) as [ZoneFunction, Segment[] | undefined][]) {
      if (segments) yield { zone: entry.zone, fn, segments };
    }
  }
}
