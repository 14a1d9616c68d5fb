import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadClients } from '../auth/load-clients.js';
import { emqxRows } from '../broker-access/emqx-access.js';
import { mosquittoProvisioner } from '../broker-access/provisioning-setup.js';
import { isSchoolZone } from '../calendar/holiday-period.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { MqttTopics } from '../contract/topics.js';
import { schoolCalendarAlerts } from '../dashboard/alerts.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { InputError, type Problem } from '../domain/problems.js';
import { createLogger } from '../log/logger.js';
import { checkDevicesAgainstRooms } from '../rules/check.js';
import { CalendarSource } from '../site/calendars.js';
import { loadSite, type Site } from '../site/load-site.js';
import { SQLITE_FILE_NAME } from '../store/store.js';
import { type Command, type CommandIo, EXIT, reportProblems, stringOption, writeJson } from './command.js';
import { openCommandStore } from './context.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate all configuration: config/, clients, devices/, rules/ and legal caps',
  help: `Usage: scope-energie check [--json] [--today YYYY-MM-DD] [--allow-unknown-rooms]

Validates the service settings (config/default.yaml, config/local.yaml, SCOPE_ENERGIE_*
variables), the clients file, every devices/*.yaml and rules/*.yaml (including the legal caps
of the Code de l'énergie R241-26/27 unless a written exception is given), and cross-checks the
devices against the stored timetables (rooms mapped twice, zones without rooms, timetable rooms
in no zone). With mqtt.provisioning.broker set, it also compares the external broker with
devices/ without changing it: gateways whose broker password is not the one devices/ holds
(run 'gateway credentials'), names taken by clients or roles the service does not manage, an
unreachable broker. Every problem names its file, line and field. Exits 2 when anything is wrong.

It says which configuration files and which data folder it read (the store there holds the
timetables the rooms are checked against). A zone room that the school's stored timetable lacks
is an error naming the room, its zone and line (the service would drive a zone no lesson can
occupy); --allow-unknown-rooms makes those warnings, for rooms not yet in the timetable. When a
school has no stored timetable (or the data folder has no store at all), the room cross-check is
skipped and a warning says so and why: import the timetable, or point --data at the right folder.

For each school with a stored timetable it also reports the dashboard's calendar alerts, naming
the school: the timetable's school year not started, holiday data ending within 60 days, no
import since the rentrée are warnings (exit code unchanged); a school year over on a school day
is an error (exit 2): every zone of that school is then held at frost protection on days with
classes, a site that is not working.

Options:
  --today YYYY-MM-DD      the local date the calendar alerts are checked for (default: today)
  --allow-unknown-rooms   zone rooms missing from the stored timetable are warnings, not errors`,
  options: { today: { type: 'string' }, 'allow-unknown-rooms': { type: 'boolean' } },
  async run(args, io) {
    const json = args.values['json'] === true;
    const problems: Problem[] = [];
    const collect = <T>(step: () => T): T | undefined => {
      try {
        return step();
      } catch (error) {
        if (error instanceof InputError) problems.push(...error.problems);
        else throw error;
        return undefined;
      }
    };
    const collectAsync = async <T>(step: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await step();
      } catch (error) {
        if (error instanceof InputError) problems.push(...error.problems);
        else throw error;
        return undefined;
      }
    };
    const env = { ...io.env };
    const data = stringOption(args, 'data');
    if (data !== undefined) env['SCOPE_ENERGIE_DATA'] = data;
    const configDir = stringOption(args, 'config');
    const loaded = collect(() =>
      loadConfig({ ...(configDir ? { configDir: resolve(io.cwd, configDir) } : {}), env }),
    );
    const today = stringOption(args, 'today');
    if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) {
      reportProblems(
        io,
        [{ code: 'invalid-date', message: `--today ${today} is not a date YYYY-MM-DD`, where: '--today' }],
        json,
      );
      return EXIT.invalid;
    }
    const clock: Clock = today === undefined ? systemClock : { now: () => Date.parse(`${today}T12:00:00Z`) };
    const warnings: Problem[] = [];
    const checked: string[] = [];
    const allowUnknownRooms = args.values['allow-unknown-rooms'] === true;
    /** The data folder and the store read in it, named in the output. */
    let dataRead: { folder: string; store: string } | undefined;
    let site: Site | undefined;
    if (loaded) {
      const { config } = loaded;
      checked.push(...loaded.sources);
      const dataDir = resolve(io.cwd, config.storage.data_dir);
      collect(() =>
        loadClients({ clientsFile: resolve(io.cwd, config.clients_file), dataDir, bootstrap: false }),
      );
      const devicesDir = resolve(io.cwd, config.paths.devices_dir);
      const rulesDir = resolve(io.cwd, config.paths.rules_dir);
      site = collect(() =>
        loadSite({
          devicesDir,
          rulesDir,
          baseDir: io.cwd,
          exceptionPolicy: { maxDeviationC: config.rules.exception_max_deviation_c },
        }),
      );
      checked.push(config.clients_file, config.paths.devices_dir, config.paths.rules_dir);
      // Cross-check against stored timetables, without creating a database that is not there.
      const sqliteFile = join(dataDir, SQLITE_FILE_NAME);
      const hasStore = config.storage.database_url || existsSync(sqliteFile);
      dataRead = {
        folder: dataDir,
        store: config.storage.database_url
          ? 'PostgreSQL (storage.database_url)'
          : hasStore
            ? `SQLite ${sqliteFile}`
            : `none (no ${SQLITE_FILE_NAME} in it)`,
      };
      if (site && !hasStore && site.devices.size > 0) {
        warnings.push({
          code: 'room-check-skipped',
          message: `room cross-check skipped for every school (${[...site.devices.keys()].join(', ')}): the data folder ${dataDir} has no store, so no timetable is known. Import the timetables, or give the service's data folder with --data`,
          where: dataDir,
        });
      }
      if (site && hasStore) {
        const store = await openCommandStore({ config, baseDir: io.cwd, dataDir });
        // The service's calendar: shipped holidays merged with an imported file in the data dir.
        const zone = config.calendar.zone;
        // A zone without holiday data (Corse) has no calendar to check against.
        const calendars = !isSchoolZone(zone)
          ? null
          : new CalendarSource({
              zone,
              dataDir,
              holidaysFile: config.calendar.holidays_file && resolve(io.cwd, config.calendar.holidays_file),
            });
        try {
          for (const [uai, devices] of site.devices) {
            const current = await store.timetables.current(uai);
            if (!current) {
              warnings.push({
                code: 'room-check-skipped',
                message: `room cross-check skipped for school ${uai} (${devices.value.school.name}): no timetable stored for it in ${dataRead.store}. Import its timetable, or give the service's data folder with --data`,
                where: devices.file,
              });
              continue;
            }
            for (const problem of checkDevicesAgainstRooms(devices, current.timetable.rooms)) {
              if (problem.code !== 'room-unknown') {
                problems.push(problem);
                continue;
              }
              const named = {
                ...problem,
                message: `${problem.message}: school ${uai}, timetable version ${current.version}${allowUnknownRooms ? ' (accepted by --allow-unknown-rooms)' : '; --allow-unknown-rooms accepts rooms not yet in the timetable'}`,
              };
              (allowUnknownRooms ? warnings : problems).push(named);
            }
            if (!calendars) continue;
            const school = devices.value.school;
            const alerts = await schoolCalendarAlerts(
              {
                clock,
                calendars,
                timetable: async () => current.timetable,
                timetableImportedAt: async () => current.importedAt,
              },
              devices,
            );
            for (const alert of alerts) {
              const problem = {
                code: alert.code,
                message: alert.message,
                where: `school ${uai} (${school.name}), ${devices.file}`,
              };
              (alert.code === 'annee-scolaire-terminee' ? problems : warnings).push(problem);
            }
          }
        } finally {
          await store.close();
        }
      }
    }
    if (loaded && site) {
      const { config } = loaded;
      const brokerSite = site;
      problems.push(...((await collectAsync(() => brokerAccessProblems(config, brokerSite, io))) ?? []));
    }
    const errors = problems;
    if (json)
      writeJson(io, {
        ok: errors.length === 0,
        checked,
        ...(dataRead ? { data: dataRead } : {}),
        errors,
        warnings,
      });
    else {
      // The success line names them on stdout; a failing run says here what it read.
      if (dataRead && errors.length > 0)
        io.stderr.write(
          `read: ${checked.join(', ')}; data folder ${dataRead.folder}, store ${dataRead.store}\n`,
        );
      for (const w of warnings) io.stderr.write(`warning ${w.code}: ${w.message}\n  at ${w.where}\n`);
    }
    if (json) {
      // written above
    } else if (errors.length > 0) reportProblems(io, errors, false);
    else {
      io.stdout.write(
        `configuration valid: ${checked.join(', ')}${site ? ` (${site.devices.size} schools, rules ${site.ruleSet.value.version})` : ''}\n` +
          (dataRead ? `data folder: ${dataRead.folder} (store: ${dataRead.store})\n` : ''),
      );
    }
    return errors.length === 0 ? EXIT.ok : EXIT.invalid;
  },
};

