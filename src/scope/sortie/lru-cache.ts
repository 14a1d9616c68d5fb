/**
 * A small bounded LRU of computed values (a Map keeps insertion order: re-inserting on a hit makes
 * the oldest entry the first key). Bounded by entries and by a caller-given size, so a burst of
 * wide ranges cannot hold the heap. Concurrent misses of one key share one computation.
 */
export interface LruOptions<V> {
  maxEntries: number;
  /** Total `sizeOf` the cache may hold (e.g. bytes of serialised bodies). */
  maxSize: number;
  sizeOf: (value: V) => number;
}

export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private readonly pending = new Map<string, Promise<V>>();
  private size = 0;

  constructor(private readonly options: LruOptions<V>) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The cached value, or `compute()`'s, stored unless it alone exceeds `maxSize`. */
  async getOrCompute(key: string, compute: () => V | Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const running = this.pending.get(key);
    if (running) return running;
    const promise = (async () => compute())();
    this.pending.set(key, promise);
    try {
      const value = await promise;
      this.set(key, value);
      return value;
    } finally {
      this.pending.delete(key);
    }
  }

  set(key: string, value: V): void {
    const size = this.options.sizeOf(value);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.size -= previous.size;
    }
    if (size > this.options.maxSize) return;
    this.entries.set(key, { value, size });
    this.size += size;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.size <= this.options.maxSize) break;
      this.entries.delete(oldest);
      this.size -= entry.size;
    }
  }

  get count(): number {
    return this.entries.size;
  }
}
