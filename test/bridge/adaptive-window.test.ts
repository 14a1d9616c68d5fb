import { describe, expect, it } from 'vitest';
import { ADAPTIVE_WINDOW_DEFAULTS, AdaptiveWindow } from '../../src/bridge/adaptive-window.js';

describe('adaptive window (LEDBAT on PUBACK round trips)', () => {
  it('starts at 4 within 1..16 and grows by one per round trip while nothing queues', () => {
    expect(ADAPTIVE_WINDOW_DEFAULTS).toEqual({
      initial: 4,
      min: 1,
      max: 16,
      targetMs: 2,
      gain: 1,
      maxDecrease: 4,
      currentFilter: 8,
      baseEpochAcks: 2_000,
    });
    const window = new AdaptiveWindow();
    expect(window.limit).toBe(4);
    expect(window.baseRtt).toBeUndefined();
    // No queuing (every round trip equals the base): off target = 1, +1/window per PUBACK.
    window.acked(1);
    expect(window.exact).toBe(4.25);
    expect(window.baseRtt).toBe(1);
    expect(window.currentRtt).toBe(1);
    window.acked(1);
    window.acked(1);
    window.acked(1);
    // 4 + 1/4 + 1/4.25 + 1/4.485… + 1/4.708…: one round trip of 4 acknowledgements ≈ +0.93.
    expect(window.exact).toBeCloseTo(4.920638305, 9);
    expect(window.limit).toBe(4);
    for (let i = 0; i < 1_000; i++) window.acked(1);
    expect(window.exact).toBe(16);
    expect(window.limit).toBe(16);
  });

  it('holds at the target queuing delay, shrinks above it, at most maxDecrease per round trip', () => {
    const window = new AdaptiveWindow({ currentFilter: 1 });
    window.acked(1);
    expect(window.exact).toBe(4.25);
    // 3 ms = base 1 + target 2: off target 0.
    window.acked(3);
    expect(window.exact).toBe(4.25);
    // Queuing 4 ms, twice the target: off target −1, −1/window.
    window.acked(5);
    const shrunk = 4.25 - 1 / 4.25;
    expect(window.exact).toBe(shrunk);
    // Queuing 20 ms: off target −9, clamped to −4: −4/window.
    window.acked(21);
    expect(window.exact).toBe(shrunk - 4 / shrunk);
    window.acked(1_000);
    window.acked(1_000);
    window.acked(1_000);
    expect(window.exact).toBe(1);
    expect(window.limit).toBe(1);
  });

  it('filters scheduling noise: one quick round trip among the last 8 means no queuing', () => {
    const window = new AdaptiveWindow();
    window.acked(1);
    // A process scheduled late delays some PUBACKs by 40 ms, not all.
    for (let i = 0; i < 7; i++) window.acked(41);
    expect(window.currentRtt).toBe(1);
    expect(window.exact).toBeGreaterThan(5.5);
    // Eight slow ones in a row: the broker queues; the window shrinks.
    const before = window.exact;
    window.acked(41);
    expect(window.currentRtt).toBe(41);
    expect(window.exact).toBeCloseTo(before - 4 / before, 12);
  });

  it('follows a base round trip that changes: the minimum of the current and previous epochs', () => {
    const window = new AdaptiveWindow({ baseEpochAcks: 2 });
    window.acked(1);
    window.acked(1);
    expect(window.baseRtt).toBe(1);
    // Epoch [1, 1] done: it is the previous one now.
    window.acked(5);
    expect(window.baseRtt).toBe(1);
    // Epoch [5, 5] done: the quick epoch is forgotten.
    window.acked(5);
    expect(window.baseRtt).toBe(5);
  });

  it('halves on a failed publish down to 1, and starts afresh on a new connection', () => {
    const window = new AdaptiveWindow({ initial: 16, max: 32 });
    expect(window.limit).toBe(16);
    window.failed();
    expect(window.exact).toBe(8);
    window.failed();
    window.failed();
    window.failed();
    window.failed();
    expect(window.exact).toBe(1);
    expect(window.backoffs).toBe(5);
    window.acked(2);
    window.reset();
    expect(window.exact).toBe(16);
    expect(window.baseRtt).toBeUndefined();
    expect(window.currentRtt).toBeUndefined();
    expect(window.smoothedRtt).toBeUndefined();
  });

  it('ignores a negative or NaN round trip and refuses bad bounds', () => {
    const window = new AdaptiveWindow();
    window.acked(-1);
    window.acked(Number.NaN);
    expect(window.exact).toBe(4);
    expect(window.baseRtt).toBeUndefined();
    expect(() => new AdaptiveWindow({ min: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveWindow({ min: 8, max: 4 })).toThrow(RangeError);
    expect(() => new AdaptiveWindow({ targetMs: 0 })).toThrow(RangeError);
  });
});
