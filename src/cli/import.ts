import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { importAuditEntry } from '../audit/import-audit.js';
import { InputError } from '../domain/problems.js';
import { DestructiveImportError } from '../scope/entree/destructive-import.js';
import { createImportPool, entreeLimits } from '../scope/entree/import-pool.js';
import { type ImportReport, ingestTimetable } from '../scope/entree/ingest.js';
import { runBulk } from './bulk-import.js';
import {
  type Command,
  type CommandIo,
  EXIT,
  type ParsedArgs,
  progressReporter,
  stringOption,
  writeJson,
} from './command.js';
import { loadCommandConfig, openCommandStore } from './context.js';

async function importBulkCommand(path: string, args: ParsedArgs, io: CommandIo): Promise<number> {
  if (args.positionals.length > 0 || stringOption(args, 'uai') !== undefined) {
    throw InputError.of(
      'option-invalid',
      '--bulk reads every file of DIR or ZIP with the UAI each names: give neither FILE nor --uai',
      '--bulk',
      'malformed',
    );
  }
  const context = loadCommandConfig(args, io);
  const entree = context.config.entree;
  const partnerKey = entree.partner_key_file
    ? readFileSync(resolve(context.baseDir, entree.partner_key_file), 'utf8')
    : undefined;
  const store = await openCommandStore(context);
  try {
    return await runBulk(
      io,
      path,
      {
        store,
        config: context.config,
        format: stringOption(args, 'format'),
        strict: args.values['strict'] === true,
        force: args.values['force'] === true,
        partnerPrivateKeyPem: partnerKey,
      },
      args.values['json'] === true,
    );
  } finally {
    await store.close();
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import a timetable file, or a folder or zip of them (--bulk), as new versions (SCOPE-ENTRÉE)',
  help: `Usage: scope-energie import FILE [--uai UAI] [--format F] [--strict] [--force] [--json]
       scope-energie import --bulk DIR|ZIP [--format F] [--strict] [--force] [--json]

Reads FILE (native JSON, EDT clear or encrypted XML, UDT zip, STS-web EDT_STS, ICS), checks it and
stores it as the school's new timetable version in one transaction. The same file twice is
reported unchanged. Nothing is stored when the file is refused. The file is read in a worker
thread with the limits of entree.* and entree.worker (heap, time).

Options:
  --uai UAI      the school (required when the file names none; must match the file's UAI)
  --format F     json | edt | edt-chiffre | udt | sts | ics (default: recognised from the file)
  --strict       refuse unknown fields in native JSON, and UTF-8 text under a Latin-1
                 declaration, instead of warning
  --force        replace even when the import removes every lesson or more than half of the
                 rooms (refused otherwise, with the difference)
  --bulk DIR|ZIP every file of a folder (not its sub-folders) or of a zip, one school each with
                 the UAI the file names, one after the other; a refused file is reported and
                 the others go on. A progress bar on a terminal (one line per file otherwise),
                 then a table: file, UAI, version, lessons, status. Exit 0 when every file was
                 stored or unchanged, 2 when any was refused, 1 when any failed. A zip is read
                 whole within entree.max_zip_entries and entree.max_uncompressed_mb (zip-bomb
                 guards); for a region's exports, prefer a folder`,
  options: {
    uai: { type: 'string' },
    format: { type: 'string' },
    strict: { type: 'boolean' },
    force: { type: 'boolean' },
    bulk: { type: 'string' },
  },
  async run(args, io) {
    const bulk = stringOption(args, 'bulk');
    if (bulk !== undefined) return importBulkCommand(bulk, args, io);
    const file = args.positionals[0];
    if (!file) throw InputError.of('file-missing', 'give the file to import', 'FILE', 'malformed');
    const context = loadCommandConfig(args, io);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(resolve(io.cwd, file));
    } catch (error) {
      throw InputError.of(
        'file-unreadable',
        `cannot read ${file}: ${(error as Error).message}`,
        file,
        'malformed',
      );
    }
    const partnerKey = context.config.entree.partner_key_file
      ? readFileSync(resolve(context.baseDir, context.config.entree.partner_key_file), 'utf8')
      : undefined;
    const json = args.values['json'] === true;
    const entree = context.config.entree;
    const store = await openCommandStore(context);
    const pool = createImportPool({
      threads: 1,
      maxHeapMb: entree.worker.max_heap_mb,
      taskTimeoutMs: entree.worker.task_timeout_s * 1000,
    });
    try {
      const importedBy = `cli:${userInfo().username}`;
      let report: ImportReport;
      try {
        report = await ingestTimetable(
          store,
          {
            bytes,
            uai: stringOption(args, 'uai'),
            format: stringOption(args, 'format'),
            fileName: basename(file),
            importedBy,
            strict: args.values['strict'] === true || entree.strict_json,
            partnerPrivateKeyPem: partnerKey,
            limits: entreeLimits(entree),
            confirmReplace: args.values['force'] === true,
            confirmHint: '--force',
            onProgress: progressReporter(io, `reading ${basename(file)}`, !json),
          },
          Date.now(),
          { runTask: pool.run },
        );
      } catch (error) {
        if (!(error instanceof DestructiveImportError)) throw error;
        if (json) writeJson(io, { errors: error.problems, diff: error.diff });
        else {
          for (const p of error.problems) io.stderr.write(`error ${p.code}: ${p.message}\n  at ${p.where}\n`);
          const d = error.diff;
          io.stderr.write(
            `  rooms ${d.rooms_before} → ${d.rooms_after}, lessons ${d.lessons_before} → ${d.lessons_after}${d.rooms_removed.length > 0 ? `; rooms removed: ${d.rooms_removed.join(', ')}` : ''}\n`,
          );
        }
        return EXIT.invalid;
      }
      // Attribution (issue 21): who stored this version, as for ENTRÉE over HTTP.
      if (!report.unchanged)
        await store.audit.append([importAuditEntry(report, importedBy, 'cli', Date.now())]);
      if (json) writeJson(io, report);
      else {
        io.stdout.write(
          `${report.unchanged ? 'unchanged' : 'imported'}: ${report.uai} version ${report.version} (${report.format}, ${report.counts.rooms} rooms, ${report.counts.lessons} lessons, ${report.counts.occurrences} occurrences)\n`,
        );
        for (const w of report.warnings)
          io.stdout.write(`warning ${w.code}: ${w.message}\n  at ${w.where}\n`);
        if (report.warnings_total > report.warnings.length)
          io.stdout.write(`… and ${report.warnings_total - report.warnings.length} more warning(s)\n`);
      }
      return EXIT.ok;
    } finally {
      await pool.close();
      await store.close();
    }
  },
};
