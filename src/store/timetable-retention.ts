/**
 * Retention of timetable versions (docs/audit.md, "Retention"): a version is deleted only when it
 * is beyond the `keepVersions` newest of its school AND imported before the cut-off, and never the
 * current one (SORTIE serves it). One write transaction per school, so a purge is all or nothing
 * for it; the documents hold teachers' names, which is why old ones do not stay forever.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface TimetableRetentionPolicy {
  /** The newest versions kept whatever their age (the current one counts). */
  keepVersions: number;
  /** Versions imported at or after this instant (epoch ms) are kept. */
  cutoff: number;
}

export interface PurgedVersions {
  uai: string;
  /** Deleted version numbers, ascending. */
  versions: number[];
  /** Their import instants, first and last. */
  importedFrom: string;
  importedTo: string;
  /** The oldest version still stored. */
  oldestKept: number;
}

export async function purgeTimetableVersions(
  db: Kysely<Database>,
  dialect: StoreDialect,
  policy: TimetableRetentionPolicy,
): Promise<PurgedVersions[]> {
  const cutoff = new Date(policy.cutoff).toISOString();
  const schools = await db.selectFrom('establishments').select(['uai', 'current_version']).execute();
  const purged: PurgedVersions[] = [];
  for (const school of schools) {
    const result = await writeTransaction(db, dialect, async (trx) => {
      const versions = await trx
        .selectFrom('timetable_versions')
        .select(['version', 'imported_at'])
        .where('uai', '=', school.uai)
        .orderBy('version', 'desc')
        .execute();
      const doomed = versions
        .slice(policy.keepVersions)
        .filter((v) => v.version !== school.current_version && v.imported_at < cutoff)
        .reverse();
      if (doomed.length === 0) return null;
      const deleted = await trx
        .deleteFrom('timetable_versions')
        .where('uai', '=', school.uai)
        .where(
          'version',
          'in',
          doomed.map((v) => v.version),
        )
        .executeTakeFirst();
      // Another instance purged them first (PostgreSQL, read committed): it logs them, not us.
      if (Number(deleted.numDeletedRows) !== doomed.length) return null;
      const kept = versions.filter((v) => !doomed.some((d) => d.version === v.version));
      return {
        uai: school.uai,
        versions: doomed.map((v) => v.version),
        importedFrom: doomed[0]?.imported_at ?? '',
        importedTo: doomed.at(-1)?.imported_at ?? '',
        oldestKept: kept.at(-1)?.version ?? 0,
      };
    });
    if (result) purged.push(result);
  }
  return purged;
}
