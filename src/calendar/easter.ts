/**
 * Easter Sunday by the Gregorian computus (Meeus/Jones/Butcher algorithm), computed locally so
 * the calendar needs no network (docs/calendar.md, "Holidays"). Test vectors there: 2025-04-20 … 2029-04-01.
 */
import { dayNumberOf, isoOfDayNumber } from './day-number.js';

/** Day number of Easter Sunday of `year` (Gregorian calendar, year ≥ 1583). */
export function easterSundayDayNumber(year: number): number {
  const a = year % 19; // golden number − 1
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25); // Metonic cycle correction
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30; // epact-like: days from 21 March to the Paschal full moon
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7; // days to the following Sunday
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumberOf(year, month, day);
}

/** Easter Sunday of `year` as `YYYY-MM-DD`. */
export function easterSunday(year: number): string {
  return isoOfDayNumber(easterSundayDayNumber(year));
}
