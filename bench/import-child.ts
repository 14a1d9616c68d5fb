/**
 * One measured run of the ENTRÉE benchmark in its own process, so peak memory (maxRSS) belongs
 * to that run alone: `bare` = a bare saxes pass over the bytes; `import` = the whole ingestion
 * (decode, parse, normalise, check, store in SQLite). Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { ingestTimetable } from '../src/scope/entree/ingest.js';
import { openStore } from '../src/store/store.js';

const [mode, file, dataDir] = process.argv.slice(2) as [string, string, string];
const bytes = readFileSync(file);
// Modules loaded and the file read before the baseline: both modes pay for those alike.
const store = mode === 'import' ? await openStore({ dataDir }) : null;
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
if (mode === 'bare') {
  const parser = new SaxesParser({ xmlns: true });
  let elements = 0;
  parser.on('opentag', () => elements++);
  const decoder = new TextDecoder('utf-8');
  for (let at = 0; at < bytes.length; at += 1 << 20) {
    parser.write(decoder.decode(bytes.subarray(at, at + (1 << 20)), { stream: true }));
  }
  parser.close();
} else if (store) {
  // The 100,000-lesson export expands to ~2.9 million occurrences, over the default
  // entree.max_occurrences (500,000): the benchmark measures throughput, not that bound.
  await ingestTimetable(
    store,
    { bytes, importedBy: 'bench', fileName: 'export.xml', limits: { maxOccurrences: 10_000_000 } },
    Date.now(),
  );
}
const ms = performance.now() - started;
const maxRss = process.resourceUsage().maxRSS * 1024;
await store?.close();
console.log(JSON.stringify({ ms, rssBefore, maxRss }));
