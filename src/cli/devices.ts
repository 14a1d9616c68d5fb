/**
 * Onboarding a school's devices (docs/onboarding.md): `devices draft` proposes a commented
 * devices/{uai}.yaml from the stored timetable's rooms; `devices export` / `devices import`
 * carry the room → zone → gateway output mapping to and from a spreadsheet.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { draftDevicesFile } from '../devices/draft-document.js';
import { loadDevicesFile } from '../devices/load.js';
import {
  MAPPING_CSV_COLUMNS,
  MAPPING_CSV_HELP,
  mappingCsv,
  readMappingCsv,
  withZones,
} from '../devices/mapping-csv.js';
import { InputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
import { checkDevicesAgainstRooms } from '../rules/check.js';
import { SQLITE_FILE_NAME } from '../store/store.js';
import { type Command, EXIT, requireOption, stringOption, writeJson } from './command.js';
import { type CommandContext, loadCommandConfig, openCommandStore } from './context.js';

const COLUMNS_HELP = MAPPING_CSV_COLUMNS.map((c) => `  ${c.padEnd(26)} ${MAPPING_CSV_HELP[c]}`).join('\n');

export const devicesDraftCommand: Command = {
  name: 'devices draft',
  summary: "write a commented devices/{uai}.yaml proposing zones from the school's stored rooms",
  help: `Usage: scope-energie devices draft --uai UAI [--out FILE] [--force] [--json]

Reads the rooms of the school's current timetable version (import it first) and writes a
devices file proposing zones: special rooms by name (gymnase/EPS, CDI, labos, ateliers, amphi,
salles de réunion, self, internat) with their rule category, the other rooms grouped by building
and floor as far as their codes say (B101 → building B, 1st floor; B.0.12, A-RDC-03, "Bât A
104"). Each zone and room carries the reason in a comment. What the timetable cannot tell is
marked TODO (gateway credentials, heating type, loss coefficient); places outside the buildings
(stade, piscine…) are listed at the end for a person, and 'check' reports them until placed.
With none of those, the draft passes 'check'. See docs/onboarding.md.

Options:
  --uai UAI     the school (required)
  --out FILE    where to write (default: devices/{uai}.yaml under paths.devices_dir; - for stdout)
  --force       replace an existing file (refused otherwise)`,
  options: { uai: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  async run(args, io) {
    const uai = requireUai(requireOption(args, 'uai').toUpperCase(), '--uai');
    const context = loadCommandConfig(args, io);
    const out = stringOption(args, 'out');
    const target =
      out === '-' ? null : resolve(io.cwd, out ?? join(context.config.paths.devices_dir, `${uai}.yaml`));
    if (target && existsSync(target) && args.values['force'] !== true) {
      throw InputError.of(
        'file-exists',
        `${relative(io.cwd, target)} exists; give --force to replace it, or --out another file`,
        '--out',
      );
    }
    const { current, establishment } = await readSchool(context, uai);
    const draft = draftDevicesFile({
      school: { uai, name: establishment?.name, timezone: establishment?.timezone ?? 'Europe/Paris' },
      rooms: current.timetable.rooms,
      version: current.version,
    });
    // Never write a file the service would refuse; only the rooms left for a person may remain.
    const shownFile = target ? relative(io.cwd, target) : `${uai}.yaml`;
    const loaded = loadDevicesFile(draft.text, shownFile);
    const remaining = checkDevicesAgainstRooms(loaded, current.timetable.rooms);
    if (remaining.some((p) => p.code !== 'room-without-zone')) throw new InputError(remaining);
    if (target) writeAtomically(target, draft.text);
    else io.stdout.write(draft.text);
    const summary = {
      uai,
      file: target ? shownFile : null,
      version: current.version,
      zones: draft.proposals.zones.map((z) => ({ id: z.id, category: z.category, rooms: z.rooms })),
      left_for_a_person: draft.proposals.unplaced.map((u) => ({ room: u.room.id, why: u.why })),
    };
    if (args.values['json'] === true) writeJson(io, summary);
    else if (target) {
      const rooms = summary.zones.reduce((n, z) => n + z.rooms.length, 0);
      io.stdout.write(
        `drafted ${shownFile}: ${rooms} room(s) in ${summary.zones.length} zone(s) from timetable version ${current.version}${summary.left_for_a_person.length > 0 ? `; ${summary.left_for_a_person.length} left for a person (end of file)` : ''}; review it and resolve each TODO\n`,
      );
    }
    return EXIT.ok;
  },
};

export const devicesExportCommand: Command = {
  name: 'devices export',
  summary: "print a school's room → zone → gateway output mapping as CSV for an integrator",
  help: `Usage: scope-energie devices export --uai UAI [--format csv] [--out FILE]

Writes the zones of devices/{uai}.yaml as one row per room (UTF-8 with BOM, ";" between fields,
CRLF, decimal comma), followed by the stored timetable's rooms that no zone claims (zone empty).
'devices import' reads it back: an unchanged file gives back the same devices file.

Columns:
${COLUMNS_HELP}

Options:
  --uai UAI      the school (required)
  --format csv   the only format (default)
  --out FILE     write there instead of stdout`,
  options: { uai: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
  async run(args, io) {
    const uai = requireUai(requireOption(args, 'uai').toUpperCase(), '--uai');
    requireCsv(args.values['format']);
    const context = loadCommandConfig(args, io);
    const { file, text } = readDevices(context, io.cwd, uai);
    const loaded = loadDevicesFile(text, file);
    const rooms = await storedRooms(context, uai);
    const csv = mappingCsv(loaded.value, rooms ?? []);
    const out = stringOption(args, 'out');
    if (out === undefined || out === '-') io.stdout.write(csv);
    else writeAtomically(resolve(io.cwd, out), csv);
    return EXIT.ok;
  },
};

export const devicesImportCommand: Command = {
  name: 'devices import',
  summary: "replace a school's zones from an integrator's CSV mapping (checked, all or nothing)",
  help: `Usage: scope-energie devices import FILE --uai UAI [--format csv] [--dry-run] [--json]

Reads the CSV 'devices export' writes (columns in any order, UTF-8 with or without BOM, CRLF or
LF, ";" between fields, decimal comma or point) and replaces the zones of devices/{uai}.yaml;
school and gateways are kept, and so are the comments and layout of zones whose fields did not
change. Rows of one zone repeat its fields (or leave them empty); a row with an empty zone is a
room left in no zone. Every problem is named by line and column; when there is any, exit 2 and
nothing is written. Rooms are checked against the stored timetable when there is one.

Columns:
${COLUMNS_HELP}

Options:
  --uai UAI      the school (required; devices/{uai}.yaml must exist: 'devices draft' writes one)
  --format csv   the only format (default)
  --dry-run      check and report, write nothing`,
  options: { uai: { type: 'string' }, format: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(args, io) {
    const csvFile = args.positionals[0];
    if (!csvFile) throw InputError.of('file-missing', 'give the CSV file to import', 'FILE', 'malformed');
    const uai = requireUai(requireOption(args, 'uai').toUpperCase(), '--uai');
    requireCsv(args.values['format']);
    const context = loadCommandConfig(args, io);
    let csv: string;
    try {
      csv = readFileSync(resolve(io.cwd, csvFile), 'utf8');
    } catch (error) {
      throw InputError.of(
        'file-unreadable',
        `cannot read ${csvFile}: ${(error as Error).message}`,
        csvFile,
        'malformed',
      );
    }
    const { file, text, path } = readDevices(context, io.cwd, uai);
    const loaded = loadDevicesFile(text, file);
    const rooms = await storedRooms(context, uai);
    const zones = readMappingCsv(csv, csvFile, {
      gateways: loaded.value.gateways.map((g) => g.id),
      rooms: rooms ?? undefined,
    });
    const next = withZones(text, file, zones);
    const changed = next !== text;
    if (changed && args.values['dry-run'] !== true) writeAtomically(path, next);
    const rowsInZones = zones.reduce((n, z) => n + z.rooms.length, 0);
    const unmapped = rooms
      ? checkDevicesAgainstRooms(loadDevicesFile(next, file), rooms).filter(
          (p) => p.code === 'room-without-zone',
        ).length
      : null;
    if (args.values['json'] === true)
      writeJson(io, {
        uai,
        file,
        changed,
        written: changed && args.values['dry-run'] !== true,
        zones: zones.length,
        rooms: rowsInZones,
        rooms_without_zone: unmapped,
      });
    else
      io.stdout.write(
        `${changed ? (args.values['dry-run'] === true ? 'would change' : 'updated') : 'unchanged'}: ${file} (${zones.length} zone(s), ${rowsInZones} room(s) mapped${unmapped ? `, ${unmapped} timetable room(s) in no zone` : ''})\n`,
      );
    return EXIT.ok;
  },
};

function requireCsv(format: unknown): void {
  if (format !== undefined && format !== 'csv')
    throw InputError.of(
      'option-invalid',
      `--format ${String(format)}: only csv is supported`,
      '--format',
      'malformed',
    );
}

function readDevices(
  context: CommandContext,
  cwd: string,
  uai: string,
): { file: string; path: string; text: string } {
  const devicesDir = resolve(cwd, context.config.paths.devices_dir);
  const path = [`${uai}.yaml`, `${uai}.yml`].map((name) => join(devicesDir, name)).find(existsSync);
  if (!path) {
    throw InputError.of(
      'unknown-school',
      `no devices file for ${uai} in ${context.config.paths.devices_dir}; 'devices draft --uai ${uai}' writes one`,
      '--uai',
    );
  }
  return { path, file: relative(cwd, path), text: readFileSync(path, 'utf8') };
}

async function readSchool(context: CommandContext, uai: string) {
  const store = await openCommandStore(context);
  try {
    const current = await store.timetables.current(uai);
    if (!current) {
      throw InputError.of(
        'timetable-missing',
        `no stored timetable for ${uai}: import one first ('scope-energie import FILE')`,
        '--uai',
      );
    }
    const establishment = (await store.timetables.listEstablishments()).find((e) => e.uai === uai);
    return { current, establishment };
  } finally {
    await store.close();
  }
}

/** The stored rooms, or null when there is no timetable (no database is created to find out). */
async function storedRooms(context: CommandContext, uai: string) {
  if (!context.config.storage.database_url && !existsSync(join(context.dataDir, SQLITE_FILE_NAME)))
    return null;
  const store = await openCommandStore(context);
  try {
    return (await store.timetables.current(uai))?.timetable.rooms ?? null;
  } finally {
    await store.close();
  }
}

/** Atomic: a running service reloading devices/ never reads half a file. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, text, { mode: 0o644 });
  renameSync(temporary, file);
}
