/**
 * Region dashboard benchmark (issue 18): the running service (`startService`: SQLite, the
 * embedded broker, the view worker, real clock) driving 350 lycées × 40 zones, each with a
 * stored timetable of 80 rooms (the planning benchmark's week, over the current school year).
 * Once the bridge has planned and published every school, it times the overview
 * (`/tableau-de-bord`, every school's alerts and counts, page 1) and each school's page
 * (`/tableau-de-bord/{uai}`: zones, day and week timelines, savings, comfort), as an admin, one
 * request at a time over loopback HTTP: what the server takes, plus a loopback round trip.
 * Prints p50/p95 against the goal (< 200 ms p95 each) and how the view worker's per-version cache
 * held (the first overview computes every school's dates and unmapped rooms; the next ones must not).
 *
 *   node --import tsx bench/region-dashboard.ts   (BENCH_SCHOOLS=350 BENCH_VIEWS=30)
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSecret } from '../src/auth/secrets.js';
import { configSchema } from '../src/config/schema.js';
import { mondayOf } from '../src/domain/dates.js';
import { type TimetableInput, timetableSchema } from '../src/domain/timetable.js';
import { uaiCheckLetter } from '../src/domain/uai.js';
import { createLogger } from '../src/log/logger.js';
import { startService } from '../src/service.js';
import { openStore } from '../src/store/store.js';

const SCHOOLS = Number(process.env.BENCH_SCHOOLS ?? 350);
const VIEWS = Number(process.env.BENCH_VIEWS ?? 30);
const ZONES = 40;
const ROOMS_PER_ZONE = 2;
/** Goal of issue 18: each page under 200 ms of server time at p95. */
const GOAL_P95_MS = 200;
/** The process is quiet (the start's backlog done) below this CPU per second of wall time. */
const QUIET_CPU_MS_PER_S = 100;
const SLOTS = [
  ['08:00', '08:55'],
  ['08:55', '09:50'],
  ['10:05', '11:00'],
  ['11:00', '11:55'],
  ['13:30', '14:25'],
  ['14:25', '15:20'],
  ['15:35', '16:30'],
  ['16:30', '17:25'],
] as const;
/** Three départements of one region (Grand Est: Bas-Rhin, Haut-Rhin, Moselle). */
const PREFIXES = ['067', '068', '057'] as const;

export function regionSchoolUai(i: number): string {
  const digits = `${PREFIXES[i % PREFIXES.length]}${String(2000 + i).padStart(4, '0')}`;
  return `${digits}${uaiCheckLetter(digits)}`;
}

/** Mondays of the school year holding `today` (1 September to 5 July). */
function schoolYearMondays(today: string): string[] {
  const year = Number(today.slice(0, 4)) - (Number(today.slice(5, 7)) < 8 ? 1 : 0);
  const out: string[] = [];
  for (
    let d = Date.parse(mondayOf(`${year}-09-01`));
    d <= Date.parse(`${year + 1}-07-05`);
    d += 7 * 86_400_000
  )
    out.push(new Date(d).toISOString().slice(0, 10));
  return out;
}

/** The planning benchmark's week: about three quarters of 8 slots a day busy in each room. */
function timetableOf(uai: string, i: number, weeks: string[]): TimetableInput {
  const rooms = Array.from({ length: ZONES * ROOMS_PER_ZONE }, (_, r) => ({
    id: `R${r}`,
    name: `Salle ${r}`,
  }));
  const lessons: TimetableInput['lessons'] = [];
  let n = 0;
  for (const room of rooms) {
    for (let day = 1; day <= 5; day++) {
      SLOTS.forEach(([start, end], s) => {
        if ((n++ * 7 + s + day + i) % 4 === 0) return;
        if (day === 3 && s >= 4) return;
        lessons.push({ id: `${room.id}-${day}-${s}`, rooms: [room.id], day, start, end, weeks });
      });
    }
  }
  // One school in ten teaches in a room no zone holds: the overview's "salles hors zone".
  if (i % 10 === 0) {
    rooms.push({ id: 'ATELIER', name: 'Atelier' });
    lessons.push({ id: 'atelier-1', rooms: ['ATELIER'], day: 2, start: '08:00', end: '09:50', weeks });
  }
  return { uai, rooms, lessons };
}

function devicesYaml(uai: string, i: number, hash: string): string {
  const zones = Array.from({ length: ZONES }, (_, z) => {
    const rooms = [`R${z * ROOMS_PER_ZONE}`, `R${z * ROOMS_PER_ZONE + 1}`];
    // One school in seven has a zone naming a room the timetable no longer has.
    if (i % 7 === 0 && z === 0) rooms.push('R999');
    return `  - {id: z${z}, name: Zone ${z}, gateway: gw, rooms: [${rooms.join(', ')}], functions: [heating, lighting], category: ${z % 10 === 0 ? 'gym' : 'classroom'}, heating_type: ${z % 3 === 0 ? 'electric' : 'hydronic'}, loss_coefficient_w_per_k: 300}\n`;
  });
  return `school:\n  uai: "${uai}"\n  name: "Lycée ${String(i).padStart(3, '0')}"\n  timezone: Europe/Paris\ngateways:\n  - id: gw\n    username: gw-${uai}\n    password_hash: "${hash}"\nzones:\n${zones.join('')}`;
}

