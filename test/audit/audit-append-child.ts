/**
 * Child process for audit-processes.test.ts: appends `<batches>` batches of two entries to the
 * SQLite store under `<dataDir>`, as a second process (the CLI next to the server) would.
 *
 * Run: node --import tsx test/audit/audit-append-child.ts <dataDir> <actor> <batches>
 */
import { openStore } from '../../src/store/store.js';

const [dataDir, actor, batches] = process.argv.slice(2);
if (dataDir === undefined || actor === undefined || batches === undefined) {
  throw new Error('usage: audit-append-child.ts <dataDir> <actor> <batches>');
}
const store = await openStore({ dataDir });
for (let i = 0; i < Number(batches); i++) {
  const at = Date.parse('2026-11-30T07:00:00.000Z') + i * 1000;
  await store.audit.append([
    { at, kind: 'publish', uai: '0670080Y', zone: 'aile-b', actor, detail: { batch: i, part: 1 } },
    { at, kind: 'publish', uai: '0670080Y', zone: 'aile-b', actor, detail: { batch: i, part: 2 } },
  ]);
}
await store.close();
