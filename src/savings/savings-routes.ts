/**
 * `GET /api/savings?uai=&from=&to=[&station=]` (issue 7): a school's savings estimate over local
 * dates `from`..`to` (inclusive), with its method, inputs and assumptions, for `manager`, `auditor`
 * and `admin`. Mount after `requireAuth`, like the bridge routes: a school outside the caller's
 * list is answered 404, never 403.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { occupancyUnavailable } from '../bridge/bridge-routes.js';
import { NotFoundError } from '../bridge/overrides-service.js';
import { MAX_PLAN_DAYS, type PlanForDates } from '../bridge/planning.js';
import { SortieError } from '../bridge/sortie-client.js';
import type { LoadedDevices } from '../devices/load.js';
import { dateParameterSchema } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai, uaiParameterSchema } from '../domain/uai.js';
import {
  ApiRoutes,
  createRoute,
  jsonResponse,
  problemResponses,
  problemsSchema,
} from '../http/openapi-route.js';
import { inputErrorResponse, notFound } from '../http/problem-response.js';
import type { CalendarSource } from '../site/calendars.js';
import type { FrozenSavingsRepository } from '../store/frozen-savings-repository.js';
import type { MeterRepository } from '../store/meter-repository.js';
import { type BaselineSchedule, DEFAULT_BASELINE } from './baseline.js';
import { measuredQuery, schoolMeasuredSavings } from './school-measured-savings.js';
import {
  dateChunks,
  estimateSchoolSavings,
  outdoorForSchool,
  type SchoolSavingsBody,
  savingsDates,
} from './school-savings.js';

export interface SavingsRoutesDeps {
  /** `PlanningService.planFor` (at most `MAX_PLAN_DAYS` days per call). */
  planFor: (uai: string, date: string, days: number) => Promise<PlanForDates>;
  /** The devices of a school of the site (`site.current.devices.get`). */
  devicesOf: (uai: string) => LoadedDevices | undefined;
  calendars: Pick<CalendarSource, 'forSchool'>;
  /** Default: comfort 19 °C 06:00–18:00 Monday–Friday outside holidays, 16 °C otherwise, 8 °C on closed days. */
  baseline?: BaselineSchedule;
  /** Zone comfort setpoints of the rules in force (the per-category baseline, docs/savings.md). */
  zoneComfort?: (uai: string) => ReadonlyMap<string, number>;
  /** Meter and outdoor readings: `GET /api/savings/measured` (issue 16). */
  meters?: Pick<MeterRepository, 'meterReadings' | 'outdoorReadings' | 'meters'>;
  /** Frozen figures of closed weeks and months (issue 21): served instead of a recomputation. */
  frozen?: Pick<FrozenSavingsRepository, 'get' | 'list'>;
}

const TAG = 'Bridge';
const security = [{ bearer: [] }];

/** The estimate (school-savings.ts): its figures typed, the inputs and per-zone detail as documented in docs/savings.md. */
const savingsBodySchema = z.looseObject({
  estimate: z.literal(true),
  uai: z.string(),
  name: z.string(),
  from: z.iso.date(),
  to: z.iso.date(),
  timezone: z.string(),
  rules_version: z.string(),
  timetable_versions: z.array(z.int()),
  fallback: z.boolean().describe('Part of the period was planned on the fallback week (no timetable)'),
  period: z.strictObject({ from: z.string(), to: z.string(), hours: z.number() }),
  method: z.string(),
  method_reference: z.string(),
  inputs: z.looseObject({
    baseline: z.looseObject({ description: z.string() }),
    outdoor: z.record(z.string(), z.unknown()),
    zones: z.array(z.strictObject({ zone: z.string(), loss_coefficient_w_per_k: z.number().nullable() })),
  }),
  assumptions: z.array(z.string()),
  zones: z.array(z.looseObject({ zone: z.string() })),
  totals: z.strictObject({
    kwh_plan: z.number(),
    kwh_baseline: z.number(),
    saving_kwh: z.number(),
    saving_percent: z.number().nullable(),
    zones_estimated: z.int(),
    zones_excluded: z.int(),
  }),
  frozen: z
    .strictObject({
      period: z.enum(['week', 'month']),
      frozen_at: z.string(),
      rules_version: z.string(),
      timetable_versions: z.unknown(),
      plan_hashes: z.unknown(),
    })
    .optional()
    .describe('A closed week or month: the figures frozen then, with the versions they were computed with'),
});

const missingDataSchema = z.strictObject({
  period: z.enum(['baseline', 'reporting']),
  what: z.enum(['meter-readings', 'outdoor-temperature', 'degree-days']),
  message: z.string(),
  days: z.array(z.strictObject({ date: z.string(), reason: z.string() })).optional(),
  missing_days: z.int().optional(),
});

const periodSummarySchema = z.looseObject({
  from: z.string(),
  to: z.string(),
  days: z.int(),
  days_used: z.int(),
  outdoor_sources: z.strictObject({ sensor: z.int(), normals: z.int() }),
});

