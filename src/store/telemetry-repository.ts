/**
 * Telemetry (migration 0012, docs/telemetry.md): raw samples, hourly aggregates, the monthly
 * roll-up and each school's aggregation progress.
 *
 * - Samples are keyed by (uai, zone, function, ts): a replayed report is a no-op, never a second
 *   fact. A batch is one transaction, in statements of at most `ROWS_PER_STATEMENT` rows.
 * - PostgreSQL: `telemetry_samples` and `telemetry_hourly` are partitioned by UTC month
 *   (`…_pYYYYMM`); `ensurePartitions` creates the months a write needs (and `maintain` the next
 *   ones ahead), retention drops whole partitions. SQLite: retention deletes in batches of
 *   `DELETE_BATCH` rows, yielding to the event loop between batches.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface TelemetrySample {
  uai: string;
  zone: string;
  function: string;
  /** Epoch ms: the gateway's `ts`. */
  ts: number;
  receivedAt: number;
  measured_c: number | null;
  mode: string;
  setpoint_c: number | null;
  applied_rev: number;
  source: string;
  flag: string | null;
}

/** Samples of a zone function from `from` on are flagged (a stuck sensor's run). */
export interface SampleFlagging {
  uai: string;
  zone: string;
  function: string;
  from: number;
  to: number;
  flag: string;
}

export interface StoredStart {
  at: number;
  target_c: number | null;
  measured_c: number | null;
  cold: boolean;
}

export interface TelemetryFigures {
  uai: string;
  zone: string;
  function: string;
  minC: number | null;
  meanC: number | null;
  maxC: number | null;
  occupiedMs: number;
  measuredMs: number;
  occupiedMeasuredMs: number;
  coldMs: number;
  overheatedMs: number;
  unmeasuredMs: number;
  starts: number;
  coldStarts: number;
}

export interface HourlyRow extends TelemetryFigures {
  /** Epoch ms of the hour's start. */
  hour: number;
  samples: number;
  flagged: number;
  modesMs: Record<string, number>;
  startList: StoredStart[];
}

export interface MonthlyRow extends TelemetryFigures {
  /** `YYYY-MM`, UTC. */
  month: string;
}

export interface RetentionPolicy {
  rawDays: number;
  hourlyMonths: number;
  monthlyYears: number;
}

export interface RetentionResult {
  /** PostgreSQL: partitions dropped. */
  droppedPartitions: string[];
  /** SQLite: rows deleted (raw + hourly), and monthly rows on both. */
  deletedRows: number;
}

export interface TelemetryRepository {
  /** One transaction: inserts the new samples (duplicates ignored), then applies the flaggings. */
  writeBatch(
    samples: readonly TelemetrySample[],
    flaggings?: readonly SampleFlagging[],
  ): Promise<{ inserted: number }>;
  /** Samples of a school with `from <= ts < to`, by zone, function and ts. */
  samplesOf(uai: string, from: number, to: number, zone?: string): Promise<TelemetrySample[]>;
  /**
   * Upserts hourly rows, replaces their hours' starts, recomputes the monthly roll-up of the
   * schools and months they touch and moves the school's progress, in one transaction: a month's
   * roll-up never lags its hours.
   */
  writeHourly(rows: readonly HourlyRow[], progress?: { uai: string; until: number }): Promise<void>;
  hourlyOf(uai: string, from: number, to: number, zone?: string): Promise<HourlyRow[]>;
  /**
   * Per zone of a school and function, the hourly rows of `[from, to)` added up, in SQL. Given the
   * school's zones, the whole primary key (uai, zone, function, hour) bounds the scan to the range.
   */
  hourlySums(
    uai: string,
    fn: string,
    from: number,
    to: number,
    zone?: string | readonly string[],
  ): Promise<TelemetryFigures[]>;
  /**
   * Per zone of a school and function, the monthly roll-up of the UTC months `fromMonth` (inclusive)
   * to `toMonth` (exclusive), `YYYY-MM`, added up: a school year is ~400 rows.
   */
  monthlySums(
    uai: string,
    fn: string,
    fromMonth: string,
    toMonth: string,
    zone?: string,
  ): Promise<TelemetryFigures[]>;
  /** The occupancy starts of the aggregated hours in `[from, to)` (migration 0014), by zone and instant. */
  startsOf(
    uai: string,
    fn: string,
    from: number,
    to: number,
    zone?: string,
  ): Promise<Array<StoredStart & { zone: string }>>;
  /** Epoch ms before which every hour of the school is aggregated; undefined before the first run. */
  progressOf(uai: string): Promise<number | undefined>;
  /** Earliest sample of a school at or after `from`. */
  firstSampleOf(uai: string, from: number): Promise<number | undefined>;
  /** Recomputes the monthly rows of the UTC months from `from`'s to `to`'s (inclusive) from the hourly rows. */
  rollUpMonthly(from: number, to: number): Promise<void>;
  monthlyOf(uai: string, fromMonth: string, toMonth: string): Promise<MonthlyRow[]>;
  /** PostgreSQL: the month partitions from `from`'s month to `to`'s exist. No-op on SQLite. */
  ensurePartitions(from: number, to: number): Promise<void>;
  applyRetention(now: number, policy: RetentionPolicy): Promise<RetentionResult>;
  /** PostgreSQL: bytes of the telemetry tables (data, indexes, TOAST); SQLite: null. */
  sizeBytes(): Promise<{ samples: number; hourly: number; monthly: number } | null>;
}

