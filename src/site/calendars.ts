/**
 * Each school's calendar, for every part that needs one (SORTIE, VUE, the bridge, the CLI): the
 * shipped holiday periods, merged with those imported by `scope-energie calendar import` (kept in
 * the data directory) and an optional configured file; the département from the UAI or the
 * devices file's override (Alsace-Moselle holidays).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  type HolidayPeriod,
  isSchoolZone,
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
  /** Holiday periods to use as they are (tests); default: shipped + imported + configured file. */
  periods?: readonly HolidayPeriod[];
  /** Data directory holding `holidays.imported.json`, when there is one. */
  dataDir?: string | undefined;
  /** `calendar.holidays_file` of the configuration (dataset CSV/JSON or zone ICS). */
  holidaysFile?: string | undefined;
  /** A school's département override (devices/{uai}.yaml `school.departement`). */
  departementOf?: (uai: string) => string | undefined;
}

export interface SchoolCalendarHints {
  departement?: string | undefined;
  timezone?: string | undefined;
}

/** What SORTIE and VUE need: a calendar per school and a tag that changes with the holiday data. */
export interface SchoolCalendars {
  calendarOf(uai: string, timezone: string): SchoolCalendar;
  /** Changes when, and only when, the holiday data or zone changes (part of SORTIE's ETag). */
  readonly fingerprint: string;
}

export class CalendarSource implements SchoolCalendars {
  readonly periods: readonly HolidayPeriod[];
  readonly fingerprint: string;
  private readonly cache = new Map<string, SchoolCalendar>();

  constructor(private readonly options: CalendarSourceOptions) {
    this.periods = options.periods ?? loadHolidayPeriods(options);
    this.fingerprint = createHash('sha256')
      .update(JSON.stringify({ zone: options.zone, periods: this.periods }))
      .digest('base64url')
      .slice(0, 16);
  }

  forSchool(uai: string, hints: SchoolCalendarHints = {}): SchoolCalendar {
    const departement = hints.departement ?? this.options.departementOf?.(uai);
    const key = `${uai}|${departement ?? ''}|${hints.timezone ?? ''}`;
    let calendar = this.cache.get(key);
    if (!calendar) {
      calendar = SchoolCalendar.forSchool({
        uai,
        zone: this.options.zone,
        periods: this.periods,
        ...(departement ? { departementOverride: departement } : {}),
        ...(hints.timezone ? { timezone: hints.timezone } : {}),
      });
      this.cache.set(key, calendar);
    }
    return calendar;
  }

  calendarOf(uai: string, timezone: string): SchoolCalendar {
    return this.forSchool(uai, { timezone });
  }
}

export function loadHolidayPeriods(
  options: Pick<CalendarSourceOptions, 'dataDir' | 'holidaysFile'>,
): HolidayPeriod[] {
  let periods = shippedHolidayPeriods();
  const imported = options.dataDir ? join(options.dataDir, IMPORTED_HOLIDAYS_FILE) : undefined;
  if (imported && existsSync(imported)) {
    periods = mergeHolidayPeriods(periods, JSON.parse(readFileSync(imported, 'utf8')) as HolidayPeriod[]);
  }
  if (options.holidaysFile) {
    const file = options.holidaysFile;
    periods = mergeHolidayPeriods(periods, parseHolidayDataset(readFileSync(file), basename(file)));
  }
  return periods;
}

/**
 * The calendar source the configuration describes, one for the service's SORTIE, VUE and bridge
 * and for the offline commands alike: shipped holidays, `calendar import`'s file in the data
 * directory, the configured file, and the devices files' département overrides. A zone without
 * school-holiday data closes schools on public holidays only (warned; the offline planner refuses
 * it before coming here).
 */
export function calendarSourceOf(options: {
  config: { calendar: { zone: string; holidays_file?: string | undefined } };
  baseDir: string;
  dataDir: string;
  site: {
    readonly current: {
      devices: ReadonlyMap<string, { value: { school: { departement?: string | undefined } } }>;
    };
  };
  logger?: { warn(obj: object, msg?: string): void };
}): CalendarSource {
  const { zone, holidays_file } = options.config.calendar;
  const known = isSchoolZone(zone);
  if (!known)
    options.logger?.warn(
      { zone },
      'calendar zone without school holiday data: only public holidays close schools',
    );
  return new CalendarSource({
    zone: known ? zone : 'B',
    ...(known ? {} : { periods: [] }),
    dataDir: options.dataDir,
    holidaysFile: holidays_file ? resolve(options.baseDir, holidays_file) : undefined,
    departementOf: (uai) => options.site.current.devices.get(uai)?.value.school.departement,
  });
}
