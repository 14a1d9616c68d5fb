/**
 * Scale-out (issue 8): real `scope-energie serve` processes (test/cluster/cluster-harness.ts)
 * sharing one PostgreSQL schema and the broker at MQTT_URL, over a region of 350 lycées × 40
 * zones × heating and lighting = 28,000 zone functions.
 *
 * 1. A full plan-and-publish cycle on ONE instance, then (fresh schema, fresh MQTT prefix) on
 *    THREE started together: from spawning the processes until a wildcard subscriber (mqtt.js,
 *    `${prefix}/+/+/+/desired`, QoS 1) has a `desired` for every zone function of every school;
 *    for three, also until every lease is held live by the instance rendezvous hashing gives it.
 * 2. Takeover: SIGKILL one of the three; until its schools are held live by the others
 *    (`GET /api/cluster` every 100 ms), and until every zone function of those schools has been
 *    published again (a `desired` received after the kill).
 *
 * Needs DATABASE_URL and MQTT_URL. `SCALE_OUT_TAKEOVER_S` lowers `cluster.takeover_s` (default
 * 30, the shipped default); `SCALE_OUT_SCHOOLS` / `SCALE_OUT_ZONES` shrink the region for a quick
 * try; `SCALE_OUT_ONE_ONLY=1` runs the one-instance cycle alone (the region's first cycle, issue
 * 14). Run alone: `npx tsx bench/scale-out.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { preferredOwner } from '../src/cluster/rendezvous.js';
import {
  clusterView,
  dropRegionSchema,
  type Instance,
  liveOwners,
  prepareRegion,
  type Region,
  startInstance,
} from '../test/cluster/cluster-harness.js';
import { REGION } from './bridge-publish.js';

/** Default `mqtt.max_messages_per_second` (src/config/schema.ts): kept so Mosquitto drops nothing. */
const PACING = 10_000;
const IDS = ['bridge-a', 'bridge-b', 'bridge-c'] as const;

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};

interface TopicSeen {
  count: number;
  lastAt: number;
  firstRev: number;
  lastRev: number;
}

const REV = /"rev":(\d+)/;

/** The wildcard subscriber: per topic, how many `desired` and when the last one came. */
class DesiredWatch {
  readonly seen = new Map<string, TopicSeen>();
  messages = 0;
  /** performance.now() of the first message, or null. */
  firstAt: number | null = null;
  private pending: { topics: Set<string>; since: number; done: (at: number) => void } | undefined;

  private constructor(readonly client: mqtt.MqttClient) {
    client.on('message', (topic, payload) => {
      // An empty payload clears a retained message; nothing here publishes one.
      if (payload.length === 0) return;
      const at = performance.now();
      this.messages++;
      this.firstAt ??= at;
      const rev = Number(REV.exec(payload.toString('utf8'))?.[1] ?? Number.NaN);
      const entry = this.seen.get(topic);
      if (entry) {
        entry.count++;
        entry.lastAt = at;
        entry.lastRev = rev;
      } else this.seen.set(topic, { count: 1, lastAt: at, firstRev: rev, lastRev: rev });
      const p = this.pending;
      if (p && at >= p.since && p.topics.delete(topic) && p.topics.size === 0) {
        this.pending = undefined;
        p.done(at);
      }
    });
  }

