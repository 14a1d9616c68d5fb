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
import type { TelemetryRepository } from '../store/telemetry-repository.js';
import type { ComfortSettings } from './comfort.js';
import { type ComfortBody, comfortPeriod, comfortReport, minutes } from './comfort-report.js';
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
      const lines = [
        'zone,function,hour,samples,flagged,min_c,mean_c,max_c,occupied_minutes,measured_minutes,cold_minutes,overheated_minutes,unmeasured_minutes,starts,cold_starts',
        ...rows.map((r) =>
          [
            r.zone,
            r.function,
            new Date(r.hour).toISOString(),
            r.samples,
            r.flagged,
            r.minC ?? '',
            r.meanC === null ? '' : r.meanC.toFixed(2),
            r.maxC ?? '',
            minutes(r.occupiedMs).toFixed(2),
            minutes(r.occupiedMeasuredMs).toFixed(2),
            minutes(r.coldMs).toFixed(2),
            minutes(r.overheatedMs).toFixed(2),
            minutes(r.unmeasuredMs).toFixed(2),
            r.starts,
            r.coldStarts,
          ].join(','),
        ),
      ];
      return csv(c, `telemetrie-horaire-${uai}-${period.from}-${period.to}.csv`, lines);
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

export function heatedZones(devices: LoadedDevices): { id: string; name: string }[] {
  return devices.value.zones
    .filter((z) => z.functions.includes('heating'))
    .map((z) => ({ id: z.id, name: z.name }));
}

/** One line per zone: the figures of the report (CSV, RFC 4180, dot decimals). */
export function comfortCsv(body: ComfortBody): string[] {
  return [
    'zone,name,occupied_minutes,measured_minutes,cold_minutes,overheated_minutes,unmeasured_minutes,starts,cold_starts,min_c,mean_c,max_c',
    ...body.zones.map((z) =>
      [
        z.zone,
        csvField(z.name),
        z.occupied_minutes.toFixed(2),
        z.measured_minutes.toFixed(2),
        z.cold_minutes.toFixed(2),
        z.overheated_minutes.toFixed(2),
        z.unmeasured_minutes.toFixed(2),
        z.starts,
        z.cold_starts,
        z.min_c ?? '',
        z.mean_c ?? '',
        z.max_c ?? '',
      ].join(','),
    ),
  ];
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csv(c: Context<AuthEnv>, filename: string, lines: string[]): Response {
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${filename}"`);
  c.header('Cache-Control', 'private, no-store');
  return c.body(`${lines.join('\r\n')}\r\n`);
}

function zoneOf(c: Context<AuthEnv>, devices: LoadedDevices): string | undefined {
  const zone = c.req.query('zone');
  if (zone === undefined) return undefined;
  if (!devices.value.zones.some((z) => z.id === zone && z.functions.includes('heating')))
    throw InputError.of(
      'unknown-zone',
      `no heated zone ${zone} in ${devices.value.school.uai}`,
      'zone (query)',
      'invalid',
    );
  return zone;
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
