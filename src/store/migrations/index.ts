/**
 * Every migration, in code: bundlers and `tsc` output keep them, unlike a folder read at run
 * time. Names sort in the order they must run; never rename or edit one that has shipped.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as timetables0001 from './0001_timetables.js';

const migrations: Record<string, Migration> = {
  '0001_timetables': timetables0001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
