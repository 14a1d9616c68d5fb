/**
 * SCOPE-ENTRÉE storage: each school's timetable versions (docs/api.md, "SCOPE-ENTRÉE imports"). A
 * version is written whole or not at all, version numbers never repeat or skip, and the same
 * bytes twice are recognised as unchanged.
 */
import type { Kysely } from 'kysely';
import type { Problem } from '../domain/problems.js';
import type { Timetable } from '../domain/timetable.js';
import { decodeDocument, encodeDocument } from './document-codec.js';
import type { Database, TimetableVersionTable } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface TimetableCounts {
  rooms: number;
  lessons: number;
  occurrences: number;
}

export interface ImportVersionInput {
  uai: string;
  /** School name; when absent the stored name is kept. */
  name?: string;
  timezone: string;
  /** Already validated and normalised by a reader; or `encodedDocument` instead. */
  timetable?: Timetable;
  /** `encodeDocument(timetable)`, when an import worker encoded it off the main thread. */
  encodedDocument?: string;
  /** Hex SHA-256 of the bytes as received. */
  sha256: string;
  format: string;
  /** Client id of whoever pushed it. */
  importedBy: string;
  counts: TimetableCounts;
  /** The warnings kept (the ENTRÉE pipeline keeps the first 100). */
  warnings: Problem[];
  /** How many warnings the import had in all (default: `warnings.length`). */
  warningsTotal?: number;
  /** Epoch ms of the import, from the injected clock. */
  at: number;
}

/** Test seams inside the import transaction; production code passes none. */
export interface ImportHooks {
  /** Runs after the version row and the new current version are written, before COMMIT. */
  beforeCommit?: (written: { uai: string; version: number }) => void | Promise<void>;
}

/** What a version is, without its document. */
export interface TimetableVersionMeta {
  uai: string;
  version: number;
  sha256: string;
  format: string;
  /** ISO 8601 UTC. */
  importedAt: string;
  importedBy: string;
  counts: TimetableCounts;
  /** The first warnings (at most 100 for imports since issue 13). */
  warnings: Problem[];
  /** The real count of warnings, kept or not. */
  warnings_total: number;
}

export interface StoredTimetableVersion extends TimetableVersionMeta {
  timetable: Timetable;
}

/** The import report (docs/api.md, "SCOPE-ENTRÉE imports"), plus where it landed. */
export interface ImportVersionResult extends TimetableVersionMeta {
  /** True when the bytes equal the current version's: nothing was written. */
  unchanged: boolean;
}

export interface EstablishmentSummary {
  uai: string;
  name: string | null;
  timezone: string;
  currentVersion: number | null;
  /** ISO 8601 UTC. */
  updatedAt: string;
}

export interface TimetableRepository {
  importVersion(input: ImportVersionInput, hooks?: ImportHooks): Promise<ImportVersionResult>;
  /** The current version with its document, or null when the school has none. */
  current(uai: string): Promise<StoredTimetableVersion | null>;
  /** The current version without parsing its document (cheap: for ETags and reports). */
  currentMeta(uai: string): Promise<TimetableVersionMeta | null>;
  /**
   * The current versions of several schools in one query (the dashboard's overview asks for a
   * whole region); a school without a timetable is absent from the map.
   */
  currentMetas(uais: readonly string[]): Promise<Map<string, TimetableVersionMeta>>;
  /** The current version's document as stored (encoded), for an import worker to compare with. */
  currentEncoded(uai: string): Promise<{ version: number; sha256: string; document: string } | null>;
  getVersion(uai: string, version: number): Promise<StoredTimetableVersion | null>;
  /** Newest first. Empty for an unknown school. */
  listVersions(uai: string): Promise<TimetableVersionMeta[]>;
  /** Ordered by UAI. */
  listEstablishments(): Promise<EstablishmentSummary[]>;
}

type VersionRow = TimetableVersionTable;
type VersionMetaRow = Omit<VersionRow, 'document_json'>;

const metaColumns = [
  'uai',
  'version',
  'sha256',
  'format',
  'imported_at',
  'imported_by',
  'room_count',
  'lesson_count',
  'occurrence_count',
  'warnings_json',
] as const;

function toMeta(row: VersionMetaRow): TimetableVersionMeta {
  return {
    uai: row.uai,
    version: row.version,
    sha256: row.sha256,
    format: row.format,
    importedAt: row.imported_at,
    importedBy: row.imported_by,
    counts: { rooms: row.room_count, lessons: row.lesson_count, occurrences: row.occurrence_count },
    ...decodeWarnings(row.warnings_json),
  };
}

/**
 * `warnings_json` holds the warnings array, or `{kept, total}` when some were left out (no
 * migration: rows written before keep their array, whose length is the total).
 */
function encodeWarnings(warnings: Problem[], total: number): string {
  return JSON.stringify(total > warnings.length ? { kept: warnings, total } : warnings);
}

function decodeWarnings(json: string): { warnings: Problem[]; warnings_total: number } {
  // Written by importVersion from validated values: trusted, not re-validated.
  const value = JSON.parse(json) as Problem[] | { kept: Problem[]; total: number };
  return Array.isArray(value)
    ? { warnings: value, warnings_total: value.length }
    : { warnings: value.kept, warnings_total: value.total };
}

function toStored(row: VersionRow): StoredTimetableVersion {
  return { ...toMeta(row), timetable: decodeDocument(row.document_json) };
}

