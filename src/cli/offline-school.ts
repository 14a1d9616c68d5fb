/**
 * What `plan` and `savings` share: one school's devices, rules and calendar read from the files,
 * and its plan computed without the running service (no HTTP server, no MQTT) by the service's
 * own parts: the occupancy source `sortie.source` names (this hub's SORTIE read in process, as
 * the embedded bridge reads it, or the remote hub), the calendar source with the devices files'
 * départements, the store's overrides and the bridge's `planFromHeld`. The store is read only
 * when one exists: an offline command must not create an empty database.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainOverride } from '../bridge/overrides-service.js';
import { type HeldOccupancy, planFromHeld } from '../bridge/planning.js';
import { occupancyDatesFor, type SchoolPlan } from '../bridge/school-plan.js';
import { loadOccupancyRange } from '../bridge/sortie-source.js';
import { sortieSourceFromConfig } from '../bridge/sortie-source-from-config.js';
import { isSchoolZone, type SchoolCalendar } from '../calendar/index.js';
import type { LoadedDevices } from '../devices/load.js';
import { InputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
import type { Override } from '../rules/overrides.js';
import type { TimeRange } from '../rules/planner.js';
import { SortieOccupancy } from '../scope/sortie/sortie-occupancy.js';
import { type CalendarSource, calendarSourceOf } from '../site/calendars.js';
import { loadSite, type Site } from '../site/load-site.js';
import { SQLITE_FILE_NAME } from '../store/store.js';
import { type CommandIo, type ParsedArgs, requireOption } from './command.js';
import { type CommandContext, loadCommandConfig, openCommandStore } from './context.js';

export interface OfflineSchool {
  uai: string;
  env: NodeJS.ProcessEnv;
  context: CommandContext;
  site: Site;
  devices: LoadedDevices;
  calendars: CalendarSource;
  calendar: SchoolCalendar;
  timezone: string;
}

/** Reads `--uai`, the configuration, devices/, rules/ and the school's calendar; InputError otherwise. */
export function loadOfflineSchool(args: ParsedArgs, io: CommandIo): OfflineSchool {
  const uai = requireUai(requireOption(args, 'uai'), '--uai');
  const context = loadCommandConfig(args, io);
  const { config } = context;
  const site = loadSite({
    devicesDir: resolve(io.cwd, config.paths.devices_dir),
    rulesDir: resolve(io.cwd, config.paths.rules_dir),
    baseDir: io.cwd,
    exceptionPolicy: { maxDeviationC: config.rules.exception_max_deviation_c },
  });
  const devices = site.devices.get(uai);
  if (!devices) {
    throw InputError.of('not-found', `no devices file for ${uai} in ${config.paths.devices_dir}`, '--uai');
  }
  if (!isSchoolZone(config.calendar.zone)) {
    throw InputError.of(
      'calendar-zone-unsupported',
      `calendar zone ${config.calendar.zone} has no school-holiday data to plan with`,
      'calendar.zone',
    );
  }
  // The service's calendar source: a devices file's département override reaches SORTIE's expansion too.
  const calendars = calendarSourceOf({
    config,
    baseDir: io.cwd,
    dataDir: context.dataDir,
    site: { current: site },
  });
  const { departement, timezone } = devices.value.school;
  const calendar = calendars.forSchool(uai, { departement, timezone });
  return { uai, env: io.env, context, site, devices, calendars, calendar, timezone };
}

/** The school's plan over `horizon`, as the bridge would compute it from the store's data. */
export async function planOffline(school: OfflineSchool, horizon: TimeRange): Promise<SchoolPlan> {
  const { uai, context, timezone } = school;
  const { config } = context;
  const dates = occupancyDatesFor(horizon, timezone);
  let held: HeldOccupancy | null = null;
  let overrides: Override[] = [];
  const hasStore = config.storage.database_url || existsSync(join(context.dataDir, SQLITE_FILE_NAME));
  if (hasStore) {
    const store = await openCommandStore(context);
    try {
      // The source the bridge would read, built as the service builds it.
      const source = sortieSourceFromConfig(config.sortie, {
        sortie: new SortieOccupancy({ store, calendars: school.calendars }),
        env: school.env,
      });
      held = await loadOccupancyRange(source, uai, dates);
      overrides = (await store.overrides.list({ uais: [uai], overlapping: horizon })).map(plainOverride);
    } finally {
      await store.close();
    }
  }
  return planFromHeld({
    site: school.site,
    devices: school.devices,
    calendars: school.calendars,
    horizon,
    held,
    overrides,
  });
}
