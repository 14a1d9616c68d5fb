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

export function savingsRoutes(deps: SavingsRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

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

  app.get('/api/savings', requireRole('manager', 'auditor'), (c) =>
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
  );

  app.get('/api/savings/measured', requireRole('manager', 'auditor'), (c) =>
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
