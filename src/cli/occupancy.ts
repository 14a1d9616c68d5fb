import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expandOccupancy, isSchoolZone, toOccupancyBody } from '../calendar/index.js';
import { loadDevicesFile } from '../devices/load.js';
import { parseDateParameter } from '../domain/dates.js';
import { InputError } from '../domain/problems.js';
import { normaliseUai } from '../domain/uai.js';
import { CalendarSource } from '../site/calendars.js';
import { type Command, EXIT, requireOption, writeJson } from './command.js';
import { type CommandContext, loadCommandConfig, openCommandStore } from './context.js';

export const occupancyCommand: Command = {
  name: 'occupancy',
  summary: "a school's room occupancy in UTC, as SCOPE-SORTIE serves it",
  help: `Usage: scope-energie occupancy --uai UAI --from DATE --to DATE [--sources] [--json]

Expands the school's current timetable with its calendar (zone holidays, public holidays incl.
Alsace-Moselle, DST) into merged UTC intervals per room, for local dates FROM to TO inclusive.
--json prints exactly the body of GET /scope/sortie/v1/etablissements/{uai}/occupation (the
energy purpose's shape); --sources adds the lesson ids behind each interval (purpose ent).`,
  options: {
    uai: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    sources: { type: 'boolean' },
  },
  async run(args, io) {
    const uai = normaliseUai(requireOption(args, 'uai'));
    // The dates every route accepts (exit 2 with invalid-date or date-out-of-range otherwise).
    const from = parseDateParameter(requireOption(args, 'from'), '--from');
    const to = parseDateParameter(requireOption(args, 'to'), '--to');
    const context = loadCommandConfig(args, io);
    const store = await openCommandStore(context);
    try {
      const current = await store.timetables.current(uai);
      if (!current) {
        io.stderr.write(`error not-found: no timetable stored for ${uai}\n`);
        return EXIT.failure;
      }
      const calendar = calendarFor(context, uai, current.timetable.timezone);
      const includeSources = args.values['sources'] === true;
      const occupancy = expandOccupancy(
        current.timetable,
        current.version,
        uai,
        calendar,
        { from, to },
        { includeSources },
      );
      const body = toOccupancyBody(occupancy, { includeSources });
      if (args.values['json'] === true) {
        writeJson(io, body);
        return EXIT.ok;
      }
      const local = new Intl.DateTimeFormat('fr-FR', {
        timeZone: body.timezone,
        weekday: 'short',
        day: '2-digit',
        month: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      io.stdout.write(
        `${uai} version ${body.version}, ${body.from} → ${body.to} (${body.timezone}); instants in UTC\n`,
      );
      for (const room of body.rooms) {
        io.stdout.write(
          `\n${room.name}${room.name === room.room ? '' : ` (${room.room})`}: ${room.intervals.length} interval(s)\n`,
        );
        for (const i of room.intervals) {
          io.stdout.write(
            `  ${i.start} → ${i.end}   (${local.format(Date.parse(i.start))} – ${local.format(Date.parse(i.end)).slice(-5)})\n`,
          );
        }
      }
      if (occupancy.unassigned > 0)
        io.stdout.write(`\n${occupancy.unassigned} lesson occurrence(s) without a room\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};

/** The school's calendar, with the devices file's département override when there is one. */
export function calendarFor(context: CommandContext, uai: string, timezone: string) {
  const zone = context.config.calendar.zone;
  if (!isSchoolZone(zone)) {
    throw InputError.of(
      'calendar-zone',
      `calendar.zone ${zone} has no holiday data (A, B or C)`,
      'calendar.zone',
    );
  }
  const source = new CalendarSource({
    zone,
    dataDir: context.dataDir,
    holidaysFile: context.config.calendar.holidays_file
      ? resolve(context.baseDir, context.config.calendar.holidays_file)
      : undefined,
  });
  const devicesFile = join(resolve(context.baseDir, context.config.paths.devices_dir), `${uai}.yaml`);
  const departement = existsSync(devicesFile)
    ? loadDevicesFile(readFileSync(devicesFile, 'utf8'), devicesFile).value.school.departement
    : undefined;
  return source.forSchool(uai, { departement, timezone });
}
