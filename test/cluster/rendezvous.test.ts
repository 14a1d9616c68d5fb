/**
 * Rendezvous hashing (src/cluster/rendezvous.ts): every instance must compute the same owner from
 * the same live set whatever order it lists it in, and a join or a leave must move only the
 * schools the joining or leaving instance wins or held (no flapping between the others).
 */
import { describe, expect, it } from 'vitest';
import { preferredOwner, shareOf } from '../../src/cluster/rendezvous.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';

/** A region's worth of valid UAIs (350 lycées), spread over several départements. */
function regionUais(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const digits = `0${String(670000 + i * 137).padStart(6, '0')}`;
    return `${digits}${uaiCheckLetter(digits)}`;
  });
}

const UAIS = regionUais(350);

/** Instance id styles a deployment may use: numbered, host names, random-looking ids. */
const LIVE_SETS: readonly (readonly string[])[] = [
  ['bridge-1', 'bridge-2', 'bridge-3'],
  ['scope-a.lycees.local', 'scope-b.lycees.local', 'scope-c.lycees.local'],
  ['7f3c2a9e', '1b0d44f2', 'c9e81a07'],
];

function owners(uais: readonly string[], live: readonly string[]): Map<string, string | undefined> {
  return new Map(uais.map((uai) => [uai, preferredOwner(uai, live)]));
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('preferredOwner', () => {
  it('gives the same owner for every order of the live list', () => {
    for (const live of LIVE_SETS) {
      const reference = owners(UAIS, live);
      for (const order of permutations(live)) expect(owners(UAIS, order)).toEqual(reference);
    }
  });

  it('names exactly one live instance per school, and shareOf partitions the schools', () => {
    for (const live of LIVE_SETS) {
      const shares = live.map((instance) => shareOf(instance, UAIS, live));
      for (const uai of UAIS) {
        const owner = preferredOwner(uai, live);
        expect(live).toContain(owner);
        expect(live.filter((_, index) => shares[index]!.has(uai))).toEqual([owner]);
      }
      expect(shares.reduce((sum, share) => sum + share.size, 0)).toBe(UAIS.length);
    }
  });

  it('splits 350 schools over 3 instances within 4 standard deviations of a fair share', () => {
    // A well-mixed hash gives each instance Binomial(350, 1/3) schools: mean 116.7, σ = 8.8. The
    // chance that any of the 3 × 3 shares below falls outside ±4σ is under 1e-3 for a fair hash,
    // so a failure here means the hash is skewed, not bad luck. ±4σ is 82–152 schools (23–43 %).
    const n = UAIS.length;
    const p = 1 / 3;
    const mean = n * p;
    const sigma = Math.sqrt(n * p * (1 - p));
    for (const live of LIVE_SETS) {
      for (const instance of live) {
        const size = shareOf(instance, UAIS, live).size;
        expect(size).toBeGreaterThanOrEqual(Math.ceil(mean - 4 * sigma));
        expect(size).toBeLessThanOrEqual(Math.floor(mean + 4 * sigma));
      }
    }
  });

  it('moves only schools to a joining 4th instance, none between the three others', () => {
    for (const live of LIVE_SETS) {
      const before = owners(UAIS, live);
      const joined = [...live, `${live[0]}-new`];
      const after = owners(UAIS, joined);
      let moved = 0;
      for (const uai of UAIS) {
        if (after.get(uai) !== before.get(uai)) {
          expect(after.get(uai)).toBe(joined[3]);
          moved += 1;
        }
      }
      // It takes a share of its own (about a quarter), not nothing.
      expect(moved).toBe(shareOf(joined[3]!, UAIS, joined).size);
      expect(moved).toBeGreaterThan(0);
    }
  });

  it("moves only the leaving instance's schools when one leaves", () => {
    for (const live of LIVE_SETS) {
      const before = owners(UAIS, live);
      for (const leaving of live) {
        const remaining = live.filter((instance) => instance !== leaving);
        const after = owners(UAIS, remaining);
        for (const uai of UAIS) {
          if (before.get(uai) === leaving) expect(remaining).toContain(after.get(uai));
          else expect(after.get(uai)).toBe(before.get(uai));
        }
      }
    }
  });

  it('has no owner when no instance is live, and the only one when one is', () => {
    expect(preferredOwner(UAIS[0]!, [])).toBeUndefined();
    expect(shareOf('bridge-1', UAIS, []).size).toBe(0);
    expect(preferredOwner(UAIS[0]!, ['bridge-1'])).toBe('bridge-1');
    expect(shareOf('bridge-1', UAIS, ['bridge-1']).size).toBe(UAIS.length);
  });
});
