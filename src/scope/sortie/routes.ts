/**
 * SCOPE-SORTIE over HTTP (docs/api.md): the schools a client may read, their room
 * occupancy over a range of dates, and the normalised timetable for purpose `ent`. What a caller
 * receives depends on its role and purpose (response-shape.ts), never on a parameter.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../../auth/middleware.js';
import { canAccessUai } from '../../auth/principal.js';
import { pathUai } from '../../domain/uai.js';
import { notFound } from '../../http/problem-response.js';
import type { Store } from '../../store/store.js';
import { CurrentVersions } from './current-versions.js';
import { ifNoneMatchHits, occupancyEtag, timetableEtag } from './etag.js';
import { LruCache } from './lru-cache.js';
import {
  calendarOptionsOf,
  inProcessOccupancyRunner,
  type OccupancyTaskRunner,
  occupancyText,
} from './occupancy-task.js';
import { parseParameters } from './parse-parameters.js';
import { mayReadTimetable, responseShapeOf } from './response-shape.js';
import { type EstablishmentsBody, type OccupancyQuery, occupancyQuerySchema } from './schemas.js';
import type { SchoolCalendars } from './school-calendars.js';

export interface SortieDeps {
  store: Store;
  calendars: SchoolCalendars;
  /** Current versions in memory; default: one with a 1 s TTL over the store. */
  versions?: CurrentVersions;
  /** Bodies kept in memory (default 128 entries, 64 MB of JSON). */
  cache?: { maxEntries?: number; maxBytes?: number };
  /**
   * Where an occupancy body is computed (decode, expansion, serialisation): the service passes
   * its view pool, off the event loop; default: on this thread (tests, tools).
   */
  runOccupancy?: OccupancyTaskRunner | undefined;
}

/** Occupancy bodies of timetables up to this many occurrences are computed on the event loop. */
const IN_PROCESS_MAX_OCCURRENCES = 20_000;

export const SORTIE_BASE = '/scope/sortie/v1/etablissements';

/**
 * Revalidate every time (`no-cache`: a new import must be seen at once) and only in the caller's
 * own cache (`private`: bodies depend on who asks).
 */
const CACHE_CONTROL = 'private, no-cache';

