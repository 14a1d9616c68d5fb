/**
 * The embedded default's occupancy source (issue 14, "SORTIE in process"): the bridge asks this
 * service's SORTIE core directly — no HTTP round trip through its own socket, no token minted for
 * itself — under the same checks as the HTTP route (src/scope/sortie/occupancy-access.ts): the
 * energy purpose receives rooms and intervals only, and a school outside the principal's UAIs is
 * "not found". Bodies and tags are the route's own (one shared `SortieOccupancy`), so a stored
 * ETag stays valid across a switch between the two, and big timetables are still expanded in the
 * view worker pool.
 */
import type { Principal } from '../auth/principal.js';
import { dateParameterProblem } from '../domain/dates.js';
import type { SortieOccupancy } from '../scope/sortie/sortie-occupancy.js';
import { type OccupancyFetch, occupancyBodySchema, SortieError, type SortieSource } from './sortie-source.js';

/** The consumer the embedded bridge reads SORTIE as. */
export const INTERNAL_BRIDGE_CLIENT = 'bridge-interne';

/** The embedded bridge: the energy purpose, every school of this hub (docs/api.md). */
export const EMBEDDED_BRIDGE_PRINCIPAL: Principal = Object.freeze({
  clientId: INTERNAL_BRIDGE_CLIENT,
  role: 'consumer',
  purpose: 'sobriete-energetique',
  uais: 'all',
});

export interface InProcessSortieOptions {
  sortie: SortieOccupancy;
  /** Who the bridge reads as (default: the embedded bridge's principal). */
  principal?: Principal;
}

export class InProcessSortie implements SortieSource {
  private readonly principal: Principal;

  constructor(private readonly options: InProcessSortieOptions) {
    this.principal = options.principal ?? EMBEDDED_BRIDGE_PRINCIPAL;
  }

  async occupancy(
    uai: string,
    range: { from: string; to: string },
    etag?: string | null,
  ): Promise<OccupancyFetch> {
    const where = `in-process SORTIE occupancy of ${uai} ${range.from}..${range.to}`;
    // The route's 62-day cap bounds a remote caller's request; here the caller is this service's
    // own code, whose ranges are the sync window, MAX_PLAN_DAYS or the savings period.
    const problem =
      dateParameterProblem(range.from, 'from') ??
      dateParameterProblem(range.to, 'to') ??
      (range.to < range.from ? { message: `"to" (${range.to}) is before "from" (${range.from})` } : null);
    if (problem) throw new SortieError('http', `${where}: ${problem.message}`, fail(where, 400));
    let answer: Awaited<ReturnType<SortieOccupancy['occupancy']>>;
    try {
      answer = await this.options.sortie.occupancy(this.principal, uai, range, etag ?? undefined);
    } catch (error) {
      throw new SortieError(
        'internal',
        `${where} failed: ${error instanceof Error ? error.message : String(error)}`,
        fail(where),
      );
    }
    switch (answer.status) {
      case 'forbidden':
        throw new SortieError(
          'unauthorized',
          `${where}: ${this.principal.clientId} may not read occupancy`,
          fail(where, 403),
        );
      case 'not-found':
        throw new SortieError('not-found', `${where}: no such establishment`, fail(where, 404));
      case 'not-modified':
        return { status: 'not-modified' };
      case 'ok': {
        // The same allow-list as a remote answer's: only what the energy purpose may hold.
        const parsed = occupancyBodySchema.safeParse(JSON.parse(answer.text));
        if (!parsed.success)
          throw new SortieError(
            'bad-body',
            `${where}: ${parsed.error.issues[0]?.message ?? ''}`,
            fail(where, 200),
          );
        return { status: 'modified', body: parsed.data, etag: answer.etag };
      }
    }
  }
}

function fail(url: string, status?: number): { url: string; status?: number; attempts: number } {
  return { url, ...(status === undefined ? {} : { status }), attempts: 1 };
}
