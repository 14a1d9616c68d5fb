/**
 * End-to-end latency (issue 6): from an ENTRÉE import over HTTP to the changed `desired` message
 * at a gateway subscribed to the embedded broker, through the whole service (store, SORTIE over
 * HTTP, sync, planning, dispatcher, publisher). Alternates two versions of the demo timetable so
 * that each import changes the gym's current heating state. Prints p50/p99 against the bare
 * import request's own round trip (PUT → 201: read, check, store), the baseline.
 * Goal: p99 under 200 ms.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { configSchema } from '../src/config/schema.js';
import { buildDemoTimetable, DEMO_UAI } from '../src/demo/demo-lycee.js';
import { ManualClock } from '../src/domain/clock.js';
import { createLogger } from '../src/log/logger.js';
import { startService } from '../src/service.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const REPO = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
// A Tuesday of school, 10:00 in Strasbourg: the demo timetable decides the gym's state.
const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export async function benchImportLatency(report: (line: string) => void): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-latency-'));
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    storage: { data_dir: dataDir },
    mqtt: { embedded: { port: 0 } },
    paths: { devices_dir: REPO('devices'), rules_dir: REPO('rules') },
    clients_file: join(dataDir, 'no-clients.yaml'),
    log: { level: 'silent' },
  });
  const service = await startService({
    config,
    logger: createLogger('silent'),
    baseDir: dataDir,
    clock: CLOCK,
  });
  const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
  const editor = /^demo-editor\s+editor\s+(\S+)$/m.exec(credentials)?.[1] ?? '';
  const topic = `sobriete/v1/${DEMO_UAI}/gymnase/heating/desired`;
  const gateway = await mqtt.connectAsync(service.mqttUrl, {
    username: 'gw-tilleuls',
    password: 'demo-gateway-password',
    clean: true,
  });
  let waiter: ((at: number) => void) | undefined;
  gateway.on('message', (t) => {
    if (t === topic) waiter?.(performance.now());
  });
  await gateway.subscribeAsync(topic, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300)); // the retained message arrives first

  const busy = buildDemoTimetable(CLOCK.now());
  const weeks = busy.lessons[0]!.weeks!;
  busy.lessons.push({ id: 'gym-all-day', rooms: ['GYMNASE'], day: 2, start: '00:00', end: '23:59', weeks });
  const free = buildDemoTimetable(CLOCK.now());
  free.lessons = free.lessons.filter((l) => !(l.rooms.includes('GYMNASE') && l.day === 2));
  const bodies = [JSON.stringify(busy), JSON.stringify(free)];
  const url = `${service.url}/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`;

  const latencies: number[] = [];
  const baselines: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const arrived = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no desired message within 5 s (round ${round})`)),
          5_000,
        );
        waiter = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
      const started = performance.now();
      const res = await fetch(url, {
        method: 'PUT',
        body: bodies[round % 2],
        headers: { Authorization: `Bearer ${editor}`, 'Content-Type': 'application/json' },
      });
      if (res.status !== 201) throw new Error(`import answered ${res.status}`);
      // Baseline: the import request itself (read, check, store, 201).
      baselines.push(performance.now() - started);
      latencies.push((await arrived) - started);

      waiter = undefined;
    }
  } finally {
    await gateway.endAsync();
    await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const b50 = percentile(baselines, 50);
  report(
    `import → desired latency over ${ROUNDS} imports (demo lycée, 193 lessons): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (goal p99 < 200 ms); baseline (the PUT → 201 itself) p50 ${b50.toFixed(0)} ms → ratio p50 ${(p50 / b50).toFixed(1)}×`,
  );
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchImportLatency((line) => console.log(line));
