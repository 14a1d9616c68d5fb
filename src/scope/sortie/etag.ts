/**
 * Entity tags of SORTIE responses (RFC 9110 §8.8.3). An occupancy body is a pure function of the
 * timetable version, the range, the response shape (purpose) and the school calendar, so its tag
 * is a hash of those, computable from `currentMeta` without building the body: a revalidation
 * (`If-None-Match` → 304) costs one indexed query and one hash.
 */
import { createHash } from 'node:crypto';

export interface OccupancyTagInput {
  uai: string;
  version: number;
  from: string;
  to: string;
  /** Which fields the body carries (`energie` or `complet`). */
  shape: string;
  /** Fingerprint of the holiday data in use: constant while the service runs. */
  calendar: string;
}

export function occupancyEtag(input: OccupancyTagInput): string {
  return strongTag(
    ['occupation', input.uai, input.version, input.from, input.to, input.shape, input.calendar].join('|'),
  );
}

export function timetableEtag(uai: string, version: number, sha256: string): string {
  return strongTag(['emploi-du-temps', uai, version, sha256].join('|'));
}

function strongTag(seed: string): string {
  return `"${createHash('sha256').update(seed).digest('base64url').slice(0, 27)}"`;
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison, `*` matches any current
 * representation, and the header may list several tags.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  // The common revalidation: the one tag this server sent, echoed as is.
  if (header === etag) return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}
