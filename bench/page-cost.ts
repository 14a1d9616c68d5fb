/**
 * Main-loop cost of the heavy HTML pages (VUE's week and the dashboard's school page), measured
 * inside the running service (`startService`, demo lycée, real clock): for each page, the
 * event loop's busy time while the request is answered (`performance.eventLoopUtilization`) and
 * the longest single block of the loop (`monitorEventLoopDelay`, 1 ms resolution), on the demo
 * timetable and after importing 2,000 and 100,000 lessons in one room at one slot. Then the same
 * for SORTIE's occupancy answer (`sortie`: the energy purpose's and the manager's body), each
 * request over a range not asked before (a cache miss: decode, expansion, serialisation), then
 * the same range again (a cached body).
 *
 *   node --import tsx bench/page-cost.ts [repeats=5] [pages|sortie|all]
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/config/schema.js';
import { DEMO_UAI } from '../src/demo/demo-lycee.js';
import { createLogger } from '../src/log/logger.js';
import { startService } from '../src/service.js';
import { overlappingLessons } from '../test/hostile/hostile-inputs.js';

const REPO = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const repeats = Number(process.argv[2] ?? 5);
const which = process.argv[3] ?? 'all';

const dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-page-cost-'));
const config = configSchema.parse({
  server: { host: '127.0.0.1', port: 0 },
  storage: { data_dir: dataDir },
  mqtt: { embedded: { port: 0 } },
  paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
  clients_file: join(dataDir, 'no-clients.yaml'),
  log: { level: 'silent' },
});
const service = await startService({ config, logger: createLogger('silent'), baseDir: dataDir });
const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
const tokens = Object.fromEntries(
  [...credentials.matchAll(/^(demo-[a-z]+|admin)\s.*?(se_\S+)$/gm)].map((m) => [m[1], m[2]]),
) as Record<string, string>;

const settle = () => new Promise((resolve) => setTimeout(resolve, 3_000));

async function measure(
  label: string,
  path: string | ((i: number) => string),
  token = 'demo-manager',
  times = repeats,
): Promise<void> {
  const rows: string[] = [];
  for (let i = 0; i < times; i++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const elu = performance.eventLoopUtilization();
    const t0 = performance.now();
    const res = await fetch(`${service.url}${typeof path === 'string' ? path : path(i)}`, {
      headers: { Authorization: `Bearer ${tokens[token]}`, Accept: 'text/html' },
    });
    const body = await res.text();
    const wall = performance.now() - t0;
    const busy = performance.eventLoopUtilization(elu).active;
    h.disable();
    rows.push(
      `${res.status} ${(body.length / 1024).toFixed(0)} kB wall ${wall.toFixed(0)} busy ${busy.toFixed(0)} maxblock ${(h.max / 1e6).toFixed(0)}`,
    );
  }
  console.log(`${label} ${typeof path === 'string' ? path : path(0)} (${token})\n  ${rows.join('\n  ')}`);
}

let ranges = 0;
/**
 * A range never asked before (a body cache miss) that holds this week, where the overlapping
 * lessons are: from 1, 2, 3… days before this Monday to this Sunday.
 */
function freshWeek(): { from: string; to: string } {
  const d = new Date();
  const monday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(monday - 86_400_000 * ++ranges), to: day(monday + 6 * 86_400_000) };
}

async function pages(label: string) {
  if (which !== 'sortie') {
    await measure(label, `/scope/vue/${DEMO_UAI}`);
    await measure(label, `/tableau-de-bord/${DEMO_UAI}`);
  }
  if (which === 'pages') return;
  for (const token of ['demo-energie', 'demo-manager']) {
    const weeks = Array.from({ length: repeats }, freshWeek);
    const path = (i: number) =>
      `/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?from=${weeks[i]?.from}&to=${weeks[i]?.to}`;
    await measure(`${label} sortie miss`, path, token);
    await measure(`${label} sortie hit`, path(0), token, 2);
  }
}

await settle();
await pages('demo');
for (const count of [2_000, 100_000]) {
  const res = await fetch(
    `${service.url}/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps?format=json&confirm=replace`,
    {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tokens['demo-editor']}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(overlappingLessons(count)),
    },
  );
  if (res.status !== 201) throw new Error(`import ${count}: ${res.status} ${await res.text()}`);
  // What the import sets off on this loop (the bridge's sync and planning of the new version).
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu = performance.eventLoopUtilization();
  await settle();
  h.disable();
  console.log(
    `${count} after the import: busy ${performance.eventLoopUtilization(elu).active.toFixed(0)} ms in 3 s, maxblock ${(h.max / 1e6).toFixed(0)}`,
  );
  await pages(`${count}`);
}
await service.stop();
