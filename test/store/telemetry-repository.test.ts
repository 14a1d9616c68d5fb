import { afterAll, describe, expect, it } from 'vitest';
import type { HourlyRow, TelemetrySample } from '../../src/store/telemetry-repository.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const UAI = '0670999X';
const at = (iso: string): number => Date.parse(iso);

function sample(ts: string, measured: number | null, extra: Partial<TelemetrySample> = {}): TelemetrySample {
  return {
    uai: UAI,
    zone: 'z1',
    function: 'heating',
    ts: at(ts),
    receivedAt: at(ts) + 1_000,
    measured_c: measured,
    mode: 'comfort',
    setpoint_c: 19,
    applied_rev: 3,
    source: 'bridge',
    flag: null,
    ...extra,
  };
}

function hourly(hour: string, extra: Partial<HourlyRow> = {}): HourlyRow {
  return {
    uai: UAI,
    zone: 'z1',
    function: 'heating',
    hour: at(hour),
    samples: 12,
    flagged: 0,
    minC: 18,
    meanC: 18.5,
    maxC: 19,
    occupiedMs: 3_600_000,
    measuredMs: 3_600_000,
    occupiedMeasuredMs: 3_600_000,
    coldMs: 0,
    overheatedMs: 0,
    unmeasuredMs: 0,
    starts: 1,
    coldStarts: 0,
    modesMs: { comfort: 3_600_000 },
    startList: [{ at: at(hour), target_c: 19, measured_c: 18, cold: false }],
    ...extra,
  };
}

describe.each(backends)('telemetry repository on $name', (backend) => {
  it('stores a batch once: a replayed sample is a no-op, across months, and flags a run', async () => {
    const store = await backend.open();
    const batch = [
      sample('2026-11-30T23:59:00.000Z', 18.2),
      sample('2026-12-01T00:00:00.000Z', 18.4),
      sample('2026-12-01T00:05:00.000Z', 70, { flag: 'out-of-range' }),
    ];
    expect(await store.telemetry.writeBatch(batch)).toEqual({ inserted: 3 });
    expect(
      await store.telemetry.writeBatch(
        [batch[1]!, sample('2026-12-01T00:10:00.000Z', 18.4)],
        [
          {
            uai: UAI,
            zone: 'z1',
            function: 'heating',
            from: at('2026-12-01T00:00:00.000Z'),
            to: at('2026-12-01T00:10:00.000Z'),
            flag: 'stuck',
          },
        ],
      ),
    ).toEqual({ inserted: 1 });
    const rows = await store.telemetry.samplesOf(
      UAI,
      at('2026-11-30T00:00:00.000Z'),
      at('2026-12-02T00:00:00.000Z'),
    );
    expect(rows.map((r) => [new Date(r.ts).toISOString(), r.measured_c, r.flag, r.applied_rev])).toEqual([
      ['2026-11-30T23:59:00.000Z', 18.2, null, 3],
      ['2026-12-01T00:00:00.000Z', 18.4, 'stuck', 3],
      ['2026-12-01T00:05:00.000Z', 70, 'out-of-range', 3],
      ['2026-12-01T00:10:00.000Z', 18.4, 'stuck', 3],
    ]);
    expect(await store.telemetry.firstSampleOf(UAI, 0)).toBe(at('2026-11-30T23:59:00.000Z'));
  });

  it('upserts hourly rows with the progress, rolls them up by month', async () => {
    const store = await backend.open();
    await store.telemetry.writeHourly(
      [hourly('2026-10-05T07:00:00.000Z'), hourly('2026-10-05T08:00:00.000Z')],
      {
        uai: UAI,
        until: at('2026-10-05T09:00:00.000Z'),
      },
    );
    await store.telemetry.writeHourly([
      hourly('2026-10-05T08:00:00.000Z', { meanC: 17, minC: 16, coldMs: 600_000, coldStarts: 1 }),
    ]);
    const rows = await store.telemetry.hourlyOf(
      UAI,
      at('2026-10-05T00:00:00.000Z'),
      at('2026-10-06T00:00:00.000Z'),
    );
    expect(
      rows.map((r) => [new Date(r.hour).toISOString(), r.meanC, r.coldMs, r.modesMs, r.startList.length]),
    ).toEqual([
      ['2026-10-05T07:00:00.000Z', 18.5, 0, { comfort: 3_600_000 }, 1],
      ['2026-10-05T08:00:00.000Z', 17, 600_000, { comfort: 3_600_000 }, 1],
    ]);
    expect(await store.telemetry.progressOf(UAI)).toBe(at('2026-10-05T09:00:00.000Z'));
    await store.telemetry.rollUpMonthly(at('2026-10-01T00:00:00.000Z'), at('2026-10-31T00:00:00.000Z'));
    const [month] = await store.telemetry.monthlyOf(UAI, '2026-10', '2026-10');
    expect(month).toMatchObject({
      month: '2026-10',
      minC: 16,
      maxC: 19,
      occupiedMs: 7_200_000,
      coldMs: 600_000,
      starts: 2,
      coldStarts: 1,
    });
    expect(month!.meanC).toBeCloseTo(17.75, 10);
  });

  it('retention: raw samples after the configured days, hourly after 13 months, monthly after 5 years', async () => {
    const store = await backend.open();
    const now = at('2027-12-15T12:00:00.000Z');
    await store.telemetry.writeBatch([
      sample('2027-10-20T10:00:00.000Z', 18, { zone: 'old' }),
      sample('2027-12-14T10:00:00.000Z', 18, { zone: 'recent' }),
    ]);
    await store.telemetry.writeHourly([
      hourly('2026-10-31T23:00:00.000Z', { zone: 'old' }),
      hourly('2026-11-01T00:00:00.000Z', { zone: 'kept' }),
    ]);
    await store.telemetry.rollUpMonthly(at('2026-10-01T00:00:00.000Z'), at('2026-11-01T00:00:00.000Z'));
    const result = await store.telemetry.applyRetention(now, {
      rawDays: 35,
      hourlyMonths: 13,
      monthlyYears: 5,
    });
    if (backend.name === 'postgres') {
      expect(result.droppedPartitions).toEqual(
        expect.arrayContaining(['telemetry_samples_p202710', 'telemetry_hourly_p202610']),
      );
      expect(result.droppedPartitions).not.toContain('telemetry_hourly_p202611');
    } else {
      expect(result.deletedRows).toBeGreaterThanOrEqual(2);
    }
    const zones = (await store.telemetry.samplesOf(UAI, 0, now)).map((r) => r.zone);
    expect(zones).not.toContain('old');
    expect(zones).toContain('recent');
    const hours = (await store.telemetry.hourlyOf(UAI, 0, now)).map((r) => r.zone);
    expect(hours).not.toContain('old');
    expect(hours).toContain('kept');
    expect((await store.telemetry.monthlyOf(UAI, '2026-01', '2026-12')).length).toBeGreaterThan(0);
    await store.telemetry.applyRetention(at('2032-01-01T00:00:00.000Z'), {
      rawDays: 35,
      hourlyMonths: 13,
      monthlyYears: 5,
    });
    expect(await store.telemetry.monthlyOf(UAI, '2026-01', '2026-12')).toEqual([]);
  });
});
