/**
 * `scope-energie audit verify` walks the hash chain of the audit log; `scope-energie audit export`
 * prints entries as CSV (UTF-8 with BOM, `;`) or JSON. See docs/audit.md.
 */
import { auditCsv } from '../audit/audit-csv.js';
import { parseAuditQuery } from '../audit/audit-query.js';
import { InputError } from '../domain/problems.js';
import { describeUaiProblem } from '../domain/uai.js';
import type { AuditFilter } from '../store/audit-repository.js';
import { COMMON_HELP, type Command, EXIT, reportProblems, stringOption, writeJson } from './command.js';
import { loadCommandConfig, openCommandStore } from './context.js';

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'check that the audit log hash chain is unbroken',
  help: `Usage: scope-energie audit verify [--json]

Recomputes the hash of every audit entry in seq order and checks that each one points to the
hash of the entry before it, the first to 64 zeros. A changed field, a deleted row or rows put
in another order break the chain. Exits 0 when the chain holds, 1 naming the first bad seq.

${COMMON_HELP}`,
  options: {},
  async run(args, io) {
    const json = args.values['json'] === true;
    const store = await openCommandStore(loadCommandConfig(args, io));
    try {
      const result = await store.audit.verify();
      if (json) writeJson(io, result);
      else if (result.ok) io.stdout.write(`audit chain holds: ${result.checked} entries checked\n`);
      else {
        io.stdout.write(
          `audit chain broken at seq ${result.firstBad?.seq}: ${result.firstBad?.reason} (${result.checked} entries good before it)\n`,
        );
      }
      return result.ok ? EXIT.ok : EXIT.failure;
    } finally {
      await store.close();
    }
  },
};

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'print audit entries as CSV or JSON',
  help: `Usage: scope-energie audit export [--format csv|json] [--uai UAI] [--zone ZONE]
         [--kind import|plan|publish|ack|override|config] [--from INSTANT] [--to INSTANT]
         [--limit N]

Prints the entries in seq order on stdout. CSV: UTF-8 with a byte-order mark, ';' between
fields, one header row, detail as JSON in one column (opens in French Excel with accents
intact). JSON: {"entries": [...]}. Instants are ISO 8601 with an offset; --from inclusive,
--to exclusive. Default --limit 10000.

${COMMON_HELP}`,
  options: {
    format: { type: 'string' },
    uai: { type: 'string' },
    zone: { type: 'string' },
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(args, io) {
    const json = args.values['json'] === true;
    const raw: Record<string, string | undefined> = {};
    for (const name of ['uai', 'zone', 'kind', 'from', 'to', 'limit', 'format']) {
      raw[name] = stringOption(args, name);
    }
    if (raw['format'] === undefined && json) raw['format'] = 'json';
    let query: ReturnType<typeof parseAuditQuery>;
    try {
      query = parseAuditQuery(raw, (name) => `--${name}`);
      const uaiProblem = query.uai === undefined ? null : describeUaiProblem(query.uai);
      if (uaiProblem) throw InputError.of('bad-uai', uaiProblem, '--uai', 'malformed');
    } catch (error) {
      if (error instanceof InputError) {
        reportProblems(io, error.problems, json);
        return EXIT.invalid;
      }
      throw error;
    }
    const filter: AuditFilter = {
      limit: query.limit,
      ...(query.uai === undefined ? {} : { uai: query.uai }),
      ...(query.zone === undefined ? {} : { zone: query.zone }),
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    };
    const store = await openCommandStore(loadCommandConfig(args, io));
    try {
      const entries = await store.audit.list(filter);
      if (query.format === 'csv') io.stdout.write(auditCsv(entries));
      else writeJson(io, { entries });
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
