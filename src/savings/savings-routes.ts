/**
 * `GET /api/savings?uai=&from=&to=[&station=]` (issue 7): a school's savings estimate over local
 * dates `from`..`to` (inclusive), with its method, inputs and assumptions, for `manager`, `auditor`
 * and `admin`. Mount after `requireAuth`, like the bridge routes: a school outside the caller's
 * list is answered 404, never 403.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { occupancyUnavailable } from '../bridge/bridge-routes.js';
import { NotFoundError } from '../bridge/overrides-service.js';
import { MAX_PLAN_DAYS, type PlanForDates } from '../bridge/planning.js';
import { SortieError } from '../bridge/sortie-client.js';
import type { LoadedDevices } from '../devices/load.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
import { inputErrorResponse, notFound } from '../http/problem-response.js';
import type { CalendarSource } from '../site/calendars.js';
import { type BaselineSchedule, DEFAULT_BASELINE } from './baseline.js';
import { dateChunks, estimateSchoolSavings, outdoorForSchool, savingsDates } from './school-savings.js';

export interface SavingsRoutesDeps {
  /** `PlanningService.planFor` (at most `MAX_PLAN_DAYS` days per call). */
  planFor: (uai: string, date: string, days: number) => Promise<PlanForDates>;
  /** The devices of a school of the site (`site.current.devices.get`). */
  devicesOf: (uai: string) => LoadedDevices | undefined;
  calendars: Pick<CalendarSource, 'forSchool'>;
  /** Default: comfort 19 °C 06:00–18:00 Monday–Friday outside holidays, 16 °C otherwise, 8 °C on closed days. */
  baseline?: BaselineSchedule;
}

export function savingsRoutes(deps: SavingsRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/api/savings', requireRole('manager', 'auditor'), (c) =>
    handle(c, async () => {
      const uaiText = c.req.query('uai');
      if (uaiText === undefined)
        throw InputError.of('option-missing', 'uai is required', 'uai (query)', 'malformed');
      const uai = requireUai(uaiText, 'uai (query)');
      const devices = deps.devicesOf(uai);
      if (!uaiVisible(c, uai) || !devices) return notFound(c, `establishment ${uai}`, 'uai (query)');
      const school = devices.value.school;
      const calendar = deps.calendars.forSchool(uai, {
        departement: school.departement,
        timezone: school.timezone,
      });
      // Date parameters are named bare (issue 13's contract), like every date parameter.
      const dates = savingsDates(c.req.query('from'), c.req.query('to'), school.timezone, {
        from: 'from',
        to: 'to',
      });
      const outdoor = outdoorForSchool(calendar, c.req.query('station'), 'station (query)');
      const plans = [];
      try {
        for (const chunk of dateChunks(dates, MAX_PLAN_DAYS)) {
          plans.push((await deps.planFor(uai, chunk.date, chunk.days)).plan);
        }
      } catch (error) {
        if (error instanceof SortieError) return occupancyUnavailable(c, uai, error, 'from (query)');
        throw error;
      }
      return c.json(
        estimateSchoolSavings({
          devices,
          calendar,
          plans,
          dates,
          baseline: deps.baseline ?? DEFAULT_BASELINE,
          outdoor,
        }),
      );
    }),
  );

  return app;
}

async function handle(c: Context<AuthEnv>, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (isInputError(error)) return inputErrorResponse(c, error);
    if (error instanceof NotFoundError) return notFound(c, error.what, 'uai (query)');
    throw error;
  }
}
