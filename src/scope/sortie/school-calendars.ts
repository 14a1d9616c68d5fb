/**
 * SORTIE and VUE take their calendars through `SchoolCalendars` (src/site/calendars.ts), the one
 * source every part shares; `schoolCalendars` builds one from given periods (tests).
 */
import type { HolidayPeriod, SchoolZone } from '../../calendar/index.js';
import { CalendarSource, type SchoolCalendars } from '../../site/calendars.js';

export type { SchoolCalendars } from '../../site/calendars.js';

export function schoolCalendars(options: {
  zone: SchoolZone;
  periods?: readonly HolidayPeriod[];
}): SchoolCalendars {
  return new CalendarSource({ zone: options.zone, ...(options.periods ? { periods: options.periods } : {}) });
}
