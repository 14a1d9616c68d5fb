/**
 * A scheduler the test drives: timers fire only when `advanceTo` moves the ManualClock past them,
 * in order, each at its exact instant; the dispatcher's work is awaited after each one. Real
 * sockets keep their real timers (vitest fake timers would freeze mqtt.js keep-alives too).
 */
import type { Dispatcher, Scheduler } from '../../src/bridge/dispatcher.js';
import type { ManualClock } from '../../src/domain/clock.js';

interface Timer {
  callback: () => void;
  at: number;
  delay: number;
}

export class ManualScheduler implements Scheduler {
  private readonly timers = new Set<Timer>();
  /** Every delay ever asked for, to check the cap. */
  readonly delays: number[] = [];

  constructor(private readonly clock: ManualClock) {}

  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { callback, at: this.clock.now() + delayMs, delay: delayMs };
    this.delays.push(delayMs);
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  pending(): number[] {
    return [...this.timers].map((t) => t.at);
  }

  async advanceTo(instant: string | number, dispatcher: Dispatcher): Promise<void> {
    const to = typeof instant === 'string' ? Date.parse(instant) : instant;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.clock.set(due.at);
      due.callback();
      await dispatcher.idle();
    }
    this.clock.set(to);
  }
}
