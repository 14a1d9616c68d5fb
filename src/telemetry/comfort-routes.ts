/**
 * `GET /api/comfort?uai=&from=&to=[&zone=][&format=csv]` (issue 16): a school's comfort report
 * (comfort-report.ts) for `manager` and `auditor` (and `admin`), and `GET
 * /api/telemetry/hourly?uai=&from=&to=[&zone=]`: the stored hourly aggregates as CSV. Mount after
 * `requireAuth`; a school outside the caller's list is answered 404, never 403.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import { dateParameterSchema } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai, uaiParameterSchema } from '../domain/uai.js';
import { ApiRoutes, createRoute, problemResponses } from '../http/openapi-route.js';
import { inputErrorResponse, notFound } from '../http/problem-response.js';
import { decimal, spreadsheetCsv } from '../http/spreadsheet-csv.js';
import type { HourlyRow, TelemetryRepository } from '../store/telemetry-repository.js';
import type { ComfortSettings } from './comfort.js';
import {
  type ComfortBody,
  comfortPeriod,
  comfortReport,
  heatedZoneOf,
  heatedZones,
  minutes,
} from './comfort-report.js';
import type { PlanFor } from './plan-window.js';

export interface ComfortRoutesDeps {
  repository: TelemetryRepository;
  planFor: PlanFor;
  devicesOf: (uai: string) => LoadedDevices | undefined;
  settings: ComfortSettings;
  clock: Clock;
}

const TAG = 'Bridge';
const security = [{ bearer: [] }];

/** ComfortBody (comfort-report.ts); definitions of each figure in docs/telemetry.md. */
const comfortBodySchema = z.strictObject({
  uai: z.string(),
  name: z.string(),
  from: z.iso.date(),
  to: z.iso.date(),
  timezone: z.string(),
  function: z.literal('heating'),
  definitions: z.strictObject({
    hold_minutes: z.number(),
    cold_tolerance_c: z.number(),
    overheat_tolerance_c: z.number(),
    overheat_cap_c: z.number(),
    start_after_unoccupied_minutes: z.number(),
  }),
  computed_until: z.string().describe('Figures cover the period up to this instant'),
  aggregated_until: z
    .string()
    .nullable()
    .describe('Hours before this instant come from the stored hourly aggregates; null: none yet'),
  zones: z.array(
    z.strictObject({
      zone: z.string(),
      name: z.string(),
      occupied_minutes: z.number(),
      measured_minutes: z.number(),
      cold_minutes: z.number(),
      overheated_minutes: z.number(),
      unmeasured_minutes: z.number(),
      starts: z.int(),
      cold_starts: z.int(),
      min_c: z.number().nullable(),
      mean_c: z.number().nullable(),
      max_c: z.number().nullable(),
      occupancy_starts: z.array(
        z.strictObject({
          at: z.string(),
          target_c: z.number().nullable(),
          measured_c: z.number().nullable(),
          cold: z.boolean(),
        }),
      ),
    }),
  ),
});

const csvContent = (what: string) => ({
  'text/csv': {
    schema: z.string().describe(`${what}: UTF-8 with BOM, ";" between fields, decimal comma, CRLF`),
  },
});

const periodQuery = {
  uai: uaiParameterSchema('uai (query)'),
  from: dateParameterSchema('from').describe('First local day'),
  to: dateParameterSchema('to').describe('Last local day (at most 366 days)'),
};

/**
 * The declarations of the comfort and hourly telemetry routes. Their parameters are checked by the
 * handlers (`handlerValidates`): a missing `uai` is `option-missing`, a school outside the list is
 * 404 before its dates are read, and the period checks keep their codes.
 */
export const COMFORT_ROUTES = {
  comfort: createRoute({
    method: 'get',
    path: '/api/comfort',
    summary: 'Measured comfort of a school’s heated zones over local dates (issue 16)',
    description:
      'Per zone: occupied, measured, cold, overheated and unmeasured occupied minutes (two decimals), occupancy starts and cold starts with their instant, target and measurement; from the hourly aggregates up to the school’s aggregation progress, then from raw samples and the plan (definitions in docs/telemetry.md). `format=csv` gives one line per zone as spreadsheet CSV (UTF-8 with BOM, `;` between fields, decimal comma, CRLF). `scope-energie comfort --json` prints the same body. Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: {
      query: z.object({
        ...periodQuery,
        zone: z.string().optional().describe('One heated zone of devices/'),
        format: z.enum(['json', 'csv']).optional(),
      }),
    },
    responses: {
      200: {
        description: 'The comfort report (JSON) or its CSV',
        content: { 'application/json': { schema: comfortBodySchema }, ...csvContent('One line per zone') },
      },
      ...problemResponses(400, 401, 403, 404, 422),
    },
  }),
  hourly: createRoute({
    method: 'get',
    path: '/api/telemetry/hourly',
    summary: 'Hourly telemetry aggregates of a school as CSV (issue 16)',
    description:
      'One line per zone, function and UTC hour: samples, flagged samples, min/mean/max measured temperature, occupied, measured, cold, overheated and unmeasured minutes, starts (docs/telemetry.md). Spreadsheet CSV: UTF-8 with BOM, `;` between fields, decimal comma, CRLF. Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { query: z.object({ ...periodQuery, zone: z.string().optional() }) },
    responses: {
      200: { description: 'The aggregates', content: csvContent('One line per zone, function and UTC hour') },
      ...problemResponses(400, 401, 403, 404, 422),
    },
  }),
};

