/**
 * Meter readings, outdoor temperatures and frozen savings (issues 16 and 21; docs/savings.md).
 * `meter_readings`: one row per (school, meter, instant), idempotent on that key; `kind` index
 * (a cumulative counter, kWh) or interval (kWh over `[period_from, ts)`, supplier exports).
 * `outdoor_readings`: a school's outdoor sensor, one row per instant. `frozen_savings`: the
 * savings estimate of a closed week or month, computed once with the versions in force, never
 * recomputed. Instants are ISO 8601 UTC text, as everywhere in the store.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meter_readings')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('meter', 'text', (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value_kwh', 'double precision', (c) => c.notNull())
    .addColumn('period_from', 'text')
    /** `mqtt`, or `csv:<shape>` for an import. */
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('meter_readings_pk', ['uai', 'meter', 'ts'])
    .execute();
  await db.schema
    .createTable('outdoor_readings')
    .addColumn('uai', 'text', (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('temperature_c', 'double precision', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('outdoor_readings_pk', ['uai', 'ts'])
    .execute();
  await db.schema
    .createTable('frozen_savings')
    .addColumn('uai', 'text', (c) => c.notNull())
    /** `week` (Monday–Sunday) or `month`. */
    .addColumn('period_kind', 'text', (c) => c.notNull())
    /** Local dates, inclusive. */
    .addColumn('period_from', 'text', (c) => c.notNull())
    .addColumn('period_to', 'text', (c) => c.notNull())
    .addColumn('frozen_at', 'text', (c) => c.notNull())
    .addColumn('rules_version', 'text', (c) => c.notNull())
    .addColumn('timetable_versions_json', 'text', (c) => c.notNull())
    .addColumn('plan_hashes_json', 'text', (c) => c.notNull())
    /** The savings body as computed then, JSON. */
    .addColumn('body_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('frozen_savings_pk', ['uai', 'period_kind', 'period_from'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('frozen_savings').execute();
  await db.schema.dropTable('outdoor_readings').execute();
  await db.schema.dropTable('meter_readings').execute();
}
