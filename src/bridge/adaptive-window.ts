/**
 * Pacing that adapts to the broker from PUBACK round trips (issue 18): the number of QoS 1
 * publishes awaiting their PUBACK (the window) grows while round trips stay near the quickest
 * seen and shrinks when they lengthen — the broker, or the machine it shares, is queueing.
 *
 * The rule is LEDBAT's (RFC 6817 §2.4.2), with PUBACKs for acknowledged bytes and messages for
 * segments: `queuing = current − base`, where `current` is the smallest of the last
 * `currentFilter` round trips (§3.4.2: a minimum filters the noise of a process scheduled late on
 * a shared machine, which delays some acknowledgements, not all) and `base` the smallest of the
 * current and previous `baseEpochAcks` acknowledgements (§3.4.1's base-delay history, counted in
 * acknowledgements since there is no clock here); per acknowledgement the window moves by
 * `gain × (target − queuing) / target / window`, i.e. at most `gain` per round trip up and, clamped
 * here, at most `maxDecrease` per round trip down; a failed publish halves it (§2.4.2, loss). The
 * window stays between `min` and `max`.
 *
 * A PUBACK says the broker holds the message, not that subscribers do (echo-guard.ts): `max`
 * bounds the window so that a broker forwarding at most 20 unacknowledged messages to each
 * subscriber (Mosquitto's `max_inflight_messages`) is not handed more at once than it passes on
 * (docs/performance.md, "Issue 18"). Pure: round trips come in as numbers, no clock, no I/O.
 */
export interface AdaptiveWindowOptions {
  /** Window at start and after `reset()`. */
  initial?: number;
  /** Smallest window. */
  min?: number;
  /** Largest window. */
  max?: number;
  /** Queuing delay aimed at, ms (LEDBAT's TARGET). */
  targetMs?: number;
  /** Most the window grows per round trip (LEDBAT's GAIN). */
  gain?: number;
  /** Most the window shrinks per round trip from queuing delay. */
  maxDecrease?: number;
  /** Round trips whose minimum is the current delay. */
  currentFilter?: number;
  /** Acknowledgements per epoch of the base round trip's sliding minimum. */
  baseEpochAcks?: number;
}

export const ADAPTIVE_WINDOW_DEFAULTS = {
  initial: 4,
  min: 1,
  max: 16,
  targetMs: 2,
  gain: 1,
  maxDecrease: 4,
  currentFilter: 8,
  baseEpochAcks: 2_000,
} as const satisfies Required<AdaptiveWindowOptions>;

export class AdaptiveWindow {
  private readonly o: Required<AdaptiveWindowOptions>;
  /** The window, fractional: steps are spread over the acknowledgements of a round trip. */
  private size: number;
  private currentMin = Number.POSITIVE_INFINITY;
  private previousMin = Number.POSITIVE_INFINITY;
  private acksInEpoch = 0;
  /** The last `currentFilter` round trips (a ring). */
  private readonly recent: number[] = [];
  private recentNext = 0;
  /** Smoothed round trip (RFC 6298 §2: α = 1/8), ms; undefined before the first sample. */
  private smoothed: number | undefined;
  /** Halvings after a failed publish since made. */
  backoffs = 0;

  constructor(options: AdaptiveWindowOptions = {}) {
    this.o = { ...ADAPTIVE_WINDOW_DEFAULTS, ...options };
    const { min, max, targetMs, gain, maxDecrease, currentFilter } = this.o;
    if (!(Number.isInteger(min) && min >= 1 && Number.isInteger(max) && max >= min))
      throw new RangeError(`adaptive window bounds must be integers with 1 ≤ min ≤ max, got ${min}, ${max}`);
    if (
      !(targetMs > 0 && gain > 0 && maxDecrease > 0 && Number.isInteger(currentFilter) && currentFilter >= 1)
    )
      throw new RangeError('adaptive window needs a positive target, gain, maxDecrease and currentFilter');
    this.size = Math.min(max, Math.max(min, this.o.initial));
  }

  /** Publishes allowed awaiting their PUBACK now. */
  get limit(): number {
    return Math.floor(this.size);
  }

  /** The window with its fraction (for tests and stats). */
  get exact(): number {
    return this.size;
  }

  /** Quickest round trip of the current and previous epochs, ms; undefined before any. */
  get baseRtt(): number | undefined {
    const base = Math.min(this.currentMin, this.previousMin);
    return Number.isFinite(base) ? base : undefined;
  }

  /** The current delay: the quickest of the last `currentFilter` round trips, ms. */
  get currentRtt(): number | undefined {
    return this.recent.length === 0 ? undefined : Math.min(...this.recent);
  }

  get smoothedRtt(): number | undefined {
    return this.smoothed;
  }

  /** A PUBACK came back `rttMs` after its PUBLISH was handed to the connection. */
  acked(rttMs: number): void {
    if (!(rttMs >= 0)) return;
    this.smoothed = this.smoothed === undefined ? rttMs : this.smoothed + (rttMs - this.smoothed) / 8;
    if (rttMs < this.currentMin) this.currentMin = rttMs;
    this.acksInEpoch += 1;
    if (this.acksInEpoch >= this.o.baseEpochAcks) {
      this.previousMin = this.currentMin;
      this.currentMin = Number.POSITIVE_INFINITY;
      this.acksInEpoch = 0;
    }
    if (this.recent.length < this.o.currentFilter) this.recent.push(rttMs);
    else this.recent[this.recentNext] = rttMs;
    this.recentNext = (this.recentNext + 1) % this.o.currentFilter;
    const queuing = (this.currentRtt ?? rttMs) - (this.baseRtt ?? rttMs);
    const offTarget = Math.max(-this.o.maxDecrease, (this.o.targetMs - queuing) / this.o.targetMs);
    const step = (offTarget >= 0 ? this.o.gain * offTarget : offTarget) / this.size;
    this.size = Math.min(this.o.max, Math.max(this.o.min, this.size + step));
  }

  /** A publish failed or the link dropped: halve the window (RFC 6817 §2.4.2, on loss). */
  failed(): void {
    this.size = Math.max(this.o.min, this.size / 2);
    this.backoffs += 1;
  }

  /** A new connection: its round trips start afresh. */
  reset(): void {
    this.size = Math.min(this.o.max, Math.max(this.o.min, this.o.initial));
    this.currentMin = Number.POSITIVE_INFINITY;
    this.previousMin = Number.POSITIVE_INFINITY;
    this.acksInEpoch = 0;
    this.recent.length = 0;
    this.recentNext = 0;
    this.smoothed = undefined;
  }
}
