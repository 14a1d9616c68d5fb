/**
 * A node-cron job that never silently skips a run (issue 22). node-cron 4 drops an execution it
 * could not start on time ("[NODE-CRON] [WARN] missed execution at …": the event loop was late,
 * the process paused, the clock jumped), so a sync or an hourly replan could be lost. node-cron
 * still fires the runs (its expressions, evaluated in UTC); a guard on the injected clock notices
 * when an instant the expression matched went by without a run, runs the job late, once for
 * however many instants were missed, and counts it.
 *
 * Why keep node-cron: the expressions are already configuration (`sync.cron`) and validated by it,
 * and its `match()` is what the guard reads the schedule with, so both agree on what was due.
 */
import { type ScheduledTask, schedule as scheduleCron } from 'node-cron';
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';

export interface ScheduledJobLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ScheduledJobOptions {
  /** node-cron expression, five fields (minute first) or six (seconds first); evaluated in UTC. */
  expression: string;
  /** Names the job in logs and metrics. */
  name: string;
  run: () => Promise<void>;
  clock: Clock;
  logger?: ScheduledJobLogger;
  /** How often the guard looks; default 15 s. */
  checkEveryMs?: number;
  /** Lateness tolerated before a due run counts as missed; default 30 s (a busy loop, a slow start). */
  graceMs?: number;
}

export interface ScheduledJobStats {
  name: string;
  /** Runs started by node-cron on time. */
  onTime: number;
  /** Runs the guard started because node-cron skipped their instant. */
  late: number;
  /** Instants the expression matched that node-cron did not run (several can share one late run). */
  missed: number;
}

/** The guard never scans further than this for the next instant (a yearly expression stops there). */
const MAX_SCAN_STEPS = 200_000;

export class ScheduledJob implements Part {
  private task: ScheduledTask | undefined;
  private guard: NodeJS.Timeout | undefined;
  private readonly stepMs: number;
  /** The last instant the expression matched that has been run (or was before the start). */
  private covered = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly counters = { onTime: 0, late: 0, missed: 0 };

  constructor(private readonly options: ScheduledJobOptions) {
    // Six fields: the first is seconds, so instants are a second apart; else a minute.
    this.stepMs = options.expression.trim().split(/\s+/).length === 6 ? 1_000 : 60_000;
  }

  start(): void {
    if (this.task) return;
    this.covered = this.options.clock.now();
    this.task = scheduleCron(
      this.options.expression,
      async () => {
        this.covered = Math.max(this.covered, this.latestDueAtOrBefore(this.options.clock.now()));
        this.counters.onTime += 1;
        await this.execute();
      },
      // UTC, never Europe/Paris: node-cron 4.6 skips a whole hour of runs at the autumn switch there.
      { timezone: 'UTC', name: this.options.name, noOverlap: true },
    );
    // node-cron's own "missed" notice: look at once (a listener also silences its console warning).
    this.task.on('execution:missed', () => {
      this.check();
    });
    this.guard = setInterval(() => this.check(), this.options.checkEveryMs ?? 15_000);
    this.guard.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.guard);
    this.guard = undefined;
    const task = this.task;
    this.task = undefined;
    if (task) {
      await task.stop();
      await task.destroy();
    }
    await this.running;
  }

  stats(): ScheduledJobStats {
    return { name: this.options.name, ...this.counters };
  }

  /**
   * Runs the job late when an instant due more than the grace ago was not run (the guard's timer
   * calls it; tests call it after moving the clock). Returns whether it started a late run.
   */
  check(): boolean {
    if (!this.task) return false;
    const now = this.options.clock.now();
    const grace = this.options.graceMs ?? 30_000;
    const next = this.nextDueAfter(this.covered, now - grace);
    if (next === null) return false;
    const latest = this.latestDueAtOrBefore(now);
    let missed = 0;
    for (let due: number | null = next; due !== null; due = this.nextDueAfter(due, latest + 1)) missed += 1;
    this.covered = latest;
    this.counters.late += 1;
    this.counters.missed += missed;
    this.options.logger?.warn(
      {
        job: this.options.name,
        missed,
        first_missed_at: new Date(next).toISOString(),
        late_by_s: Math.round((now - next) / 1000),
      },
      'scheduled run missed (event loop late, process paused or clock jump): running it now',
    );
    void this.execute();
    return true;
  }

  private async execute(): Promise<void> {
    // One run at a time, and a run asked for meanwhile is not lost: it follows the current one.
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.options.run();
        } catch (error) {
          this.options.logger?.error({ err: error, job: this.options.name }, 'scheduled run failed');
        }
      } while (this.again && this.task);
      this.running = undefined;
    })();
    return this.running;
  }

  private matches(at: number): boolean {
    return this.task?.match(new Date(at)) === true;
  }

  /** The first instant in (`after`, `until`) the expression matches, or null (also past the scan limit). */
  private nextDueAfter(after: number, until: number): number | null {
    let at = Math.floor(after / this.stepMs) * this.stepMs + this.stepMs;
    for (let i = 0; i < MAX_SCAN_STEPS && at < until; i++, at += this.stepMs) if (this.matches(at)) return at;
    return null;
  }

  /** The last instant at or before `at` the expression matches (or `covered` when none since). */
  private latestDueAtOrBefore(at: number): number {
    let t = Math.floor(at / this.stepMs) * this.stepMs;
    for (; t > this.covered; t -= this.stepMs) if (this.matches(t)) return t;
    return this.covered;
  }
}
