/**
 * `scope-energie COMMAND [options]`: the command-line entry point (bin/scope-energie.js).
 * Exit codes: 0 done, 1 failure, 2 invalid input or configuration.
 */

import {
  COMMON_HELP,
  type Command,
  type CommandIo,
  EXIT,
  parseCommandArgs,
  reportProblems,
} from './cli/command.js';
import { isInputError } from './domain/problems.js';

/**
 * Commands load their module only when run: `--help` or `hash-secret` need not pay for the
 * readers, the store and the broker. Each entry's summary must match its module's (tested).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the service (hub, bridge, embedded broker) until interrupted',
    load: async () => (await import('./cli/serve.js')).serveCommand,
  },
  {
    name: 'import',
    summary: 'import a timetable file, or a folder or zip of them (--bulk), as new versions (SCOPE-ENTRÉE)',
    load: async () => (await import('./cli/import.js')).importCommand,
  },
  {
    name: 'versions',
    summary: "list a school's timetable versions, or diff two of them",
    load: async () => (await import('./cli/versions.js')).versionsCommand,
  },
  {
    name: 'occupancy',
    summary: "a school's room occupancy in UTC, as SCOPE-SORTIE serves it",
    load: async () => (await import('./cli/occupancy.js')).occupancyCommand,
  },
  {
    name: 'plan',
    summary: "print a school's plan per zone for local dates (offline, from the store)",
    load: async () => (await import('./cli/plan.js')).planCommand,
  },
  {
    name: 'simulate',
    summary: "simulate a school's heating with a fixed or learned (optimum start) preheat, in simulated time",
    load: async () => (await import('./cli/simulate.js')).simulateCommand,
  },
  {
    name: 'savings',
    summary: "estimate a school's heating savings, plan vs a fixed programme (offline, from the store)",
    load: async () => (await import('./cli/savings.js')).savingsCommand,
  },
  {
    name: 'meters import',
    summary: 'import meter readings from a CSV file (native, Enedis or GRDF export) for measured savings',
    load: async () => (await import('./cli/meters.js')).metersImportCommand,
  },
  {
    name: 'compliance',
    summary:
      "a school's compliance report over a period: hours per tier, caps, measured temperatures, overrides, exceptions, gateway deviations",
    load: async () => (await import('./cli/compliance.js')).complianceCommand,
  },
  {
    name: 'comfort',
    summary:
      "a school's comfort report from stored telemetry: cold, overheated and unmeasured occupied minutes",
    load: async () => (await import('./cli/comfort.js')).comfortCommand,
  },
  {
    name: 'calendar import',
    summary: 'load school holidays from the official dataset (CSV/JSON) or a zone ICS, offline',
    load: async () => (await import('./cli/calendar-import.js')).calendarImportCommand,
  },
  {
    name: 'audit verify',
    summary: 'check that the audit log hash chain is unbroken (and unchanged since a checkpoint)',
    load: async () => (await import('./cli/audit.js')).auditVerifyCommand,
  },
  {
    name: 'audit export',
    summary: 'print audit entries as CSV or JSON',
    load: async () => (await import('./cli/audit.js')).auditExportCommand,
  },
  {
    name: 'audit checkpoint',
    summary: 'sign the audit head and write it to the checkpoint sinks',
    load: async () => (await import('./cli/audit.js')).auditCheckpointCommand,
  },
  {
    name: 'check',
    summary: 'validate all configuration: config/, clients, devices/, rules/ and legal caps',
    load: async () => (await import('./cli/check.js')).checkCommand,
  },
  {
    name: 'devices draft',
    summary: "write a commented devices/{uai}.yaml proposing zones from the school's stored rooms",
    load: async () => (await import('./cli/devices.js')).devicesDraftCommand,
  },
  {
    name: 'devices export',
    summary: "print a school's room → zone → gateway output mapping as CSV for an integrator",
    load: async () => (await import('./cli/devices.js')).devicesExportCommand,
  },
  {
    name: 'devices import',
    summary: "replace a school's zones from an integrator's CSV mapping (checked, all or nothing)",
    load: async () => (await import('./cli/devices.js')).devicesImportCommand,
  },
  {
    name: 'gateway',
    summary: 'run the reference gateway with simulated rooms (the other end of the MQTT contract)',
    load: async () => (await import('./cli/gateway.js')).gatewayCommand,
  },
  {
    name: 'gateway credentials',
    summary: "issue a gateway's MQTT password (printed once) and provision the external broker",
    load: async () => (await import('./cli/gateway-credentials.js')).gatewayCredentialsCommand,
  },
  {
    name: 'clients add',
    summary: 'add an API client to the clients file and print its secret once (no restart needed)',
    load: async () => (await import('./cli/clients.js')).clientsAddCommand,
  },
  {
    name: 'hash-secret',
    summary: 'hash a client secret or gateway password for the configuration files',
    load: async () => (await import('./cli/hash-secret.js')).hashSecretCommand,
  },
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
  const entry =
    COMMANDS.find((c) => c.name === `${name} ${rest[0]}`) ?? COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`error command-unknown: no command "${name}"\n\n${usage()}`);
    return EXIT.invalid;
  }
  const command = await entry.load();
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
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
}

/**
 * `scope-energie versions … | head -1`: once the reader has gone, a write fails with EPIPE (node
 * ignores SIGPIPE and reports it as a stream error). What was left to print has nobody to read it:
 * end now, successfully, without a stack trace, like the Unix tools a pipe usually holds.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
