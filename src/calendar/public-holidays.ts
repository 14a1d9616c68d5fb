/**
 * Public holidays ("jours fériés") of metropolitan France, computed locally.
 * - The 11 national days of Code du travail art. L3133-1.
 * - Moselle (57), Bas-Rhin (67) and Haut-Rhin (68) add Good Friday and 26 December (local law kept
 *   by Code du travail art. L3134-13; docs/calendar.md, "Holidays"). Schools are closed on all of them.
 */
import { departementOfUai } from '../domain/uai.js';
import { dayNumberOf, isoOfDayNumber } from './day-number.js';
import { easterSundayDayNumber } from './easter.js';

export interface PublicHoliday {
  /** Local date, `YYYY-MM-DD`. */
  date: string;
  /** French name as the calendar shows it. */
  name: string;
}

export interface PublicHolidayOptions {
  /** Add Good Friday and 26 December (départements 57, 67, 68). */
  alsaceMoselle: boolean;
}

const ALSACE_MOSELLE = new Set(['57', '67', '68']);

/** Whether a département follows the Alsace-Moselle local law (57, 67, 68). */
export function isAlsaceMoselle(departement: string): boolean {
  return ALSACE_MOSELLE.has(departement.trim().toUpperCase());
}

/**
 * The département whose holidays apply to a school: the override when given (a school filed
 * under another UAI prefix), else the UAI prefix.
 */
export function departementOfSchool(uai: string, override?: string): string {
  return override?.trim() || departementOfUai(uai);
}

/** Public holidays of a civil year, sorted by date. */
export function publicHolidays(year: number, options: PublicHolidayOptions): PublicHoliday[] {
  const easter = easterSundayDayNumber(year);
  const days: Array<[number, string]> = [
    [dayNumberOf(year, 1, 1), "Jour de l'an"],
    [easter + 1, 'Lundi de Pâques'],
    [dayNumberOf(year, 5, 1), 'Fête du travail'],
    [dayNumberOf(year, 5, 8), 'Victoire 1945'],
    [easter + 39, 'Ascension'],
    [easter + 50, 'Lundi de Pentecôte'],
    [dayNumberOf(year, 7, 14), 'Fête nationale'],
    [dayNumberOf(year, 8, 15), 'Assomption'],
    [dayNumberOf(year, 11, 1), 'Toussaint'],
    [dayNumberOf(year, 11, 11), 'Armistice 1918'],
    [dayNumberOf(year, 12, 25), 'Noël'],
  ];
  if (options.alsaceMoselle) {
    days.push([easter - 2, 'Vendredi saint'], [dayNumberOf(year, 12, 26), 'Saint Étienne']);
  }
  // Ascension can fall on 1 or 8 May (e.g. 2008): one entry per date, the first name kept.
  days.sort((x, y) => x[0] - y[0]);
  const holidays: PublicHoliday[] = [];
  let previous = Number.NaN;
  for (const [day, name] of days) {
    if (day !== previous) holidays.push({ date: isoOfDayNumber(day), name });
    previous = day;
  }
  return holidays;
}
