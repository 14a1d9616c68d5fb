/**
 * Telemetry (issue 16, docs/telemetry.md): every valid `reported` as a raw sample, hourly
 * aggregates per zone and function, a monthly roll-up, and how far each school is aggregated.
 *
 * Instants here are epoch milliseconds (bigint), not the ISO text of the other tables: a region
 * writes ~14,000 samples a minute, and 8 bytes against 24 per instant is most of a row; the
 * partition bounds are plain numbers too.
 *
 * On PostgreSQL the raw and hourly tables are partitioned by month (declarative range
 * partitioning on the instant); the repository creates each month's partition ahead and
 * retention drops whole partitions. SQLite has one table each, emptied by bounded batches.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const SAMPLE_COLUMNS = sql`
  uai text not null,
  zone text not null,
  function text not null,
  ts bigint not null,
  received_at bigint not null,
  measured_c real,
  mode text not null,
  setpoint_c real,
  applied_rev bigint not null,
  source text not null,
  flag text,
  primary key (uai, zone, function, ts)`;

const HOURLY_COLUMNS = sql`
  uai text not null,
  zone text not null,
  function text not null,
  hour bigint not null,
  samples integer not null,
  flagged integer not null,
  min_c real,
  mean_c double precision,
  max_c real,
  occupied_ms bigint not null,
  measured_ms bigint not null,
  occupied_measured_ms bigint not null,
  cold_ms bigint not null,
  overheated_ms bigint not null,
  unmeasured_ms bigint not null,
  modes_json text not null,
  starts integer not null,
  cold_starts integer not null,
  starts_json text not null,
  primary key (uai, zone, function, hour)`;

const MONTHLY_COLUMNS = sql`
  uai text not null,
  zone text not null,
  function text not null,
  month text not null,
  min_c real,
  mean_c double precision,
  max_c real,
  occupied_ms bigint not null,
  measured_ms bigint not null,
  occupied_measured_ms bigint not null,
  cold_ms bigint not null,
  overheated_ms bigint not null,
  unmeasured_ms bigint not null,
  starts integer not null,
  cold_starts integer not null,
  primary key (uai, zone, function, month)`;

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  if (postgres) {
    await sql`create table telemetry_samples (${SAMPLE_COLUMNS}) partition by range (ts)`.execute(db);
    await sql`create table telemetry_hourly (${HOURLY_COLUMNS}) partition by range (hour)`.execute(db);
  } else {
    // WITHOUT ROWID: the primary key is the table, no second copy of the key in an index.
    await sql`create table telemetry_samples (${SAMPLE_COLUMNS}) without rowid`.execute(db);
    await sql`create table telemetry_hourly (${HOURLY_COLUMNS}) without rowid`.execute(db);
    // Retention deletes by age in bounded batches.
    await sql`create index telemetry_samples_ts on telemetry_samples (ts)`.execute(db);
    await sql`create index telemetry_hourly_hour on telemetry_hourly (hour)`.execute(db);
  }
  await sql`create table telemetry_monthly (${MONTHLY_COLUMNS})`.execute(db);
  await sql`create table telemetry_progress (
    uai text primary key,
    aggregated_until bigint not null
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['telemetry_progress', 'telemetry_monthly', 'telemetry_hourly', 'telemetry_samples']) {
    await sql`drop table ${sql.id(table)}`.execute(db);
  }
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
