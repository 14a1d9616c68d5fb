import { InputError } from '../domain/problems.js';
import { diffTimetables } from '../domain/timetable-diff.js';
import { normaliseUai } from '../domain/uai.js';
import { type Command, EXIT, requireOption, writeJson } from './command.js';
import { loadCommandConfig, openCommandStore } from './context.js';

export const versionsCommand: Command = {
  name: 'versions',
  summary: "list a school's timetable versions, or diff two of them",
  help: `Usage: scope-energie versions --uai UAI [--json]
       scope-energie versions --uai UAI --diff V W [--json]

Lists who imported which version when (sha256, counts), newest first; with --diff, the rooms
and lessons added, removed and changed between versions V and W.`,
  options: { uai: { type: 'string' }, diff: { type: 'boolean' } },
  async run(args, io) {
    const uai = normaliseUai(requireOption(args, 'uai'));
    const json = args.values['json'] === true;
    const store = await openCommandStore(loadCommandConfig(args, io));
    try {
      if (args.values['diff'] === true) {
        const [v, w] = args.positionals.map(Number);
        if (!Number.isInteger(v) || !Number.isInteger(w)) {
          throw InputError.of('bad-version', 'give two version numbers: --diff V W', 'V W', 'malformed');
        }
        const [a, b] = await Promise.all([
          store.timetables.getVersion(uai, v!),
          store.timetables.getVersion(uai, w!),
        ]);
        if (!a || !b) {
          io.stderr.write(`error not-found: version ${!a ? v : w} of ${uai} does not exist\n`);
          return EXIT.failure;
        }
        const diff = diffTimetables(a.timetable, b.timetable);
        if (json) writeJson(io, { uai, from: v, to: w, ...diff });
        else {
          for (const kind of ['rooms', 'lessons'] as const) {
            const d = diff[kind];
            io.stdout.write(
              `${kind}: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed\n`,
            );
            for (const x of d.added) io.stdout.write(`  + ${x.id}\n`);
            for (const x of d.removed) io.stdout.write(`  - ${x.id}\n`);
            for (const x of d.changed)
              io.stdout.write(`  ~ ${x.id}: ${x.changes.map((c) => c.field).join(', ')}\n`);
          }
        }
        return EXIT.ok;
      }
      const versions = await store.timetables.listVersions(uai);
      if (json) writeJson(io, { uai, versions });
      else if (versions.length === 0) io.stdout.write(`no timetable for ${uai}\n`);
      else {
        for (const v of versions) {
          io.stdout.write(
            `v${v.version}  ${v.importedAt}  ${v.importedBy}  ${v.format}  ${v.counts.rooms} rooms  ${v.counts.lessons} lessons  ${v.sha256.slice(0, 12)}\n`,
          );
        }
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