/** 11 parameters a row: far below both engines' bound-parameter limits (SQLite 32,766, PostgreSQL 65,535). */
const ROWS_PER_STATEMENT = 500;
/** SQLite retention: one short statement at a time, so a month of a region never holds the writer for long. */
export const DELETE_BATCH = 5_000;

const PARTITIONED = ['telemetry_samples', 'telemetry_hourly'] as const;

export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
}

export function monthKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

export function createTelemetryRepository(db: Kysely<Database>, dialect: StoreDialect): TelemetryRepository {
  const knownPartitions = new Set<string>();

  const ensurePartitions = async (from: number, to: number): Promise<void> => {
    if (dialect !== 'postgres') return;
    for (let month = monthStart(from); month <= to; month = addMonths(month, 1)) {
      const suffix = monthKey(month).replace('-', '');
      for (const table of PARTITIONED) {
        const name = `${table}_p${suffix}`;
        if (knownPartitions.has(name)) continue;
        try {
          await sql`create table if not exists ${sql.id(name)} partition of ${sql.id(table)}
            for values from (${sql.lit(month)}) to (${sql.lit(addMonths(month, 1))})`.execute(db);
        } catch (error) {
          // Two instances creating the same month: the loser's IF NOT EXISTS may still collide.
          const code = (error as { code?: string }).code;
          if (code !== '42P07' && code !== '23505') throw error;
        }
        knownPartitions.add(name);
      }
    }
  };

  /** One school's figures of one function summed per zone, from the hourly or the monthly table. */
  const sumsOf = (table: 'telemetry_hourly' | 'telemetry_monthly', uai: string, fn: string) =>
    db
      .selectFrom(table)
      .select((eb) => [
        'uai',
        'zone',
        'function',
        eb.fn.min('min_c').as('min_c'),
        eb.fn.max('max_c').as('max_c'),
        sql<number | null>`sum(mean_c * measured_ms) / nullif(sum(measured_ms), 0)`.as('mean_c'),
        eb.fn.sum<number | string>('occupied_ms').as('occupied_ms'),
        eb.fn.sum<number | string>('measured_ms').as('measured_ms'),
        eb.fn.sum<number | string>('occupied_measured_ms').as('occupied_measured_ms'),
        eb.fn.sum<number | string>('cold_ms').as('cold_ms'),
        eb.fn.sum<number | string>('overheated_ms').as('overheated_ms'),
        eb.fn.sum<number | string>('unmeasured_ms').as('unmeasured_ms'),
        eb.fn.sum<number | string>('starts').as('starts'),
        eb.fn.sum<number | string>('cold_starts').as('cold_starts'),
      ])
      .where('uai', '=', uai)
      .where('function', '=', fn);

  const monthsOf = (values: Iterable<number>): [number, number] | undefined => {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return min <= max ? [min, max] : undefined;
  };

  return {
    ensurePartitions,

    async writeBatch(samples, flaggings = []) {
      if (samples.length === 0 && flaggings.length === 0) return { inserted: 0 };
      const span = monthsOf(samples.map((s) => s.ts));
      if (span) await ensurePartitions(span[0], span[1]);
      return writeTransaction(db, dialect, async (trx) => {
        let inserted = 0;
        for (let i = 0; i < samples.length; i += ROWS_PER_STATEMENT) {
          const chunk = samples.slice(i, i + ROWS_PER_STATEMENT);
          const result = await trx
            .insertInto('telemetry_samples')
            .values(
              chunk.map((s) => ({
                uai: s.uai,
                zone: s.zone,
                function: s.function,
                ts: s.ts,
                received_at: s.receivedAt,
                measured_c: s.measured_c,
                mode: s.mode,
                setpoint_c: s.setpoint_c,
                applied_rev: s.applied_rev,
                source: s.source,
                flag: s.flag,
              })),
            )
            .onConflict((oc) => oc.columns(['uai', 'zone', 'function', 'ts']).doNothing())
            .executeTakeFirst();
          inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
        }
        for (const f of flaggings) {
          await trx
            .updateTable('telemetry_samples')
            .set({ flag: f.flag })
            .where('uai', '=', f.uai)
            .where('zone', '=', f.zone)
            .where('function', '=', f.function)
            .where('ts', '>=', f.from)
            .where('ts', '<=', f.to)
            .where('flag', 'is', null)
            .execute();
        }
        return { inserted };
      });
    },

    async samplesOf(uai, from, to, zone) {
      let query = db
        .selectFrom('telemetry_samples')
        .selectAll()
        .where('uai', '=', uai)
        .where('ts', '>=', from)
        .where('ts', '<', to);
      if (zone !== undefined) query = query.where('zone', '=', zone);
      const rows = await query.orderBy('zone').orderBy('function').orderBy('ts').execute();
      return rows.map((r) => ({
        uai: r.uai,
        zone: r.zone,
        function: r.function,
        ts: num(r.ts),
        receivedAt: num(r.received_at),
        measured_c: r.measured_c,
        mode: r.mode,
        setpoint_c: r.setpoint_c,
        applied_rev: num(r.applied_rev),
        source: r.source,
        flag: r.flag,
      }));
    },

    async writeHourly(rows, progress) {
      const span = monthsOf(rows.map((r) => r.hour));
      if (span) await ensurePartitions(span[0], span[1]);
      await writeTransaction(db, dialect, async (trx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT / 2) {
          const chunk = rows.slice(i, i + ROWS_PER_STATEMENT / 2);
          await trx
            .insertInto('telemetry_hourly')
            .values(
              chunk.map((r) => ({
                uai: r.uai,
                zone: r.zone,
                function: r.function,
                hour: r.hour,
                samples: r.samples,
                flagged: r.flagged,
                min_c: r.minC,
                mean_c: r.meanC,
                max_c: r.maxC,
                occupied_ms: r.occupiedMs,
                measured_ms: r.measuredMs,
                occupied_measured_ms: r.occupiedMeasuredMs,
                cold_ms: r.coldMs,
                overheated_ms: r.overheatedMs,
                unmeasured_ms: r.unmeasuredMs,
                modes_json: JSON.stringify(r.modesMs),
                starts: r.starts,
                cold_starts: r.coldStarts,
                starts_json: JSON.stringify(r.startList),
              })),
            )
            .onConflict((oc) =>
              oc.columns(['uai', 'zone', 'function', 'hour']).doUpdateSet((eb) => ({
                samples: eb.ref('excluded.samples'),
                flagged: eb.ref('excluded.flagged'),
                min_c: eb.ref('excluded.min_c'),
                mean_c: eb.ref('excluded.mean_c'),
                max_c: eb.ref('excluded.max_c'),
                occupied_ms: eb.ref('excluded.occupied_ms'),
                measured_ms: eb.ref('excluded.measured_ms'),
                occupied_measured_ms: eb.ref('excluded.occupied_measured_ms'),
                cold_ms: eb.ref('excluded.cold_ms'),
                overheated_ms: eb.ref('excluded.overheated_ms'),
                unmeasured_ms: eb.ref('excluded.unmeasured_ms'),
                modes_json: eb.ref('excluded.modes_json'),
                starts: eb.ref('excluded.starts'),
                cold_starts: eb.ref('excluded.cold_starts'),
                starts_json: eb.ref('excluded.starts_json'),
              })),
            )
            .execute();
        }
        await replaceStarts(trx, rows);
        for (const [uai, months] of monthsByUai(rows))
          for (const month of months) await rollUp(trx, month, uai);
        if (progress) {
          await trx
            .insertInto('telemetry_progress')
            .values({ uai: progress.uai, aggregated_until: progress.until })
            .onConflict((oc) =>
              oc
                .column('uai')
                .doUpdateSet((eb) => ({ aggregated_until: eb.ref('excluded.aggregated_until') })),
            )
            .execute();
        }
      });
    },

    async hourlyOf(uai, from, to, zone) {
      let query = db
        .selectFrom('telemetry_hourly')
        .selectAll()
        .where('uai', '=', uai)
        .where('hour', '>=', from)
        .where('hour', '<', to);
      if (zone !== undefined) query = query.where('zone', '=', zone);
      const rows = await query.orderBy('zone').orderBy('function').orderBy('hour').execute();
      return rows.map((r) => ({
        uai: r.uai,
        zone: r.zone,
        function: r.function,
        hour: num(r.hour),
        samples: r.samples,
        flagged: r.flagged,
        minC: r.min_c,
        meanC: r.mean_c,
        maxC: r.max_c,
        occupiedMs: num(r.occupied_ms),
        measuredMs: num(r.measured_ms),
        occupiedMeasuredMs: num(r.occupied_measured_ms),
        coldMs: num(r.cold_ms),
        overheatedMs: num(r.overheated_ms),
        unmeasuredMs: num(r.unmeasured_ms),
        modesMs: JSON.parse(r.modes_json) as Record<string, number>,
        starts: r.starts,
        coldStarts: r.cold_starts,
        startList: JSON.parse(r.starts_json) as StoredStart[],
      }));
    },

    async hourlySums(uai, fn, from, to, zone) {
      let query = sumsOf('telemetry_hourly', uai, fn).where('hour', '>=', from).where('hour', '<', to);
      if (typeof zone === 'string') query = query.where('zone', '=', zone);
      else if (zone !== undefined) query = query.where('zone', 'in', zone.length > 0 ? [...zone] : ['']);
      const rows = await query.groupBy(['uai', 'zone', 'function']).orderBy('zone').execute();
      return rows.map(figuresOfSums);
    },

    async monthlySums(uai, fn, fromMonth, toMonth, zone) {
      let query = sumsOf('telemetry_monthly', uai, fn)
        .where('month', '>=', fromMonth)
        .where('month', '<', toMonth);
      if (zone !== undefined) query = query.where('zone', '=', zone);
      const rows = await query.groupBy(['uai', 'zone', 'function']).orderBy('zone').execute();
      return rows.map(figuresOfSums);
    },

    async startsOf(uai, fn, from, to, zone) {
      let query = db
        .selectFrom('telemetry_starts')
        .select(['zone', 'at', 'target_c', 'measured_c', 'cold'])
        .where('uai', '=', uai)
        .where('function', '=', fn)
        .where('at', '>=', from)
        .where('at', '<', to);
      if (zone !== undefined) query = query.where('zone', '=', zone);
      // In primary-key order (instant, then zone): no sort; grouped by zone here, instants stay in order.
      const rows = await query.orderBy('at').orderBy('zone').execute();
      const byZone = new Map<string, Array<StoredStart & { zone: string }>>();
      for (const r of rows) {
        const list = byZone.get(r.zone) ?? [];
        list.push({
          zone: r.zone,
          at: num(r.at),
          target_c: r.target_c,
          measured_c: r.measured_c,
          cold: r.cold === 1,
        });
        byZone.set(r.zone, list);
      }
      return [...byZone.keys()].sort().flatMap((z) => byZone.get(z) ?? []);
    },

    async progressOf(uai) {
      const row = await db
        .selectFrom('telemetry_progress')
        .select('aggregated_until')
        .where('uai', '=', uai)
        .executeTakeFirst();
      return row ? num(row.aggregated_until) : undefined;
    },

    async firstSampleOf(uai, from) {
      const row = await db
        .selectFrom('telemetry_samples')
        .select((eb) => eb.fn.min('ts').as('first'))
        .where('uai', '=', uai)
        .where('ts', '>=', from)
        .executeTakeFirst();
      return row?.first === null || row?.first === undefined ? undefined : num(row.first);
    },

    async rollUpMonthly(from, to) {
      for (let month = monthStart(from); month <= to; month = addMonths(month, 1)) await rollUp(db, month);
    },

    async monthlyOf(uai, fromMonth, toMonth) {
      const rows = await db
        .selectFrom('telemetry_monthly')
        .selectAll()
        .where('uai', '=', uai)
        .where('month', '>=', fromMonth)
        .where('month', '<=', toMonth)
        .orderBy('zone')
        .orderBy('function')
        .orderBy('month')
        .execute();
      return rows.map((r) => ({
        uai: r.uai,
        zone: r.zone,
        function: r.function,
        month: r.month,
        minC: r.min_c,
        meanC: r.mean_c,
        maxC: r.max_c,
        occupiedMs: num(r.occupied_ms),
        measuredMs: num(r.measured_ms),
        occupiedMeasuredMs: num(r.occupied_measured_ms),
        coldMs: num(r.cold_ms),
        overheatedMs: num(r.overheated_ms),
        unmeasuredMs: num(r.unmeasured_ms),
        starts: num(r.starts),
        coldStarts: num(r.cold_starts),
      }));
    },

    async applyRetention(now, policy) {
      const rawCutoff = now - policy.rawDays * 86_400_000;
      // Whole months: at least `hourlyMonths` complete months before the current one stay.
      const hourlyCutoff = addMonths(now, -policy.hourlyMonths);
      const monthlyCutoff = monthKey(addMonths(now, -12 * policy.monthlyYears));
      const result: RetentionResult = { droppedPartitions: [], deletedRows: 0 };
      if (dialect === 'postgres') {
        for (const [table, cutoff] of [
          ['telemetry_samples', rawCutoff],
          ['telemetry_hourly', monthStart(hourlyCutoff)],
        ] as const) {
          const { rows } = await sql<{ name: string }>`select c.relname as name
              from pg_inherits i
              join pg_class c on c.oid = i.inhrelid
              join pg_class p on p.oid = i.inhparent
              join pg_namespace n on n.oid = p.relnamespace
              where p.relname = ${table} and n.nspname = current_schema()`.execute(db);
          for (const { name } of rows) {
            const match = /_p(\d{4})(\d{2})$/.exec(name);
            if (!match) continue;
            const end = Date.UTC(Number(match[1]), Number(match[2]), 1);
            // A partition goes when all of its month is older than the cutoff.
            if (end > cutoff) continue;
            await sql`drop table if exists ${sql.id(name)}`.execute(db);
            knownPartitions.delete(name);
            result.droppedPartitions.push(name);
          }
        }
      } else {
        for (const [table, column, cutoff] of [
          ['telemetry_samples', 'ts', rawCutoff],
          ['telemetry_hourly', 'hour', monthStart(hourlyCutoff)],
        ] as const) {
          for (;;) {
            const deleted =
              await sql`delete from ${sql.id(table)} where (uai, zone, function, ${sql.id(column)}) in
                (select uai, zone, function, ${sql.id(column)} from ${sql.id(table)}
                 where ${sql.id(column)} < ${cutoff} limit ${DELETE_BATCH})`.execute(db);
            const count = Number(deleted.numAffectedRows ?? 0n);
            result.deletedRows += count;
            if (count < DELETE_BATCH) break;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      }
      const monthly = await db
        .deleteFrom('telemetry_monthly')
        .where('month', '<', monthlyCutoff)
        .executeTakeFirst();
      result.deletedRows += Number(monthly.numDeletedRows ?? 0n);
      // Starts go with the monthly rows that count them (about one a zone and school day).
      const starts = await db
        .deleteFrom('telemetry_starts')
        .where('at', '<', monthStart(addMonths(now, -12 * policy.monthlyYears)))
        .executeTakeFirst();
      result.deletedRows += Number(starts.numDeletedRows ?? 0n);
      return result;
    },

    async sizeBytes() {
      if (dialect !== 'postgres') return null;
      const size = async (table: string): Promise<number> => {
        const { rows } = await sql<{
          bytes: string | null;
        }>`select sum(pg_total_relation_size(c.oid))::text as bytes
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = current_schema() and (c.relname = ${table} or c.relname like ${`${table}_p%`})`.execute(
          db,
        );
        return Number(rows[0]?.bytes ?? 0);
      };
      return {
        samples: await size('telemetry_samples'),
        hourly: await size('telemetry_hourly'),
        monthly: await size('telemetry_monthly'),
      };
    },
  };
}

type Executor = Kysely<Database>;

interface SumsRow {
  uai: string;
  zone: string;
  function: string;
  min_c: number | string | null;
  max_c: number | string | null;
  mean_c: number | string | null;
  occupied_ms: number | string;
  measured_ms: number | string;
  occupied_measured_ms: number | string;
  cold_ms: number | string;
  overheated_ms: number | string;
  unmeasured_ms: number | string;
  starts: number | string;
  cold_starts: number | string;
}

function figuresOfSums(r: SumsRow): TelemetryFigures {
  return {
    uai: r.uai,
    zone: r.zone,
    function: r.function,
    minC: r.min_c === null ? null : Number(r.min_c),
    meanC: r.mean_c === null ? null : Number(r.mean_c),
    maxC: r.max_c === null ? null : Number(r.max_c),
    occupiedMs: num(r.occupied_ms),
    measuredMs: num(r.measured_ms),
    occupiedMeasuredMs: num(r.occupied_measured_ms),
    coldMs: num(r.cold_ms),
    overheatedMs: num(r.overheated_ms),
    unmeasuredMs: num(r.unmeasured_ms),
    starts: num(r.starts),
    coldStarts: num(r.cold_starts),
  };
}

/** Recomputes the monthly rows of the UTC month starting at `month` from its hourly rows (of one school, or all). */
async function rollUp(executor: Executor, month: number, uai?: string): Promise<void> {
  const next = addMonths(month, 1);
  const ofSchool = uai === undefined ? sql`` : sql`and uai = ${uai}`;
  await sql`insert into telemetry_monthly (uai, zone, function, month, min_c, mean_c, max_c,
      occupied_ms, measured_ms, occupied_measured_ms, cold_ms, overheated_ms, unmeasured_ms,
      starts, cold_starts)
    select uai, zone, function, ${monthKey(month)}, min(min_c),
      sum(mean_c * measured_ms) / nullif(sum(measured_ms), 0), max(max_c),
      sum(occupied_ms), sum(measured_ms), sum(occupied_measured_ms), sum(cold_ms),
      sum(overheated_ms), sum(unmeasured_ms), sum(starts), sum(cold_starts)
    from telemetry_hourly where hour >= ${month} and hour < ${next} ${ofSchool}
    group by uai, zone, function
    on conflict (uai, zone, function, month) do update set
      min_c = excluded.min_c, mean_c = excluded.mean_c, max_c = excluded.max_c,
      occupied_ms = excluded.occupied_ms, measured_ms = excluded.measured_ms,
      occupied_measured_ms = excluded.occupied_measured_ms, cold_ms = excluded.cold_ms,
      overheated_ms = excluded.overheated_ms, unmeasured_ms = excluded.unmeasured_ms,
      starts = excluded.starts, cold_starts = excluded.cold_starts`.execute(executor);
}

/** The UTC months (start instants) each school's rows fall in. */
function monthsByUai(rows: readonly HourlyRow[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const r of rows) {
    const months = out.get(r.uai) ?? new Set<number>();
    months.add(monthStart(r.hour));
    out.set(r.uai, months);
  }
  return out;
}

const HOUR = 3_600_000;

/**
 * The starts of the rewritten hours are the rows' `startList`: per zone function, each run of
 * consecutive hours written loses its old starts (one range delete on the primary key), then the
 * new ones go in.
 */
async function replaceStarts(executor: Executor, rows: readonly HourlyRow[]): Promise<void> {
  const hoursByKey = new Map<string, { uai: string; zone: string; fn: string; hours: number[] }>();
  for (const r of rows) {
    const key = JSON.stringify([r.uai, r.zone, r.function]);
    const entry = hoursByKey.get(key) ?? { uai: r.uai, zone: r.zone, fn: r.function, hours: [] };
    entry.hours.push(r.hour);
    hoursByKey.set(key, entry);
  }
  for (const { uai, zone, fn, hours } of hoursByKey.values()) {
    hours.sort((a, b) => a - b);
    for (let i = 0; i < hours.length; ) {
      let j = i;
      while (j + 1 < hours.length && (hours[j + 1] as number) <= (hours[j] as number) + HOUR) j++;
      await executor
        .deleteFrom('telemetry_starts')
        .where('uai', '=', uai)
        .where('function', '=', fn)
        .where('at', '>=', hours[i] as number)
        .where('at', '<', (hours[j] as number) + HOUR)
        .where('zone', '=', zone)
        .execute();
      i = j + 1;
    }
  }
  const starts = rows.flatMap((r) =>
    r.startList.map((s) => ({
      uai: r.uai,
      zone: r.zone,
      function: r.function,
      at: s.at,
      target_c: s.target_c,
      measured_c: s.measured_c,
      cold: s.cold ? 1 : 0,
    })),
  );
  for (let i = 0; i < starts.length; i += ROWS_PER_STATEMENT) {
    await executor
      .insertInto('telemetry_starts')
      .values(starts.slice(i, i + ROWS_PER_STATEMENT))
      .onConflict((oc) => oc.columns(['uai', 'function', 'at', 'zone']).doNothing())
      .execute();
  }
}
