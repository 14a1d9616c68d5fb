/**
 * Settings from the environment: `SCOPE_ENERGIE_<PATH>` with `__` between levels
 * (`SCOPE_ENERGIE_SERVER__PORT=9090` → `server.port`), values read as YAML scalars, plus the
 * conventional `PORT`, `DATABASE_URL`, `MQTT_URL` and `SCOPE_ENERGIE_DATA` (README.md,
 * "Configuration"). Each variable is checked on its own so an error names the variable.
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../domain/problems.js';
import { settingAt } from './schema-path.js';
import { formatPath } from './yaml-file.js';

export const ENV_PREFIX = 'SCOPE_ENERGIE_';

/** Variables with the prefix that are not settings (read by bin/ and the CLI). */
export const NON_SETTING_VARIABLES: ReadonlySet<string> = new Set([
  'SCOPE_ENERGIE_FROM_SOURCE',
  'SCOPE_ENERGIE_CONFIG',
]);

/**
 * Conventional names, applied before the `SCOPE_ENERGIE_<PATH>` ones so the explicit form wins
 * when both are set.
 */
export const CONVENTIONAL_VARIABLES: readonly (readonly [string, readonly string[]])[] = [
  ['PORT', ['server', 'port']],
  ['DATABASE_URL', ['storage', 'database_url']],
  ['MQTT_URL', ['mqtt', 'url']],
  ['SCOPE_ENERGIE_DATA', ['storage', 'data_dir']],
];

export interface EnvOverride {
  variable: string;
  path: readonly string[];
  /** The value as the schema accepted it on its own (a YAML scalar, or the raw text). */
  value: unknown;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function envWhere(variable: string, path: readonly string[]): string {
  return `env ${variable}${path.length > 0 ? ` (${formatPath(path)})` : ''}`;
}

/**
 * Reads every override in application order. `secretVariables` are names the configuration
 * points at for secrets (`mqtt.password_env`…): they may carry the prefix without being settings.
 * An empty variable counts as unset (compose files pass `VAR=` for unset ones).
 */
export function readEnvOverrides(
  env: Environment,
  schema: z.ZodType,
  secretVariables: ReadonlySet<string> = new Set(),
): EnvOverride[] {
  const overrides: EnvOverride[] = [];
  const problems: Problem[] = [];
  /** Kept aside: an override such as `…__PASSWORD_ENV` may name one of them as a secret. */
  const unknown: (Problem & { variable: string })[] = [];
  const add = (variable: string, path: readonly string[], text: string): void => {
    const lookup = settingAt(schema, path);
    if (lookup.kind === 'unknown') {
      if (secretVariables.has(variable)) return;
      unknown.push({
        code: 'unknown-setting',
        message: `${variable} names no setting: "${formatPath(path)}" is unknown (known here: ${lookup.known.join(', ')}); separate levels with "__", e.g. SCOPE_ENERGIE_SERVER__PORT`,
        where: envWhere(variable, path),
        variable,
      });
      return;
    }
    if (lookup.kind === 'section') {
      problems.push({
        code: 'unknown-setting',
        message: `${variable} names a section, not a setting: set its fields, e.g. ${variable}__<FIELD>`,
        where: envWhere(variable, path),
      });
      return;
    }
    const scalar = yamlScalar(text);
    const first = lookup.schema.safeParse(scalar);
    if (first.success) {
      overrides.push({ variable, path, value: scalar });
      return;
    }
    // "123" read as a number where the setting is text (an issuer, a prefix): the raw text is meant.
    if (scalar !== text && lookup.schema.safeParse(text).success) {
      overrides.push({ variable, path, value: text });
      return;
    }
    for (const issue of first.error.issues) {
      problems.push({ code: 'invalid-env', message: issue.message, where: envWhere(variable, path) });
    }
  };

  for (const [variable, path] of CONVENTIONAL_VARIABLES) {
    const text = env[variable];
    if (text !== undefined && text !== '') add(variable, path, text);
  }
  const prefixed = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !NON_SETTING_VARIABLES.has(name))
    .filter((name) => !CONVENTIONAL_VARIABLES.some(([conventional]) => conventional === name))
    .sort();
  for (const variable of prefixed) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const path = variable.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (path.some((part) => part === '')) {
      problems.push({
        code: 'unknown-setting',
        message: `${variable} has an empty level: separate levels with exactly "__"`,
        where: envWhere(variable, []),
      });
      continue;
    }
    add(variable, path, text);
  }
  const namedByOverrides = new Set(
    overrides
      .filter((o) => o.path.at(-1)?.endsWith('_env') && typeof o.value === 'string')
      .map((o) => o.value),
  );
  for (const { variable, ...problem } of unknown) {
    if (!namedByOverrides.has(variable)) problems.push(problem);
  }
  if (problems.length > 0) throw new InputError(problems, 'invalid');
  return overrides;
}

/** `9090` → 9090, `true` → true, `a b` → "a b"; anything that is not a plain scalar stays text. */
function yamlScalar(text: string): unknown {
  try {
    const value: unknown = parseYaml(text);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  } catch {
    // `*/15 * * * *` starts like a YAML alias: not YAML, but fine as text.
  }
  return text;
}
