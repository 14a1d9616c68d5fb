/** The school calendar and the expansion of a timetable into room occupancy (docs/calendar.md). */
export { addDaysIso, dayNumberOfIso, isoOfDayNumber, isoWeekdayOf } from './day-number.js';
export { easterSunday } from './easter.js';
export { type ExpandOptions, expandOccupancy, type OccupancyRange } from './expand-occupancy.js';
export { parseHolidayDataset } from './holiday-dataset.js';
export {
  closedDatesOfPeriod,
  type HolidayPeriod,
  isSchoolZone,
  mergeHolidayPeriods,
  SCHOOL_ZONES,
  type SchoolZone,
  shippedHolidayPeriods,
} from './holiday-period.js';
export { type OccupancyBody, toOccupancyBody } from './occupancy-body.js';
export {
  departementOfSchool,
  isAlsaceMoselle,
  type PublicHoliday,
  publicHolidays,
} from './public-holidays.js';
export {
  type ClosedDate,
  type Closure,
  SchoolCalendar,
  type SchoolCalendarOptions,
  type SchoolForCalendar,
} from './school-calendar.js';
export { exactInstant, ZoneDays, zoneDays } from './zone-days.js';
