/**
 * SCOPE-SORTIE over HTTP (docs/api.md): the schools a client may read, their room
 * occupancy over a range of dates, and the normalised timetable for purpose `ent`. What a caller
 * receives depends on its role and purpose (response-shape.ts), never on a parameter.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../../auth/middleware.js';
import { canAccessUai } from '../../auth/principal.js';
import { isInputError } from '../../domain/problems.js';
import { timetableSchema } from '../../domain/timetable.js';
import { pathUai } from '../../domain/uai.js';
import {
  ApiRoutes,
  createRoute,
  jsonResponse,
  problemResponses,
  validQuery,
} from '../../http/openapi-route.js';
import { preSecured } from '../../http/pre-secured.js';
import { inputErrorResponse, notFound } from '../../http/problem-response.js';

import { ifNoneMatchHits, timetableEtag } from './etag.js';
import { OCCUPANCY_ROLES, occupancyAccess } from './occupancy-access.js';
import { mayReadTimetable } from './response-shape.js';
import {
  type EstablishmentsBody,
  energyOccupancySchema,
  establishmentsSchema,
  fullOccupancySchema,
  MAX_RANGE_DAYS,
  occupancyQuerySchema,
  uaiPathSchema,
} from './schemas.js';
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

const TAG = 'SCOPE-SORTIE';
const ETAG_HEADERS = {
  ETag: 'Changes when, and only when, the timetable version, the range or the response shape changes',
  'Cache-Control': 'private, no-cache',
};

/** The declarations of SORTIE's routes: what they validate and answer, and what /openapi.json says. */
export const SORTIE_ROUTES = {
  establishments: createRoute({
    method: 'get',
    path: SORTIE_BASE,
    summary: 'The schools this client may read, with their current version',
    description: 'Roles: consumer, manager, auditor, admin.',
    tags: [TAG],
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse('Schools', establishmentsSchema.meta({ id: 'Establishments' })),
      ...problemResponses(401, 403),
    },
  }),
  occupancy: createRoute({
    method: 'get',
    path: `${SORTIE_BASE}/{uai}/occupation`,
    summary: 'Room occupancy over a range of local dates (UTC intervals)',
    description:
      `Intervals sorted and merged per room. Range at most ${MAX_RANGE_DAYS} days, both ends included. ` +
      'The energy purpose (sobriete-energetique) and auditors receive EnergyOccupancy (room ids, names, intervals only); purpose ent, managers and admin receive FullOccupancy (with lesson ids). ' +
      'Send If-None-Match with a previous ETag to get 304. Roles: consumer, manager, auditor, admin.',
    tags: [TAG],
    security: [{ bearer: [] }],
    request: { params: uaiPathSchema, query: occupancyQuerySchema },
    responses: {
      200: jsonResponse(
        'Occupancy; the shape depends on the caller’s purpose',
        z.union([energyOccupancySchema, fullOccupancySchema]).meta({ id: 'Occupancy' }),
        ETAG_HEADERS,
      ),
      304: { description: 'Not modified (If-None-Match matched the ETag)' },
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  timetable: createRoute({
    method: 'get',
    path: `${SORTIE_BASE}/{uai}/emploi-du-temps`,
    summary: 'The normalised timetable (personal data): purpose ent only',
    description:
      'The energy purpose gets 404, as for a school it cannot see. Roles: consumer (purpose ent), manager, admin.',
    tags: [TAG],
    security: [{ bearer: [] }],
    request: { params: uaiPathSchema },
    responses: {
      200: jsonResponse(
        'The current version (scope-emploi-du-temps/v1)',
        timetableSchema.meta({ id: 'Timetable' }),
        {
          ...ETAG_HEADERS,
          'Timetable-Version': 'Version number of the document',
        },
      ),
      304: { description: 'Not modified' },
      ...problemResponses(400, 401, 403, 404),
    },
  }),
};

export function sortieRoutes(deps: SortieDeps): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();
  const occupancy = deps.occupancy ?? new SortieOccupancy(deps);
  const versions = occupancy.versions;

  routes.add({
    route: SORTIE_ROUTES.establishments,
    middleware: [requireRole('consumer', 'manager', 'auditor')],
    handler: async (c) => {
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
    },
  });

  routes.add({
    route: SORTIE_ROUTES.occupancy,
    middleware: [
      requireRole(...OCCUPANCY_ROLES),
      // The same check as the in-process source's (occupancy-access.ts), before the query is read:
      // a school outside the caller's list is not found whatever the parameters.
      async (c, next) => {
        let uai: string;
        try {
          uai = pathUai(c.req.param('uai') ?? '');
        } catch (error) {
          if (isInputError(error)) return inputErrorResponse(c, error);
          throw error;
        }
        if (!occupancyAccess(c.get('principal'), uai).allowed)
          return notFound(c, `establishment ${uai}`, 'uai (path)');
        await next();
      },
    ],
    handler: async (c) => {
      const uai = pathUai(c.req.param('uai') ?? '');
      const query = validQuery(c, occupancyQuerySchema);
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
    },
  });

  routes.add({
    route: SORTIE_ROUTES.timetable,
    middleware: [requireRole('consumer', 'manager')],
    handler: async (c) => {
      const uai = pathUai(c.req.param('uai') ?? '');
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
    },
  });

  return routes.app;
}

function jsonText(c: Context, text: string): Response {
  return c.body(text, 200, { 'Content-Type': 'application/json; charset=UTF-8' });
}
