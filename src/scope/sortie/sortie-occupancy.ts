/**
 * SORTIE's occupancy answers, independent of HTTP: the access check (occupancy-access.ts), the
 * entity tag from the current version (a revalidation costs map lookups), and the body computed
 * once per version, range, shape and calendar (bounded LRU), big timetables in a worker. The HTTP
 * route (routes.ts) and the embedded bridge's in-process source (src/bridge/in-process-sortie.ts)
 * share one instance, so they share its caches and give the same bytes and tags.
 */
import type { Principal } from '../../auth/principal.js';
import type { Store } from '../../store/store.js';
import { CurrentVersions } from './current-versions.js';
import { ifNoneMatchHits, occupancyEtag } from './etag.js';
import { LruCache } from './lru-cache.js';
import { occupancyAccess } from './occupancy-access.js';
import {
  calendarOptionsOf,
  inProcessOccupancyRunner,
  type OccupancyTaskRunner,
  occupancyText,
} from './occupancy-task.js';
import type { ResponseShape } from './response-shape.js';
import type { SchoolCalendars } from './school-calendars.js';

export interface SortieOccupancyDeps {
  store: Store;
  calendars: SchoolCalendars;
  /** Current versions in memory; default: one with a 1 s TTL over the store. */
  versions?: CurrentVersions | undefined;
  /** Bodies kept in memory (default 128 entries, 64 MB of JSON). */
  cache?: { maxEntries?: number; maxBytes?: number } | undefined;
  /**
   * Where an occupancy body is computed (decode, expansion, serialisation): the service passes
   * its view pool, off the event loop; default: on this thread (tests, tools).
   */
  runOccupancy?: OccupancyTaskRunner | undefined;
}

/** Occupancy bodies of timetables up to this many occurrences are computed on the event loop. */
const IN_PROCESS_MAX_OCCURRENCES = 20_000;

export type OccupancyAnswer =
  /** The caller's role never reads occupancy. */
  | { status: 'forbidden' }
  /** Outside the caller's schools, or no timetable stored: the same answer for both. */
  | { status: 'not-found' }
  /** `If-None-Match` names the current body. */
  | { status: 'not-modified'; etag: string }
  | { status: 'ok'; etag: string; shape: ResponseShape; text: string };

export class SortieOccupancy {
  readonly versions: CurrentVersions;
  private readonly runOccupancy: OccupancyTaskRunner;
  // Tags are hashes of their inputs: compute each once (a revalidation then costs map lookups).
  private readonly tags = new LruCache<string>({ maxEntries: 4096, maxSize: 4096, sizeOf: () => 1 });
  private readonly bodies: LruCache<string>;

  constructor(private readonly deps: SortieOccupancyDeps) {
    this.versions =
      deps.versions ?? new CurrentVersions({ load: (uai) => deps.store.timetables.currentMeta(uai) });
    this.runOccupancy = deps.runOccupancy ?? inProcessOccupancyRunner;
    this.bodies = new LruCache<string>({
      maxEntries: deps.cache?.maxEntries ?? 128,
      maxSize: deps.cache?.maxBytes ?? 64 * 1024 * 1024,
      sizeOf: (text) => text.length,
    });
  }

  /** An import made by this process: the next answer reads the new version at once. */
  invalidate(uai: string): void {
    this.versions.invalidate(uai);
  }

  /**
   * The occupancy of `uai` over local dates `range` (validated by the caller: the route's query
   * schema, or the in-process source) as `principal` may see it.
   */
  async occupancy(
    principal: Principal,
    uai: string,
    range: { from: string; to: string },
    ifNoneMatch?: string,
  ): Promise<OccupancyAnswer> {
    const access = occupancyAccess(principal, uai);
    if (!access.allowed) return { status: access.reason === 'role' ? 'forbidden' : 'not-found' };
    const { shape } = access;
    const meta = await this.versions.get(uai);
    if (!meta) return { status: 'not-found' };

    const calendarPrint = this.deps.calendars.fingerprint;
    const tagKey = [uai, meta.version, range.from, range.to, shape].join('|');
    let etag = this.tags.get(tagKey);
    if (etag === undefined) {
      etag = occupancyEtag({
        uai,
        version: meta.version,
        from: range.from,
        to: range.to,
        shape,
        calendar: calendarPrint,
      });
      this.tags.set(tagKey, etag);
    }
    if (ifNoneMatchHits(ifNoneMatch, etag)) return { status: 'not-modified', etag };

    // Everything the body depends on: a stored version never changes (its hash says so), the
    // calendar changes only with its holiday data.
    const key = [uai, meta.version, meta.sha256, calendarPrint, range.from, range.to, shape].join('|');
    const text = await this.bodies.getOrCompute(key, async () => {
      // The calendar's timezone is the timetable's, applied by the task once it has decoded the
      // document; only the zone, holidays and département are taken from here.
      const calendar = calendarOptionsOf(this.deps.calendars.calendarOf(uai, 'UTC'));
      const encoded = await this.deps.store.timetables.currentEncoded(uai);
      if (encoded && encoded.version === meta.version && encoded.sha256 === meta.sha256) {
        // A school's year is ~10,000 occurrences: on this thread a worker's round trip (and its
        // start, at the service's first sync) costs more than the work. Past that the cost
        // follows the untrusted export and leaves the event loop (issue 13).
        const run =
          meta.counts.occurrences <= IN_PROCESS_MAX_OCCURRENCES
            ? inProcessOccupancyRunner
            : this.runOccupancy;
        return run({
          uai,
          version: meta.version,
          document: encoded.document,
          calendar,
          from: range.from,
          to: range.to,
          shape,
        });
      }
      // An import landed since the tag was computed: answer from the version the tag names, not
      // "current" (a new body must not be paired with the old tag). Rare (this process
      // invalidates its versions on import), so it is computed here from the decoded version.
      const stored = await this.deps.store.timetables.getVersion(uai, meta.version);
      if (!stored) throw new Error(`version ${meta.version} of ${uai} vanished`);
      return occupancyText(stored.timetable, {
        uai,
        version: meta.version,
        calendar,
        from: range.from,
        to: range.to,
        shape,
      });
    });
    return { status: 'ok', etag, shape, text };
  }
}
