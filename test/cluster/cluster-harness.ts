/**
 * Real bridge instances for the scale-out tests and benchmark (issue 8): `scope-energie serve`
 * processes (bin/scope-energie.js) sharing one PostgreSQL schema and one external broker, over
 * a generated region whose schools are copies of the demo lycée (its devices file and its
 * timetable with the UAI changed), or with `zones`, region-sized generated schools (the scale-out
 * benchmark). Nothing is mocked: the processes plan from their own SORTIE
 * over HTTP, hold leases in PostgreSQL and publish to the broker at MQTT_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { generateToken, hashSecret, hashToken } from '../../src/auth/secrets.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import type { Lesson, Room, TimetableInput } from '../../src/domain/timetable.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import { ingestTimetable } from '../../src/scope/entree/ingest.js';
import { openStore } from '../../src/store/store.js';
import { waitFor as pollUntil } from '../helpers/wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'scope-energie.js');

/** `count` valid UAIs in département 68 (Alsace-Moselle, like the demo lycée's 67). */
export function clusterUais(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const digits = String(6_810_000 + i).padStart(7, '0');
    return `${digits}${uaiCheckLetter(digits)}`;
  });
}

export interface Region {
  dir: string;
  uais: string[];
  /** postgres URL whose search_path is the region's own schema. */
  databaseUrl: string;
  schema: string;
  prefix: string;
  managerToken: string;
  gatewayPassword: string;
  /** Every zone function of one school, `${zone}/${function}` (all schools have the same zones). */
  zoneFunctions: string[];
}

export interface RegionOptions {
  dir: string;
  schools: number;
  /** PostgreSQL server URL (DATABASE_URL). */
  databaseUrl: string;
  takeoverSeconds: number;
  keepaliveSeconds?: number;
  /** Extra config/local.yaml lines (YAML), appended. */
  extraConfig?: string;
  /**
   * Region-sized schools: a generated devices file with this many zones (heating and lighting,
   * two rooms each) and a generated timetable for those rooms, instead of the demo lycée's.
   */
  zones?: number;
  /** `mqtt.max_messages_per_second` of every instance; 0 (no cap) unless given. */
  maxMessagesPerSecond?: number;
  /** Called after every `progressEvery` (default 50) seeded timetables, and after the last. */
  onSeedProgress?: (seeded: number, total: number) => void;
  progressEvery?: number;
  /** The PostgreSQL schema to create; a random one unless given (a caller can drop it even if seeding fails). */
  schema?: string;
}

