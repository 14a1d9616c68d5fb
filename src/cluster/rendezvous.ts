/**
 * Which live instance should own a school: rendezvous (highest-random-weight) hashing, Thaler &
 * Ravishankar 1998. Every instance computes the same answer from the same live set, with no
 * coordination; when an instance joins or leaves, only the schools it wins or held move (about
 * 1/N of them), so a rejoining instance takes back its share and nothing else changes hands.
 */

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, bryc/code). Stable across processes. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The instance among `live` that should own `uai`; undefined when none is live. Ties go to the smaller id. */
export function preferredOwner(uai: string, live: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const instance of live) {
    const weight = hash53(`${instance}\u0000${uai}`);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && instance < best)) {
      best = instance;
      bestWeight = weight;
    }
  }
  return best;
}

/** The schools among `uais` that `instance` should own given the live set. */
export function shareOf(instance: string, uais: Iterable<string>, live: readonly string[]): Set<string> {
  const share = new Set<string>();
  for (const uai of uais) if (preferredOwner(uai, live) === instance) share.add(uai);
  return share;
}