/** The external broker against devices/ (a dry run: nothing is sent but the reads). */
async function brokerAccessProblems(config: Config, site: Site, io: CommandIo): Promise<Problem[]> {
  const kind = config.mqtt.provisioning.broker;
  const where = 'mqtt.provisioning';
  const needs = (username: string): Problem => ({
    code: 'broker-needs-credentials',
    message: `gateway login ${username} has no ${kind} password matching devices/: run 'scope-energie gateway credentials' for it`,
    where: `${where} (${kind})`,
  });
  if (kind === 'emqx') {
    const problems: Problem[] = [];
    if (!config.storage.database_url) {
      problems.push({
        code: 'provisioning-needs-postgres',
        message: 'mqtt.provisioning.broker emqx needs storage.database_url: EMQX reads PostgreSQL views',
        where: 'mqtt.provisioning.broker',
      });
    }
    const rows = emqxRows(site, { topics: new MqttTopics(config.mqtt.prefix), version: 'check' });
    return [...problems, ...rows.needsCredentials.map(needs)];
  }
  if (kind !== 'mosquitto') return [];
  const provisioner = mosquittoProvisioner({
    config,
    baseDir: io.cwd,
    env: io.env,
    clock: systemClock,
    logger: createLogger('silent', io.stderr),
    version: 'check',
  });
  const report = await provisioner.reconcile(() => site, { reason: 'check', dryRun: true });
  if (!report.ok) {
    return [{ code: 'broker-unreachable', message: report.error ?? 'the broker did not answer', where }];
  }
  return [
    ...report.needsCredentials.map(needs),
    ...report.conflicts.map((c) => ({
      code: 'broker-conflict',
      message: `${c.kind} ${c.name}: ${c.reason}`,
      where: `${where} (mosquitto)`,
    })),
  ];
}
