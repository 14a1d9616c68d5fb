/**
 * Meter readings and outdoor temperatures per school (migration 0013; docs/savings.md, "Meters").
 * Idempotent on (school, meter, instant): the same reading again is a duplicate, counted and
 * ignored; a different value at a stored instant is a conflict. A batch (a CSV file) is stored
 * whole or not at all: `putMeterReadings` refuses every row when one conflicts.
 */
import type { Kysely } from 'kysely';
import type { Database, MeterReadingTable } from './schema.js';
import { type StoreDialect, writeTransaction } from './write-transaction.js';

export interface StoredMeterReading {
  meter: string;
  /** Epoch ms. */
  ts: number;
  kind: 'index' | 'interval';
  valueKwh: number;
  periodFrom: number | null;
  source: string;
}

export interface MeterConflict {
  /** Position of the reading in the batch. */
  index: number;
  meter: string;
  ts: string;
  stored: { kind: string; value_kwh: number; source: string };
}

export interface PutMeterResult {
  inserted: number;
  duplicates: number;
  /** Non-empty: nothing of the batch was stored. */
  conflicts: MeterConflict[];
}

export interface MeterSummary {
  meter: string;
  readings: number;
  first: string;
  last: string;
}

export interface MeterRepository {
  putMeterReadings(
    uai: string,
    readings: readonly StoredMeterReading[],
    receivedAt: number,
  ): Promise<PutMeterResult>;
  meterReadings(
    uai: string,
    meters: readonly string[] | null,
    from: number,
    to: number,
  ): Promise<StoredMeterReading[]>;
  meters(uai: string): Promise<MeterSummary[]>;
  /** Returns whether the reading was new (false: a duplicate instant, kept as first stored). */
  putOutdoor(uai: string, ts: number, temperatureC: number, receivedAt: number): Promise<boolean>;
  outdoorReadings(
    uai: string,
    from: number,
    to: number,
  ): Promise<Array<{ ts: number; temperatureC: number }>>;
}

/** Rows per INSERT: far below SQLite's 32766 bound variables (8 columns each) and pg's 65535. */
const CHUNK = 500;

const iso = (ms: number) => new Date(ms).toISOString();

export function createMeterRepository(db: Kysely<Database>, dialect: StoreDialect): MeterRepository {
  return {
    async putMeterReadings(uai, readings, receivedAt) {
      if (readings.length === 0) return { inserted: 0, duplicates: 0, conflicts: [] };
      return writeTransaction(db, dialect, async (trx) => {
        const byMeter = new Map<string, Array<{ r: StoredMeterReading; index: number }>>();
        readings.forEach((r, index) => {
          const list = byMeter.get(r.meter) ?? [];
          list.push({ r, index });
          byMeter.set(r.meter, list);
        });
        const conflicts: MeterConflict[] = [];
        let duplicates = 0;
        const fresh: MeterReadingTable[] = [];
        for (const [meter, list] of byMeter) {
          let lo = Number.POSITIVE_INFINITY;
          let hi = Number.NEGATIVE_INFINITY;
          for (const { r } of list) {
            lo = Math.min(lo, r.ts);
            hi = Math.max(hi, r.ts);
          }
          // One range read per meter: linear in the batch and in what is stored over its span.
          const stored = new Map(
            (
              await trx
                .selectFrom('meter_readings')
                .select(['ts', 'kind', 'value_kwh', 'period_from', 'source'])
                .where('uai', '=', uai)
                .where('meter', '=', meter)
                .where('ts', '>=', iso(lo))
                .where('ts', '<=', iso(hi))
                .execute()
            ).map((row) => [row.ts, row]),
          );
          for (const { r, index } of list) {
            const ts = iso(r.ts);
            const previous = stored.get(ts);
            const periodFrom = r.periodFrom === null ? null : iso(r.periodFrom);
            if (previous) {
              if (
                previous.kind === r.kind &&
                Math.abs(previous.value_kwh - r.valueKwh) < 1e-9 &&
                previous.period_from === periodFrom
              )
                duplicates += 1;
              else
                conflicts.push({
                  index,
                  meter,
                  ts,
                  stored: { kind: previous.kind, value_kwh: previous.value_kwh, source: previous.source },
                });
              continue;
            }
            stored.set(ts, {
              ts,
              kind: r.kind,
              value_kwh: r.valueKwh,
              period_from: periodFrom,
              source: r.source,
            });
            fresh.push({
              uai,
              meter,
              ts,
              kind: r.kind,
              value_kwh: r.valueKwh,
              period_from: periodFrom,
              source: r.source,
              received_at: iso(receivedAt),
            });
          }
        }
        if (conflicts.length > 0) return { inserted: 0, duplicates, conflicts };
        for (let i = 0; i < fresh.length; i += CHUNK) {
          await trx
            .insertInto('meter_readings')
            .values(fresh.slice(i, i + CHUNK))
            .onConflict((oc) => oc.columns(['uai', 'meter', 'ts']).doNothing())
            .execute();
        }
        return { inserted: fresh.length, duplicates, conflicts };
      });
    },

    async meterReadings(uai, meters, from, to) {
      let query = db
        .selectFrom('meter_readings')
        .selectAll()
        .where('uai', '=', uai)
        .where('ts', '>=', iso(from))
        .where('ts', '<=', iso(to));
      if (meters !== null) query = query.where('meter', 'in', meters.length > 0 ? [...meters] : ['']);
      const rows = await query.orderBy('meter').orderBy('ts').execute();
      return rows.map((row) => ({
        meter: row.meter,
        ts: Date.parse(row.ts),
        kind: row.kind,
        valueKwh: Number(row.value_kwh),
        periodFrom: row.period_from === null ? null : Date.parse(row.period_from),
        source: row.source,
      }));
    },

    async meters(uai) {
      const rows = await db
        .selectFrom('meter_readings')
        .select((eb) => [
          'meter',
          eb.fn.countAll<number | string>().as('readings'),
          eb.fn.min('ts').as('first'),
          eb.fn.max('ts').as('last'),
        ])
        .where('uai', '=', uai)
        .groupBy('meter')
        .orderBy('meter')
        .execute();
      return rows.map((row) => ({
        meter: row.meter,
        readings: Number(row.readings),
        first: String(row.first),
        last: String(row.last),
      }));
    },

    async putOutdoor(uai, ts, temperatureC, receivedAt) {
      const result = await db
        .insertInto('outdoor_readings')
        .values({ uai, ts: iso(ts), temperature_c: temperatureC, received_at: iso(receivedAt) })
        .onConflict((oc) => oc.columns(['uai', 'ts']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async outdoorReadings(uai, from, to) {
      const rows = await db
        .selectFrom('outdoor_readings')
        .select(['ts', 'temperature_c'])
        .where('uai', '=', uai)
        .where('ts', '>=', iso(from))
        .where('ts', '<', iso(to))
        .orderBy('ts')
        .execute();
      return rows.map((row) => ({ ts: Date.parse(row.ts), temperatureC: Number(row.temperature_c) }));
    },
  };
}
