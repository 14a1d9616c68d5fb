/**
 * Reads the service settings: `config/default.yaml` (shipped, documented), then `config/local.yaml`
 * (a site's own settings, not versioned), merged key by key, then environment overrides
 * (env-overrides.ts). Each file is validated on its own first, so its errors carry its lines; the
 * merged result is validated again for rules that span layers, and each error then names the
 * layer that set the offending field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../domain/problems.js';
import { deepMerge, isPlainObject, type PlainObject, pathsOf, setPath } from './deep-merge.js';
import { type Environment, envWhere, readEnvOverrides } from './env-overrides.js';
import { type Config, configSchema } from './schema.js';
import { formatPath, formatWhere, parseYamlFile } from './yaml-file.js';

export interface LoadConfigOptions {
  /** Directory holding default.yaml and local.yaml; default `$SCOPE_ENERGIE_CONFIG` or `config`. */
  configDir?: string;
  env?: Environment;
  /** Files to layer instead of `<configDir>/default.yaml` and `<configDir>/local.yaml`; each must exist. */
  files?: readonly string[];
}

export interface LoadedConfig {
  config: Config;
  /** What was applied, in order: file paths, then `env NAME` for each override. */
  sources: string[];
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? env['SCOPE_ENERGIE_CONFIG'] ?? 'config';
  const explicit = options.files !== undefined;
  const files = options.files ?? [join(configDir, 'default.yaml'), join(configDir, 'local.yaml')];

  let merged: PlainObject = {};
  const sources: string[] = [];
  /** Where each field was last set, for errors found only once the layers are merged. */
  const origins = new Map<string, (path: readonly (string | number)[]) => string>();

  for (const file of files) {
    if (!existsSync(file)) {
      if (explicit) throw InputError.of('file-not-found', `configuration file ${file} does not exist`, file);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    const parsed = parseYamlFile(text, file, configSchema);
    const raw: unknown = parseYaml(text) ?? {};
    if (!isPlainObject(raw)) continue; // parseYamlFile already refused a non-mapping document
    merged = deepMerge(merged, raw);
    for (const path of pathsOf(raw)) {
      origins.set(key(path), (p) => formatWhere(file, parsed.lineOf(p), undefined, p));
    }
    sources.push(file);
  }

  const overrides = readEnvOverrides(env, configSchema, secretVariablesOf(merged));
  for (const override of overrides) {
    merged = setPath(merged, override.path, override.value);
    origins.set(key(override.path), () => envWhere(override.variable, override.path));
    sources.push(`env ${override.variable}`);
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new InputError(
      result.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        return {
          code:
            issue.code === 'custom' && typeof issue.params?.['code'] === 'string'
              ? issue.params['code']
              : issue.code,
          message: issue.message,
          where: whereOf(origins, path),
        };
      }),
      'invalid',
    );
  }
  return { config: result.data, sources };
}

function key(path: readonly (string | number)[]): string {
  return path.join('\u0000');
}

function whereOf(
  origins: ReadonlyMap<string, (path: readonly (string | number)[]) => string>,
  path: readonly (string | number)[],
): string {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(key(path.slice(0, length)));
    if (origin) return origin(path);
  }
  return `default configuration (${formatPath(path)})`;
}

/** Names of environment variables the files point at for secrets: not settings themselves. */
function secretVariablesOf(merged: PlainObject): Set<string> {
  const names = new Set<string>();
  const mqtt = merged['mqtt'];
  if (isPlainObject(mqtt) && typeof mqtt['password_env'] === 'string') names.add(mqtt['password_env']);
  const sortie = merged['sortie'];
  const source = isPlainObject(sortie) ? sortie['source'] : undefined;
  if (isPlainObject(source) && typeof source['client_secret_env'] === 'string') {
    names.add(source['client_secret_env']);
  }
  return names;
}
