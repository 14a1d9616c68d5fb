/**
 * `scope-energie COMMAND [options]`: the command-line entry point (bin/scope-energie.js).
 * Exit codes: 0 done, 1 failure, 2 invalid input or configuration.
 */

import { calendarImportCommand } from './cli/calendar-import.js';
import { checkCommand } from './cli/check.js';
import {
  COMMON_HELP,
  type Command,
  type CommandIo,
  EXIT,
  parseCommandArgs,
  reportProblems,
} from './cli/command.js';
import { gatewayCommand } from './cli/gateway.js';
import { hashSecretCommand } from './cli/hash-secret.js';
import { importCommand } from './cli/import.js';
import { occupancyCommand } from './cli/occupancy.js';
import { planCommand } from './cli/plan.js';
import { serveCommand } from './cli/serve.js';
import { versionsCommand } from './cli/versions.js';
import { isInputError } from './domain/problems.js';

export const COMMANDS: Command[] = [
  serveCommand,
  importCommand,
  versionsCommand,
  occupancyCommand,
  planCommand,
  calendarImportCommand,
  checkCommand,
  gatewayCommand,
  hashSecretCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: scope-energie COMMAND [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'scope-energie COMMAND --help' for a command's options.
${COMMON_HELP}
`;
}

export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.invalid : EXIT.ok;
  }
  // Sub-commands such as `calendar import` are registered as "calendar import".
  const command =
    COMMANDS.find((c) => c.name === `${name} ${rest[0]}`) ?? COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`error command-unknown: no command "${name}"\n\n${usage()}`);
    return EXIT.invalid;
  }
  const args = command.name.includes(' ') ? rest.slice(1) : rest;
  const json = args.includes('--json');
  try {
    const parsed = parseCommandArgs(command, args);
    if (parsed.values['help'] === true) {
      io.stdout.write(`${command.help}\n\n${COMMON_HELP}\n`);
      return EXIT.ok;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (isInputError(error)) {
      reportProblems(io, error.problems, json);
      return EXIT.invalid;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      reportProblems(io, [{ code: 'option-invalid', message: error.message, where: 'command line' }], json);
      return EXIT.invalid;
    }
    const message = error instanceof Error ? error.message : String(error);
    reportProblems(io, [{ code: 'failure', message, where: command.name }], json);
    return EXIT.failure;
  }
}

const isEntryPoint =
  process.argv[1] !== undefined && /scope-energie(\.js)?$|cli\.(ts|js)$/.test(process.argv[1]);
if (isEntryPoint) {
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
}