export function createTimetableRepository(db: Kysely<Database>, dialect: StoreDialect): TimetableRepository {
  async function importVersion(
    input: ImportVersionInput,
    hooks: ImportHooks = {},
  ): Promise<ImportVersionResult> {
    const at = new Date(input.at).toISOString();
    // Serialised before the transaction: a big document must not lengthen the time the lock is held.
    const documentJson = input.encodedDocument ?? encodeDocument(requiredTimetable(input));
    const warningsJson = encodeWarnings(input.warnings, input.warningsTotal ?? input.warnings.length);
    return writeTransaction(db, dialect, async (trx) => {
      await trx
        .insertInto('establishments')
        .values({
          uai: input.uai,
          name: input.name ?? null,
          timezone: input.timezone,
          current_version: null,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('uai').doNothing())
        .execute();

      // The row exists now (ours or a committed one); on PostgreSQL, lock it so that concurrent
      // imports of one school (several bridge instances, one database) run one after the other.
      const establishment = await trx
        .selectFrom('establishments')
        .select(['current_version', 'name'])
        .where('uai', '=', input.uai)
        .$if(dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirstOrThrow();

      const currentVersion = establishment.current_version;
      if (currentVersion !== null) {
        const current = await trx
          .selectFrom('timetable_versions')
          .select(metaColumns)
          .where('uai', '=', input.uai)
          .where('version', '=', currentVersion)
          .executeTakeFirstOrThrow();
        if (current.sha256 === input.sha256) return { ...toMeta(current), unchanged: true };
      }

      // After the highest version rather than the current one, so that a school whose current
      // version was ever set back to an older one still gets a fresh number.
      const { latest } = await trx
        .selectFrom('timetable_versions')
        .select((eb) => eb.fn.max('version').as('latest'))
        .where('uai', '=', input.uai)
        .executeTakeFirstOrThrow();

      const row: VersionRow = {
        uai: input.uai,
        version: (latest ?? 0) + 1,
        sha256: input.sha256,
        format: input.format,
        imported_at: at,
        imported_by: input.importedBy,
        room_count: input.counts.rooms,
        lesson_count: input.counts.lessons,
        occurrence_count: input.counts.occurrences,
        warnings_json: warningsJson,
        document_json: documentJson,
      };
      await trx.insertInto('timetable_versions').values(row).execute();
      await trx
        .updateTable('establishments')
        .set({
          current_version: row.version,
          timezone: input.timezone,
          name: input.name ?? establishment.name,
          updated_at: at,
        })
        .where('uai', '=', input.uai)
        .execute();

      await hooks.beforeCommit?.({ uai: row.uai, version: row.version });
      return { ...toMeta(row), unchanged: false };
    });
  }

  /** Versions are immutable, so one join gives a consistent answer even during an import. */
  function currentQuery(uai: string) {
    return db
      .selectFrom('establishments as e')
      .innerJoin('timetable_versions as v', (join) =>
        join.onRef('v.uai', '=', 'e.uai').onRef('v.version', '=', 'e.current_version'),
      )
      .where('e.uai', '=', uai);
  }

  return {
    importVersion,

    async current(uai) {
      const row = await currentQuery(uai).selectAll('v').executeTakeFirst();
      return row === undefined ? null : toStored(row);
    },

    async currentMeta(uai) {
      const row = await currentQuery(uai)
        .select(metaColumns.map((column) => `v.${column}` as const))
        .executeTakeFirst();
      return row === undefined ? null : toMeta(row);
    },

    async currentMetas(uais) {
      const metas = new Map<string, TimetableVersionMeta>();
      // Bounded IN lists: SQLite's default limit of bound parameters is 32,766, PostgreSQL's 65,535.
      for (let at = 0; at < uais.length; at += 500) {
        const rows = await db
          .selectFrom('establishments as e')
          .innerJoin('timetable_versions as v', (join) =>
            join.onRef('v.uai', '=', 'e.uai').onRef('v.version', '=', 'e.current_version'),
          )
          .where('e.uai', 'in', uais.slice(at, at + 500))
          .select(metaColumns.map((column) => `v.${column}` as const))
          .execute();
        for (const row of rows) metas.set(row.uai, toMeta(row));
      }
      return metas;
    },

    async currentEncoded(uai) {
      const row = await currentQuery(uai)
        .select(['v.version', 'v.sha256', 'v.document_json'])
        .executeTakeFirst();
      return row === undefined
        ? null
        : { version: row.version, sha256: row.sha256, document: row.document_json };
    },

    async getVersion(uai, version) {
      const row = await db
        .selectFrom('timetable_versions')
        .selectAll()
        .where('uai', '=', uai)
        .where('version', '=', version)
        .executeTakeFirst();
      return row === undefined ? null : toStored(row);
    },

    async listVersions(uai) {
      const rows = await db
        .selectFrom('timetable_versions')
        .select(metaColumns)
        .where('uai', '=', uai)
        .orderBy('version', 'desc')
        .execute();
      return rows.map(toMeta);
    },

    async listEstablishments() {
      const rows = await db.selectFrom('establishments').selectAll().orderBy('uai').execute();
      return rows.map((row) => ({
        uai: row.uai,
        name: row.name,
        timezone: row.timezone,
        currentVersion: row.current_version,
        updatedAt: row.updated_at,
      }));
    },
  };
}

function requiredTimetable(input: ImportVersionInput): Timetable {
  if (!input.timetable) throw new Error('importVersion needs a timetable or its encoded document');
  return input.timetable;
}
