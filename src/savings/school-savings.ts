import type { SchoolPlan } from '../bridge/school-plan.js';
import type { SchoolCalendar } from '../calendar/index.js';
import { addDaysIso } from '../calendar/index.js';
import { localDatePeriod } from '../calendar/local-date-period.js';
import type { LoadedDevices } from '../devices/load.js';
import { InputError } from '../domain/problems.js';
import type { TimeRange } from '../rules/planner.js';
import type { Segment } from '../rules/segment.js';
import type { BaselineSchedule } from './baseline.js';
import { estimateSavings, type SavingsEstimate } from './estimate.js';
import {
  isOutdoorStation,
  OUTDOOR_STATIONS,
  type OutdoorTemperatures,
  stationOfDepartement,
} from './outdoor.js';

/** Longest period, in days: a school year (a whole heating season with margins). */
export const MAX_SAVINGS_DAYS = 366;

export interface SavingsDates {
  from: string;
  /** Inclusive. */
  to: string;
  days: number;
  range: TimeRange;
}

/**
 * Local dates `from`..`to` (inclusive) as `[midnight of from, midnight after to)`. `where` names
 * the two inputs in errors ("from", "--from").
 */
export function savingsDates(
  from: string | undefined,
  to: string | undefined,
  timezone: string,
  where: { from: string; to: string },
): SavingsDates {
  return localDatePeriod(from, to, timezone, where, MAX_SAVINGS_DAYS);
}

/** The period as runs of at most `maxDays` local days, for planners that cap their range. */
export function dateChunks(dates: SavingsDates, maxDays: number): Array<{ date: string; days: number }> {
  const chunks: Array<{ date: string; days: number }> = [];
  for (let offset = 0; offset < dates.days; offset += maxDays) {
    chunks.push({ date: addDaysIso(dates.from, offset), days: Math.min(maxDays, dates.days - offset) });
  }
  return chunks;
}

/**
 * The station whose monthly normals stand for the school: the one asked for, else its
 * département's (Grand Est). Elsewhere there is no shipped series: the caller must name one.
 */
export function outdoorForSchool(
  calendar: SchoolCalendar,
  station: string | undefined,
  where: string,
): OutdoorTemperatures {
  if (station !== undefined) {
    if (!isOutdoorStation(station)) {
      throw InputError.of(
        'bad-station',
        `unknown station "${station}"; shipped: ${OUTDOOR_STATIONS.join(', ')}`,
        where,
        'malformed',
      );
    }
    return { kind: 'monthly-normals', station };
  }
  const own = stationOfDepartement(calendar.departement);
  if (!own) {
    throw InputError.of(
      'no-outdoor-normals',
      `no shipped outdoor normals for département ${calendar.departement}; name a station (${OUTDOOR_STATIONS.join(', ')})`,
      where,
      'invalid',
    );
  }
  return { kind: 'monthly-normals', station: own };
}

export interface SchoolSavingsInput {
  devices: LoadedDevices;
  calendar: SchoolCalendar;
  /** Plans covering the period (consecutive chunks, or one plan). */
  plans: readonly SchoolPlan[];
  dates: SavingsDates;
  baseline: BaselineSchedule;
  outdoor: OutdoorTemperatures;
  /** Zone id → its own comfort setpoint (`zoneComfortSetpoints`): the per-zone baseline. */
  zoneComfort?: ReadonlyMap<string, number>;
}

export interface SchoolSavingsBody extends SavingsEstimate {
  uai: string;
  name: string;
  from: string;
  to: string;
  timezone: string;
  rules_version: string;
  timetable_versions: number[];
  /** Some of the period was planned on the fallback week (no timetable). */
  fallback: boolean;
}

export function estimateSchoolSavings(input: SchoolSavingsInput): SchoolSavingsBody {
  const { devices, plans, dates } = input;
  const school = devices.value.school;
  const segmentsOf = (zone: string): Segment[] =>
    plans.flatMap((plan) => plan.zones.find((z) => z.zone === zone)?.functions.heating ?? []);
  const estimate = estimateSavings({
    period: dates.range,
    zones: devices.value.zones.map((zone) => {
      const comfortC = input.zoneComfort?.get(zone.id);
      return { zone, segments: segmentsOf(zone.id), ...(comfortC === undefined ? {} : { comfortC }) };
    }),
    baseline: input.baseline,
    calendar: input.calendar,
    outdoor: input.outdoor,
  });
  const fallback = plans.some((p) => p.fallback);
  return {
    uai: school.uai,
    name: school.name,
    from: dates.from,
    to: dates.to,
    timezone: school.timezone,
    rules_version: plans[0]?.rulesVersion ?? '',
    timetable_versions: [
      ...new Set(plans.flatMap((p) => (p.timetableVersion === null ? [] : [p.timetableVersion]))),
    ],
    fallback,
    ...estimate,
    assumptions: fallback
      ? [
          ...estimate.assumptions,
          'Part of the period has no timetable: the plan there is the fallback week of the rules, not the lessons.',
        ]
      : estimate.assumptions,
  };
}
