/**
 * The manager and auditor API of the bridge (docs/api.md, "Bridge API"):
 * overrides (`POST/GET/DELETE /api/overrides`) and a school's plan for given local dates
 * (`GET /api/etablissements/{uai}/plan`). Mount after `requireAuth`, like SORTIE; a school outside
 * the caller's list is answered 404, never 403, so that it cannot probe which schools exist.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import type { Clock } from '../domain/clock.js';
import { dateParameterSchema } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { isValidUai, normaliseUai, pathUai, uaiParameterSchema } from '../domain/uai.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses, validQuery } from '../http/openapi-route.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import { overrideListSchema, overrideViewSchema, planBodySchema } from './bridge-api.js';
import { createOverrideBodySchema, NotFoundError, type OverridesService } from './overrides-service.js';
import { MAX_PLAN_DAYS, type PlanningService, planDayBody } from './planning.js';
import { localDate } from './school-plan.js';
import { SortieError } from './sortie-client.js';

export interface BridgeRoutesDeps {
  overrides: OverridesService;
  planning: Pick<PlanningService, 'planFor'>;
  clock: Clock;
  /** The time zone of a school for `?date` defaulting to its today (devices file). */
  timezoneOf: (uai: string) => string | undefined;
}

const TAG = 'Bridge';
const security = [{ bearer: [] }];
const overrideIdPath = z.object({ id: z.string().describe('Override id') });

const overridesQuerySchema = z.object({
  uai: uaiParameterSchema('uai (query)').optional().describe('One school'),
  active: z
    .string()
    .superRefine((text, ctx) => {
      if (text !== 'true' && text !== 'false')
        ctx.addIssue({
          code: 'custom',
          message: `active must be true or false, not "${text}"`,
          params: { code: 'bad-active' },
        });
    })
    .optional()
    .meta({ enum: ['true', 'false'], description: 'Only active (or only ended) overrides' }),
});

/** `days` of a plan: a whole number 1–31 (MAX_PLAN_DAYS), `bad-days` otherwise. */
const planDaysSchema = z
  .string()
  .superRefine((text, ctx) => {
    const problem = !/^\d{1,3}$/.test(text)
      ? `days must be a whole number, not "${text}"`
      : Number(text) < 1 || Number(text) > MAX_PLAN_DAYS
        ? `days must be a whole number from 1 to ${MAX_PLAN_DAYS}`
        : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { code: 'bad-days' } });
  })
  .meta({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PLAN_DAYS,
    description: `Number of local days, 1–${MAX_PLAN_DAYS} (default 1)`,
  });

const planQuerySchema = z.object({
  date: dateParameterSchema('date').optional().describe('First local day (default: today at the school)'),
  days: planDaysSchema.optional(),
});