const measuredBodySchema = z.strictObject({
  uai: z.string(),
  meters: z.array(z.string()),
  ok: z.literal(true),
  method: z.string(),
  method_reference: z.string(),
  model: z.looseObject({
    kind: z.enum(['hdd', 'change-point']),
    formula: z.string(),
    r2: z.number(),
    cv_rmse_percent: z.number(),
    nmbe_percent: z.number(),
    ashrae14: z.looseObject({ meets: z.boolean(), reference: z.string() }),
  }),
  baseline: periodSummarySchema,
  reporting: periodSummarySchema.extend({ kwh_measured: z.number(), kwh_predicted: z.number() }),
  savings: z.strictObject({
    kwh: z.number(),
    percent: z.number().nullable(),
    uncertainty: z.array(
      z.strictObject({
        confidence: z.number(),
        t: z.number(),
        kwh: z.number(),
        fraction: z.number().nullable(),
      }),
    ),
  }),
  assumptions: z.array(z.string()),
  estimate: z.union([
    z.strictObject({
      available: z.literal(true),
      totals: savingsBodySchema.shape.totals,
      rules_version: z.string(),
      timetable_versions: z.array(z.int()),
      method_reference: z.string(),
    }),
    z.strictObject({ available: z.literal(false), reason: z.string() }),
  ]),
});

const savingsQuerySchema = z.object({
  uai: uaiParameterSchema('uai (query)'),
  from: dateParameterSchema('from').describe('First local day'),
  to: dateParameterSchema('to').describe('Last local day (at most 366 days)'),
  station: z.string().optional().describe('Outdoor normals station (default: from the département)'),
});

const measuredQuerySchema = z.object({
  uai: uaiParameterSchema('uai (query)'),
  baseline_from: dateParameterSchema('baseline_from').describe(
    'First day of the baseline (before the pilot)',
  ),
  baseline_to: dateParameterSchema('baseline_to').describe('Last day of the baseline, before `from`'),
  from: dateParameterSchema('from').describe('First day of the reporting period'),
  to: dateParameterSchema('to').describe('Last day of the reporting period (each period at most 731 days)'),
  meter: z.string().optional().describe('Meter ids, comma-separated (default: every meter of the school)'),
  model: z
    .enum(['hdd', 'change-point'])
    .optional()
    .describe('hdd (default) or the 3-parameter change-point model'),
  station: z.string().optional().describe('Outdoor normals station for days without sensor data'),
});

/**
 * The declarations of the savings routes. Their parameters are checked by the handlers
 * (`handlerValidates`): a school outside the caller's list is 404 before its dates are read, and a
 * missing `uai` is `option-missing`, as before the declarations.
 */
export const SAVINGS_ROUTES = {
  estimate: createRoute({
    method: 'get',
    path: '/api/savings',
    summary: 'Estimated heating savings of a school over a period: the plan against a fixed programme',
    description:
      'Degree-hours above the outdoor temperature (monthly normals of the nearest Grand Est station, or a named station) times each zone’s loss coefficient: a steady-state upper bound, labelled as an estimate with its method, inputs and assumptions (docs/savings.md). Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { query: savingsQuerySchema },
    responses: {
      200: jsonResponse('The estimate', savingsBodySchema),
      ...problemResponses(400, 401, 403, 404, 422, [503, 'Occupancy not available from SORTIE']),
    },
  }),
  measured: createRoute({
    method: 'get',
    path: '/api/savings/measured',
    summary:
      'Measured savings of a school (IPMVP option C): a baseline model of metered daily energy against degree-days',
    description:
      'Fits daily energy of the school’s meters (summed, or those named) against heating degree-days base 18 °C on the baseline period, applies it to the reporting period; states the model, coefficients with standard errors, R², CV(RMSE), NMBE, the ASHRAE Guideline 14 verdict, the savings with their uncertainty at 68 % and 90 % confidence, and the estimate of the same days beside it (docs/savings.md, "Measured savings"). Without enough data: 422 with `missing`, never a number. Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { query: measuredQuerySchema },
    responses: {
      200: jsonResponse(
        'The model, its statistics, the savings with uncertainty, and `estimate` beside',
        measuredBodySchema,
      ),
      ...problemResponses(400, 401, 403, 404),
      422: jsonResponse(
        'Not enough data: `errors` (code `measured-data-missing`) and `missing` (period, what, days)',
        problemsSchema.extend({ missing: z.array(missingDataSchema) }),
      ),
    },
  }),
};

