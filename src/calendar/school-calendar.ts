/**
 * One school's calendar: which local dates have no classes, and why. Built from its holiday zone,
 * the holiday periods (shipped, or merged with an imported official file), its département (for
 * the Alsace-Moselle public holidays) and its time zone. Pure and immutable.
 */
import { type CivilDate, civilOf, dayNumberOfIso, isoOfDayNumber } from './day-number.js';
import {
  closedDayRange,
  type HolidayPeriod,
  isSummerHoliday,
  type SchoolZone,
  shippedHolidayPeriods,
} from './holiday-period.js';
import { departementOfSchool, isAlsaceMoselle, publicHolidays } from './public-holidays.js';

export interface Closure {
  kind: 'holiday' | 'public-holiday';
  name: string;
}

export interface ClosedDate extends Closure {
  date: string;
}

export interface SchoolCalendarOptions {
  zone: SchoolZone;
  /** Holiday periods of any zones; only `zone`'s are used. */
  periods: readonly HolidayPeriod[];
  /** Département code ("67", "2A", "971"); decides the Alsace-Moselle public holidays. */
  departement: string;
  /** Forces the Alsace-Moselle holidays on or off whatever the département says. */
  alsaceMoselle?: boolean;
  /** IANA zone of the school's wall clock (default Europe/Paris). */
  timezone?: string;
}

export interface SchoolForCalendar {
  uai: string;
  /** Default B: every académie of Grand Est is in zone B (docs/calendar.md, "Holidays"). */
  zone?: SchoolZone;
  /** When the UAI prefix is not the département whose holidays apply. */
  departementOverride?: string;
  alsaceMoselle?: boolean;
  timezone?: string;
  /** Default: the shipped periods (published years only). */
  periods?: readonly HolidayPeriod[];
}

export interface SchoolYearBounds {
  schoolYear: string;
  /** First day of classes (the previous summer's return date), when known. */
  firstDay: string | null;
  /** Last day of classes (the summer's leaving date), when known. */
  lastDay: string | null;
}

export class SchoolCalendar {
  readonly zone: SchoolZone;
  readonly departement: string;
  readonly alsaceMoselle: boolean;
  readonly timezone: string;
  readonly periods: readonly HolidayPeriod[];
  /** Closed day number → closure, for the zone's holiday periods. */
  private readonly holidayDays = new Map<number, Closure>();
  /** Civil year → (day number → public holiday name), filled on demand. */
  private readonly publicHolidayYears = new Map<number, Map<number, string>>();

  constructor(options: SchoolCalendarOptions) {
    this.zone = options.zone;
    this.departement = options.departement;
    this.alsaceMoselle = options.alsaceMoselle ?? isAlsaceMoselle(options.departement);
    this.timezone = options.timezone ?? 'Europe/Paris';
    this.periods = options.periods.filter((p) => p.zone === options.zone);
    for (const period of this.periods) {
      const { first, last } = closedDayRange(period);
      for (let day = first; day <= last; day++)
        if (!this.holidayDays.has(day)) this.holidayDays.set(day, { kind: 'holiday', name: period.name });
    }
  }

  /** The calendar of a school from its UAI (département from the UAI prefix unless overridden). */
  static forSchool(school: SchoolForCalendar): SchoolCalendar {
    return new SchoolCalendar({
      zone: school.zone ?? 'B',
      periods: school.periods ?? shippedHolidayPeriods(),
      departement: departementOfSchool(school.uai, school.departementOverride),
      ...(school.alsaceMoselle === undefined ? {} : { alsaceMoselle: school.alsaceMoselle }),
      ...(school.timezone === undefined ? {} : { timezone: school.timezone }),
    });
  }

  /**
   * Why a local date has no classes, or null. A public holiday inside a holiday period reports
   * the public holiday (it closes the school whatever the zone data says).
   */
  closure(date: string): Closure | null {
    const day = dayNumberOfIso(date);
    if (Number.isNaN(day)) throw new RangeError(`not a date: ${date}`);
    return this.closureOfDay(day);
  }

  /** `closure` by day number, for loops that already hold one. */
  closureOfDay(day: number): Closure | null {
    const civil: CivilDate = civilOf(day);
    const holidayName = this.publicHolidaysOf(civil.year).get(day);
    if (holidayName !== undefined) return { kind: 'public-holiday', name: holidayName };
    return this.holidayDays.get(day) ?? null;
  }

  /** Every closed local date from `from` to `to` inclusive, in order. */
  closedDates(from: string, to: string): ClosedDate[] {
    const first = dayNumberOfIso(from);
    const last = dayNumberOfIso(to);
    if (Number.isNaN(first) || Number.isNaN(last)) throw new RangeError(`not a date range: ${from}..${to}`);
    const dates: ClosedDate[] = [];
    for (let day = first; day <= last; day++) {
      const closure = this.closureOfDay(day);
      if (closure) dates.push({ date: isoOfDayNumber(day), ...closure });
    }
    return dates;
  }

  /**
   * First and last day of classes of a school year ("2025-2026"), from the summer periods around
   * it; null bounds where the calendar does not know them.
   */
  schoolYearBounds(schoolYear: string): SchoolYearBounds {
    const startYear = Number(schoolYear.slice(0, 4));
    const before = this.periods.find(
      (p) => isSummerHoliday(p) && p.schoolYear === `${startYear - 1}-${startYear}`,
    );
    const after = this.periods.find((p) => isSummerHoliday(p) && p.schoolYear === schoolYear);
    return { schoolYear, firstDay: before?.end ?? null, lastDay: after?.start ?? null };
  }

  private publicHolidaysOf(year: number): Map<number, string> {
    let days = this.publicHolidayYears.get(year);
    if (!days) {
      days = new Map();
      for (const holiday of publicHolidays(year, { alsaceMoselle: this.alsaceMoselle }))
        days.set(dayNumberOfIso(holiday.date), holiday.name);
      this.publicHolidayYears.set(year, days);
    }
    return days;
  }
}
