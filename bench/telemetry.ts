/**
 * `npm run bench -- telemetry` (issue 16; docs/performance.md, "Telemetry"):
 * - a region's reports (350 schools × 40 zones × heating, one per zone a minute) through the
 *   ingestor into SQLite and PostgreSQL (DATABASE_URL), as fast as they go: the ratio to real time
 *   and the event loop's delay p99 meanwhile;
 * - the hourly aggregation of a day (one school measured, ×350 for the region);
 * - a school-year comfort report of one school (Europe/Paris dates) from the stored aggregates:
 *   whole months from the monthly roll-up, June's hours from the hourly rows, the starts table;
 * - bytes per zone-year on PostgreSQL.
 * Default size: 4 simulated minutes of the region per engine (56,000 samples); BENCH_MINUTES sets it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { ManualClock } from '../src/domain/clock.js';
import { openStore, type Store } from '../src/store/store.js';
import type { HourlyRow } from '../src/store/telemetry-repository.js';
import { DEFAULT_COMFORT_SETTINGS } from '../src/telemetry/comfort.js';
import { comfortPeriod, comfortReport } from '../src/telemetry/comfort-report.js';
import { zoneHourlyRows } from '../src/telemetry/hourly-aggregation.js';
import { TelemetryIngestor } from '../src/telemetry/telemetry-ingestor.js';

const SCHOOLS = 350;
const ZONES = 40;
const MIN = 60_000;
const T0 = Date.parse('2026-12-07T00:00:00.000Z');
const uaiOf = (s: number) => `0${String(670000 + s).padStart(6, '0')}X`;

async function ingestRegion(
  store: Store,
  minutes: number,
): Promise<{ ratio: number; p99Ms: number; rows: number }> {
  const clock = new ManualClock(T0 + minutes * MIN);
  const ingestor = new TelemetryIngestor({ repository: store.telemetry, clock, batchSize: 500 });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const started = performance.now();
  let rows = 0;
  for (let m = 0; m < minutes; m++) {
    const ts = new Date(T0 + m * MIN).toISOString();
    for (let s = 0; s < SCHOOLS; s++) {
      for (let z = 0; z < ZONES; z++) {
        ingestor.offer({
          uai: uaiOf(s),
          zone: `z${z}`,
          function: 'heating',
          payload: {
            applied_rev: 1,
            mode: 'comfort',
            setpoint_c: 19,
            measured_c: 18 + ((m + z) % 20) / 10,
            source: 'bridge',
            ts,
          },
          receivedAt: clock.now(),
        });
        rows++;
      }
      // A gateway's messages arrive one by one: let the loop breathe between schools.
      if (s % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await ingestor.flush();
  const seconds = (performance.now() - started) / 1000;
  loop.disable();
  const stats = ingestor.stats();
  if (stats.stored !== rows) throw new Error(`stored ${stats.stored} of ${rows}`);
  return { ratio: (minutes * 60) / seconds, p99Ms: loop.percentile(99) / 1e6, rows };
}

export async function benchTelemetry(report: (line: string) => void): Promise<void> {
  const minutes = Number(process.env.BENCH_MINUTES ?? 4);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-telemetry-'));
  const sqlite = await openStore({ dataDir: dir });
  try {
    const r = await ingestRegion(sqlite, minutes);
    report(
      `SQLite ingestion: ${r.rows} samples (${minutes} min of the region) at ${r.ratio.toFixed(1)}× real time (target ≥ 10×), event-loop p99 ${r.p99Ms.toFixed(1)} ms (target < 50)`,
    );

    // Hourly aggregation of one school's day (40 zones, one sample a minute), ×350 for the region.
    const occupied = [{ start: T0 + 8 * 60 * MIN, end: T0 + 17 * 60 * MIN }];
    const segments = [{ from: T0, to: T0 + 1440 * MIN, setpoint_c: 19 }];
    const samples = Array.from({ length: 1440 }, (_, i) => ({
      ts: T0 + i * MIN,
      measured_c: 18 + (i % 20) / 10,
      mode: 'comfort',
      flag: null,
    }));
    let started = performance.now();
    for (let z = 0; z < ZONES; z++)
      zoneHourlyRows({
        uai: 'u',
        zone: `z${z}`,
        function: 'heating',
        from: T0,
        to: T0 + 1440 * MIN,
        occupied,
        segments,
        samples,
        settings: DEFAULT_COMFORT_SETTINGS,
      });
    const schoolDayMs = performance.now() - started;
    report(
      `hourly aggregation of a day: ${schoolDayMs.toFixed(0)} ms per school (40 zones × 1,440 samples), ~${((schoolDayMs * SCHOOLS) / 1000).toFixed(1)} s for the region (computation; reads and writes not counted)`,
    );

    // A school year of hourly rows for one school, then its comfort report.
    const year = { from: Date.parse('2025-09-01T00:00:00.000Z'), to: Date.parse('2026-07-01T00:00:00.000Z') };
    const rows: HourlyRow[] = [];
    for (let z = 0; z < ZONES; z++)
      for (let h = year.from; h < year.to; h += 60 * MIN) {
        const start = new Date(h).getUTCHours() === 8;
        rows.push({
          uai: '0670999X',
          zone: `z${z}`,
          function: 'heating',
          hour: h,
          samples: 60,
          flagged: 0,
          minC: 18,
          meanC: 18.6,
          maxC: 19.2,
          occupiedMs: 3_600_000,
          measuredMs: 3_600_000,
          occupiedMeasuredMs: 3_500_000,
          coldMs: 60_000,
          overheatedMs: 0,
          unmeasuredMs: 100_000,
          starts: start ? 1 : 0,
          coldStarts: 0,
          modesMs: { comfort: 3_600_000 },
          startList: start ? [{ at: h, target_c: 19, measured_c: 18.5, cold: false }] : [],
        });
      }
    // As the job writes them: each write rolls its months up and files its starts.
    for (let i = 0; i < rows.length; i += 20_000)
      await sqlite.telemetry.writeHourly(rows.slice(i, i + 20_000));
    await sqlite.telemetry.writeHourly([], { uai: '0670999X', until: year.to });
    const input = {
      repository: sqlite.telemetry,
      planFor: async () => {
        throw new Error('not needed: all hours are aggregated');
      },
      settings: DEFAULT_COMFORT_SETTINGS,
      clock: new ManualClock(year.to),
      school: { uai: '0670999X', name: 'bench', timezone: 'Europe/Paris' },
      zones: Array.from({ length: ZONES }, (_, z) => ({ id: `z${z}`, name: `z${z}` })),
      period: comfortPeriod('2025-09-01', '2026-06-30', 'Europe/Paris', { from: 'from', to: 'to' }),
    };
    await comfortReport(input);
    // Wall time and this process's CPU time: on a shared machine the wall time also counts the waits.
    const runs: Array<{ wallMs: number; cpuMs: number }> = [];
    let body = await comfortReport(input);
    for (let k = 0; k < 5; k++) {
      started = performance.now();
      const cpu = process.cpuUsage();
      body = await comfortReport(input);
      const used = process.cpuUsage(cpu);
      runs.push({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 });
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    report(
      `school-year comfort report (SQLite, Europe/Paris dates; ${rows.length} hourly rows stored, ${body.zones[0]?.starts} starts a zone): median of 5 ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms wall, ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms CPU (target < 200)`,
    );
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }

  const url = process.env.DATABASE_URL;
  if (!url) {
    report('PostgreSQL: skipped (DATABASE_URL unset)');
    return;
  }
  const schema = `bench_telemetry_${process.pid}`;
  const store = await openStore({ databaseUrl: url, pgSchema: schema });
  try {
    const r = await ingestRegion(store, minutes);
    report(
      `PostgreSQL ingestion: ${r.rows} samples at ${r.ratio.toFixed(1)}× real time (target ≥ 10×), event-loop p99 ${r.p99Ms.toFixed(1)} ms (target < 50)`,
    );
    const size = await store.telemetry.sizeBytes();
    if (size) {
      const perSample = size.samples / r.rows;
      // One sample a minute kept 35 days, 8,760 hourly rows kept (13 months ≈ 9,500), 12 monthly rows a year.
      report(
        `PostgreSQL bytes: ${perSample.toFixed(0)} per raw sample (with key index); a zone's 35 days of raw ≈ ${((perSample * 35 * 1440) / 1e6).toFixed(1)} MB`,
      );
    }
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
}
