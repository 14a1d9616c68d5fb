/**
 * Benchmark of the SORTIE occupancy endpoint over loopback (issue 4): the real hono app of the
 * service (real Authenticator with a static token, SQLite store, the demo lycée imported) served
 * by @hono/node-server, driven by autocannon, against a trivial hono route in the same server.
 * Three loads: the trivial route (baseline), one week of occupancy answered 200 (body from the
 * LRU after the first request), and the same request revalidated with If-None-Match (304).
 * Printed: requests/s and p99 latency, and their ratios to the trivial route. The load generator
 * runs in the same process as the server (one event loop each way on 2 cores), which lowers
 * every absolute figure alike; the ratios are the point.
 *
 * `npx tsx bench/sortie.ts`, or through bench/run.ts (`benchSortie(report)`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createHttpApp } from '../src/app/app.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { clientSchema } from '../src/auth/clients.js';
import { generateToken, hashToken } from '../src/auth/secrets.js';
import { buildDemoTimetable, DEMO_UAI } from '../src/demo/demo-lycee.js';
import { systemClock } from '../src/domain/clock.js';
import { schoolCalendars } from '../src/scope/sortie/school-calendars.js';
import { openStore } from '../src/store/store.js';

interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number; average: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  /** Worker threads generating the load, off the server's event loop. */
  workers?: number;
}) => Promise<AutocannonResult>;
// autocannon ships no types; this is the part of its programmatic API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const DURATION_S = Number(process.env['BENCH_SORTIE_SECONDS'] ?? 2);
const ROUNDS = 3;

interface Load {
  name: string;
  rps: number;
  p99: number;
}
const CONNECTIONS = 16;
const WEEK = 'from=2025-12-01&to=2025-12-07';

export async function benchSortie(report: (line: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-bench-sortie-'));
  const token = generateToken('bench');
  const editorToken = generateToken('bench');
  const authenticator = new Authenticator({
    clients: [
      clientSchema.parse({
        id: 'energie',
        role: 'consumer',
        purpose: 'sobriete-energetique',
        uais: [DEMO_UAI],
        token_hashes: [hashToken(token)],
      }),
      clientSchema.parse({
        id: 'editor',
        role: 'editor',
        uais: [DEMO_UAI],
        token_hashes: [hashToken(editorToken)],
      }),
    ],
    signingKey: new Uint8Array(32).fill(1),
    issuer: 'bench',
    audience: 'bench',
    tokenTtlSeconds: 600,
  });
  const store = await openStore({ dataDir });
  const app = createHttpApp({
    authenticator,
    entree: { store, clock: systemClock, bodyLimitBytes: 8 * 1024 * 1024, strictJson: false },
    sortie: { store, calendars: schoolCalendars({ zone: 'B' }) },
  });
  const root = new Hono();
  root.get('/trivial', (c) => c.text('ok'));
  root.route('/', app);
  const server = await new Promise<ReturnType<typeof serve>>((done) => {
    const s = serve({ fetch: root.fetch, hostname: '127.0.0.1', port: 0 }, () => done(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const imported = await fetch(`${base}/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(buildDemoTimetable(Date.parse('2025-11-28T10:00:00Z'))),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${editorToken}` },
    });
    if (imported.status !== 201) throw new Error(`demo import failed: ${imported.status}`);
    const occupancyUrl = `${base}/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?${WEEK}`;
    const auth = { Authorization: `Bearer ${token}` };
    const first = await fetch(occupancyUrl, { headers: auth });
    const etag = first.headers.get('ETag') ?? '';
    const bodyBytes = (await first.arrayBuffer()).byteLength;

    report(
      `sortie bench: node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()}, ` +
        `${CONNECTIONS} connections × ${DURATION_S} s each × ${ROUNDS} alternating rounds, occupancy body ${bodyBytes} bytes (15 rooms, 1 week)`,
    );
    const run = async (
      name: string,
      url: string,
      headers: Record<string, string>,
      status: string,
    ): Promise<Load> => {
      const result = await autocannon({
        url,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers,
        workers: 1,
      });
      const count = result.statusCodeStats[status]?.count ?? 0;
      const total = Object.values(result.statusCodeStats).reduce((n, s) => n + s.count, 0);
      if (count !== total || result.errors > 0)
        throw new Error(
          `${name}: expected only ${status}, got ${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors`,
        );
      return { name, rps: result.requests.average, p99: result.latency.p99 };
    };
    // Rounds alternate the three loads and each ratio is taken within its round: on a shared
    // machine the load drifts over a minute, which a trivial-first, 304-last order charged to the
    // 304 alone. The median of the rounds' ratios is the figure.
    const rounds: { trivial: Load; ok: Load; notModified: Load }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({
        trivial: await run('trivial hono route', `${base}/trivial`, {}, '200'),
        ok: await run('occupancy 200 (cached body)', occupancyUrl, auth, '200'),
        notModified: await run(
          'occupancy 304 (If-None-Match)',
          occupancyUrl,
          { ...auth, 'If-None-Match': etag },
          '304',
        ),
      });
    }
    const median = (values: number[]) =>
      [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
    for (const key of ['trivial', 'ok', 'notModified'] as const) {
      const loads = rounds.map((r) => r[key]);
      const ratios = rounds.map((r) => r[key].rps / r.trivial.rps);
      const p99s = rounds.map((r) => r[key].p99 / Math.max(r.trivial.p99, 1));
      report(
        `  ${loads[0]!.name.padEnd(32)} ${median(loads.map((l) => l.rps))
          .toFixed(0)
          .padStart(
            7,
          )} req/s (×${median(ratios).toFixed(2)}; rounds ${ratios.map((x) => x.toFixed(2)).join(', ')})  ` +
          `p99 ${median(loads.map((l) => l.p99))
            .toFixed(1)
            .padStart(5)} ms (×${median(p99s).toFixed(2)})`,
      );
    }
    const ratio = median(rounds.map((r) => r.notModified.rps / r.trivial.rps));
    report(
      `  goal: 304 throughput ≥ 0.5 × trivial (median of ${ROUNDS} alternating rounds): ${ratio >= 0.5 ? 'met' : 'NOT met'} (${ratio.toFixed(2)})`,
    );
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchSortie((line) => console.log(line));
