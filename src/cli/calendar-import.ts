import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type HolidayPeriod, mergeHolidayPeriods, parseHolidayDataset } from '../calendar/index.js';
import { InputError } from '../domain/problems.js';
import { IMPORTED_HOLIDAYS_FILE } from '../site/calendars.js';
import { type Command, EXIT, writeJson } from './command.js';
import { loadCommandConfig } from './context.js';

export const calendarImportCommand: Command = {
  name: 'calendar import',
  summary: 'load school holidays from the official dataset (CSV/JSON) or a zone ICS, offline',
  help: `Usage: scope-energie calendar import FILE [--json]

Reads an export of the Ministry's dataset fr-en-calendrier-scolaire (CSV with ';' or JSON) or a
zone ICS (Zone-B.ics), and keeps its holiday periods in the data directory. For each school
year and zone it contains, it replaces the shipped periods (the shipped data covers 2024-2025 to
2026-2027; later years arrive this way). Pupils leave after classes on a period's start date and
return on its end date; teachers-only rows are ignored.`,
  options: {},
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw InputError.of('file-missing', 'give the dataset or ICS file', 'FILE', 'malformed');
    const path = resolve(io.cwd, file);
    if (!existsSync(path)) throw InputError.of('file-unreadable', `cannot read ${file}`, file, 'malformed');
    const periods = parseHolidayDataset(readFileSync(path), basename(file));
    if (periods.length === 0) {
      throw InputError.of('calendar-empty', 'the file holds no holiday period for pupils', file, 'invalid');
    }
    const context = loadCommandConfig(args, io);
    mkdirSync(context.dataDir, { recursive: true });
    const target = join(context.dataDir, IMPORTED_HOLIDAYS_FILE);
    const previous: HolidayPeriod[] = existsSync(target) ? JSON.parse(readFileSync(target, 'utf8')) : [];
    const merged = mergeHolidayPeriods(previous, periods);
    const temporary = `${target}.${process.pid}.tmp`;
    // Like every file the service creates in its data directory: its user's only (issue 13).
    writeFileSync(temporary, `${JSON.stringify(merged, null, 1)}\n`, { mode: 0o600 });
    renameSync(temporary, target);
    const years = [...new Set(periods.map((p) => `${p.schoolYear} zone ${p.zone}`))].sort();
    if (args.values['json'] === true) writeJson(io, { file: target, imported: periods.length, years });
    else io.stdout.write(`imported ${periods.length} holiday periods (${years.join(', ')}) into ${target}\n`);
    return EXIT.ok;
  },
};
