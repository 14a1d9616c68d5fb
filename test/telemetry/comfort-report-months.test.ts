/**
 * The stored part of the comfort report (comfort-report.ts): whole UTC months from the monthly
 * roll-up, the partial months at both ends from the hourly rows, the starts from their own table.
 * Against the plain sum of the hourly rows written, on both engines: a period of local dates
 * (Europe/Paris, so bounds at 22:00/23:00 UTC) across four months, hours rewritten (a replayed
 * buffer) with a start removed and one added.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { HourlyRow } from '../../src/store/telemetry-repository.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import { comfortPeriod, comfortReport, minutes } from '../../src/telemetry/comfort-report.js';
import { storeBackends } from '../store/backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const UAI = '0670999X';
const H = 3_600_000;
const FIRST = Date.parse('2026-08-20T00:00:00.000Z');
const LAST = Date.parse('2026-12-10T00:00:00.000Z');

/** A deterministic, irregular hour: figures vary with the hour so sums catch a missed or doubled row. */
function row(zone: string, hour: number, variant = 0): HourlyRow {
  const i = (hour - FIRST) / H + variant * 7;
  const measured = (i * 37) % 3_600_001;
  const start = (i + (zone === 'b' ? 3 : 0)) % 24 === 7;
  const cold = i % 5 === 0;
  return {
    uai: UAI,
    zone,
    function: 'heating',
    hour,
    samples: 12,
    flagged: i % 11 === 0 ? 1 : 0,
    minC: 15 + (i % 9) / 2,
    meanC: 18 + (i % 13) / 10,
    maxC: 20 + (i % 7) / 4,
    occupiedMs: (i * 53) % 3_600_001,
    measuredMs: measured,
    occupiedMeasuredMs: Math.floor(measured / 2),
    coldMs: cold ? 60_000 + i : 0,
    overheatedMs: i % 17 === 0 ? 1_000 + i : 0,
    unmeasuredMs: (i * 29) % 600_000,
    starts: start ? 1 : 0,
    coldStarts: start && cold ? 1 : 0,
    modesMs: { comfort: 3_600_000 },
    startList: start ? [{ at: hour + 1_000 * (i % 60), target_c: 19, measured_c: 17.5, cold }] : [],
  };
}

describe.each(backends)('comfort report from stored months and hours on $name', (backend) => {
  it('equals the sum of the hourly rows, after rewrites', async () => {
    const store = await backend.open();
    const written = new Map<string, HourlyRow>();
    const write = async (rows: HourlyRow[]) => {
      await store.telemetry.writeHourly(rows);
      for (const r of rows) written.set(`${r.zone}/${r.hour}`, r);
    };
    for (const zone of ['a', 'b']) {
      const rows: HourlyRow[] = [];
      for (let h = FIRST; h < LAST; h += H) rows.push(row(zone, h));
      for (let i = 0; i < rows.length; i += 1_000) await write(rows.slice(i, i + 1_000));
    }
    // A replay rewrites two days of October for zone a: other figures, other starts.
    const rewrite: HourlyRow[] = [];
    for (let h = Date.parse('2026-10-14T05:00:00.000Z'); h < Date.parse('2026-10-16T05:00:00.000Z'); h += H)
      rewrite.push(row('a', h, 1));
    await write(rewrite);
    await store.telemetry.writeHourly([], { uai: UAI, until: LAST });

    const period = comfortPeriod('2026-08-25', '2026-12-05', 'Europe/Paris', { from: 'from', to: 'to' });
    expect(new Date(period.range.from).toISOString()).toBe('2026-08-24T22:00:00.000Z');
    const body = await comfortReport({
      repository: store.telemetry,
      planFor: async () => {
        throw new Error('every hour is aggregated');
      },
      settings: DEFAULT_COMFORT_SETTINGS,
      clock: new ManualClock(LAST),
      school: { uai: UAI, name: 'x', timezone: 'Europe/Paris' },
      zones: [
        { id: 'a', name: 'A' },
        { id: 'b', name: 'B' },
      ],
      period,
    });

    for (const zone of ['a', 'b']) {
      const rows = [...written.values()]
        .filter((r) => r.zone === zone && r.hour >= period.range.from && r.hour < period.range.to)
        .sort((x, y) => x.hour - y.hour);
      const sum = (key: 'occupiedMs' | 'occupiedMeasuredMs' | 'coldMs' | 'overheatedMs' | 'unmeasuredMs') =>
        minutes(rows.reduce((total, r) => total + r[key], 0));
      const measured = rows.reduce((t, r) => t + r.measuredMs, 0);
      const mean = rows.reduce((t, r) => t + (r.meanC as number) * r.measuredMs, 0) / measured;
      const starts = rows.flatMap((r) => r.startList);
      const got = body.zones.find((z) => z.zone === zone);
      expect(got).toEqual({
        zone,
        name: zone.toUpperCase(),
        occupied_minutes: sum('occupiedMs'),
        measured_minutes: sum('occupiedMeasuredMs'),
        cold_minutes: sum('coldMs'),
        overheated_minutes: sum('overheatedMs'),
        unmeasured_minutes: sum('unmeasuredMs'),
        starts: starts.length,
        cold_starts: starts.filter((s) => s.cold).length,
        min_c: Math.min(...rows.map((r) => r.minC as number)),
        mean_c: Math.round(mean * 100) / 100,
        max_c: Math.max(...rows.map((r) => r.maxC as number)),
        occupancy_starts: starts.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
      });
      expect(starts.length).toBeGreaterThan(100);
    }
    // The rewritten days' starts are the new ones only.
    const october = await store.telemetry.startsOf(
      UAI,
      'heating',
      Date.parse('2026-10-14T05:00:00.000Z'),
      Date.parse('2026-10-16T05:00:00.000Z'),
      'a',
    );
    expect(october.map((s) => s.at)).toEqual(rewrite.flatMap((r) => r.startList.map((s) => s.at)));
  });
});
