/**
 * School holiday periods per zone, in the semantics of the official dataset
 * `fr-en-calendrier-scolaire` (docs/calendar.md, "Holidays"): pupils leave after classes on `start` and come
 * back in the morning of `end`, so the closed local dates are start+1 … end−1.
 */
import shipped from './data/holidays-zones-abc.json' with { type: 'json' };
import { dayNumberOfIso, isoOfDayNumber } from './day-number.js';

export const SCHOOL_ZONES = ['A', 'B', 'C'] as const;
export type SchoolZone = (typeof SCHOOL_ZONES)[number];

export function isSchoolZone(value: string): value is SchoolZone {
  return (SCHOOL_ZONES as readonly string[]).includes(value);
}

export interface HolidayPeriod {
  zone: SchoolZone;
  /** `2025-2026`. */
  schoolYear: string;
  /** Dataset description: "Vacances de la Toussaint", "Pont de l'Ascension"… */
  name: string;
  /** Local date pupils leave, after classes (a school day). */
  start: string;
  /** Local date pupils return, in the morning (a school day). */
  end: string;
  /** Not published yet: a guess from the usual pattern, used only on request. */
  provisional?: boolean;
}

/** The summer holidays ("Vacances d'Été"): their start ends a school year, their end is the rentrée. */
export function isSummerHoliday(period: Pick<HolidayPeriod, 'name'>): boolean {
  return /^vacances d'[ée]t[ée]/i.test(period.name);
}

/** Day numbers of the closed dates of a period: start+1 … end−1 (empty when end ≤ start+1). */
export function closedDayRange(period: HolidayPeriod): { first: number; last: number } {
  return { first: dayNumberOfIso(period.start) + 1, last: dayNumberOfIso(period.end) - 1 };
}

/** The closed local dates of a period, in order. */
export function closedDatesOfPeriod(period: HolidayPeriod): string[] {
  const { first, last } = closedDayRange(period);
  const dates: string[] = [];
  for (let day = first; day <= last; day++) dates.push(isoOfDayNumber(day));
  return dates;
}

export interface ShippedHolidayOptions {
  /** Include the guessed rows of years not yet published (default false). */
  includeProvisional?: boolean;
}

/** Periods shipped with the code (src/calendar/data), for zones A, B and C. */
export function shippedHolidayPeriods(options: ShippedHolidayOptions = {}): HolidayPeriod[] {
  const periods: HolidayPeriod[] = [];
  for (const row of shipped.periods) {
    const provisional = 'provisional' in row && row.provisional === true;
    if (provisional && !options.includeProvisional) continue;
    if (!isSchoolZone(row.zone)) continue;
    periods.push({
      zone: row.zone,
      schoolYear: row.schoolYear,
      name: row.name,
      start: row.start,
      end: row.end,
      ...(provisional ? { provisional: true } : {}),
    });
  }
  return periods;
}

function yearZoneKey(period: HolidayPeriod): string {
  return `${period.schoolYear}|${period.zone}`;
}

/**
 * Shipped periods overlaid with an imported file: for every (school year, zone) the import
 * covers, the imported rows replace the shipped ones entirely (a newer official file wins, even
 * where it drops a period); other years and zones keep the shipped rows. Sorted by zone, start.
 */
export function mergeHolidayPeriods(
  shippedPeriods: readonly HolidayPeriod[],
  imported: readonly HolidayPeriod[],
): HolidayPeriod[] {
  const covered = new Set(imported.map(yearZoneKey));
  const merged = [...shippedPeriods.filter((p) => !covered.has(yearZoneKey(p))), ...imported];
  return merged.sort(
    (a, b) =>
      a.zone.localeCompare(b.zone) ||
      a.start.localeCompare(b.start) ||
      a.end.localeCompare(b.end) ||
      a.name.localeCompare(b.name),
  );
}
