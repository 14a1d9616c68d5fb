/**
 * Establishments and their immutable timetable versions. Portable DDL only (text, integer,
 * composite keys, checks), so SQLite and PostgreSQL hold the same schema.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('establishments')
    .addColumn('uai', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('current_version', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('timetable_versions')
    .addColumn('uai', 'text', (c) => c.notNull().references('establishments.uai'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'text', (c) => c.notNull())
    .addColumn('imported_by', 'text', (c) => c.notNull())
    .addColumn('room_count', 'integer', (c) => c.notNull())
    .addColumn('lesson_count', 'integer', (c) => c.notNull())
    .addColumn('occurrence_count', 'integer', (c) => c.notNull())
    .addColumn('warnings_json', 'text', (c) => c.notNull())
    .addColumn('document_json', 'text', (c) => c.notNull())
    // The key is the backstop against duplicate version numbers when two writers race.
    .addPrimaryKeyConstraint('timetable_versions_pk', ['uai', 'version'])
    .addCheckConstraint('timetable_versions_version_positive', sql`version >= 1`)
    .addCheckConstraint('timetable_versions_sha256_hex', sql`length(sha256) = 64`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('timetable_versions').execute();
  await db.schema.dropTable('establishments').execute();
}