/** The declarations of the overrides and plan routes (what they validate, answer and publish). */
export const BRIDGE_ROUTES = {
  createOverride: createRoute({
    method: 'post',
    path: '/api/overrides',
    summary: 'Hold a zone in a mode: until an instant, for a duration, or until the next planned change',
    description:
      'Exactly one of `until` and `duration`. Capped at 14 days; heating setpoints above 19 °C refused (Code de l’énergie R241-26); a `comfort` override without `setpoint_c` takes the zone’s comfort setpoint from the rules. Published to the zone’s gateway at once; the plan resumes by itself at expiry. Every start and end is recorded. Roles: manager, admin.',
    tags: [TAG],
    security,
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: createOverrideBodySchema.meta({ id: 'OverrideRequest' }) },
        },
      },
    },
    responses: {
      201: jsonResponse('Created; `Location` names it', overrideViewSchema, {
        Location: '/api/overrides/{id}',
      }),
      ...problemResponses(400, 401, 403, 404, 413, 422),
    },
  }),
  listOverrides: createRoute({
    method: 'get',
    path: '/api/overrides',
    summary: 'Overrides of the caller’s schools, with those they shadow',
    description: 'Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { query: overridesQuerySchema },
    responses: {
      200: jsonResponse('The overrides', overrideListSchema),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  getOverride: createRoute({
    method: 'get',
    path: '/api/overrides/{id}',
    summary: 'One override',
    description: 'Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { params: overrideIdPath },
    responses: { 200: jsonResponse('The override', overrideViewSchema), ...problemResponses(401, 403, 404) },
  }),
  cancelOverride: createRoute({
    method: 'delete',
    path: '/api/overrides/{id}',
    summary: 'End an override now; the plan resumes',
    description: 'Roles: manager, admin.',
    tags: [TAG],
    security,
    request: { params: overrideIdPath },
    responses: {
      200: jsonResponse('The ended override, with who ended it and when', overrideViewSchema),
      ...problemResponses(401, 403, 404, [409, 'Already ended (`override-ended`)']),
    },
  }),
  plan: createRoute({
    method: 'get',
    path: '/api/etablissements/{uai}/plan',
    summary: 'The planned setpoint segments of every zone for local days, each with its reason',
    description:
      'Segments {from, to, function, mode, setpoint_c?, reason: {kind, rule, temperature_rule?, basis, lessons?, gap_hours?, exception?}}, instants in UTC, clipped to the school’s local days (23 or 25 hours on DST switch days). Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { params: z.object({ uai: uaiParameterSchema('uai (path)') }), query: planQuerySchema },
    responses: {
      200: jsonResponse('The plan', planBodySchema),
      ...problemResponses(400, 401, 403, 404, [
        503,
        'Occupancy not available from SORTIE (`occupancy-unavailable`)',
      ]),
    },
  }),
};

export function bridgeRoutes(deps: BridgeRoutesDeps): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();

  routes.add({
    route: BRIDGE_ROUTES.createOverride,
    middleware: [requireRole('manager')],
    handler: (c) =>
      handle(c, async () => {
        let body: unknown;
        try {
          body = await c.req.json();
        } catch {
          throw InputError.of('json-malformed', 'the body is not JSON', 'body', 'malformed');
        }
        const uai = (body as { uai?: unknown } | null)?.uai;
        // A malformed UAI is refused with 400 by the service (no school can have it: nothing to hide).
        if (typeof uai === 'string' && isValidUai(normaliseUai(uai)) && !uaiVisible(c, uai)) {
          return notFound(c, `establishment ${normaliseUai(uai)}`, '$.uai');
        }
        // The service validates the body with createOverrideBodySchema, the declared one.
        const created = await deps.overrides.create(body, c.get('principal').clientId);
        c.header('Location', `/api/overrides/${created.id}`);
        return c.json(created, 201);
      }),
  });

  routes.add({
    route: BRIDGE_ROUTES.listOverrides,
    middleware: [requireRole('manager', 'auditor')],
    handler: (c) =>
      handle(c, async () => {
        const principal = c.get('principal');
        const query = validQuery(c, overridesQuerySchema);
        let uais: string[] | undefined;
        if (query.uai !== undefined) {
          const uai = normaliseUai(query.uai);
          if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (query)');
          uais = [uai];
        } else if (principal.uais !== 'all') {
          uais = [...principal.uais];
        }
        const list = await deps.overrides.list({
          ...(uais ? { uais } : {}),
          ...(query.active === undefined ? {} : { active: query.active === 'true' }),
        });
        return c.json({ overrides: list });
      }),
  });

  routes.add({
    route: BRIDGE_ROUTES.getOverride,
    middleware: [requireRole('manager', 'auditor')],
    handler: (c) =>
      handle(c, async () => {
        const id = c.req.param('id') ?? '';
        const override = await deps.overrides.get(id);
        if (!override || !canAccessUai(c.get('principal'), override.uai))
          return notFound(c, `override ${id}`, 'id (path)');
        return c.json(override);
      }),
  });

  routes.add({
    route: BRIDGE_ROUTES.cancelOverride,
    middleware: [requireRole('manager')],
    handler: (c) =>
      handle(c, async () => {
        const id = c.req.param('id') ?? '';
        const stored = await deps.overrides.getStored(id);
        if (!stored || !canAccessUai(c.get('principal'), stored.uai))
          return notFound(c, `override ${id}`, 'id (path)');
        const result = await deps.overrides.cancel(id, c.get('principal').clientId);
        if (!result) return notFound(c, `override ${id}`, 'id (path)');
        if (result.status === 'already-ended') {
          return problemResponse(c, 409, [
            {
              code: 'override-ended',
              message: `override ${id} already ended at ${result.override.until} (${result.override.status})`,
              where: 'id (path)',
            },
          ]);
        }
        return c.json(result.override, 200);
      }),
  });

  routes.add({
    route: BRIDGE_ROUTES.plan,
    middleware: [
      requireRole('manager', 'auditor'),
      // The school before its parameters: one outside the caller's list is 404 whatever they are.
      (c, next) =>
        handle(c, async () => {
          const uai = pathUai(c.req.param('uai') ?? '');
          if (!uaiVisible(c, uai) || deps.timezoneOf(uai) === undefined)
            return notFound(c, `establishment ${uai}`, 'uai (path)');
          await next();
          return c.res;
        }),
    ],
    handler: (c) =>
      handle(c, async () => {
        const uai = pathUai(c.req.param('uai') ?? '');
        const timezone = deps.timezoneOf(uai) as string;
        const query = validQuery(c, planQuerySchema);
        const date = query.date ?? localDate(deps.clock.now(), timezone);
        try {
          const result = await deps.planning.planFor(uai, date, Number(query.days ?? '1'));
          return c.json(planDayBody(result));
        } catch (error) {
          if (isInputError(error)) {
            // planFor names `date` and `days`: here they are query parameters.
            throw new InputError(
              error.problems.map((p) => ({
                ...p,
                where: p.where === 'days' ? `${p.where} (query)` : p.where,
              })),
              error.kind,
            );
          }
          if (error instanceof SortieError) return occupancyUnavailable(c, uai, error, 'date (query)');
          throw error;
        }
      }),
  });

  return routes.app;
}

/** 503 for a plan of dates whose occupancy SORTIE cannot give now (plan and savings routes). */
export function occupancyUnavailable(c: Context, uai: string, error: SortieError, where: string): Response {
  return problemResponse(c, 503, [
    {
      code: 'occupancy-unavailable',
      message: `the occupancy of ${uai} for these dates cannot be read from SORTIE now: ${error.message}`,
      where,
    },
  ]);
}

/** Input errors answer with their status here, whatever app mounts these routes. */
async function handle(c: Context<AuthEnv>, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (isInputError(error)) return inputErrorResponse(c, error);
    if (error instanceof NotFoundError) return notFound(c, error.what, error.where);
    throw error;
  }
}
