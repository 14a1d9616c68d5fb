/**
 * Calls back when the next replaced gateway credential lapses (`previous.valid_until` in
 * devices/), so brokers stop accepting it at that instant rather than at the next reload.
 */
import { nextLapse } from '../devices/gateway-logins.js';
import type { Clock } from '../domain/clock.js';
import type { Site } from './load-site.js';

/** Node's timers overflow past 2^31-1 ms (~24.8 days): longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface LapseTimer {
  /** Re-reads the lapse instants (after a reload). */
  reschedule(): void;
  stop(): void;
}

export function watchCredentialLapses(site: () => Site, clock: Clock, onLapse: () => void): LapseTimer {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const now = clock.now();
    const next = nextLapse(
      [...site().devices.values()].map((d) => d.value),
      now,
    );
    if (next === null) return;
    const wait = Math.min(next - now, MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (clock.now() >= next) onLapse();
      schedule();
    }, wait);
    timer.unref();
  };
  schedule();
  return {
    reschedule: schedule,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