/** Writes config/, devices/ and rules/ under `dir` and seeds every school's timetable. */
export async function prepareRegion(options: RegionOptions): Promise<Region> {
  const { dir } = options;
  const schema = options.schema ?? `cluster_${randomBytes(5).toString('hex')}`;
  const prefix = `scope-test-${randomBytes(4).toString('hex')}/v1`;
  const databaseUrl = withSearchPath(options.databaseUrl, schema);
  const uais = clusterUais(options.schools);
  const managerToken = generateToken('test');
  const gatewayPassword = 'gateway-password-for-tests';
  const gatewayHash = hashSecret(gatewayPassword);

  for (const sub of ['config', 'devices', 'rules']) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'rules', 'default.yaml'), join(dir, 'rules', 'default.yaml'));
  const demoDevices =
    options.zones === undefined
      ? readFileSync(join(REPO_ROOT, 'devices', `${DEMO_UAI}.yaml`), 'utf8')
      : generatedDevices(options.zones);
  for (const uai of uais) {
    writeFileSync(
      join(dir, 'devices', `${uai}.yaml`),
      demoDevices
        .replaceAll(DEMO_UAI, uai)
        .replaceAll('gw-tilleuls', `gw-${uai.toLowerCase()}`)
        .replace(/password_hash: "[^"]+"/, `password_hash: "${gatewayHash}"`),
    );
  }
  writeFileSync(
    join(dir, 'config', 'clients.yaml'),
    [
      'clients:',
      '  - id: gestionnaire-region',
      '    name: Gestionnaire régional (tests)',
      '    role: manager',
      '    uais: ["*"]',
      '    token_hashes:',
      `      - ${hashToken(managerToken)}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'config', 'local.yaml'),
    [
      'server: { host: 127.0.0.1, port: 0 }',
      'demo: { enabled: false }',
      `mqtt: { prefix: ${prefix}, keepalive_s: ${options.keepaliveSeconds ?? 30}, max_messages_per_second: ${options.maxMessagesPerSecond ?? 0} }`,
      `cluster: { takeover_s: ${options.takeoverSeconds} }`,
      'log: { level: info }',
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );

  const store = await openStore({ databaseUrl: options.databaseUrl, pgSchema: schema });
  try {
    const demo = buildDemoTimetable(Date.now());
    const base = options.zones === undefined ? demo : generatedTimetable(demo, options.zones);
    const every = options.progressEvery ?? 50;
    for (const [index, uai] of uais.entries()) {
      const bytes = new TextEncoder().encode(JSON.stringify({ ...base, uai, name: `Lycée ${uai}` }));
      await ingestTimetable(store, { bytes, uai, format: 'json', importedBy: 'cluster-test' }, Date.now());
      if ((index + 1) % every === 0 || index + 1 === uais.length)
        options.onSeedProgress?.(index + 1, uais.length);
    }
  } finally {
    await store.close();
  }
  const devices = parseYaml(demoDevices) as { zones: Array<{ id: string; functions: string[] }> };
  const zoneFunctions = devices.zones.flatMap((z) => z.functions.map((f) => `${z.id}/${f}`));
  return { dir, uais, databaseUrl, schema, prefix, managerToken, gatewayPassword, zoneFunctions };
}

const zoneId = (z: number) => `z${String(z + 1).padStart(2, '0')}`;
const roomIds = (z: number) => [`${zoneId(z).toUpperCase()}-A`, `${zoneId(z).toUpperCase()}-B`];

/**
 * A devices file shaped like the demo one (same placeholders: DEMO_UAI, gw-tilleuls, a
 * password_hash) with `zones` classroom zones of two rooms each, heating and lighting.
 */
function generatedDevices(zones: number): string {
  const lines = [
    'school:',
    `  uai: "${DEMO_UAI}"`,
    '  name: "Lycée généré (banc de charge)"',
    '  timezone: Europe/Paris',
    'gateways:',
    '  - id: gw-tilleuls',
    '    username: gw-tilleuls',
    '    password_hash: "placeholder"',
    '    adapter: native',
    'zones:',
  ];
  for (let z = 0; z < zones; z++) {
    lines.push(
      `  - id: ${zoneId(z)}`,
      `    name: "Zone ${z + 1}"`,
      '    gateway: gw-tilleuls',
      `    rooms: [${roomIds(z).join(', ')}]`,
      '    functions: [heating, lighting]',
      '    category: classroom',
      '    heating_type: hydronic',
      '    loss_coefficient_w_per_k: 180',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The demo timetable's school year, grid and weeks, with the generated zones' rooms: two-hour
 * lessons Monday to Friday, one free block a day that moves from room to room, Wednesday
 * afternoon free (≈ 13 lessons a room a week).
 */
export function generatedTimetable(demo: TimetableInput, zones: number): TimetableInput {
  const weeks = demo.lessons[0]?.weeks ?? [];
  const slots = demo.grid?.places ?? [];
  const rooms: Room[] = Array.from({ length: zones }, (_, z) => roomIds(z)).flatMap((ids, z) =>
    ids.map((id) => ({ id, name: id, building: `Z${z + 1}` })),
  );
  const lessons: Lesson[] = [];
  rooms.forEach((room, r) => {
    for (let day = 1; day <= 5; day++) {
      slots.forEach(({ start, end }, slot) => {
        if ((day === 3 && slot >= 2) || (slot + day + r) % 4 === 0) return;
        lessons.push({ id: `${room.id}-${day}-${slot}`, rooms: [room.id], day, start, end, weeks });
      });
    }
  });
  return {
    ...demo,
    grid: { days: [1, 2, 3, 4, 5], places: slots },
    rooms,
    lessons,
    cancellations: [],
    events: [],
  };
}

/** The URL with `options=-c search_path=<schema>`: every pooled and LISTEN connection sees the schema. */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function dropRegionSchema(databaseUrl: string, schema: string): Promise<void> {
  const store = await openStore({ databaseUrl });
  try {
    const { sql } = await import('kysely');
    await sql.raw(`drop schema if exists ${schema} cascade`).execute(store.db);
  } finally {
    await store.close();
  }
}

export interface Instance {
  id: string;
  process: ChildProcess;
  /** `http://127.0.0.1:port`. */
  url: string;
  /** Every log line (pino JSON, parsed when it is JSON). */
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  signal(name: NodeJS.Signals): void;
}

/** Starts `scope-energie serve` as instance `id` in the region; resolves once HTTP listens. */
export async function startInstance(
  region: Region,
  id: string,
  options: { mqttUrl: string; startTimeoutMs?: number },
): Promise<Instance> {
  // CLUSTER_CPU_PROFILE_DIR=dir: each instance writes V8 CPU profiles there (at a clean stop).
  const profileDir = process.env['CLUSTER_CPU_PROFILE_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'serve'], {
    cwd: region.dir,
    env: {
      ...process.env,
      DATABASE_URL: region.databaseUrl,
      MQTT_URL: options.mqttUrl,
      SCOPE_ENERGIE_DATA: join(region.dir, `data-${id}`),
      SCOPE_ENERGIE_CLUSTER__INSTANCE_ID: id,
      SCOPE_ENERGIE_FROM_SOURCE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let tail = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`instance ${id} did not listen in time; log: ${tail.slice(-2000)}`)),
      options.startTimeoutMs ?? 60_000,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`instance ${id} exited with ${code}; log: ${tail.slice(-2000)}`));
    });
    // pino writes to stderr; stdout carries nothing but is drained all the same.
    child.stdout?.resume();
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      tail = `${tail.slice(-4000)}${line}\n`;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      logs.push(entry);
      if (entry['msg'] === 'HTTP server listening' && typeof entry['url'] === 'string') {
        clearTimeout(timer);
        resolve(entry['url']);
      }
    });
  });
  return {
    id,
    process: child,
    url,
    logs,
    exited,
    signal: (name) => {
      child.kill(name);
    },
  };
}

export interface ClusterView {
  instance: string;
  instances: Array<{ id: string; live: boolean }>;
  leases: Array<{ uai: string; owner: string; epoch: number; live: boolean }>;
}

export async function clusterView(instance: Instance, token: string): Promise<ClusterView> {
  const response = await fetch(`${instance.url}/api/cluster`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status !== 200)
    throw new Error(`GET /api/cluster: ${response.status} ${await response.text()}`);
  return (await response.json()) as ClusterView;
}

/** Owner of every school with a live lease (a school without one is absent). */
export function liveOwners(view: ClusterView): Map<string, string> {
  return new Map(view.leases.filter((l) => l.live).map((l) => [l.uai, l.owner]));
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  let last: unknown;
  const attempt = async (): Promise<{ value: T } | undefined> => {
    try {
      const value = await probe();
      return value === undefined ? undefined : { value };
    } catch (error) {
      last = error;
      return undefined;
    }
  };
  try {
    return (await pollUntil(attempt, { timeoutMs, intervalMs: everyMs, what })).value;
  } catch {
    throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
  }
}
