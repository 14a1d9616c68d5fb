/**
 * Migration 0014 on both engines: the starts already stored in the hourly rows' `starts_json`
 * (written before the table existed) are copied into `telemetry_starts`, and the repository reads
 * them back; each write of hours since then replaces its hours' starts.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { up } from '../../src/store/migrations/0014_telemetry_starts.js';
import type { HourlyRow } from '../../src/store/telemetry-repository.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

const UAI = '0670999X';
const hour = (iso: string) => Date.parse(iso);

function row(iso: string, zone: string, starts: HourlyRow['startList']): HourlyRow {
  return {
    uai: UAI,
    zone,
    function: 'heating',
    hour: hour(iso),
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
    starts: starts.length,
    coldStarts: starts.filter((s) => s.cold).length,
    modesMs: {},
    startList: starts,
  };
}

describe.each(backends)('migration 0014 (telemetry_starts) on $name', (backend) => {
  it('copies the stored hours’ starts, then each write replaces its hours’ starts', async () => {
    const store = await backend.open();
    const a = { at: hour('2026-10-05T07:00:00.000Z'), target_c: 19, measured_c: 17.5, cold: true };
    const b = { at: hour('2026-10-05T12:30:00.000Z'), target_c: 19, measured_c: null, cold: false };
    const c = { at: hour('2026-10-05T07:15:00.000Z'), target_c: 14, measured_c: 15, cold: false };
    await store.telemetry.writeHourly([
      row('2026-10-05T07:00:00.000Z', 'z1', [a]),
      row('2026-10-05T12:00:00.000Z', 'z1', [b]),
      row('2026-10-05T07:00:00.000Z', 'z2', [c]),
      row('2026-10-05T08:00:00.000Z', 'z2', []),
    ]);
    // As a database migrated to 0012 only would be: the starts in the hourly rows alone.
    await sql`drop table telemetry_starts`.execute(store.db);
    await up(store.db as never);
    const all = await store.telemetry.startsOf(
      UAI,
      'heating',
      hour('2026-10-01T00:00:00.000Z'),
      hour('2026-11-01T00:00:00.000Z'),
    );
    expect(all).toEqual([
      { zone: 'z1', ...a },
      { zone: 'z1', ...b },
      { zone: 'z2', ...c },
    ]);
    // The 07:00 hour of z1 rewritten without a start: only that hour's start goes.
    await store.telemetry.writeHourly([row('2026-10-05T07:00:00.000Z', 'z1', [])]);
    expect(
      await store.telemetry.startsOf(
        UAI,
        'heating',
        hour('2026-10-01T00:00:00.000Z'),
        hour('2026-11-01T00:00:00.000Z'),
        'z1',
      ),
    ).toEqual([{ zone: 'z1', ...b }]);
  });
});
