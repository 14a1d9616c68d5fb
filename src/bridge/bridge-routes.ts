/**
 * The manager and auditor API of the bridge (docs/api.md, "Bridge API"):
 * overrides (`POST/GET/DELETE /api/overrides`) and a school's plan for given local dates
 * (`GET /api/etablissements/{uai}/plan`). Mount after `requireAuth`, like SORTIE; a school outside
 * the caller's list is answered 404, never 403, so that it cannot probe which schools exist.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import type { Clock } from '../domain/clock.js';
import { parseDateParameter } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { isValidUai, normaliseUai, pathUai } from '../domain/uai.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import { NotFoundError, type OverridesService } from './overrides-service.js';
import { type PlanningService, planDayBody } from './planning.js';
import { localDate } from './school-plan.js';
import { SortieError } from './sortie-client.js';

export interface BridgeRoutesDeps {
  overrides: OverridesService;
  planning: Pick<PlanningService, 'planFor'>;
  clock: Clock;
  /** The time zone of a school for `?date` defaulting to its today (devices file). */
  timezoneOf: (uai: string) => string | undefined;
}

export function bridgeRoutes(deps: BridgeRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.post('/api/overrides', requireRole('manager'), (c) =>
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
      const created = await deps.overrides.create(body, c.get('principal').clientId);
      c.header('Location', `/api/overrides/${created.id}`);
      return c.json(created, 201);
    }),
  );

  app.get('/api/overrides', requireRole('manager', 'auditor'), (c) =>
    handle(c, async () => {
      const principal = c.get('principal');
      const uaiText = c.req.query('uai');
      const activeText = c.req.query('active');
      if (activeText !== undefined && activeText !== 'true' && activeText !== 'false') {
        throw InputError.of(
          'bad-active',
          `active must be true or false, not "${activeText}"`,
          'active (query)',
          'malformed',
        );
      }
      let uais: string[] | undefined;
      if (uaiText !== undefined) {
        const uai = pathUai(uaiText);
        if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (query)');
        uais = [uai];
      } else if (principal.uais !== 'all') {
        uais = [...principal.uais];
      }
      const list = await deps.overrides.list({
        ...(uais ? { uais } : {}),
        ...(activeText === undefined ? {} : { active: activeText === 'true' }),
      });
      return c.json({ overrides: list });
    }),
  );

  app.get('/api/overrides/:id', requireRole('manager', 'auditor'), (c) =>
    handle(c, async () => {
      const id = c.req.param('id');
      const override = await deps.overrides.get(id);
      if (!override || !canAccessUai(c.get('principal'), override.uai))
        return notFound(c, `override ${id}`, 'id (path)');
      return c.json(override);
    }),
  );

  app.delete('/api/overrides/:id', requireRole('manager'), (c) =>
    handle(c, async () => {
      const id = c.req.param('id');
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
  );

  app.get('/api/etablissements/:uai/plan', requireRole('manager', 'auditor'), (c) =>
    handle(c, async () => {
      const uai = pathUai(c.req.param('uai'));
      if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (path)');
      const timezone = deps.timezoneOf(uai);
      if (timezone === undefined) return notFound(c, `establishment ${uai}`, 'uai (path)');
      const dateText = c.req.query('date');
      const date =
        dateText === undefined ? localDate(deps.clock.now(), timezone) : parseDateParameter(dateText, 'date');
      const daysText = c.req.query('days') ?? '1';
      if (!/^\d{1,3}$/.test(daysText)) {
        throw InputError.of(
          'bad-days',
          `days must be a whole number, not "${daysText}"`,
          'days (query)',
          'malformed',
        );
      }
      try {
        const result = await deps.planning.planFor(uai, date, Number(daysText));
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
  );

  return app;
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
