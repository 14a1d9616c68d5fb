/**
 * Occupancy starts in a table of their own (issue 16, docs/telemetry.md "Comfort"): a school-year
 * comfort report reads the year's starts by an index on (uai, function, at) instead of parsing the
 * `starts_json` of every hourly row of the year (docs/performance.md, "Telemetry"). Kept as long
 * as the monthly roll-up, so a report older than the hourly rows still lists its starts.
 *
 * Existing hourly rows' starts are copied over. Not partitioned: about one row per zone and
 * school day. On SQLite WITHOUT ROWID: the primary key covers the report's reads.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const COPY_BATCH = 500;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table telemetry_starts (
    uai text not null,
    zone text not null,
    function text not null,
    at bigint not null,
    target_c real,
    measured_c real,
    cold integer not null,
    primary key (uai, function, at, zone)
  )${isPostgres(db) ? sql`` : sql` without rowid`}`.execute(db);
  // Retention deletes by age (5 years of a region is ~25 million starts): not a full scan a day.
  await sql`create index telemetry_starts_at on telemetry_starts (at)`.execute(db);
  const { rows } = await sql<{
    uai: string;
    zone: string;
    function: string;
    starts_json: string;
  }>`select uai, zone, function, starts_json from telemetry_hourly where starts > 0`.execute(db);
  const starts = rows.flatMap((r) =>
    (
      JSON.parse(r.starts_json) as Array<{
        at: number;
        target_c: number | null;
        measured_c: number | null;
        cold: boolean;
      }>
    ).map(
      (s) =>
        sql`(${r.uai}, ${r.zone}, ${r.function}, ${s.at}, ${s.target_c}, ${s.measured_c}, ${s.cold ? 1 : 0})`,
    ),
  );
  for (let i = 0; i < starts.length; i += COPY_BATCH) {
    await sql`insert into telemetry_starts (uai, zone, function, at, target_c, measured_c, cold)
      values ${sql.join(starts.slice(i, i + COPY_BATCH))} on conflict do nothing`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table telemetry_starts`.execute(db);
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
