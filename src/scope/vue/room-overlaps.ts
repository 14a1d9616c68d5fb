/**
 * Overlapping lessons of one room on one day, in O(n log n) for n lessons (a sweep line), however
 * many pairs they form: 2,000 lessons at one slot are 1,999,000 pairs, which listed one by one took
 * VUE 15 s and 2.6 GB, and 100,000 overflowed a Map. What comes out is each group of lessons whose
 * intervals chain into one another (the connected components of the overlap graph), with the
 * number of overlapping pairs and only the first few of them. Pure.
 *
 * Intervals are half-open `[start, end)`: a lesson ending at 10:00 does not overlap one starting at
 * 10:00, and an empty one overlaps nothing.
 */

export interface OverlapGroup {
  /** Positions in the input of the group's items (at least two), in input (start) order. */
  members: number[];
  start: number;
  /** The latest end of the group. */
  end: number;
  /** Number of pairs of members whose intervals overlap. */
  pairs: number;
  /** The first `maxPairs` of those pairs, as input positions `[earlier, later]`. */
  firstPairs: [number, number][];
}

/**
 * `starts`/`ends` are the items' intervals, sorted by start (ties in any order). Each group costs
 * a sort of its ends plus a linear pass; listing pairs costs at most `maxPairs` backward scans.
 */
export function overlapGroups(
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  maxPairs = 3,
): OverlapGroup[] {
  const groups: OverlapGroup[] = [];
  const count = starts.length;
  let first = -1;
  let groupEnd = Number.NEGATIVE_INFINITY;
  const close = (last: number): void => {
    if (first >= 0 && last - first >= 2) groups.push(describeGroup(starts, ends, first, last, maxPairs));
  };
  let previousStart = Number.NEGATIVE_INFINITY;
  // Items of a group are contiguous in start order; empty items are left out of every group.
  const kept: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = starts[i] as number;
    const end = ends[i] as number;
    if (start < previousStart) throw new RangeError('overlapGroups needs items sorted by start');
    previousStart = start;
    if (!(end > start)) continue;
    if (first >= 0 && start < groupEnd) {
      kept.push(i);
      if (end > groupEnd) groupEnd = end;
      continue;
    }
    close(kept.length);
    first = kept.length;
    kept.push(i);
    groupEnd = end;
  }
  close(kept.length);
  // Positions in `kept` → positions in the input.
  for (const group of groups) {
    group.members = group.members.map((k) => kept[k] as number);
    group.firstPairs = group.firstPairs.map(([a, b]) => [kept[a] as number, kept[b] as number]);
  }
  return groups;

  function describeGroup(
    allStarts: ArrayLike<number>,
    allEnds: ArrayLike<number>,
    from: number,
    to: number,
    listed: number,
  ): OverlapGroup {
    const size = to - from;
    const startOf = (k: number) => allStarts[kept[from + k] as number] as number;
    const endOf = (k: number) => allEnds[kept[from + k] as number] as number;
    const sortedEnds = new Float64Array(size);
    for (let k = 0; k < size; k++) sortedEnds[k] = endOf(k);
    sortedEnds.sort();
    // Item k overlaps every earlier item except those that ended by its start; an item that
    // ended by k's start began before it, so it is earlier: pairs(k) = k − #(ends ≤ start k).
    let pairs = 0;
    let ended = 0;
    const firstPairs: [number, number][] = [];
    let groupStart = Number.POSITIVE_INFINITY;
    let latest = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < size; k++) {
      const start = startOf(k);
      if (start < groupStart) groupStart = start;
      if (endOf(k) > latest) latest = endOf(k);
      while (ended < size && (sortedEnds[ended] as number) <= start) ended++;
      const mine = k - ended;
      pairs += mine;
      for (let j = k - 1, found = 0; j >= 0 && found < mine && firstPairs.length < listed; j--) {
        if (endOf(j) > start) {
          firstPairs.push([from + j, from + k]);
          found++;
        }
      }
    }
    return {
      members: Array.from({ length: size }, (_, k) => from + k),
      start: groupStart,
      end: latest,
      pairs,
      firstPairs,
    };
  }
}
