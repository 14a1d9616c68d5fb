import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import { decodeDocument } from '../../src/store/document-codec.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/wait.js';
import { storeBackends } from './backends.js';
import { importInput, sha256Hex, syntheticTimetable } from './synthetic-timetable.js';

const backends = await storeBackends();

/** A valid UAI per test, so tests sharing one database never touch each other's school. */
let nextUai = 1_000_000;
function freshUai(): string {
  const digits = String(nextUai++).padStart(7, '0');
  return digits + uaiCheckLetter(digits);
}

describe.each(backends)('TimetableRepository on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it('stores a first import as version 1 and reads it back whole', async () => {
    const uai = freshUai();
    const timetable = syntheticTimetable({ uai, rooms: 3, lessons: 4, weeks: 2 });
    const warnings = [
      { code: 'room-unknown', message: 'room R9 is not declared', where: '$.lessons[3].rooms[0]' },
    ];
    const input = importInput(timetable, { warnings, format: 'edt', importedBy: 'index-education' });

    const report = await store.timetables.importVersion(input);

    const meta = {
      uai,
      version: 1,
      sha256: sha256Hex(JSON.stringify(timetable)),
      format: 'edt',
      importedAt: '2025-09-01T06:00:00.000Z',
      importedBy: 'index-education',
      counts: { rooms: 3, lessons: 4, occurrences: 8 },
      warnings,
      warnings_total: 1,
    };
    expect(report).toEqual({ ...meta, unchanged: false });
    expect(await store.timetables.getVersion(uai, 1)).toEqual({ ...meta, timetable });
    expect(await store.timetables.current(uai)).toEqual({ ...meta, timetable });
    expect(await store.timetables.currentMeta(uai)).toEqual(meta);
    expect(await store.timetables.listVersions(uai)).toEqual([meta]);
  });

  it('reads the current versions of several schools at once, as currentMeta does one by one', async () => {
    const [a, b, none] = [freshUai(), freshUai(), freshUai()];
    await store.timetables.importVersion(
      importInput(syntheticTimetable({ uai: a, rooms: 1, lessons: 1, weeks: 1 })),
    );
    await store.timetables.importVersion(
      importInput(syntheticTimetable({ uai: b, rooms: 2, lessons: 1, weeks: 1 })),
    );
    await store.timetables.importVersion(
      importInput(syntheticTimetable({ uai: b, rooms: 3, lessons: 1, weeks: 1 })),
    );
    const metas = await store.timetables.currentMetas([a, b, none]);
    expect([...metas.keys()].sort()).toEqual([a, b].sort());
    expect(metas.get(a)).toEqual(await store.timetables.currentMeta(a));
    expect(metas.get(b)).toEqual(await store.timetables.currentMeta(b));
    expect(metas.get(b)?.version).toBe(2);
    expect(await store.timetables.currentMetas([])).toEqual(new Map());
  });

  it('answers unchanged with the current version for the same bytes, and writes nothing', async () => {
    const uai = freshUai();
    const timetable = syntheticTimetable({ uai, rooms: 2, lessons: 2, weeks: 1 });
    await store.timetables.importVersion(importInput(timetable));
    const establishmentBefore = (await store.timetables.listEstablishments()).find((e) => e.uai === uai);

    const again = await store.timetables.importVersion(
      importInput(timetable, { at: Date.parse('2025-09-08T06:00:00Z'), importedBy: 'someone-else' }),
    );

    expect(again).toEqual({
      uai,
      version: 1,
      sha256: sha256Hex(JSON.stringify(timetable)),
      format: 'json',
      importedAt: '2025-09-01T06:00:00.000Z',
      importedBy: 'editor-test',
      counts: { rooms: 2, lessons: 2, occurrences: 2 },
      warnings: [],
      warnings_total: 0,
      unchanged: true,
    });
    expect((await store.timetables.listVersions(uai)).map((v) => v.version)).toEqual([1]);
    expect((await store.timetables.listEstablishments()).find((e) => e.uai === uai)).toEqual(
      establishmentBefore,
    );
  });

  it('keeps the count of the warnings left out (warnings_total), and reads rows written before it', async () => {
    const uai = freshUai();
    const timetable = syntheticTimetable({ uai, rooms: 2, lessons: 2, weeks: 1 });
    const kept = [{ code: 'field-unknown', message: 'unknown field "x0" ignored', where: '$.x0' }];
    const report = await store.timetables.importVersion(
      importInput(timetable, { warnings: kept, warningsTotal: 250 }),
    );
    expect([report.warnings, report.warnings_total]).toEqual([kept, 250]);
    const [listed] = await store.timetables.listVersions(uai);
    expect([listed?.warnings, listed?.warnings_total]).toEqual([kept, 250]);
    // A row of an older release holds the bare array: its length is the total.
    await sql`update timetable_versions set warnings_json = ${JSON.stringify([...kept, ...kept])} where uai = ${uai}`.execute(
      store.db,
    );
    const old = await store.timetables.currentMeta(uai);
    expect([old?.warnings.length, old?.warnings_total]).toEqual([2, 2]);
    const encoded = await store.timetables.currentEncoded(uai);
    expect(encoded && decodeDocument(encoded.document)).toEqual(timetable);
  });

  it('numbers new documents 2, 3… lists them newest first, and keeps every version readable', async () => {
    const uai = freshUai();
    const documents = ['a', 'b', 'a'].map((label) =>
      syntheticTimetable({ uai, rooms: 2, lessons: 3, weeks: 1, label }),
    );
    const days = ['2025-09-01T06:00:00Z', '2025-09-02T06:00:00Z', '2025-09-03T06:00:00Z'];
    const reports = [];
    for (const [i, timetable] of documents.entries()) {
      reports.push(
        await store.timetables.importVersion(importInput(timetable!, { at: Date.parse(days[i]!) })),
      );
    }

    // Going back to an older document is a change: only the CURRENT version counts as "same".
    expect(reports.map((r) => [r.version, r.unchanged])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    expect(
      (await store.timetables.listVersions(uai)).map((v) => [v.version, v.importedAt, v.sha256]),
    ).toEqual([
      [3, '2025-09-03T06:00:00.000Z', sha256Hex(JSON.stringify(documents[2]))],
      [2, '2025-09-02T06:00:00.000Z', sha256Hex(JSON.stringify(documents[1]))],
      [1, '2025-09-01T06:00:00.000Z', sha256Hex(JSON.stringify(documents[0]))],
    ]);
    expect((await store.timetables.getVersion(uai, 2))?.timetable).toEqual(documents[1]);
    expect((await store.timetables.current(uai))?.version).toBe(3);
    expect(await store.timetables.getVersion(uai, 4)).toBeNull();
  });

  it('compares with the current version and numbers after the highest one when current was set back', async () => {
    const uai = freshUai();
    const documents = ['1', '2', '3'].map((label) =>
      syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1, label }),
    );
    for (const timetable of documents) await store.timetables.importVersion(importInput(timetable));
    await store.db.updateTable('establishments').set({ current_version: 1 }).where('uai', '=', uai).execute();

    const sameAsCurrent = await store.timetables.importVersion(importInput(documents[0]!));
    const sameAsLatest = await store.timetables.importVersion(importInput(documents[2]!));

    expect([sameAsCurrent.version, sameAsCurrent.unchanged]).toEqual([1, true]);
    expect([sameAsLatest.version, sameAsLatest.unchanged]).toEqual([4, false]);
    expect((await store.timetables.current(uai))?.timetable).toEqual(documents[2]);
  });

  it('keeps the stored name when an import has none, and follows the timezone', async () => {
    const uai = freshUai();
    const first = syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1, label: '1' });
    const second = {
      ...syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1, label: '2' }),
      timezone: 'Indian/Reunion',
    };
    await store.timetables.importVersion(importInput(first, { name: 'Lycée Victor Hugo' }));
    await store.timetables.importVersion(
      importInput(second, {
        name: undefined,
        timezone: 'Indian/Reunion',
        at: Date.parse('2025-10-01T08:30:00Z'),
      }),
    );

    expect((await store.timetables.listEstablishments()).find((e) => e.uai === uai)).toEqual({
      uai,
      name: 'Lycée Victor Hugo',
      timezone: 'Indian/Reunion',
      currentVersion: 2,
      updatedAt: '2025-10-01T08:30:00.000Z',
    });
  });

  it('lists establishments ordered by UAI and knows nothing of an unknown school', async () => {
    const uais = [freshUai(), freshUai()];
    for (const uai of [...uais].reverse()) {
      await store.timetables.importVersion(
        importInput(syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1 })),
      );
    }
    const listed = (await store.timetables.listEstablishments()).map((e) => e.uai);
    expect(listed.filter((u) => uais.includes(u))).toEqual(uais);
    expect(listed).toEqual([...listed].sort());

    const unknown = freshUai();
    expect(await store.timetables.current(unknown)).toBeNull();
    expect(await store.timetables.currentMeta(unknown)).toBeNull();
    expect(await store.timetables.listVersions(unknown)).toEqual([]);
  });

  describe('an import interrupted before COMMIT', () => {
    it('leaves the previous version current and byte-identical, with no orphan row', async () => {
      const uai = freshUai();
      const v1 = syntheticTimetable({ uai, rooms: 2, lessons: 5, weeks: 2, label: 'v1' });
      await store.timetables.importVersion(importInput(v1));
      const rowsBefore = await versionRows(store, uai);
      const establishmentBefore = await establishmentRow(store, uai);

      const v2 = syntheticTimetable({ uai, rooms: 3, lessons: 6, weeks: 2, label: 'v2' });
      let seenInside: { uai: string; version: number } | undefined;
      const attempt = store.timetables.importVersion(
        importInput(v2, { name: 'Autre nom', at: Date.parse('2025-09-09T06:00:00Z') }),
        {
          beforeCommit: (written) => {
            seenInside = written;
            throw new Error('interrupted before commit');
          },
        },
      );

      await expect(attempt).rejects.toThrow('interrupted before commit');
      expect(seenInside).toEqual({ uai, version: 2 });
      expect(await versionRows(store, uai)).toEqual(rowsBefore);
      expect(rowsBefore.map((r) => [r.version, decodeDocument(r.document_json)])).toEqual([
        [1, JSON.parse(JSON.stringify(v1))],
      ]);
      expect(await establishmentRow(store, uai)).toEqual(establishmentBefore);
      expect((await store.timetables.current(uai))?.timetable).toEqual(v1);

      // No gap either: the next successful import is version 2.
      const next = await store.timetables.importVersion(importInput(v2));
      expect([next.version, next.unchanged]).toEqual([2, false]);
    });

    it('leaves no trace of a school whose first import fails', async () => {
      const uai = freshUai();
      const attempt = store.timetables.importVersion(
        importInput(syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1 })),
        {
          beforeCommit: async () => {
            throw new Error('interrupted before commit');
          },
        },
      );
      await expect(attempt).rejects.toThrow('interrupted before commit');
      expect(await establishmentRow(store, uai)).toBeUndefined();
      expect(await versionRows(store, uai)).toEqual([]);
    });
  });

  describe('concurrent imports of one school', () => {
    /** A school with a version 1 already, so that the races below are about the row lock. */
    async function establishedSchool(): Promise<string> {
      const uai = freshUai();
      await store.timetables.importVersion(
        importInput(syntheticTimetable({ uai, rooms: 1, lessons: 1, weeks: 1 })),
      );
      return uai;
    }

    it('gives two different documents versions 2 and 3, the later one current', async () => {
      const uai = await establishedSchool();
      const [a, b] = ['a', 'b'].map((label) =>
        syntheticTimetable({ uai, rooms: 2, lessons: 20, weeks: 4, label }),
      );
      const reports = await Promise.all([
        store.timetables.importVersion(importInput(a!)),
        store.timetables.importVersion(importInput(b!)),
      ]);

      expect(reports.map((r) => r.version).sort()).toEqual([2, 3]);
      expect(reports.map((r) => r.unchanged)).toEqual([false, false]);
      const shaOf = new Map(reports.map((r) => [r.version, r.sha256]));
      expect((await store.timetables.currentMeta(uai))?.sha256).toBe(shaOf.get(3));
      expect(
        (await store.timetables.listVersions(uai)).map((v) => [v.version, v.sha256]).slice(0, 2),
      ).toEqual([
        [3, shaOf.get(3)],
        [2, shaOf.get(2)],
      ]);
    });

    it('records the same document once: one import writes it, the other finds it unchanged', async () => {
      const uai = await establishedSchool();
      const timetable = syntheticTimetable({ uai, rooms: 2, lessons: 20, weeks: 4, label: 'same' });
      const reports = await Promise.all([
        store.timetables.importVersion(importInput(timetable)),
        store.timetables.importVersion(importInput(timetable)),
      ]);

      expect(reports.map((r) => [r.version, r.unchanged]).sort()).toEqual([
        [2, false],
        [2, true],
      ]);
      expect((await store.timetables.listVersions(uai)).map((v) => v.version)).toEqual([2, 1]);
    });

    it('numbers twelve racing imports 2…13 without gaps or duplicates', async () => {
      const uai = await establishedSchool();
      const inputs = Array.from({ length: 12 }, (_, i) =>
        importInput(syntheticTimetable({ uai, rooms: 2, lessons: 10, weeks: 2, label: String(i) })),
      );
      const reports = await Promise.all(inputs.map((input) => store.timetables.importVersion(input)));

      expect(reports.map((r) => r.version).sort((x, y) => x - y)).toEqual([
        2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
      ]);
      const last = reports.find((r) => r.version === 13);
      expect((await store.timetables.currentMeta(uai))?.sha256).toBe(last?.sha256);
      expect((await versionRows(store, uai)).map((r) => r.version)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
      ]);
    });

    // Two pools = two bridge instances on one database: only PostgreSQL's row lock can order them.
    if (backend.name === 'postgres')
      it('makes a second instance wait on the row lock until the first commits', async () => {
        const other = await backend.open();
        const uai = await establishedSchool();
        const [a, b] = ['a', 'b'].map((label) =>
          syntheticTimetable({ uai, rooms: 2, lessons: 5, weeks: 1, label }),
        );
        let second: Promise<unknown> | undefined;
        let secondSettledWhileLocked: boolean | undefined;

        const first = await store.timetables.importVersion(importInput(a!), {
          beforeCommit: async () => {
            let settled = false;
            second = other.timetables.importVersion(importInput(b!)).finally(() => {
              settled = true;
            });
            await waitUntil(async () => (await backendsWaitingOnEstablishmentLock(store)) > 0);
            secondSettledWhileLocked = settled;
          },
        });

        expect(secondSettledWhileLocked).toBe(false);
        expect(await second).toMatchObject({
          uai,
          version: 3,
          unchanged: false,
          sha256: sha256Hex(JSON.stringify(b)),
        });
        expect([first.version, first.unchanged]).toEqual([2, false]);
        expect((await other.timetables.currentMeta(uai))?.version).toBe(3);
      });

    if (backend.name === 'postgres')
      it('numbers imports racing from two instances 2…13', async () => {
        const other = await backend.open();
        const uai = await establishedSchool();
        const reports = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? store : other).timetables.importVersion(
              importInput(syntheticTimetable({ uai, rooms: 2, lessons: 10, weeks: 2, label: `x${i}` })),
            ),
          ),
        );
        expect(reports.map((r) => r.version).sort((x, y) => x - y)).toEqual([
          2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
        ]);
        expect((await other.timetables.currentMeta(uai))?.sha256).toBe(
          reports.find((r) => r.version === 13)?.sha256,
        );
      });
  });
});

/**
 * Backends blocked on a lock of the establishment row: the second import waits either in its
 * upsert (the row has an uncommitted update) or in its `SELECT … FOR UPDATE`.
 */
async function backendsWaitingOnEstablishmentLock(store: Store): Promise<number> {
  const { rows } = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'
      and query like '%"establishments"%'`.execute(store.db);
  return rows[0]?.waiting ?? 0;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  await waitFor(condition, { timeoutMs });
}

async function versionRows(store: Store, uai: string) {
  return store.db
    .selectFrom('timetable_versions')
    .selectAll()
    .where('uai', '=', uai)
    .orderBy('version')
    .execute();
}

async function establishmentRow(store: Store, uai: string) {
  return store.db.selectFrom('establishments').selectAll().where('uai', '=', uai).executeTakeFirst();
}