export function comfortRoutes(deps: ComfortRoutesDeps): OpenAPIHono<AuthEnv> {
  const routes = new ApiRoutes<AuthEnv>();
  const readers = [requireRole('manager', 'auditor')];

  routes.add({
    route: COMFORT_ROUTES.comfort,
    middleware: readers,
    handlerValidates: true,
    handler: (c) =>
      handle(c, async () => {
        const school = schoolOf(c, deps);
        if ('response' in school) return school.response;
        const format = c.req.query('format') ?? 'json';
        if (format !== 'json' && format !== 'csv')
          throw InputError.of('bad-format', 'format is json or csv', 'format (query)', 'malformed');
        const body = await comfortReport(comfortInput(c, deps, school.devices));
        if (format === 'csv')
          return csv(c, `confort-${body.uai}-${body.from}-${body.to}.csv`, comfortCsv(body));
        return c.json(body);
      }),
  });

  routes.add({
    route: COMFORT_ROUTES.hourly,
    middleware: readers,
    handlerValidates: true,
    handler: (c) =>
      handle(c, async () => {
        const school = schoolOf(c, deps);
        if ('response' in school) return school.response;
        const { uai, timezone } = school.devices.value.school;
        const period = comfortPeriod(c.req.query('from'), c.req.query('to'), timezone, {
          from: 'from',
          to: 'to',
        });
        const zone = zoneOf(c, school.devices);
        const rows = await deps.repository.hourlyOf(uai, period.range.from, period.range.to, zone);
        return csv(c, `telemetrie-horaire-${uai}-${period.from}-${period.to}.csv`, hourlyCsv(rows));
      }),
  });

  return routes.app;
}

export function comfortInput(
  c: Context<AuthEnv>,
  deps: ComfortRoutesDeps,
  devices: LoadedDevices,
): Parameters<typeof comfortReport>[0] {
  const school = devices.value.school;
  const zone = zoneOf(c, devices);
  return {
    repository: deps.repository,
    planFor: deps.planFor,
    settings: deps.settings,
    clock: deps.clock,
    school: { uai: school.uai, name: school.name, timezone: school.timezone },
    zones: heatedZones(devices),
    period: comfortPeriod(c.req.query('from'), c.req.query('to'), school.timezone, {
      from: 'from',
      to: 'to',
    }),
    ...(zone === undefined ? {} : { zone }),
  };
}

export const COMFORT_CSV_COLUMNS = [
  'zone',
  'name',
  'occupied_minutes',
  'measured_minutes',
  'cold_minutes',
  'overheated_minutes',
  'unmeasured_minutes',
  'starts',
  'cold_starts',
  'min_c',
  'mean_c',
  'max_c',
] as const;

/** One line per zone: the figures of the report (src/http/spreadsheet-csv.ts). */
export function comfortCsv(body: ComfortBody): string {
  return spreadsheetCsv(
    COMFORT_CSV_COLUMNS,
    body.zones.map((z) => [
      z.zone,
      z.name,
      decimal(z.occupied_minutes, 2),
      decimal(z.measured_minutes, 2),
      decimal(z.cold_minutes, 2),
      decimal(z.overheated_minutes, 2),
      decimal(z.unmeasured_minutes, 2),
      z.starts,
      z.cold_starts,
      decimal(z.min_c, 2),
      decimal(z.mean_c, 2),
      decimal(z.max_c, 2),
    ]),
  );
}

export const HOURLY_CSV_COLUMNS = [
  'zone',
  'function',
  'hour',
  'samples',
  'flagged',
  'min_c',
  'mean_c',
  'max_c',
  'occupied_minutes',
  'measured_minutes',
  'cold_minutes',
  'overheated_minutes',
  'unmeasured_minutes',
  'starts',
  'cold_starts',
] as const;

/** One line per zone, function and UTC hour (the stored aggregates). */
export function hourlyCsv(rows: readonly HourlyRow[]): string {
  return spreadsheetCsv(
    HOURLY_CSV_COLUMNS,
    rows.map((r) => [
      r.zone,
      r.function,
      new Date(r.hour).toISOString(),
      r.samples,
      r.flagged,
      decimal(r.minC, 2),
      decimal(r.meanC, 2),
      decimal(r.maxC, 2),
      decimal(minutes(r.occupiedMs), 2),
      decimal(minutes(r.occupiedMeasuredMs), 2),
      decimal(minutes(r.coldMs), 2),
      decimal(minutes(r.overheatedMs), 2),
      decimal(minutes(r.unmeasuredMs), 2),
      r.starts,
      r.coldStarts,
    ]),
  );
}

function csv(c: Context<AuthEnv>, filename: string, text: string): Response {
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${filename}"`);
  c.header('Cache-Control', 'private, no-store');
  return c.body(text);
}

function zoneOf(c: Context<AuthEnv>, devices: LoadedDevices): string | undefined {
  return heatedZoneOf(devices, c.req.query('zone'), 'zone (query)');
}

function schoolOf(
  c: Context<AuthEnv>,
  deps: ComfortRoutesDeps,
): { devices: LoadedDevices } | { response: Response } {
  const uaiText = c.req.query('uai');
  if (uaiText === undefined)
    throw InputError.of('option-missing', 'uai is required', 'uai (query)', 'malformed');
  const uai = requireUai(uaiText, 'uai (query)');
  const devices = deps.devicesOf(uai);
  if (!uaiVisible(c, uai) || !devices)
    return { response: notFound(c, `establishment ${uai}`, 'uai (query)') };
  return { devices };
}

async function handle(c: Context<AuthEnv>, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (isInputError(error)) return inputErrorResponse(c, error);
    throw error;
  }
}
