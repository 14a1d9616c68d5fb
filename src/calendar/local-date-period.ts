/**
 * A period of local dates `from`..`to` (inclusive) of a school, as `[midnight of from, midnight
 * after to)` in its time zone (DST days are 23 or 25 h long). One reading for every route and
 * command that takes such a period (savings, comfort, compliance); `where` names the two inputs
 * in errors ("from", "--from"), `maxDays` is the caller's bound.
 */
import { DateTime } from 'luxon';
import { parseDateParameter } from '../domain/dates.js';
import { InputError } from '../domain/problems.js';

export interface LocalDatePeriod {
  from: string;
  /** Inclusive. */
  to: string;
  days: number;
  range: { from: number; to: number };
}

export function localDatePeriod(
  from: string | undefined,
  to: string | undefined,
  timezone: string,
  where: { from: string; to: string },
  maxDays: number,
): LocalDatePeriod {
  const read = (text: string | undefined, at: string): DateTime => {
    if (text === undefined)
      throw InputError.of('option-missing', `${at} is required (a date YYYY-MM-DD)`, at, 'malformed');
    return DateTime.fromISO(parseDateParameter(text, at), { zone: timezone }).startOf('day');
  };
  const start = read(from, where.from);
  const end = read(to, where.to);
  const days = Math.round(end.diff(start, 'days').days) + 1;
  if (days < 1)
    throw InputError.of('bad-period', `${where.to} is before ${where.from}`, where.to, 'malformed');
  if (days > maxDays) {
    throw InputError.of(
      'bad-period',
      `the period is ${days} days; at most ${maxDays}`,
      where.to,
      'malformed',
    );
  }
  return {
    from: from as string,
    to: to as string,
    days,
    range: { from: start.toMillis(), to: end.plus({ days: 1 }).toMillis() },
  };
}
