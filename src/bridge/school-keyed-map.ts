/**
 * A map of zone functions (key `uai/zone/function`) that also finds one school's entries without
 * walking the others. The dispatcher asks "this school's entries" on every evaluation: walking
 * the region's 28,000 zone functions for each of 350 schools made its first cycle quadratic.
 */
export class SchoolKeyedMap<V> {
  private readonly entriesByKey = new Map<string, V>();
  private readonly keysBySchool = new Map<string, Set<string>>();

  constructor(private readonly uaiOf: (value: V) => string) {}

  get size(): number {
    return this.entriesByKey.size;
  }

  get(key: string): V | undefined {
    return this.entriesByKey.get(key);
  }

  set(key: string, value: V): void {
    const previous = this.entriesByKey.get(key);
    if (previous !== undefined) this.unindex(key, this.uaiOf(previous));
    this.entriesByKey.set(key, value);
    const uai = this.uaiOf(value);
    let keys = this.keysBySchool.get(uai);
    if (!keys) {
      keys = new Set();
      this.keysBySchool.set(uai, keys);
    }
    keys.add(key);
  }

  delete(key: string): boolean {
    const value = this.entriesByKey.get(key);
    if (value === undefined) return false;
    this.entriesByKey.delete(key);
    this.unindex(key, this.uaiOf(value));
    return true;
  }

  clear(): void {
    this.entriesByKey.clear();
    this.keysBySchool.clear();
  }

  values(): IterableIterator<V> {
    return this.entriesByKey.values();
  }

  /** A copy of one school's entries: safe to delete from the map while going through it. */
  ofSchool(uai: string): [string, V][] {
    const keys = this.keysBySchool.get(uai);
    if (!keys) return [];
    const out: [string, V][] = [];
    for (const key of keys) {
      const value = this.entriesByKey.get(key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  deleteSchool(uai: string): void {
    const keys = this.keysBySchool.get(uai);
    if (!keys) return;
    for (const key of keys) this.entriesByKey.delete(key);
    this.keysBySchool.delete(uai);
  }

  private unindex(key: string, uai: string): void {
    const keys = this.keysBySchool.get(uai);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.keysBySchool.delete(uai);
  }
}
