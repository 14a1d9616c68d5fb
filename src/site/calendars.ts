/**
 * Builds each school's calendar: the shipped holiday periods, merged with those imported by
 * `scope-energie calendar import` (kept in the data directory) and an optional configured file,
 * the département from the UAI or the devices file's override.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type HolidayPeriod,
  mergeHolidayPeriods,
  parseHolidayDataset,
  SchoolCalendar,
  type SchoolZone,
  shippedHolidayPeriods,
} from '../calendar/index.js';

/** Where `calendar import` keeps the periods it read (normalised JSON). */
export const IMPORTED_HOLIDAYS_FILE = 'holidays.imported.json';

export interface CalendarSourceOptions {
  zone: SchoolZone;
  dataDir: string;
  /** `calendar.holidays_file` of the configuration (dataset CSV/JSON or zone ICS). */
  holidaysFile?: string | undefined;
}

export interface SchoolCalendarHints {
  departement?: string | undefined;
  timezone?: string | undefined;
}

export class CalendarSource {
  readonly periods: readonly HolidayPeriod[];
  private readonly cache = new Map<string, SchoolCalendar>();

  constructor(private readonly options: CalendarSourceOptions) {
    this.periods = loadHolidayPeriods(options);
  }

  forSchool(uai: string, hints: SchoolCalendarHints = {}): SchoolCalendar {
    const key = `${uai}|${hints.departement ?? ''}|${hints.timezone ?? ''}`;
    let calendar = this.cache.get(key);
    if (!calendar) {
      calendar = SchoolCalendar.forSchool({
        uai,
        zone: this.options.zone,
        periods: this.periods,
        ...(hints.departement ? { departementOverride: hints.departement } : {}),
        ...(hints.timezone ? { timezone: hints.timezone } : {}),
      });
      this.cache.set(key, calendar);
    }
    return calendar;
  }
}

export function loadHolidayPeriods(options: CalendarSourceOptions): HolidayPeriod[] {
  let periods = shippedHolidayPeriods();
  const imported = join(options.dataDir, IMPORTED_HOLIDAYS_FILE);
  if (existsSync(imported)) {
    periods = mergeHolidayPeriods(periods, JSON.parse(readFileSync(imported, 'utf8')) as HolidayPeriod[]);
  }
  if (options.holidaysFile) {
    const file = options.holidaysFile;
    periods = mergeHolidayPeriods(periods, parseHolidayDataset(readFileSync(file), file));
  }
  return periods;
}
