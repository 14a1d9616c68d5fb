/**
 * One `SchoolCalendar` per (school, time zone), built from the configured holiday zone and
 * periods and kept for the life of the process (a calendar is immutable). Its fingerprint goes into
 * occupancy ETags: a restart with another holidays file changes the bodies, so it changes the tags.
 */
import { createHash } from 'node:crypto';
import {
  type HolidayPeriod,
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
