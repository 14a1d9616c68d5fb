import { describe, expect, it } from 'vitest';
import { SchoolKeyedMap } from '../../src/bridge/school-keyed-map.js';

interface Entry {
  uai: string;
  n: number;
}

describe('SchoolKeyedMap', () => {
  it("finds, replaces and deletes one school's entries without touching the others", () => {
    const map = new SchoolKeyedMap<Entry>((e) => e.uai);
    map.set('A/z1/heating', { uai: 'A', n: 1 });
    map.set('A/z2/heating', { uai: 'A', n: 2 });
    map.set('B/z1/heating', { uai: 'B', n: 3 });
    expect(map.ofSchool('A')).toEqual([
      ['A/z1/heating', { uai: 'A', n: 1 }],
      ['A/z2/heating', { uai: 'A', n: 2 }],
    ]);
    map.set('A/z1/heating', { uai: 'A', n: 4 });
    expect(map.get('A/z1/heating')).toEqual({ uai: 'A', n: 4 });
    expect(map.ofSchool('A')).toHaveLength(2);
    // A copy: deleting while going through it is safe.
    for (const [key] of map.ofSchool('A')) map.delete(key);
    expect(map.ofSchool('A')).toEqual([]);
    expect(map.size).toBe(1);
    map.set('A/z3/lighting', { uai: 'A', n: 5 });
    map.deleteSchool('B');
    expect([...map.values()]).toEqual([{ uai: 'A', n: 5 }]);
    expect(map.ofSchool('B')).toEqual([]);
    map.clear();
    expect([map.size, map.ofSchool('A')]).toEqual([0, []]);
  });
});
