/** Shared builders for the calendar tests: timetables go through the real schema (defaults). */
import { SchoolCalendar } from '../../src/calendar/school-calendar.js';
import { type Timetable, type TimetableInput, timetableSchema } from '../../src/domain/timetable.js';

export function timetable(
  input: Partial<TimetableInput> & Pick<TimetableInput, 'rooms' | 'lessons'>,
): Timetable {
  return timetableSchema.parse(input);
}

/** A zone B calendar with no school holiday periods: only public holidays close days. */
export function publicHolidaysOnly(departement = '51'): SchoolCalendar {
  return new SchoolCalendar({ zone: 'B', periods: [], departement });
}

/** Every local date from `from` to `to` inclusive, computed with Date.UTC (independent of src). */
export function everyDate(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000)
    dates.push(new Date(ms).toISOString().slice(0, 10));
  return dates;
}

/** Last Sunday of a month (1–12) of a year: the EU summer-time switch days (Directive 2000/84/EC). */
export function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  last.setUTCDate(last.getUTCDate() - last.getUTCDay());
  return last.toISOString().slice(0, 10);
}

export const utc = (iso: string): number => Date.parse(iso);

/** A calendar that closes nothing, to test the expansion alone. */
export class OpenCalendar extends SchoolCalendar {
  constructor() {
    super({ zone: 'B', periods: [], departement: '51' });
  }
  override closureOfDay(): null {
    return null;
  }
}
