/**
 * Retention of timetable versions on SQLite and PostgreSQL: a version goes only when it is beyond
 * the newest N AND older than the cut-off, never the current one; the job logs each school's purge
 * as one audit entry, and an import after a purge takes the next number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { RetentionJob } from '../../src/retention/retention-job.js';
import type { Store } from '../../src/store/store.js';
import { purgeTimetableVersions } from '../../src/store/timetable-retention.js';
import { storeBackends } from './backends.js';
import { importInput, syntheticTimetable } from './synthetic-timetable.js';

const backends = await storeBackends();
const A = '0670999X';
const B = '0750654D';

describe.each(backends)('timetable retention on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(() => backend.cleanup());

  /** Version n of `uai` imported on `date`. */
  const importOn = (uai: string, label: string, date: string) =>
    store.timetables.importVersion(
      importInput(syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1, label }), {
        at: Date.parse(`${date}T06:00:00Z`),
      }),
    );

  it('keeps the newest N, the recent ones and the current one; logs each purge', async () => {
    // A: six versions over three years; B: two old versions only (the current one is old too).
    for (const [i, date] of [
      '2023-09-01',
      '2024-01-10',
      '2024-09-02',
      '2025-03-03',
      '2025-09-01',
      '2026-01-05',
    ].entries()) {
      await importOn(A, `a${i}`, date);
    }
    await importOn(B, 'b0', '2022-09-01');
    await importOn(B, 'b1', '2023-09-01');

    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    const logged: unknown[] = [];
    const job = new RetentionJob({
      settings: { intervalMs: 0, keepVersions: 2, keepMonths: 24 },
      purge: (policy) => purgeTimetableVersions(store.db, store.dialect, policy),
      audit: (entries) => {
        logged.push(...entries);
      },
      clock,
    });
    const purged = await job.run();
    // Cut-off 2024-03-01: A keeps 5 and 6 (newest 2) and 3, 4 (recent); 1 and 2 go. B keeps both:
    // 2 is the newest and current, 1 is within the newest 2.
    expect(purged).toEqual([
      {
        uai: A,
        versions: [1, 2],
        importedFrom: '2023-09-01T06:00:00.000Z',
        importedTo: '2024-01-10T06:00:00.000Z',
        oldestKept: 3,
      },
    ]);
    expect((await store.timetables.listVersions(A)).map((v) => v.version).sort()).toEqual([3, 4, 5, 6]);
    expect((await store.timetables.listVersions(B)).map((v) => v.version).sort()).toEqual([1, 2]);
    expect(await store.timetables.getVersion(A, 1)).toBeNull();
    expect(logged).toEqual([
      {
        at: Date.parse('2026-03-01T00:00:00Z'),
        kind: 'import',
        uai: A,
        actor: 'system:retention',
        detail: {
          event: 'purged',
          versions: [1, 2],
          imported_from: '2023-09-01T06:00:00.000Z',
          imported_to: '2024-01-10T06:00:00.000Z',
          oldest_kept: 3,
          policy: { keep_versions: 2, keep_months: 24 },
          cutoff: '2024-03-01T00:00:00.000Z',
        },
      },
    ]);
    // Nothing more to purge: nothing logged.
    expect(await job.run()).toEqual([]);
    expect(logged).toHaveLength(1);

    // keep_versions 1 and years later: B's current version stays, its older one goes.
    clock.set(Date.parse('2030-01-01T00:00:00Z'));
    const strict = await purgeTimetableVersions(store.db, store.dialect, {
      keepVersions: 1,
      cutoff: Date.parse('2028-01-01T00:00:00Z'),
    });
    expect(strict.map((p) => [p.uai, p.versions, p.oldestKept])).toEqual(
      [
        [A, [3, 4, 5], 6],
        [B, [1], 2],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect((await store.timetables.currentMeta(B))?.version).toBe(2);
    // The next import after a purge takes the next number.
    expect((await importOn(A, 'a6', '2030-01-02')).version).toBe(7);
  });
});
