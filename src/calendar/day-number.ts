/**
 * Civil dates as day numbers (days since 1970-01-01, proleptic Gregorian): the integer the hot
 * loops use instead of `YYYY-MM-DD` strings or `Date` objects. No time zone is involved here; a
 * day number becomes an instant only through a zone's offsets (zone-days.ts).
 * Arithmetic after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil).
 */

export const MS_PER_DAY = 86_400_000;
export const MS_PER_MINUTE = 60_000;

/** Day number of a civil date (month 1–12). */
export function dayNumberOf(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

export function civilOf(dayNumber: number): CivilDate {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const DIGIT_0 = 48;

function digit(text: string, at: number): number {
  const d = text.charCodeAt(at) - DIGIT_0;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

/**
 * Day number of a `YYYY-MM-DD` string, NaN when it is not one (or not a real date). Reads the
 * characters directly: it runs once per week entry of every lesson, where `Date` parsing would
 * dominate the expansion (docs/performance.md, "luxon").
 */
export function dayNumberOfIso(text: string): number {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return Number.NaN;
  return dayNumberOf(year, month, day);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function isoOfDayNumber(dayNumber: number): string {
  const { year, month, day } = civilOf(dayNumber);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** ISO weekday of a day number: 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekdayOf(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

/** `YYYY-MM-DD` plus `days` days, without a time zone. */
export function addDaysIso(date: string, days: number): string {
  return isoOfDayNumber(dayNumberOfIso(date) + days);
}

/** Minutes since midnight of a wall-clock `HH:MM`, NaN when malformed. */
export function minutesOfWallTime(text: string): number {
  if (text.length !== 5 || text.charCodeAt(2) !== 58) return Number.NaN;
  const hours = digit(text, 0) * 10 + digit(text, 1);
  const minutes = digit(text, 3) * 10 + digit(text, 4);
  return hours <= 23 && minutes <= 59 ? hours * 60 + minutes : Number.NaN;
}