  static async open(url: string, prefix: string): Promise<DesiredWatch> {
    const client = await mqtt.connectAsync(url, {
      clientId: `bench-scale-out-${process.pid}-${Date.now()}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
    });
    const watch = new DesiredWatch(client);
    await client.subscribeAsync(`${prefix}/+/+/+/desired`, { qos: 1 });
    return watch;
  }

  /**
   * Resolves with the performance.now() at which every topic had a message received at or after
   * `since`, or with `missing` (those never seen) once `timeoutMs` passed.
   */
  until(
    topics: readonly string[],
    since: number,
    timeoutMs: number,
  ): Promise<{ at: number } | { missing: string[] }> {
    const left = new Set(topics.filter((t) => (this.seen.get(t)?.lastAt ?? -1) < since));
    if (left.size === 0) return Promise.resolve({ at: performance.now() });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const missing = [...(this.pending?.topics ?? [])];
        this.pending = undefined;
        resolve({ missing });
      }, timeoutMs);
      this.pending = {
        topics: left,
        since,
        done: (at) => {
          clearTimeout(timer);
          resolve({ at });
        },
      };
    });
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

interface CycleResult {
  instances: number;
  seedMs: number;
  /** Spawn → every instance's HTTP server listening (bridge started). */
  listeningMs: number;
  /** Spawn → the first desired received (the end of start-up: config, store, sync, planning). */
  firstDesiredMs: number | null;
  /** Spawn → a desired for every zone function, or null when some never came. */
  allDesiredMs: number | null;
  missing: number;
  expected: number;
  received: number;
  /** Spawn → every lease live on its rendezvous owner (several instances only). */
  settledMs: number | null;
  takeover?: TakeoverResult;
}

interface TakeoverResult {
  victim: string;
  schools: number;
  topics: number;
  /** SIGKILL → the victim's schools all held live by survivors, or null (timed out). */
  heldMs: number | null;
  /** SIGKILL → every zone function of those schools published again, or null. */
  republishedMs: number | null;
  missing: number;
}

async function runCycle(options: {
  count: number;
  schools: number;
  zones: number;
  takeoverS: number;
  databaseUrl: string;
  mqttUrl: string;
  report: (line: string) => void;
  takeover: boolean;
}): Promise<CycleResult> {
  const { count, report } = options;
  const ids = IDS.slice(0, count);
  const dir = mkdtempSync(join(tmpdir(), 'scope-bench-scale-out-'));
  let region: Region | undefined;
  // Named here so that a seeding failure still drops it.
  const schema = `cluster_${randomBytes(5).toString('hex')}`;
  let watch: DesiredWatch | undefined;
  const instances = new Map<string, Instance>();
  try {
    const seedStarted = performance.now();
    region = await prepareRegion({
      dir,
      schools: options.schools,
      zones: options.zones,
      databaseUrl: options.databaseUrl,
      schema,
      takeoverSeconds: options.takeoverS,
      maxMessagesPerSecond: PACING,
      // Progress on stdout as plain lines: the bench usually runs without a TTY (CI, logs).
      onSeedProgress: (seeded, total) =>
        report(
          `  seeding ${seeded}/${total} timetables (${((performance.now() - seedStarted) / 1000).toFixed(1)} s)`,
        ),
    });
    const seedMs = performance.now() - seedStarted;
    const { uais, zoneFunctions, prefix } = region;
    const topicOf = (uai: string, zf: string) => `${prefix}/${uai}/${zf}/desired`;
    const allTopics = uais.flatMap((uai) => zoneFunctions.map((zf) => topicOf(uai, zf)));
    watch = await DesiredWatch.open(options.mqttUrl, prefix);

    const spawnedAt = performance.now();
    const spawnedEpoch = Date.now();
    const all = watch.until(allTopics, spawnedAt, 300_000);
    const settledProbe: PollControl = { stop: false, slowestMs: 0 };
    let firstListening: (instance: Instance) => void = () => {};
    const listening = new Promise<Instance>((resolve) => {
      firstListening = resolve;
    });
    const started = Promise.all(
      ids.map(async (id) => {
        const instance = await startInstance(region!, id, {
          mqttUrl: options.mqttUrl,
          startTimeoutMs: 300_000,
        });
        instances.set(id, instance);
        firstListening(instance);
        return instance;
      }),
    );
    started.catch(() => undefined);
    // Polled from the first instance that answers HTTP, while the others still start.
    const settled =
      count > 1
        ? pollUntil(
            async () => {
              const view = await clusterView(await listening, region!.managerToken);
              const owners = liveOwners(view);
              const live = view.instances.filter((i) => i.live).length;
              return live === count && uais.every((uai) => owners.get(uai) === preferredOwner(uai, [...ids]));
            },
            settledProbe,
            300_000,
          )
        : Promise.resolve(null);
    await started;
    const listeningMs = performance.now() - spawnedAt;
    const outcome = await all;
    // Memory per instance at region scale (issue 18, goal < 512 MB RSS): read as soon as every
    // desired is out, the heaviest moment of the first cycle.
    const memory = ids.map((id) => `${id} ${memoryOf(instances.get(id)?.process.pid)}`).join('; ');
    const settledAt = await settled;
    settledProbe.stop = true;
    const result: CycleResult = {
      instances: count,
      seedMs,
      listeningMs,
      firstDesiredMs: watch.firstAt === null ? null : watch.firstAt - spawnedAt,
      allDesiredMs: 'at' in outcome ? outcome.at - spawnedAt : null,
      missing: 'missing' in outcome ? outcome.missing.length : 0,
      expected: allTopics.length,
      received: watch.messages,
      settledMs: settledAt === null ? null : settledAt - spawnedAt,
    };
    const lastLeaseChange = Math.max(
      ...ids.flatMap((id) =>
        logTimes(instances.get(id), ['school leases acquired', 'schools handed over to another instance']),
      ),
    );
    report(
      `${count} instance${count > 1 ? 's' : ''}: all listening ${(listeningMs / 1000).toFixed(2)} s; first desired ${result.firstDesiredMs === null ? 'never' : `${(result.firstDesiredMs / 1000).toFixed(2)} s`}; ` +
        (result.allDesiredMs === null
          ? `INCOMPLETE: ${result.missing} of ${result.expected} zone functions never received a desired`
          : `desired for all ${result.expected} zone functions ${(result.allDesiredMs / 1000).toFixed(2)} s`) +
        `; ${result.received} desired received` +
        (count > 1
          ? `; leases settled on their owners: last lease change in the logs +${((lastLeaseChange - spawnedEpoch) / 1000).toFixed(2)} s, seen by GET /api/cluster ${result.settledMs === null ? 'NEVER (timed out)' : `${(result.settledMs / 1000).toFixed(2)} s`} (slowest answer ${(settledProbe.slowestMs / 1000).toFixed(2)} s)`
          : '') +
        ` (after spawning; seeding ${(seedMs / 1000).toFixed(1)} s not included)`,
    );
    report(`  memory when every desired was out: ${memory}`);
    for (const id of ids) {
      const instance = instances.get(id);
      if (instance) report(`  ${timeline(instance, spawnedEpoch)}`);
    }
    if (count > 1) {
      // Which instance's schools got more than one desired per zone function during the start.
      const repeated = new Map<string, number>(ids.map((id) => [id, 0]));
      let newRev = 0;
      for (const seen of watch.seen.values()) if (seen.lastRev !== seen.firstRev) newRev++;
      for (const uai of uais) {
        const extra = zoneFunctions.reduce(
          (n, zf) => n + Math.max(0, (watch!.seen.get(topicOf(uai, zf))?.count ?? 0) - 1),
          0,
        );
        const owner = preferredOwner(uai, [...ids])!;
        repeated.set(owner, (repeated.get(owner) ?? 0) + extra);
      }
      report(
        `  desired beyond one per zone function, by the school's final owner: ${[...repeated].map(([id, n]) => `${id} ${n}`).join(', ')}; zone functions whose rev changed meanwhile: ${newRev}`,
      );
    }
    if (options.takeover && count > 1)
      result.takeover = await measureTakeover(region, instances, watch, ids, options);
    return result;
  } finally {
    await Promise.all(
      [...instances.values()].map(async (instance) => {
        instance.signal('SIGTERM');
        const exited = await Promise.race([
          instance.exited.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
        ]);
        if (!exited) instance.signal('SIGKILL');
      }),
    );
    await watch?.close().catch(() => undefined);
    await dropRegionSchema(options.databaseUrl, schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureTakeover(
  region: Region,
  instances: Map<string, Instance>,
  watch: DesiredWatch,
  ids: readonly string[],
  options: { takeoverS: number; report: (line: string) => void },
): Promise<TakeoverResult> {
  const victimId = preferredOwner(region.uais[0]!, [...ids])!;
  const survivors = ids.filter((id) => id !== victimId);
  const victimSchools = region.uais.filter((uai) => preferredOwner(uai, [...ids]) === victimId);
  const topics = victimSchools.flatMap((uai) =>
    region.zoneFunctions.map((zf) => `${region.prefix}/${uai}/${zf}/desired`),
  );
  const watcher = instances.get(survivors[0]!)!;
  const victim = instances.get(victimId)!;
  // Let the cycle's publications drain first, so "after the kill" means the takeover's.
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  const killedAt = performance.now();
  victim.signal('SIGKILL');
  const republished = watch.until(topics, killedAt, options.takeoverS * 1000 + 120_000);
  await victim.exited;
  instances.delete(victimId);
  const killedEpoch = Date.now();
  const probe: PollControl = { stop: false, slowestMs: 0 };
  const heldAt = await pollUntil(
    async () => {
      const owners = liveOwners(await clusterView(watcher, region.managerToken));
      return victimSchools.every((uai) => survivors.includes(owners.get(uai) ?? ''));
    },
    probe,
    options.takeoverS * 1000 + 60_000,
    100,
  );
  const outcome = await republished;
  // The survivors' own record of taking the victim's schools (each takes its part).
  const acquiredAt = survivors.flatMap((id) =>
    logTimes(instances.get(id), ['school leases acquired']).filter((t) => t >= killedEpoch),
  );
  const result: TakeoverResult = {
    victim: victimId,
    schools: victimSchools.length,
    topics: topics.length,
    heldMs: heldAt === null ? null : heldAt - killedAt,
    republishedMs: 'at' in outcome ? outcome.at - killedAt : null,
    missing: 'missing' in outcome ? outcome.missing.length : 0,
  };
  options.report(
    `takeover after SIGKILL of ${victimId} (${result.schools} schools, ${result.topics} zone functions), cluster.takeover_s ${options.takeoverS}: ` +
      `held by survivors ${result.heldMs === null ? 'NEVER (timed out)' : `${(result.heldMs / 1000).toFixed(2)} s`} (GET /api/cluster every 100 ms, slowest answer ${(probe.slowestMs / 1000).toFixed(2)} s; survivors' logs: acquired at ${acquiredAt.map((t) => `+${((t - killedEpoch) / 1000).toFixed(2)} s`).join(', ') || 'none'})` +
      `, all re-published ${result.republishedMs === null ? `INCOMPLETE (${result.missing} never re-published)` : `${(result.republishedMs / 1000).toFixed(2)} s`}`,
  );
  return result;
}

/** What an instance did when, from its own log (pino `time`, epoch ms): explains the cycle figure. */
function timeline(instance: Instance, sinceEpoch: number): string {
  const events: string[] = [];
  for (const entry of instance.logs) {
    const at =
      typeof entry['time'] === 'number' ? `+${((entry['time'] - sinceEpoch) / 1000).toFixed(1)} s` : '?';
    const schools = entry['schools'];
    switch (entry['msg']) {
      case 'school leases acquired':
        events.push(`${at} acquired ${schools}`);
        break;
      case 'schools handed over to another instance':
        events.push(`${at} handed over ${schools}`);
        break;
      case 'bridge started':
        events.push(`${at} bridge started holding ${entry['held']}`);
        break;
      case 'HTTP server listening':
        events.push(`${at} listening`);
        break;
    }
  }
  return `${instance.id}: ${events.join(', ')}`;
}

/** Epoch ms (pino `time`) of the instance's log lines with one of these messages. */
function logTimes(instance: Instance | undefined, messages: readonly string[]): number[] {
  return (instance?.logs ?? []).flatMap((entry) =>
    typeof entry['time'] === 'number' && messages.includes(String(entry['msg'])) ? [entry['time']] : [],
  );
}

interface PollControl {
  stop: boolean;
  /** The slowest probe so far: a busy instance answers HTTP late, which delays what is seen. */
  slowestMs: number;
}

/** Polls `probe` every `everyMs` until true: performance.now() when it was, or null on timeout. */
async function pollUntil(
  probe: () => Promise<boolean>,
  control: PollControl,
  timeoutMs: number,
  everyMs = 100,
): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  while (!control.stop && performance.now() < deadline) {
    const asked = performance.now();
    try {
      if (await probe()) return performance.now();
    } catch {
      // An instance still starting or busy answers late or 503: try again.
    } finally {
      control.slowestMs = Math.max(control.slowestMs, performance.now() - asked);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return null;
}

/** RSS now and its peak (VmHWM) of process `pid`, from /proc (Linux); `n/a` elsewhere. */
function memoryOf(pid: number | undefined): string {
  if (pid === undefined) return 'n/a';
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return `RSS ${(kb('VmRSS') / 1024).toFixed(0)} MB (peak ${(kb('VmHWM') / 1024).toFixed(0)} MB)`;
  } catch {
    return 'n/a';
  }
}

export async function benchScaleOut(report: (line: string) => void): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'];
  const mqttUrl = process.env['MQTT_URL'];
  if (!databaseUrl || !mqttUrl) {
    report('scale-out: skipped (set DATABASE_URL and MQTT_URL)');
    return;
  }
  const schools = envInt('SCALE_OUT_SCHOOLS', REGION.schools);
  const zones = envInt('SCALE_OUT_ZONES', REGION.zones);
  const takeoverS = envInt('SCALE_OUT_TAKEOVER_S', 30);
  report(
    `scale-out: ${schools} schools × ${zones} zones × heating + lighting = ${schools * zones * 2} zone functions; pacing ${PACING} msg/s per instance (the default); cluster.takeover_s ${takeoverS}`,
  );
  const common = { schools, zones, takeoverS, databaseUrl, mqttUrl, report };
  const one = await runCycle({ ...common, count: 1, takeover: false });
  if (process.env['SCALE_OUT_ONE_ONLY'] === '1') {
    if (one.missing > 0) throw new Error('some zone functions never received a desired (see above)');
    return;
  }
  const three = await runCycle({ ...common, count: 3, takeover: true });
  const ratio =
    one.allDesiredMs !== null && three.allDesiredMs !== null
      ? (three.allDesiredMs / one.allDesiredMs).toFixed(2)
      : 'n/a (incomplete)';
  report(`cycle ratio 3 instances / 1 instance (spawn → all desired): ${ratio}`);
  const t = three.takeover;
  if (t) {
    const within = (ms: number | null) => (ms !== null && ms <= takeoverS * 1000 ? 'yes' : 'no');
    const vs = (ms: number | null) =>
      ms === null
        ? 'n/a'
        : `${(ms / 1000).toFixed(2)} s = ${(ms / (takeoverS * 1000)).toFixed(2)} × takeover_s`;
    report(
      `takeover vs configured ${takeoverS} s: held ${vs(t.heldMs)}; re-published ${vs(t.republishedMs)}; within the delay: held ${within(t.heldMs)}, re-published ${within(t.republishedMs)}`,
    );
  }
  if (one.missing > 0 || three.missing > 0 || (t?.missing ?? 0) > 0)
    throw new Error('some zone functions never received a desired (see above)');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchScaleOut((line) => console.log(`- ${line}`));
}
