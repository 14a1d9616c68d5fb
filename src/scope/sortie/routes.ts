/**
 * SCOPE-SORTIE over HTTP (docs/api.md): the schools a client may read, their room
 * occupancy over a range of dates, and the normalised timetable for purpose `ent`. What a caller
 * receives depends on its role and purpose (response-shape.ts), never on a parameter.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../../auth/middleware.js';
import { canAccessUai } from '../../auth/principal.js';
import { pathUai } from '../../domain/uai.js';
import { preSecured } from '../../http/pre-secured.js';
import { notFound } from '../../http/problem-response.js';
import { ifNoneMatchHits, timetableEtag } from './etag.js';
import { OCCUPANCY_ROLES, occupancyAccess } from './occupancy-access.js';
import { parseParameters } from './parse-parameters.js';
import { mayReadTimetable } from './response-shape.js';
import { type EstablishmentsBody, type OccupancyQuery, occupancyQuerySchema } from './schemas.js';
import { SortieOccupancy, type SortieOccupancyDeps } from './sortie-occupancy.js';

export interface SortieDeps extends SortieOccupancyDeps {
  /**
   * The occupancy answers, shared with the embedded bridge's in-process source (the service
   * builds one); default: one of these deps' own.
   */
  occupancy?: SortieOccupancy | undefined;
}

export const SORTIE_BASE = '/scope/sortie/v1/etablissements';

/**
 * Revalidate every time (`no-cache`: a new import must be seen at once) and only in the caller's
 * own cache (`private`: bodies depend on who asks).
 */
const CACHE_CONTROL = 'private, no-cache';
/** Bodies depend on who asks (RFC 9110 §12.5.5). */
const VARY = 'Authorization, Cookie';

export function sortieRoutes(deps: SortieDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const occupancy = deps.occupancy ?? new SortieOccupancy(deps);
  const versions = occupancy.versions;

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

  app.get(`${SORTIE_BASE}/:uai/occupation`, requireRole(...OCCUPANCY_ROLES), async (c) => {
    const uai = pathUai(c.req.param('uai'));
    // The same check as the in-process source's (occupancy-access.ts), before the query is read:
    // a school outside the caller's list is not found whatever the parameters.
    if (!occupancyAccess(c.get('principal'), uai).allowed)
      return notFound(c, `establishment ${uai}`, 'uai (path)');
    const query = parseOccupancyQuery(c.req.url, () => c.req.query());
    const answer = await occupancy.occupancy(c.get('principal'), uai, query, c.req.header('If-None-Match'));
    if (answer.status === 'not-found' || answer.status === 'forbidden')
      return notFound(c, `establishment ${uai}`, 'uai (path)');
    // A revalidation: the headers as one plain record (src/http/pre-secured.ts).
    if (answer.status === 'not-modified')
      return preSecured(304, { ETag: answer.etag, 'Cache-Control': CACHE_CONTROL, Vary: VARY });
    c.header('ETag', answer.etag);
    c.header('Cache-Control', CACHE_CONTROL);
    c.header('Vary', VARY);
    return jsonText(c, answer.text);
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

/** Valid occupancy queries by their raw query string: a consumer asks the same week again and again. */
const validQueries = new Map<string, OccupancyQuery>();
const MAX_CACHED_QUERIES = 1_024;

/**
 * The query's `from`/`to` through the schema, once per distinct query string (issue 18: the zod
 * parse was a tenth of a revalidation). Refused queries are not kept (their 400 is thrown again).
 */
function parseOccupancyQuery(url: string, values: () => Record<string, string>): OccupancyQuery {
  const mark = url.indexOf('?');
  const raw = mark === -1 ? '' : url.slice(mark + 1);
  const cached = validQueries.get(raw);
  if (cached) return cached;
  const query = parseParameters(occupancyQuerySchema, values(), 'query');
  if (validQueries.size >= MAX_CACHED_QUERIES) validQueries.clear();
  validQueries.set(raw, query);
  return query;
}

function jsonText(c: Context, text: string): Response {
  return c.body(text, 200, { 'Content-Type': 'application/json; charset=UTF-8' });
}
