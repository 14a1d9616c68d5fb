/**
 * Calendar-date arithmetic on `YYYY-MM-DD` strings. No time zone is involved: UTC midnight is
 * only a carrier for the date, never an instant of the school (those come from src/calendar).
 */
import { z } from 'zod';
import { InputError, type Problem } from './problems.js';

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

/** The Monday of the week that contains `date`. */
export function mondayOf(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

/**
 * The dates a request may name: a school year is planned and reported within this century, and
 * the bounds keep every later step (calendars, luxon, `Date`, the store's fixed-width ISO text)
 * within years of four digits. Outside them a date is refused, never computed with.
 */
export const MIN_SUPPORTED_DATE = '2000-01-01';
export const MAX_SUPPORTED_DATE = '2099-12-31';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Why `text` is not a usable date parameter, or null: `invalid-date` when it is not a calendar
 * date `YYYY-MM-DD` (2026-02-30 included), `date-out-of-range` outside
 * MIN_SUPPORTED_DATE..MAX_SUPPORTED_DATE. `where` names the parameter (`date`, `from`, `semaine`).
 */
export function dateParameterProblem(text: string, where: string): Problem | null {
  const match = ISO_DATE.exec(text);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  if (!match || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return {
      code: 'invalid-date',
      message: `"${truncate(text)}" is not a date YYYY-MM-DD`,
      where,
    };
  }
  if (text < MIN_SUPPORTED_DATE || text > MAX_SUPPORTED_DATE) {
    return {
      code: 'date-out-of-range',
      message: `${text} is outside the supported dates ${MIN_SUPPORTED_DATE} to ${MAX_SUPPORTED_DATE}`,
      where,
    };
  }
  return null;
}

/** The date parameter `text` as given, or an `InputError` (400) naming `where`. */
export function parseDateParameter(text: string, where: string): string {
  const problem = dateParameterProblem(text, where);
  if (problem) throw new InputError(problem, 'malformed');
  return text;
}

/** An instant with its offset (`Z` or `±hh:mm`): a bare local time would be ambiguous. */
const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Why `text` is not a usable instant parameter (`until`, audit `from`/`to`), or null: the same
 * codes as a date, the range applied to the instant's UTC date.
 */
export function instantParameterProblem(text: string, where: string): Problem | null {
  const match = ISO_INSTANT.exec(text);
  const ms = match ? Date.parse(text) : Number.NaN;
  if (
    !match ||
    Number.isNaN(ms) ||
    dateParameterProblem(match[1] as string, where)?.code === 'invalid-date'
  ) {
    return {
      code: 'invalid-date',
      message: `"${truncate(text)}" is not an ISO 8601 instant with its offset, e.g. 2026-11-30T06:00:00Z`,
      where,
    };
  }
  // Compared by year: an offset may carry 9999-12-31 into year 10000, which ISO text sorts wrongly.
  const year = new Date(ms).getUTCFullYear();
  if (year < Number(MIN_SUPPORTED_DATE.slice(0, 4)) || year > Number(MAX_SUPPORTED_DATE.slice(0, 4))) {
    return {
      code: 'date-out-of-range',
      message: `${text} is outside the supported dates ${MIN_SUPPORTED_DATE} to ${MAX_SUPPORTED_DATE}`,
      where,
    };
  }
  return null;
}

/**
 * The zod form of a date parameter, for query schemas: the issue carries the problem's `code`
 * and `where` in its params (parseParameters reports them as they are), and the published JSON
 * Schema keeps `format: date` and the bounds.
 */
export function dateParameterSchema(name: string) {
  return z
    .string({ error: `the parameter "${name}" is missing: give a date YYYY-MM-DD` })
    .superRefine((text, ctx) => {
      const problem = dateParameterProblem(text, name);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          message: problem.message,
          params: { code: problem.code, where: problem.where },
        });
      }
    })
    .meta({ format: 'date', 'x-supported-range': [MIN_SUPPORTED_DATE, MAX_SUPPORTED_DATE] });
}

/** Proleptic Gregorian calendar, as ISO 8601 counts years. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Echoed input stays short: a 60 kB "date" must not come back in the error. */
function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
