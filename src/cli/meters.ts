/**
 * `scope-energie meters import FILE --uai U [--meter M]` (issue 16; docs/savings.md, "Meters"):
 * meter readings from a CSV file (native columns, an Enedis or a GRDF customer export) into the
 * store, whole or not at all, audited with the OS user as actor (issue 21, "Attribution").
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { InputError } from '../domain/problems.js';
import { MAX_METER_CSV_BYTES, readMeterCsv } from '../savings/meter-csv.js';
import { type Command, EXIT, stringOption, writeJson } from './command.js';
import { openCommandStore } from './context.js';
import { loadOfflineSchool } from './offline-school.js';

export const metersImportCommand: Command = {
  name: 'meters import',
  summary: 'import meter readings from a CSV file (native, Enedis or GRDF export) for measured savings',
  help: `Usage: scope-energie meters import FILE --uai UAI [--meter ID] [--json]

Reads meter readings from a CSV file and stores them for the school (docs/savings.md, "Meters"):
  native   ts;index_kwh           a cumulative index in kWh at an instant
           from;to;kwh            the energy of an interval
           (an optional "meter" column names the meter of each row)
  Enedis   Horodate;Valeur with Unité, Grandeur physique (EA Wh/kWh, PA W) and Pas (PT30M…P1D);
           Horodate is the end of the interval
  GRDF     Date de relevé;…;Energie consommée (kWh): the gas day ending at 06:00 on that date
Separators ';' (or ',' without ';'), French decimals (1 234,5), dates ISO 8601, YYYY-MM-DD HH:MM
or DD/MM/YYYY HH:MM in the school's time zone. Idempotent: a reading already stored is a
duplicate; a different value at a stored instant is an error. Any error: nothing is stored, and
each problem names its line and column.

Options:
  --uai UAI     the school (a devices file must exist for it: its time zone reads local dates)
  --meter ID    the meter of every row (letters, digits, _ . -), unless the file has a meter column`,
  options: { uai: { type: 'string' }, meter: { type: 'string' } },
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw InputError.of('file-missing', 'give the CSV file', 'FILE', 'malformed');
    const path = resolve(io.cwd, file);
    if (!existsSync(path)) throw InputError.of('file-unreadable', `cannot read ${file}`, file, 'malformed');
    if (statSync(path).size > MAX_METER_CSV_BYTES) {
      throw InputError.of(
        'file-too-large',
        `${file} is larger than ${MAX_METER_CSV_BYTES} bytes`,
        file,
        'malformed',
      );
    }
    const school = loadOfflineSchool(args, io);
    const meter = stringOption(args, 'meter');
    const csv = readMeterCsv(readFileSync(path), {
      timezone: school.timezone,
      file: basename(file),
      ...(meter === undefined ? {} : { meter }),
    });
    const store = await openCommandStore(school.context);
    try {
      const now = Date.now();
      const result = await store.meters.putMeterReadings(school.uai, csv.readings, now);
      if (result.conflicts.length > 0) {
        throw new InputError(
          result.conflicts.slice(0, 50).map((c) => ({
            code: 'meter-reading-conflict',
            message: `meter ${c.meter} at ${c.ts} already has ${c.stored.kind} ${c.stored.value_kwh} kWh (from ${c.stored.source}); nothing was stored`,
            where: `${basename(file)} line ${csv.lines[c.index]}`,
          })),
          'invalid',
        );
      }
      const meters = [...new Set(csv.readings.map((r) => r.meter))].sort();
      if (result.inserted > 0) {
        await store.audit.append([
          {
            kind: 'import',
            at: now,
            actor: `cli:${userInfo().username}`,
            uai: school.uai,
            detail: {
              via: 'cli',
              what: 'meter-readings',
              file: basename(file),
              shape: csv.shape,
              meters,
              inserted: result.inserted,
              duplicates: result.duplicates,
            },
          },
        ]);
      }
      const summary = {
        uai: school.uai,
        file: basename(file),
        shape: csv.shape,
        meters,
        readings: csv.readings.length,
        inserted: result.inserted,
        duplicates: result.duplicates,
      };
      if (args.values['json'] === true) writeJson(io, summary);
      else
        io.stdout.write(
          `imported ${summary.inserted} readings (${summary.duplicates} already stored) for ${summary.uai}, meters ${meters.join(', ')}, from ${summary.file} (${summary.shape})\n`,
        );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
