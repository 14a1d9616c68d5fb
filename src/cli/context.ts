/** What most commands need first: the validated configuration and the store. */
import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { openStore, type Store } from '../store/store.js';
import { type CommandIo, type ParsedArgs, stringOption } from './command.js';

export interface CommandContext {
  config: Config;
  baseDir: string;
  dataDir: string;
}

export function loadCommandConfig(args: ParsedArgs, io: CommandIo): CommandContext {
  const env = { ...io.env };
  const data = stringOption(args, 'data');
  if (data !== undefined) env['SCOPE_ENERGIE_DATA'] = data;
  const configDir = stringOption(args, 'config');
  const { config } = loadConfig({ ...(configDir ? { configDir: resolve(io.cwd, configDir) } : {}), env });
  const baseDir = io.cwd;
  return { config, baseDir, dataDir: resolve(baseDir, config.storage.data_dir) };
}

export async function openCommandStore(context: CommandContext): Promise<Store> {
  return openStore(
    context.config.storage.database_url
      ? { databaseUrl: context.config.storage.database_url }
      : { dataDir: context.dataDir },
  );
}
