/**
 * Measured savings of one school (issue 16), shared by `GET /api/savings/measured`, `scope-energie
 * savings --measured` and the dashboard: the stored meter readings (all of the school's meters,
 * summed, or the ones named) and outdoor readings over the baseline and reporting periods, the
 * monthly normals of the school's station where the sensor is silent, then `measuredSavings`.
 */
import { DateTime } from 'luxon';
import { parseDateParameter } from '../domain/dates.js';
import { InputError } from '../domain/problems.js';
import type { MeterRepository } from '../store/meter-repository.js';
import type { BaselineModelKind } from './baseline-model.js';
import { MAX_BRACKET_MS, meterDays, outdoorDays, sumMeterDays } from './daily-series.js';
import { type MeasuredSavingsResult, measuredSavings } from './measured-savings.js';
import { isOutdoorStation, monthlyNormals, OUTDOOR_STATIONS, stationOfDepartement } from './outdoor.js';

/** Longest baseline or reporting period: two years of days, bounded work per request. */
export const MAX_MEASURED_DAYS = 731;

export interface MeasuredQuery {
  baselineFrom: string;
  baselineTo: string;
  from: string;
  to: string;
  meters: string[] | null;
  model: BaselineModelKind;
  station: string | undefined;
}

export interface MeasuredParameterNames {
  baselineFrom: string;
  baselineTo: string;
  from: string;
  to: string;
  meter: string;
  model: string;
  station: string;
}

/** Reads and checks the parameters (dates, order, bounds, model, meters); InputError naming the parameter. */
export function measuredQuery(
  raw: Partial<Record<keyof MeasuredParameterNames, string | undefined>>,
  names: MeasuredParameterNames,
): MeasuredQuery {
  const date = (key: 'baselineFrom' | 'baselineTo' | 'from' | 'to') => {
    const text = raw[key];
    if (text === undefined)
      throw InputError.of(
        'option-missing',
        `${names[key]} is required (a date YYYY-MM-DD)`,
        names[key],
        'malformed',
      );
    return parseDateParameter(text, names[key]);
  };
  const q = {
    baselineFrom: date('baselineFrom'),
    baselineTo: date('baselineTo'),
    from: date('from'),
    to: date('to'),
  };
  const days = (a: string, b: string) =>
    Math.round(DateTime.fromISO(b).diff(DateTime.fromISO(a), 'days').days) + 1;
  const check = (a: 'baselineFrom' | 'from', b: 'baselineTo' | 'to') => {
    const n = days(q[a], q[b]);
    if (n < 1) throw InputError.of('bad-period', `${names[b]} is before ${names[a]}`, names[b], 'malformed');
    if (n > MAX_MEASURED_DAYS)
      throw InputError.of(
        'bad-period',
        `the period is ${n} days; at most ${MAX_MEASURED_DAYS}`,
        names[b],
        'malformed',
      );
  };
  check('baselineFrom', 'baselineTo');
  check('from', 'to');
  if (q.baselineTo >= q.from) {
    throw InputError.of(
      'bad-period',
      `the baseline must end before the reporting period starts (${names.baselineTo} ${q.baselineTo}, ${names.from} ${q.from})`,
      names.baselineTo,
      'malformed',
    );
  }
  const model = raw.model ?? 'hdd';
  if (model !== 'hdd' && model !== 'change-point')
    throw InputError.of(
      'bad-model',
      `${names.model} must be hdd or change-point, not "${model}"`,
      names.model,
      'malformed',
    );
  const meters =
    raw.meter === undefined || raw.meter === '' ? null : raw.meter.split(',').map((m) => m.trim());
  if (meters?.some((m) => !/^[A-Za-z0-9_.-]{1,64}$/.test(m)))
    throw InputError.of(
      'bad-meter',
      `${names.meter} lists meter ids (letters, digits, _ . -)`,
      names.meter,
      'malformed',
    );
  if (raw.station !== undefined && !isOutdoorStation(raw.station)) {
    throw InputError.of(
      'bad-station',
      `unknown station "${raw.station}"; shipped: ${OUTDOOR_STATIONS.join(', ')}`,
      names.station,
      'malformed',
    );
  }
  return { ...q, meters, model, station: raw.station };
}

export interface SchoolMeasuredInput {
  uai: string;
  timezone: string;
  departement: string;
  query: MeasuredQuery;
  meters: Pick<MeterRepository, 'meterReadings' | 'outdoorReadings' | 'meters'>;
}

export type SchoolMeasuredBody = { uai: string; meters: string[] } & MeasuredSavingsResult;

export async function schoolMeasuredSavings(input: SchoolMeasuredInput): Promise<SchoolMeasuredBody> {
  const { uai, timezone, query } = input;
  const midnight = (date: string) => DateTime.fromISO(date, { zone: timezone }).startOf('day').toMillis();
  const meters = query.meters ?? (await input.meters.meters(uai)).map((m) => m.meter);
  const station = query.station ?? stationOfDepartement(input.departement);
  const normals = station !== undefined && isOutdoorStation(station) ? monthlyNormals(station) : null;
  const period = async (from: string, to: string) => {
    const start = midnight(from);
    const end = midnight(DateTime.fromISO(to).plus({ days: 1 }).toISODate() as string);
    // Readings just outside the period bracket its first and last midnights.
    const readings = await input.meters.meterReadings(
      uai,
      meters,
      start - MAX_BRACKET_MS,
      end + MAX_BRACKET_MS,
    );
    const perMeter = meters.map(
      (m) =>
        meterDays(
          readings.filter((r) => r.meter === m),
          timezone,
          from,
          to,
        ).days,
    );
    const energy = perMeter.length > 0 ? sumMeterDays(perMeter) : meterDays([], timezone, from, to).days;
    const outdoor = outdoorDays(
      await input.meters.outdoorReadings(uai, start, end),
      timezone,
      from,
      to,
      normals,
    );
    return { energy, outdoor };
  };
  const result = measuredSavings({
    baseline: await period(query.baselineFrom, query.baselineTo),
    reporting: await period(query.from, query.to),
    model: query.model,
  });
  return { uai, meters, ...result };
}
