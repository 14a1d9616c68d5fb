/**
 * One `SchoolCalendar` per (school, time zone), built from the configured holiday zone and
 * periods and kept for the life of the process (a calendar is immutable). Its fingerprint goes into
 * occupancy ETags: a restart with another holidays file changes the bodies, so it changes the tags.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  type HolidayPeriod,
  isSchoolZone,
  mergeHolidayPeriods,
  parseHolidayDataset,
  SchoolCalendar,
  type SchoolZone,
  shippedHolidayPeriods,
} from '../../calendar/index.js';

export interface SchoolCalendars {
  calendarOf(uai: string, timezone: string): SchoolCalendar;
  /** Changes when, and only when, the holiday data or zone changes. */
  readonly fingerprint: string;
}

export interface SchoolCalendarsOptions {
  zone: SchoolZone;
  /** Default: the shipped periods. */
  periods?: readonly HolidayPeriod[];
}

export function schoolCalendars(options: SchoolCalendarsOptions): SchoolCalendars {
  const periods = options.periods ?? shippedHolidayPeriods();
  const cache = new Map<string, SchoolCalendar>();
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ zone: options.zone, periods }))
    .digest('base64url')
    .slice(0, 16);
  return {
    fingerprint,
    calendarOf(uai, timezone) {
      const key = `${uai}|${timezone}`;
      let calendar = cache.get(key);
      if (!calendar) {
        calendar = SchoolCalendar.forSchool({ uai, zone: options.zone, periods, timezone });
        cache.set(key, calendar);
      }
      return calendar;
    },
  };
}

/**
 * The calendars of the configured zone (`calendar.zone`), with `calendar.holidays_file` merged
 * over the shipped periods when set. The shipped data has zones A, B and C only: for Corse no
 * school holidays are known, so only public holidays close the schools (`warn` says so).
 */
export function schoolCalendarsFromConfig(
  settings: { zone: string; holidaysFile?: string | undefined },
  warn: (message: string) => void,
): SchoolCalendars {
  const shipped = shippedHolidayPeriods();
  const periods =
    settings.holidaysFile === undefined
      ? shipped
      : mergeHolidayPeriods(
          shipped,
          parseHolidayDataset(
            new Uint8Array(readFileSync(settings.holidaysFile)),
            basename(settings.holidaysFile),
          ),
        );
  if (!isSchoolZone(settings.zone)) {
    warn(`calendar zone ${settings.zone} has no shipped school holidays: only public holidays close schools`);
    return schoolCalendars({ zone: 'B', periods: [] });
  }
  return schoolCalendars({ zone: settings.zone, periods });
}
