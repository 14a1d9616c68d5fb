/**
 * One token bucket per key (a gateway): `perMinute` tokens, refilled continuously, so a key may
 * burst up to a minute's allowance and then sustain `perMinute` a minute. Time comes from the
 * injected clock. Memory is one small record per key; the caller bounds the keys (`retain`).
 */
import type { Clock } from '../domain/clock.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    if (!(perMinute > 0)) throw new RangeError(`perMinute must be positive, not ${perMinute}`);
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `key`: false when its bucket is empty (the message is to be dropped). */
  take(key: string): boolean {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.perMinute, at: now };
      this.buckets.set(key, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets the buckets of keys no longer wanted (a gateway removed from devices/). */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.buckets.keys()) if (!keep(key)) this.buckets.delete(key);
  }

  /** Number of keys held (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }
}
