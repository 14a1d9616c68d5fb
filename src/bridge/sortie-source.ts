/**
 * Where the bridge reads occupancy (issue 14, "SORTIE in process"): one interface, two
 * implementations chosen by `sortie.source` — in process on SORTIE's own core for the embedded
 * default (in-process-sortie.ts: the route's purpose and principal checks, no HTTP, no token), or
 * the HTTP client of a remote hub (sortie-client.ts). Both answer with the energy purpose's body
 * and an entity tag: given the tag of the body the caller holds, `not-modified` means that body
 * is still current. Failures are `SortieError`s whatever the transport, so the sync records and
 * retries them the same way.
 */
import { z } from 'zod';
import type { Occupancy } from '../domain/occupancy.js';

export type SortieErrorKind =
  /** No answer within `timeoutMs`. */
  | 'timeout'
  /** Connection refused, reset, DNS…: no HTTP answer at all. */
  | 'network'
  /** 401 even with a fresh token, or 403. */
  | 'unauthorized'
  /** 404: the source has no such school (or hides it from us). */
  | 'not-found'
  /** Another HTTP status. */
  | 'http'
  /** A 200 whose body is not what SORTIE promises. */
  | 'bad-body'
  /** The token endpoint refused or failed. */
  | 'token'
  /** The in-process SORTIE failed (its store unreachable…): no HTTP involved. */
  | 'internal';

export class SortieError extends Error {
  constructor(
    readonly kind: SortieErrorKind,
    message: string,
    readonly details: { url: string; status?: number; attempts: number },
  ) {
    super(message);
    this.name = 'SortieError';
  }
}

/** A source of SORTIE occupancy for the energy purpose. */
export interface SortieSource {
  /**
   * Occupancy of `uai` over local dates `from`..`to` (inclusive). With `etag`, `not-modified`
   * means the body the caller holds for that tag is current. Throws `SortieError` (`not-found`
   * when the source has no timetable for the school or hides it from this caller).
   */
  occupancy(uai: string, range: { from: string; to: string }, etag?: string | null): Promise<OccupancyFetch>;
}

/** What SORTIE answers for the energy purpose; unknown fields (a remote's additions) are dropped. */
export const occupancyBodySchema = z.object({
  uai: z.string(),
  version: z.int(),
  timezone: z.string().min(1),
  from: z.iso.date(),
  to: z.iso.date(),
  rooms: z.array(
    z.object({
      room: z.string(),
      name: z.string(),
      intervals: z.array(z.object({ start: z.iso.datetime(), end: z.iso.datetime() })),
    }),
  ),
});
export type SortieOccupancyBody = z.infer<typeof occupancyBodySchema>;

export type OccupancyFetch =
  | { status: 'modified'; body: SortieOccupancyBody; etag: string | null }
  | { status: 'not-modified' };

/** SORTIE body (ISO instants) → the planner's occupancy (epoch ms). */
export function occupancyFromBody(body: SortieOccupancyBody): Occupancy {
  return {
    uai: body.uai,
    version: body.version,
    timezone: body.timezone,
    from: body.from,
    to: body.to,
    rooms: body.rooms.map((room) => ({
      room: room.room,
      name: room.name,
      intervals: room.intervals.map((i) => ({ start: Date.parse(i.start), end: Date.parse(i.end) })),
    })),
    // SORTIE does not count lessons without a room; the planner does not use this.
    unassigned: 0,
  };
}

/** Parses a stored body again (the sync cache), with the same checks as a fresh one. */
export function parseOccupancyBody(json: unknown): SortieOccupancyBody {
  return occupancyBodySchema.parse(json);
}

/**
 * Occupancy over local dates for a plan outside the held window (the API's plan of next month,
 * the offline CLI): the source's answer as the planner holds it, null when it has no timetable.
 */
export async function loadOccupancyRange(
  source: SortieSource,
  uai: string,
  dates: { from: string; to: string },
): Promise<{ occupancy: Occupancy; from: string; to: string; etag: string | null } | null> {
  try {
    const fetched = await source.occupancy(uai, dates);
    if (fetched.status === 'not-modified') throw new Error('unreachable: no ETag was sent');
    const body = fetched.body;
    return { occupancy: occupancyFromBody(body), from: body.from, to: body.to, etag: fetched.etag };
  } catch (error) {
    if (error instanceof SortieError && error.kind === 'not-found') return null;
    throw error;
  }
}
