/**
 * The worked example of docs/telemetry.md: one Monday of a zone (three occupied intervals), its
 * reports with gaps, a late one, a duplicate, an out-of-range one, and a second zone whose sensor
 * is stuck. The reports go through the ingestor into a real SQLite store; the comfort figures
 * are read back and compared with the figures worked out by hand below.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedPayload } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/store.js';
import {
  addFigures,
  type ComfortSegment,
  computeComfort,
  DEFAULT_COMFORT_SETTINGS,
  emptyFigures,
} from '../../src/telemetry/comfort.js';
import { zoneHourlyRows } from '../../src/telemetry/hourly-aggregation.js';
import { TelemetryIngestor } from '../../src/telemetry/telemetry-ingestor.js';

const UAI = '0670999X';
const DAY = '2026-12-07';
const t = (hhmmss: string, day = DAY): number =>
  Date.parse(`${day}T${hhmmss.length === 5 ? `${hhmmss}:00` : hhmmss}.000Z`);
const MIN = 60_000;

// Occupied A 08:00–10:00, B 10:15–12:00 (15 min break: not a start), C 13:30–15:30 (a start).
const occupied = [
  { start: t('08:00'), end: t('10:00') },
  { start: t('10:15'), end: t('12:00') },
  { start: t('13:30'), end: t('15:30') },
];
const seg = (from: string, to: string, setpoint: number): ComfortSegment => ({
  from: t(from),
  to: to === '24:00' ? t('00:00', '2026-12-08') : t(to),
  setpoint_c: setpoint,
});
const segments = [
  seg('00:00', '07:00', 16),
  seg('07:00', '12:00', 19),
  seg('12:00', '13:00', 16),
  seg('13:00', '15:30', 19),
  seg('15:30', '24:00', 16),
];

function report(ts: number, measured: number | undefined, mode = 'comfort'): ReportedPayload {
  return {
    applied_rev: 4,
    mode: mode as ReportedPayload['mode'],
    setpoint_c: mode === 'comfort' ? 19 : 16,
    ...(measured === undefined ? {} : { measured_c: measured }),
    source: 'bridge',
    ts: new Date(ts).toISOString(),
  };
}

let dir: string;
let store: Store;
const clock = new ManualClock(t('17:00'));
let ingestor: TelemetryIngestor;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'comfort-example-'));
  store = await openStore({ dataDir: dir });
  ingestor = new TelemetryIngestor({ repository: store.telemetry, clock, batchSize: 50 });
  const z1 = (ts: number, measured: number | undefined) =>
    ingestor.offer({
      uai: UAI,
      zone: 'z1',
      function: 'heating',
      payload: report(ts, measured),
      receivedAt: clock.now(),
    });
  // Arrival order: 09:10 comes late (a replayed buffer), 09:00 twice, 09:25 reads 70 °C.
  z1(t('07:50'), 18.4);
  z1(t('08:05'), 17.5);
  z1(t('08:20'), 18.5);
  z1(t('09:00'), 18.5);
  z1(t('09:00'), 18.5);
  z1(t('09:40'), 21.5);
  z1(t('09:25'), 70);
  z1(t('09:10'), 20.5);
  z1(t('10:30'), 19.0);
  z1(t('11:20'), 17.9);
  z1(t('11:50:30'), 18.0);
  z1(t('13:25'), 16.5);
  z1(t('13:45'), 18.2);
  z1(t('15:00'), 18.0);
  z1(t('16:00', '2026-12-05'), 18.0); // 49 h old: refused
  z1(t('17:01:01'), 18.0); // in the future beyond the minute of skew: refused
  // z2: 17.2 °C every 5 minutes from Sunday 08:00, eco then comfort from Monday 07:00: stuck.
  for (let ts = t('08:00', '2026-12-06'); ts <= t('16:00'); ts += 5 * MIN) {
    ingestor.offer({
      uai: UAI,
      zone: 'z2',
      function: 'heating',
      payload: report(ts, 17.2, ts < t('07:00') ? 'eco' : 'comfort'),
      receivedAt: clock.now(),
    });
  }
  await ingestor.flush();
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const settings = DEFAULT_COMFORT_SETTINGS;
const range = { from: t('00:00'), to: t('00:00', '2026-12-08') };

async function figuresOf(zone: string) {
  const samples = await store.telemetry.samplesOf(UAI, range.from - settings.holdMs, range.to, zone);
  return { samples, figures: computeComfort({ range, occupied, segments, samples, settings }) };
}

describe('comfort: the worked example of docs/telemetry.md', () => {
  it('counts what the ingestor stored, refused and flagged', async () => {
    const stats = ingestor.stats();
    const z2Count = (t('16:00') - t('08:00', '2026-12-06')) / (5 * MIN) + 1;
    expect(stats.offered).toBe(16 + z2Count);
    expect(stats.refused).toEqual({ future: 1, 'too-old': 1 });
    expect(stats.duplicates).toBe(1);
    expect(stats.stored).toBe(13 + z2Count);
    // 08:00 Monday: 24 h on 17.2 °C with the mode changed at 07:00; from then on each sample is flagged.
    expect(stats.flagged).toEqual({ 'out-of-range': 1, stuck: (t('16:00') - t('08:00')) / (5 * MIN) + 1 });
    const z2 = await store.telemetry.samplesOf(UAI, 0, range.to, 'z2');
    expect(z2.every((s) => s.flag === 'stuck')).toBe(true);
    const z1 = await store.telemetry.samplesOf(UAI, 0, range.to, 'z1');
    expect(z1.filter((s) => s.flag !== null).map((s) => [new Date(s.ts).toISOString(), s.flag])).toEqual([
      ['2026-12-07T09:25:00.000Z', 'out-of-range'],
    ]);
  });

  it('z1: occupied, measured, cold, overheated and unmeasured minutes, starts', async () => {
    const { figures } = await figuresOf('z1');
    // Pieces (15 min hold, the 70 °C report ignored):
    //   A 08:00–10:00: 18.4 (5) · 17.5 cold (15) · 18.5 (15) · gap 08:35–09:00 (25) · 18.5 (10)
    //                  · 20.5 overheated (15) · gap 09:25–09:40 (15) · 21.5 overheated (15) · gap (5)
    //   B 10:15–12:00: gap (15) · 19.0 (15) · gap (35) · 17.9 cold (15) · gap 11:35–11:50:30 (15.5)
    //                  · 18.0 (9.5: not below 19 − 1)
    //   C 13:30–15:30: 16.5 cold (10) · gap (5) · 18.2 (15) · gap (60) · 18.0 (15) · gap (15)
    expect(figures.occupiedMs / MIN).toBe(120 + 105 + 120);
    expect(figures.occupiedMeasuredMs / MIN).toBe(75 + 39.5 + 40);
    expect(figures.unmeasuredMs / MIN).toBe(45 + 65.5 + 80);
    expect(figures.coldMs / MIN).toBe(15 + 15 + 10);
    expect(figures.overheatedMs / MIN).toBe(30);
    // 08:00 (nothing before) and 13:30 (90 min after 12:00); 10:15 follows a 15 min break.
    expect(figures.starts).toEqual([
      { at: t('08:00'), target_c: 19, measured_c: 18.4, cold: false },
      { at: t('13:30'), target_c: 19, measured_c: 16.5, cold: true },
    ]);
    expect(figures.minC).toBe(16.5);
    expect(figures.maxC).toBe(21.5);
  });

  it('z2: a stuck sensor is no fact: all occupied time unmeasured, no cold start', async () => {
    const { figures } = await figuresOf('z2');
    expect(figures.occupiedMs / MIN).toBe(345);
    expect(figures.occupiedMeasuredMs).toBe(0);
    expect(figures.unmeasuredMs / MIN).toBe(345);
    expect(figures.coldMs).toBe(0);
    expect(figures.starts.map((s) => [s.measured_c, s.cold])).toEqual([
      [null, false],
      [null, false],
    ]);
  });

  it('the hourly rows of the day add up to the day', async () => {
    for (const zone of ['z1', 'z2']) {
      const { samples, figures } = await figuresOf(zone);
      const rows = zoneHourlyRows({
        uai: UAI,
        zone,
        function: 'heating',
        from: range.from,
        to: range.to,
        occupied,
        segments,
        samples,
        settings,
      });
      expect(rows).toHaveLength(24);
      const sum = rows.reduce(
        (acc, r) =>
          addFigures(acc, {
            ...emptyFigures(),
            occupiedMs: r.occupiedMs,
            occupiedMeasuredMs: r.occupiedMeasuredMs,
            coldMs: r.coldMs,
            overheatedMs: r.overheatedMs,
            unmeasuredMs: r.unmeasuredMs,
            measuredMs: r.measuredMs,
            starts: r.startList,
          }),
        emptyFigures(),
      );
      for (const key of [
        'occupiedMs',
        'occupiedMeasuredMs',
        'coldMs',
        'overheatedMs',
        'unmeasuredMs',
        'measuredMs',
      ] as const)
        expect(sum[key]).toBe(figures[key]);
      expect(sum.starts).toEqual(figures.starts);
    }
  });
});
