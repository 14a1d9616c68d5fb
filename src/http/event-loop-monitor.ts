/**
 * How late the event loop runs (perf_hooks.monitorEventLoopDelay): the control plane's health
 * under load (issue 13: p99 under 50 ms while hostile imports run, since they run in workers).
 * The p99 of the last complete window (10 s by default; the window in progress before the first
 * one ends) is the gauge `scope_energie_event_loop_delay_p99_seconds`, and `/readyz` says
 * `event-loop-delay` is missing while the last complete window's is above
 * `server.max_event_loop_delay_ms`, so a load balancer sends requests elsewhere.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Part } from '../lifecycle/part.js';

export interface EventLoopMonitorOptions {
  /** Not ready above this p99, in ms (`server.max_event_loop_delay_ms`). */
  maxDelayMs: number;
  /** Length of a window; 10 s as in the contract. */
  windowMs?: number;
  /** Sampling period of the histogram, in ms. */
  resolutionMs?: number;
}

export const EVENT_LOOP_NOT_READY = 'event-loop-delay';

export class EventLoopMonitor implements Part {
  private readonly histogram: IntervalHistogram;
  private readonly windowMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastWindowP99Ms: number | null = null;
  private readonly listeners = new Set<(p99Ms: number) => void>();

  constructor(private readonly options: EventLoopMonitorOptions) {
    this.histogram = monitorEventLoopDelay({ resolution: options.resolutionMs ?? 10 });
    this.windowMs = options.windowMs ?? 10_000;
  }

  start(): void {
    if (this.timer) return;
    this.histogram.enable();
    this.openWindows();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  /**
   * Starts the first window again, once the service has started: the start-up's own long ticks
   * (migrations, loading the sites, the first plan and publish of every school) are bounded and
   * measured as the start-up time (docs/performance.md), not as serving delay. Without it, the
   * gauge of a service that just became ready reported its start-up (p99 126–168 ms among a few
   * hundred samples) until the first window closed. Only before the first window has closed.
   */
  beginServing(): void {
    if (!this.timer || this.lastWindowP99Ms !== null) return;
    clearInterval(this.timer);
    this.histogram.reset();
    this.openWindows();
  }

  /** p99 delay in seconds: last complete window, else the one in progress (0 before any sample). */
  p99Seconds(): number {
    return this.p99Ms() / 1000;
  }

  /** The part's health (lifecycle/part.ts): the same problems as `readiness()`. */
  health(): string[] {
    return this.readiness();
  }

  /**
   * `['event-loop-delay']` while the last complete window's p99 is above the limit, else nothing.
   * A window in progress is not judged: its first samples would let the start-up's own work (a
   * few long ticks among few samples) make a starting service look unready.
   */
  readiness(): string[] {
    const p99 = this.lastWindowP99Ms;
    return p99 !== null && p99 > this.options.maxDelayMs ? [EVENT_LOOP_NOT_READY] : [];
  }

  /** Calls `listener` with each window's p99 (ms) as it closes; returns the unsubscribe. */
  onWindow(listener: (p99Ms: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private p99Ms(): number {
    return this.lastWindowP99Ms ?? this.currentP99Ms();
  }

  private currentP99Ms(): number {
    // No sample yet: the histogram reports its maximum trackable value; none is 0 ms late.
    return this.histogram.count === 0 ? 0 : this.histogram.percentile(99) / 1e6;
  }

  private openWindows(): void {
    this.timer = setInterval(() => this.closeWindow(), this.windowMs);
    // Measuring must never keep a stopping process alive.
    this.timer.unref();
  }

  private closeWindow(): void {
    const p99 = this.currentP99Ms();
    this.lastWindowP99Ms = p99;
    this.histogram.reset();
    for (const listener of this.listeners) listener(p99);
  }
}
