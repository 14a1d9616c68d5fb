/**
 * The CLI's small framework: one file per command, each with its own `--help`, the documented
 * exit codes and `--json` output. Errors of input or configuration exit 2, other failures 1.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InputError, type Problem } from '../domain/problems.js';

export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) and option descriptions, printed by `--help`. */
  help: string;
  options: OptionSpec;
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}

/** Common options every command accepts. */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  data: { type: 'string' },
};

export const COMMON_HELP = `Common options:
  --config DIR   configuration directory (default: ./config)
  --data DIR     data directory (default: SCOPE_ENERGIE_DATA or ./data)
  --json         machine-readable output on stdout
  -h, --help     this help

Exit codes: 0 done, 1 failure, 2 invalid input or configuration.`;

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const parsed = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, ...command.options },
    allowPositionals: true,
    strict: true,
  });
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireOption(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined)
    throw InputError.of('option-missing', `--${name} is required`, `--${name}`, 'malformed');
  return value;
}

export function writeJson(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints problems for people (stderr) or as `{errors: […]}` (stdout with --json). */
export function reportProblems(io: CommandIo, problems: Problem[], json: boolean): void {
  if (json) {
    writeJson(io, { errors: problems });
    return;
  }
  for (const p of problems) io.stderr.write(`error ${p.code}: ${p.message}\n  at ${p.where}\n`);
}

/** A progress line on a terminal (never in --json or when piped): "import 42 %". */
export function progressReporter(
  io: CommandIo,
  label: string,
  enabled: boolean,
): ((fraction: number) => void) | undefined {
  if (!enabled || !io.stderr.isTTY) return undefined;
  let last = -1;
  return (fraction) => {
    const percent = Math.floor(fraction * 100);
    if (percent === last) return;
    last = percent;
    io.stderr.write(`\r${label} ${String(percent).padStart(3)} %${percent >= 100 ? '\n' : ''}`);
  };
}