export function savingsRoutes(deps: SavingsRoutesDeps): OpenAPIHono<AuthEnv> {
  const routes = new ApiRoutes<AuthEnv>();
  const readers = [requireRole('manager', 'auditor')];

  /** The school's devices and calendar, or a 404 for a school outside the caller's list. */
  const schoolOf = (c: Context<AuthEnv>) => {
    const uaiText = c.req.query('uai');
    if (uaiText === undefined)
      throw InputError.of('option-missing', 'uai is required', 'uai (query)', 'malformed');
    const uai = requireUai(uaiText, 'uai (query)');
    const devices = deps.devicesOf(uai);
    if (!uaiVisible(c, uai) || !devices) return null;
    const school = devices.value.school;
    const calendar = deps.calendars.forSchool(uai, {
      departement: school.departement,
      timezone: school.timezone,
    });
    return { uai, devices, school, calendar };
  };

  /** The estimate over local dates, or the SortieError that kept the plan from being made. */
  const estimate = async (
    found: NonNullable<ReturnType<typeof schoolOf>>,
    dates: ReturnType<typeof savingsDates>,
    station: string | undefined,
  ): Promise<SchoolSavingsBody> => {
    const { uai, devices, calendar } = found;
    const outdoor = outdoorForSchool(calendar, station, 'station (query)');
    const plans = [];
    for (const chunk of dateChunks(dates, MAX_PLAN_DAYS)) {
      plans.push((await deps.planFor(uai, chunk.date, chunk.days)).plan);
    }
    return estimateSchoolSavings({
      devices,
      calendar,
      plans,
      dates,
      baseline: deps.baseline ?? DEFAULT_BASELINE,
      outdoor,
      ...(deps.zoneComfort ? { zoneComfort: deps.zoneComfort(uai) } : {}),
    });
  };

  routes.add({
    route: SAVINGS_ROUTES.estimate,
    middleware: readers,
    handlerValidates: true,
    handler: (c) =>
      handle(c, async () => {
        const found = schoolOf(c);
        if (!found) return notFound(c, `establishment ${c.req.query('uai')}`, 'uai (query)');
        // Date parameters are named bare (issue 13's contract), like every date parameter.
        const dates = savingsDates(c.req.query('from'), c.req.query('to'), found.school.timezone, {
          from: 'from',
          to: 'to',
        });
        const station = c.req.query('station');
        outdoorForSchool(found.calendar, station, 'station (query)');
        // A closed week or month is answered with its frozen figures and the versions they were
        // computed with, never recomputed with today's timetable (issue 21; docs/savings.md).
        if (deps.frozen && station === undefined) {
          for (const kind of ['week', 'month'] as const) {
            const frozen = await deps.frozen.get(found.uai, kind, dates.from);
            if (frozen && frozen.to === dates.to) {
              return c.json({
                ...(frozen.body as object),
                frozen: {
                  period: kind,
                  frozen_at: frozen.frozenAt,
                  rules_version: frozen.rulesVersion,
                  timetable_versions: frozen.timetableVersions,
                  plan_hashes: frozen.planHashes,
                },
              });
            }
          }
        }
        try {
          return c.json(await estimate(found, dates, station));
        } catch (error) {
          if (error instanceof SortieError) return occupancyUnavailable(c, found.uai, error, 'from (query)');
          throw error;
        }
      }),
  });

  routes.add({
    route: SAVINGS_ROUTES.measured,
    middleware: readers,
    handlerValidates: true,
    handler: (c) =>
      handle(c, async () => {
        const found = schoolOf(c);
        if (!found || !deps.meters) return notFound(c, `establishment ${c.req.query('uai')}`, 'uai (query)');
        const query = measuredQuery(
          {
            baselineFrom: c.req.query('baseline_from'),
            baselineTo: c.req.query('baseline_to'),
            from: c.req.query('from'),
            to: c.req.query('to'),
            meter: c.req.query('meter'),
            model: c.req.query('model'),
            station: c.req.query('station'),
          },
          {
            baselineFrom: 'baseline_from',
            baselineTo: 'baseline_to',
            from: 'from',
            to: 'to',
            meter: 'meter',
            model: 'model',
            station: 'station',
          },
        );
        const measured = await schoolMeasuredSavings({
          uai: found.uai,
          timezone: found.school.timezone,
          departement: found.calendar.departement,
          query,
          meters: deps.meters,
        });
        if (!measured.ok) {
          // Never a number without the data behind it: which data is missing, per period.
          return c.json(
            {
              errors: measured.missing.map((m) => ({
                code: 'measured-data-missing',
                message: m.message,
                where: `${m.period} ${m.what}`,
              })),
              missing: measured.missing,
            },
            422,
          );
        }
        // Beside it, the model estimate of the same reporting days (docs/savings.md).
        let beside: Record<string, unknown>;
        try {
          const dates = savingsDates(query.from, query.to, found.school.timezone, { from: 'from', to: 'to' });
          const body = await estimate(found, dates, query.station);
          beside = {
            available: true,
            totals: body.totals,
            rules_version: body.rules_version,
            timetable_versions: body.timetable_versions,
            method_reference: body.method_reference,
          };
        } catch (error) {
          if (!(error instanceof SortieError) && !isInputError(error)) throw error;
          beside = { available: false, reason: (error as Error).message };
        }
        return c.json({ ...measured, estimate: beside });
      }),
  });

  return routes.app;
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
