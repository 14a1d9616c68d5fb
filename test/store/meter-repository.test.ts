/**
 * Meter readings, outdoor readings and frozen savings in the store (migration 0013) on every
 * backend: idempotent on (school, meter, instant), a conflicting batch stored not at all, the
 * first frozen figure kept.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredMeterReading } from '../../src/store/meter-repository.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const at = (iso: string) => Date.parse(iso);
const reading = (ts: string, value: number, meter = 'gaz'): StoredMeterReading => ({
  meter,
  ts: at(ts),
  kind: 'index',
  valueKwh: value,
  periodFrom: null,
  source: 'mqtt',
});

describe.each(backends)('meter repository on $name', (backend) => {
  it('stores readings once per (school, meter, instant) and reads them back in order', async () => {
    const store = await backend.open();
    const first = await store.meters.putMeterReadings(
      '0670999X',
      [
        reading('2026-01-06T00:00:00Z', 120.5),
        reading('2026-01-05T00:00:00Z', 100),
        reading('2026-01-05T00:00:00Z', 7, 'elec'),
      ],
      at('2026-01-06T01:00:00Z'),
    );
    expect(first).toEqual({ inserted: 3, duplicates: 0, conflicts: [] });
    const again = await store.meters.putMeterReadings('0670999X', [reading('2026-01-05T00:00:00Z', 100)], 0);
    expect(again).toEqual({ inserted: 0, duplicates: 1, conflicts: [] });
    const rows = await store.meters.meterReadings(
      '0670999X',
      ['gaz'],
      at('2026-01-01T00:00:00Z'),
      at('2026-02-01T00:00:00Z'),
    );
    expect(rows.map((r) => [r.ts, r.valueKwh])).toEqual([
      [at('2026-01-05T00:00:00Z'), 100],
      [at('2026-01-06T00:00:00Z'), 120.5],
    ]);
    expect(await store.meters.meters('0670999X')).toEqual([
      { meter: 'elec', readings: 1, first: '2026-01-05T00:00:00.000Z', last: '2026-01-05T00:00:00.000Z' },
      { meter: 'gaz', readings: 2, first: '2026-01-05T00:00:00.000Z', last: '2026-01-06T00:00:00.000Z' },
    ]);
  });

  it('refuses a whole batch when one reading conflicts with a stored one', async () => {
    const store = await backend.open();
    await store.meters.putMeterReadings('0671000X', [reading('2026-01-05T00:00:00Z', 100)], 0);
    const result = await store.meters.putMeterReadings(
      '0671000X',
      [reading('2026-01-04T00:00:00Z', 90), reading('2026-01-05T00:00:00Z', 101)],
      0,
    );
    expect(result.inserted).toBe(0);
    expect(result.conflicts).toEqual([
      {
        index: 1,
        meter: 'gaz',
        ts: '2026-01-05T00:00:00.000Z',
        stored: { kind: 'index', value_kwh: 100, source: 'mqtt' },
      },
    ]);
    const rows = await store.meters.meterReadings('0671000X', null, 0, at('2027-01-01T00:00:00Z'));
    expect(rows).toHaveLength(1);
  });

  it('keeps outdoor readings once per instant', async () => {
    const store = await backend.open();
    expect(await store.meters.putOutdoor('0670999X', at('2026-01-05T10:00:00Z'), 3.5, 0)).toBe(true);
    expect(await store.meters.putOutdoor('0670999X', at('2026-01-05T10:00:00Z'), 9, 0)).toBe(false);
    expect(
      await store.meters.outdoorReadings('0670999X', at('2026-01-05T00:00:00Z'), at('2026-01-06T00:00:00Z')),
    ).toEqual([{ ts: at('2026-01-05T10:00:00Z'), temperatureC: 3.5 }]);
  });

  it('freezes a period once: the first figures stay', async () => {
    const store = await backend.open();
    const row = {
      uai: '0670999X',
      kind: 'week' as const,
      from: '2026-01-05',
      to: '2026-01-11',
      frozenAt: '2026-01-12T00:05:00.000Z',
      rulesVersion: '2026.1+abc',
      timetableVersions: [3],
      planHashes: ['h1'],
      body: { totals: { saving_kwh: 10 } },
    };
    expect(await store.frozenSavings.freeze(row)).toEqual(row);
    const second = await store.frozenSavings.freeze({
      ...row,
      timetableVersions: [4],
      body: { totals: { saving_kwh: 99 } },
    });
    expect(second).toEqual(row);
    expect(await store.frozenSavings.list('0670999X', '2026-01-01', '2026-01-31')).toEqual([row]);
    expect(await store.frozenSavings.get('0670999X', 'month', '2026-01-05')).toBeNull();
  });
});
