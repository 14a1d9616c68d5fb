/**
 * The sweep line behind VUE's overlap check, against a brute-force reference (every pair) on many
 * small random inputs, and on size: the work on n identical intervals (n² / 2 pairs) grows like n,
 * counted as reads of the intervals rather than timed.
 */
import { describe, expect, it } from 'vitest';
import { overlapGroups } from '../../../src/scope/vue/room-overlaps.js';

/** Every overlapping pair `[i, j]` (i < j) of half-open intervals, and the connected components. */
function bruteForce(starts: number[], ends: number[]) {
  const n = starts.length;
  const pairs: [number, number][] = [];
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] as number;
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (
        Math.max(starts[i] as number, starts[j] as number) < Math.min(ends[i] as number, ends[j] as number)
      ) {
        pairs.push([i, j]);
        parent[find(i)] = find(j);
      }
    }
  }
  const components = new Map<number, number[]>();
  pairs.flat().forEach((i) => {
    const root = find(i);
    const members = components.get(root) ?? [];
    if (!members.includes(i)) members.push(i);
    components.set(root, members);
  });
  return { pairs, components: [...components.values()].map((m) => m.sort((a, b) => a - b)) };
}

/** A seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Intervals on a coarse grid (many ties, touching ends, some empty), sorted by start. */
function sample(next: () => number, n: number): { starts: number[]; ends: number[] } {
  const items = Array.from({ length: n }, () => {
    const start = Math.floor(next() * 12) * 30;
    return { start, end: start + Math.floor(next() * 5) * 30 };
  }).sort((a, b) => a.start - b.start);
  return { starts: items.map((i) => i.start), ends: items.map((i) => i.end) };
}

describe('overlapGroups', () => {
  it('agrees with the brute-force reference on 2,000 random small inputs', () => {
    const next = random(13);
    for (let round = 0; round < 2_000; round++) {
      const { starts, ends } = sample(next, 1 + Math.floor(next() * 12));
      const expected = bruteForce(starts, ends);
      const all = overlapGroups(starts, ends, Number.POSITIVE_INFINITY);
      const context = JSON.stringify({ starts, ends });
      expect(
        all.map((g) => g.members),
        context,
      ).toEqual(expected.components);
      expect(
        all.flatMap((g) => g.firstPairs).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
        context,
      ).toEqual(expected.pairs);
      expect(
        all.reduce((n, g) => n + g.pairs, 0),
        context,
      ).toBe(expected.pairs.length);
      // With the default of three pairs named: the counts stay exact, the names are real pairs.
      const short = overlapGroups(starts, ends);
      expect(short.map((g) => g.pairs)).toEqual(all.map((g) => g.pairs));
      for (const group of short) {
        expect(group.firstPairs.length).toBe(Math.min(3, group.pairs));
        for (const pair of group.firstPairs) expect(expected.pairs, context).toContainEqual(pair);
      }
    }
  });

  it('reports each group with its span', () => {
    // 08:00–10:00 and 09:00–11:00 overlap; 11:00–12:00 only touches; 13:00–13:00 is empty.
    const groups = overlapGroups([480, 540, 660, 780, 780], [600, 660, 720, 780, 840]);
    expect(groups).toEqual([{ members: [0, 1], start: 480, end: 660, pairs: 1, firstPairs: [[0, 1]] }]);
  });

  it('refuses unsorted input rather than answer wrong', () => {
    expect(() => overlapGroups([600, 480], [660, 540])).toThrow(RangeError);
  });

  /** Reads of the intervals made for n identical lessons. */
  function readsFor(n: number): { reads: number; pairs: number } {
    let reads = 0;
    const counted = (value: number) =>
      new Proxy([] as number[], {
        get(target, key) {
          if (key === 'length') return n;
          if (typeof key === 'string' && /^\d+$/.test(key)) {
            reads++;
            return value;
          }
          return Reflect.get(target, key);
        },
      });
    const [group] = overlapGroups(counted(480), counted(535));
    return { reads, pairs: group?.pairs ?? 0 };
  }

  it('does work linear in the lessons, not in the pairs, on a pile of identical lessons', () => {
    const small = readsFor(1_000);
    const large = readsFor(10_000);
    expect([small.pairs, large.pairs]).toEqual([499_500, 49_995_000]);
    // n² pairs would make this 100; a linear pass makes it 10.
    expect(large.reads / small.reads).toBeLessThan(10.5);
    expect(large.reads).toBeLessThan(10 * 10_000);
  });
});