/** Where a long run is (on stderr: the report lines stay the output). */
const progress = (line: string) => process.stderr.write(`  [region-dashboard] ${line}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Wall time per view (what a manager waits, the goal's measure) and the process's CPU time
 * during it (main thread and workers: on a shared machine the steadier figure, since the wall
 * time also counts the other processes' turns on the cores).
 */
function summary(label: string, times: number[], cpu: number[] = []): string {
  const sorted = [...times].sort((a, b) => a - b);
  const cpuSorted = [...cpu].sort((a, b) => a - b);
  const p95 = percentile(sorted, 95);
  return `${label}: wall p50 **${percentile(sorted, 50).toFixed(0)} ms**, p95 **${p95.toFixed(0)} ms** (max ${sorted.at(-1)?.toFixed(0)} ms, ${times.length} views; goal p95 < ${GOAL_P95_MS} ms: ${p95 < GOAL_P95_MS ? 'met' : 'MISSED'}); CPU p50 ${percentile(cpuSorted, 50).toFixed(0)} ms, p95 ${percentile(cpuSorted, 95).toFixed(0)} ms`;
}

export async function benchRegionDashboard(report: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-region-dashboard-'));
  try {
    const devicesDir = join(dir, 'devices');
    const dataDir = join(dir, 'data');
    await mkdir(devicesDir);
    await mkdir(dataDir);
    // One scrypt hash for every gateway: hashing 350 passwords would time scrypt.
    const hash = hashSecret('bench');
    const today = new Date().toISOString().slice(0, 10);
    const weeks = schoolYearMondays(today);
    const uais = Array.from({ length: SCHOOLS }, (_, i) => regionSchoolUai(i));
    const seedStart = performance.now();
    const store = await openStore({ dataDir });
    let lessons = 0;
    for (const [i, uai] of uais.entries()) {
      await writeFile(join(devicesDir, `${uai}.yaml`), devicesYaml(uai, i, hash));
      const timetable = timetableSchema.parse(timetableOf(uai, i, weeks));
      lessons += timetable.lessons.length;
      await store.timetables.importVersion({
        uai,
        name: `Lycée ${String(i).padStart(3, '0')}`,
        timezone: 'Europe/Paris',
        timetable,
        sha256: `${uai}-bench`.padEnd(64, '0'),
        format: 'json',
        importedBy: 'bench',
        counts: { rooms: timetable.rooms.length, lessons: timetable.lessons.length, occurrences: 0 },
        warnings: [],
        at: Date.now(),
      });
    }
    await store.close();
    const seedMs = performance.now() - seedStart;
    progress(`seeded ${SCHOOLS} schools in ${(seedMs / 1000).toFixed(1)} s`);

    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      demo: { enabled: false },
      paths: { devices_dir: devicesDir, rules_dir: fileURLToPath(new URL('../rules', import.meta.url)) },
      clients_file: join(dir, 'no-clients.yaml'),
      log: { level: 'silent' },
    });
    const started = performance.now();
    const service = await startService({ config, logger: createLogger('silent'), baseDir: dir });
    progress(`service started in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    try {
      const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
      const token = /^admin\s.*?(se_\S+)$/m.exec(credentials)?.[1];
      if (!token) throw new Error('no admin token in initial-credentials.txt');
      const cpu: Record<string, number[]> = {};
      const get = async (
        path: string,
        label?: string,
      ): Promise<{ ms: number; status: number; bytes: number }> => {
        // A kept-alive socket the busy server closed meanwhile is a reset before any answer: that
        // request is sent again, timed from the new attempt.
        let t0 = performance.now();
        let cpu0 = process.cpuUsage();
        const ask = () =>
          fetch(`${service.url}${path}`, {
            headers: { Authorization: `Bearer ${token}`, Accept: 'text/html' },
          });
        const res = await ask().catch((error: unknown) => {
          progress(`${path}: ${String((error as Error).cause ?? error)}; asked again`);
          t0 = performance.now();
          cpu0 = process.cpuUsage();
          return ask();
        });
        const body = await res.text();
        const used = process.cpuUsage(cpu0);
        if (label) cpu[label] = [...(cpu[label] ?? []), (used.user + used.system) / 1000];
        return { ms: performance.now() - t0, status: res.status, bytes: body.length };
      };
      // Ready: every school synced and planned. A shared machine's event loop may stay above the
      // readiness delay limit (`event-loop-delay`) for reasons of its own: that alone is not waited for.
      let missing: string[] = ['(not asked yet)'];
      for (let n = 0; missing.some((m) => !m.startsWith('event-loop-delay')); n++) {
        if (n > 1_200) throw new Error(`the service was not ready after 10 minutes: ${missing.join('; ')}`);
        if (n > 0) await new Promise((resolve) => setTimeout(resolve, 500));
        // A kept-alive socket the busy server closed meanwhile is a reset, not an answer: ask again.
        missing = await fetch(`${service.url}/readyz`).then(
          async (res) => ((await res.json()) as { missing: string[] }).missing,
          (error: unknown) => [String(error)],
        );
        if (n % 20 === 0)
          progress(`readyz: ${missing.length === 0 ? 'ready' : missing.join('; ').slice(0, 200)}`);
      }
      const readyMs = performance.now() - started;

      const first = await get('/tableau-de-bord');
      if (first.status !== 200) throw new Error(`overview: ${first.status}`);
      progress(`first overview ${first.ms.toFixed(0)} ms`);
      const second = await get('/tableau-de-bord');
      progress(`second overview ${second.ms.toFixed(0)} ms`);
      // The timed views are the steady state: after the background warm-up of every school's
      // dates and unmapped rooms (which shares the view worker with the first views).
      for (let n = 0; service.dashboardWarmUp.warmed() === null; n++) {
        if (n > 1_200) throw new Error('the dashboard warm-up did not end within 10 minutes');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      progress(`warm-up done: ${JSON.stringify(service.dashboardWarmUp.warmed())}`);
      // And after the start's backlog if it ends within a minute: the CPU of a view is the
      // process's CPU over it, so the bridge's background work is counted in it. At 350 schools
      // it did not end within 4 minutes on a loaded machine (the dispatcher's evaluations and
      // timer arming, the sync's reloads: ~0.3 s of CPU a second), so the rate left is reported.
      const quietStart = performance.now();
      let quiet = Number.POSITIVE_INFINITY;
      for (let n = 0; n < 60 && quiet > QUIET_CPU_MS_PER_S; n++) {
        const cpu0 = process.cpuUsage();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const used = process.cpuUsage(cpu0);
        quiet = (used.user + used.system) / 1000;
      }
      const background = `${quiet.toFixed(0)} ms of CPU a second after ${((performance.now() - quietStart) / 1000).toFixed(0)} s of waiting`;
      progress(`quiet: ${background}`);
      const overview: number[] = [];
      for (let n = 0; n < VIEWS; n++) {
        const view = await get(
          n % 3 === 0 ? '/tableau-de-bord' : `/tableau-de-bord?page=${(n % 7) + 1}&tri=alertes`,
          'overview',
        );
        if (view.status !== 200) throw new Error(`overview: ${view.status}`);
        overview.push(view.ms);
      }
      progress(`overview views done`);
      const filtered: number[] = [];
      for (let n = 0; n < VIEWS; n++) {
        const view = await get(
          `/tableau-de-bord?departement=${['67', '68', '57'][n % 3]}&alerte=salles-non-affectees&q=lyc`,
          'filtered',
        );
        filtered.push(view.ms);
      }
      // Each school once (a first view of its week), then the same schools again.
      const schoolFirst: number[] = [];
      const schoolAgain: number[] = [];
      let schoolBytes = 0;
      for (let n = 0; n < VIEWS; n++) {
        const uai = uais[(n * 11) % uais.length] as string;
        const view = await get(`/tableau-de-bord/${uai}`, 'school-first');
        if (view.status !== 200) throw new Error(`school ${uai}: ${view.status}`);
        schoolFirst.push(view.ms);
        schoolBytes = view.bytes;
      }
      for (let n = 0; n < VIEWS; n++) {
        schoolAgain.push((await get(`/tableau-de-bord/${uais[(n * 11) % uais.length]}`, 'school-again')).ms);
      }
      report(
        `region dashboard: load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(
            ' ',
          )} on ${cpus().length} CPUs; ${SCHOOLS} schools × ${ZONES} zones (${lessons} lessons stored in ${(seedMs / 1000).toFixed(1)} s; service ready in ${(readyMs / 1000).toFixed(1)} s; views timed once quiet: ${background}); overview page 1 ${(first.bytes / 1024).toFixed(0)} kB, first view after start ${first.ms.toFixed(0)} ms (every school's dates and unmapped rooms computed in the view worker)`,
      );
      report(summary('region dashboard, overview (page 1…7, by UAI and by alerts)', overview, cpu.overview));
      report(
        summary(
          'region dashboard, overview filtered (département + alert kind + search)',
          filtered,
          cpu.filtered,
        ),
      );
      report(
        summary(
          `region dashboard, school page, first view of the week (${(schoolBytes / 1024).toFixed(0)} kB)`,
          schoolFirst,
          cpu['school-first'],
        ),
      );
      report(summary('region dashboard, school page, viewed again', schoolAgain, cpu['school-again']));
    } finally {
      await service.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchRegionDashboard((line) => console.log(line));
