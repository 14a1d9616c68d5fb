import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { importAuditEntry } from '../audit/import-audit.js';
import { InputError } from '../domain/problems.js';
import { ingestTimetable } from '../scope/entree/ingest.js';
import { type Command, EXIT, progressReporter, stringOption, writeJson } from './command.js';
import { loadCommandConfig, openCommandStore } from './context.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'import a timetable file as a new version (SCOPE-ENTRÉE)',
  help: `Usage: scope-energie import FILE [--uai UAI] [--format F] [--strict] [--json]

Reads FILE (native JSON, EDT clear or encrypted XML, UDT zip, STS-web EDT_STS, ICS), checks it and
stores it as the school's new timetable version in one transaction. The same file twice is
reported unchanged. Nothing is stored when the file is refused.

Options:
  --uai UAI      the school (required when the file names none; must match the file's UAI)
  --format F     json | edt | edt-chiffre | udt | sts | ics (default: recognised from the file)
  --strict       refuse unknown fields in native JSON instead of warning`,
  options: { uai: { type: 'string' }, format: { type: 'string' }, strict: { type: 'boolean' } },
  async run(args, io) {
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
    const store = await openCommandStore(context);
    const importedBy = `cli:${userInfo().username}`;
    try {
      const report = await ingestTimetable(
        store,
        {
          bytes,
          uai: stringOption(args, 'uai'),
          format: stringOption(args, 'format'),
          fileName: basename(file),
          importedBy,
          strictJson: args.values['strict'] === true || context.config.entree.strict_json,
          partnerPrivateKeyPem: partnerKey,
          onProgress: progressReporter(io, `reading ${basename(file)}`, !json),
        },
        Date.now(),
      );
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
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