export function sortieRoutes(deps: SortieDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const versions =
    deps.versions ?? new CurrentVersions({ load: (uai) => deps.store.timetables.currentMeta(uai) });
  // Tags are hashes of their inputs: compute each once (a revalidation then costs map lookups).
  const runOccupancy = deps.runOccupancy ?? inProcessOccupancyRunner;
  const tags = new LruCache<string>({ maxEntries: 4096, maxSize: 4096, sizeOf: () => 1 });
  const bodies = new LruCache<string>({
    maxEntries: deps.cache?.maxEntries ?? 128,
    maxSize: deps.cache?.maxBytes ?? 64 * 1024 * 1024,
    sizeOf: (text) => text.length,
  });

  // Valid queries by their raw text: a pure function of it, and consumers repeat the same few
  // ranges (a revalidation then parses nothing). Refused queries are not kept.
  const queries = new LruCache<OccupancyQuery>({ maxEntries: 1024, maxSize: 1024, sizeOf: () => 1 });
  const validQuery = (c: Context<AuthEnv>): OccupancyQuery => {
    const url = c.req.url;
    const at = url.indexOf('?');
    const search = at < 0 ? '' : url.slice(at);
    let query = queries.get(search);
    if (query === undefined) {
      query = parseParameters(occupancyQuerySchema, c.req.query(), 'query');
      queries.set(search, query);
    }
    return query;
  };

  app.get(SORTIE_BASE, requireRole('consumer', 'manager', 'auditor'), async (c) => {
    const principal = c.get('principal');
    const all = await deps.store.timetables.listEstablishments();
    const body: EstablishmentsBody = {
      etablissements: all.flatMap((school) =>
        school.currentVersion !== null && canAccessUai(principal, school.uai)
          ? [
              {
                uai: school.uai,
                name: school.name,
                timezone: school.timezone,
                version: school.currentVersion,
                updated_at: school.updatedAt,
              },
            ]
          : [],
      ),
    };
    c.header('Cache-Control', CACHE_CONTROL);
    return c.json(body);
  });

  app.get(`${SORTIE_BASE}/:uai/occupation`, requireRole('consumer', 'manager', 'auditor'), async (c) => {
    const uai = pathUai(c.req.param('uai'));
    if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
    const query = validQuery(c);
    const meta = await versions.get(uai);
    if (!meta) return notFound(c, `establishment ${uai}`, 'uai (path)');

    const shape = responseShapeOf(c.get('principal'));
    const tagKey = [uai, meta.version, query.from, query.to, shape].join('|');
    let etag = tags.get(tagKey);
    if (etag === undefined) {
      etag = occupancyEtag({
        uai,
        version: meta.version,
        from: query.from,
        to: query.to,
        shape,
        calendar: deps.calendars.fingerprint,
      });
      tags.set(tagKey, etag);
    }
    c.header('ETag', etag);
    c.header('Cache-Control', CACHE_CONTROL);
    c.header('Vary', 'Authorization, Cookie');
    if (ifNoneMatchHits(c.req.header('If-None-Match'), etag)) return c.body(null, 304);

    // Everything the body depends on: a stored version never changes (its hash says so), the
    // calendar changes only with its holiday data.
    const key = [
      uai,
      meta.version,
      meta.sha256,
      deps.calendars.fingerprint,
      query.from,
      query.to,
      shape,
    ].join('|');
    const text = await bodies.getOrCompute(key, async () => {
      // The calendar's timezone is the timetable's, applied by the task once it has decoded the
      // document; only the zone, holidays and département are taken from here.
      const calendar = calendarOptionsOf(deps.calendars.calendarOf(uai, 'UTC'));
      const encoded = await deps.store.timetables.currentEncoded(uai);
      if (encoded && encoded.version === meta.version && encoded.sha256 === meta.sha256) {
        // A school's year is ~10,000 occurrences: on this thread a worker's round trip (and its
        // start, at the service's first sync) costs more than the work. Past that the cost
        // follows the untrusted export and leaves the event loop (issue 13).
        const run =
          meta.counts.occurrences <= IN_PROCESS_MAX_OCCURRENCES ? inProcessOccupancyRunner : runOccupancy;
        return run({
          uai,
          version: meta.version,
          document: encoded.document,
          calendar,
          from: query.from,
          to: query.to,
          shape,
        });
      }
      // An import landed since the tag was computed: answer from the version the tag names, not
      // "current" (a new body must not be paired with the old tag). Rare (this process
      // invalidates its versions on import), so it is computed here from the decoded version.
      const stored = await deps.store.timetables.getVersion(uai, meta.version);
      if (!stored) throw new Error(`version ${meta.version} of ${uai} vanished`);
      return occupancyText(stored.timetable, {
        uai,
        version: meta.version,
        calendar,
        from: query.from,
        to: query.to,
        shape,
      });
    });
    return jsonText(c, text);
  });

  app.get(`${SORTIE_BASE}/:uai/emploi-du-temps`, requireRole('consumer', 'manager'), async (c) => {
    const uai = pathUai(c.req.param('uai'));
    // The energy purpose gets the same 404 as a school it cannot see: the timetable holds personal
    // data (teachers, groups) that this purpose must not receive (docs/api.md).
    if (!uaiVisible(c, uai) || !mayReadTimetable(c.get('principal')))
      return notFound(c, `timetable of ${uai}`, 'uai (path)');
    const meta = await versions.get(uai);
    if (!meta) return notFound(c, `timetable of ${uai}`, 'uai (path)');
    const etag = timetableEtag(uai, meta.version, meta.sha256);
    c.header('ETag', etag);
    c.header('Cache-Control', CACHE_CONTROL);
    c.header('Vary', 'Authorization, Cookie');
    c.header('Timetable-Version', String(meta.version));
    if (ifNoneMatchHits(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    const stored = await deps.store.timetables.getVersion(uai, meta.version);
    if (!stored) return notFound(c, `timetable of ${uai}`, 'uai (path)');
    return c.json(stored.timetable);
  });

  return app;
}

function jsonText(c: Context, text: string): Response {
  return c.body(text, 200, { 'Content-Type': 'application/json; charset=UTF-8' });
}
