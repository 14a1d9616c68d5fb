/**
 * `GET /api/comfort?uai=&from=&to=[&zone=][&format=csv]` (issue 16): a school's comfort report
 * (comfort-report.ts) for `manager` and `auditor` (and `admin`), and `GET
 * /api/telemetry/hourly?uai=&from=&to=[&zone=]`: the stored hourly aggregates as CSV. Mount after
 * `requireAuth`; a school outside the caller's list is answered 404, never 403.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
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

export function comfortRoutes(deps: ComfortRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/api/comfort', requireRole('manager', 'auditor'), (c) =>
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
  );

  app.get('/api/telemetry/hourly', requireRole('manager', 'auditor'), (c) =>
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
  );

  return app;
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
