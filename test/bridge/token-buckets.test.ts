import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/bridge/token-buckets.js';
import { ManualClock } from '../../src/domain/clock.js';

describe('TokenBuckets', () => {
  it('allows a burst of a minute’s allowance, then refills continuously, per key', () => {
    const clock = new ManualClock(Date.parse('2026-03-02T07:00:00Z'));
    const buckets = new TokenBuckets(600, clock);
    const taken = (key: string, n: number) =>
      Array.from({ length: n }, () => buckets.take(key)).filter(Boolean).length;
    expect(taken('0670999X/gw-a', 700)).toBe(600);
    // Another gateway has its own bucket.
    expect(taken('0670999X/gw-b', 1)).toBe(1);
    // 600 per minute = one per 100 ms.
    clock.advance(1_050);
    expect(taken('0670999X/gw-a', 20)).toBe(10);
    // Never more than a minute's allowance, however long the silence.
    clock.advance(3_600_000);
    expect(taken('0670999X/gw-a', 1_000)).toBe(600);
  });

  it('keeps one record per key and forgets the keys no longer wanted', () => {
    const buckets = new TokenBuckets(10, new ManualClock(0));
    for (let i = 0; i < 50; i++) buckets.take(`uai/gw-${i}`);
    expect(buckets.size).toBe(50);
    buckets.retain((key) => key === 'uai/gw-3');
    expect(buckets.size).toBe(1);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBuckets(0, new ManualClock(0))).toThrow(RangeError);
  });
});
