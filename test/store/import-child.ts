/**
 * Child process for timetable-repository-interrupted.test.ts: imports a big synthetic
 * timetable into the SQLite store under argv[2] and, inside the transaction after every row is
 * written, prints `inside-transaction <stored document bytes>` and waits forever for the SIGKILL.
 *
 * Run: node --import tsx test/store/import-child.ts <dataDir> <uai> <lessons>
 */
import { sql } from 'kysely';
import { encodeDocument } from '../../src/store/document-codec.js';
import { openStore } from '../../src/store/store.js';
import { importInput, syntheticTimetable } from './synthetic-timetable.js';

const [dataDir, uai, lessons] = process.argv.slice(2);
if (dataDir === undefined || uai === undefined || lessons === undefined) {
  throw new Error('usage: import-child.ts <dataDir> <uai> <lessons>');
}

const store = await openStore({ dataDir });
// better-sqlite3 builds with a 16 MB page cache; a 64 kB cache makes a test-sized (compressed)
// document spill its uncommitted pages into the WAL file, as a year-long export would with 16 MB.
await sql`pragma cache_size = -64`.execute(store.db);
const timetable = syntheticTimetable({
  uai,
  rooms: 400,
  lessons: Number(lessons),
  weeks: 36,
  label: ' (big)',
});
await store.timetables.importVersion(importInput(timetable, { at: Date.parse('2025-09-08T06:00:00Z') }), {
  beforeCommit: () => {
    process.stdout.write(`inside-transaction ${encodeDocument(timetable).length}\n`);
    // Hold the transaction open: the parent kills this process here.
    return new Promise<void>(() => {
      setInterval(() => {}, 60_000);
    });
  },
});
throw new Error('the import committed: the parent should have killed this process first');
