/**
 * The fault laboratory of issue 22, shared by test/faults/faults.test.ts (short outages, in CI) and
 * `npm run bench -- faults` (the issue's full durations): real `scope-energie serve` instances
 * (test/cluster/cluster-harness.ts) on a PRIVATE PostgreSQL and a PRIVATE Mosquitto
 * (fault-harness.ts), a recorder on every `desired` topic, pollers on `/readyz` and the cluster
 * view, and a checker comparing each retained `desired` with the store's current rev.
 *
 * Each fault returns its figures, measured from the moment the dependency is back: every instance
 * ready again, every school held by a live lease, every zone's retained `desired` equal to the
 * store (for a broker fault: re-published after the return).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import {
  clusterView,
  type Instance,
  liveOwners,
  prepareRegion,
  type Region,
  startInstance,
} from '../cluster/cluster-harness.js';
import { deadline, elapse, waitFor } from '../helpers/wait.js';
import {
  type PrivateMosquitto,
  type PrivatePostgres,
  startPrivateMosquitto,
  startPrivatePostgres,
} from './fault-harness.js';

export interface Seen {
  topic: string;
  rev: number;
  text: string;
  at: number;
}

export interface ReadinessSample {
  instance: string;
  at: number;
  status: number;
  missing: string[];
}

export interface Recovery {
  /** From the dependency's return to every running instance answering /readyz 200. */
  readyMs: number;
  /** … to every school held by a live lease. */
  heldMs: number;
  /** … to every zone's retained desired equal to the store (re-published, for broker faults). */
  republishedMs: number;
}

export interface LabOptions {
  schools: number;
  takeoverSeconds: number;
  instanceIds: readonly string[];
  /** Server-side and client-side PostgreSQL timeouts of the instances, ms. */
  statementTimeoutMs?: number;
  queryTimeoutMs?: number;
  log?: (line: string) => void;
}

/** JSON with keys sorted: equal documents, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class FaultLab {
  readonly seen: Seen[] = [];
  readonly instances = new Map<string, Instance>();
  /** Instances ended on purpose by SIGKILL (the only allowed way to be gone). */
  readonly killed = new Set<string>();
  private recorder: mqtt.MqttClient | undefined;

  private constructor(
    readonly options: LabOptions,
    readonly dir: string,
    readonly postgres: PrivatePostgres,
    readonly broker: PrivateMosquitto,
    readonly region: Region,
  ) {}

  static async start(options: LabOptions): Promise<FaultLab> {
    const dir = mkdtempSync(join(tmpdir(), 'scope-faults-'));
    let postgres: PrivatePostgres | undefined;
    let broker: PrivateMosquitto | undefined;
    try {
      postgres = await startPrivatePostgres();
      broker = await startPrivateMosquitto();
      const statement = options.statementTimeoutMs ?? 2_000;
      const query = options.queryTimeoutMs ?? 3_000;
      const region = await prepareRegion({
        dir,
        schools: options.schools,
        databaseUrl: postgres.url,
        takeoverSeconds: options.takeoverSeconds,
        keepaliveSeconds: 2,
        extraConfig: `storage: { statement_timeout_ms: ${statement}, lock_timeout_ms: ${Math.round(statement / 2)}, query_timeout_ms: ${query}, connect_timeout_ms: ${Math.round(statement)} }`,
      });
      const lab = new FaultLab(options, dir, postgres, broker, region);
      await lab.startRecorder();
      const started = await Promise.all(
        options.instanceIds.map((id) => startInstance(region, id, { mqttUrl: broker!.url })),
      );
      for (const instance of started) lab.instances.set(instance.id, instance);
      return lab;
    } catch (error) {
      await broker?.destroy();
      await postgres?.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get topics(): string[] {
    return this.region.uais.flatMap((uai) =>
      this.region.zoneFunctions.map((zf) => `${this.region.prefix}/${uai}/${zf}/desired`),
    );
  }

  running(): Instance[] {
    return [...this.instances.values()].filter((i) => !this.killed.has(i.id));
  }

  /** Instances that exited although nobody SIGKILLed them (must stay empty). */
  unexpectedExits(): string[] {
    return this.running()
      .filter((i) => i.process.exitCode !== null || i.process.signalCode !== null)
      .map((i) => `${i.id} exited (${i.process.exitCode ?? i.process.signalCode})`);
  }

  private async startRecorder(): Promise<void> {
    // Reconnects by itself (mqtt.js default period) and re-subscribes across broker restarts.
    const recorder = mqtt.connect(this.broker.url, {
      clientId: `faults-recorder-${process.pid}`,
      clean: true,
      reconnectPeriod: 200,
    });
    recorder.on('error', () => {});
    recorder.on('message', (topic, payload) => {
      if (!topic.endsWith('/desired') || payload.length === 0) return;
      const text = payload.toString('utf8');
      this.seen.push({ topic, rev: (JSON.parse(text) as { rev: number }).rev, text, at: Date.now() });
    });
    await new Promise<void>((resolve, reject) => {
      recorder.once('connect', () => resolve());
      recorder.once('error', reject);
    });
    await recorder.subscribeAsync(`${this.region.prefix}/+/+/+/desired`, { qos: 1 });
    this.recorder = recorder;
  }

  async readiness(instance: Instance): Promise<ReadinessSample> {
    const at = Date.now();
    try {
      const response = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { missing?: string[] };
      return { instance: instance.id, at, status: response.status, missing: body.missing ?? [] };
    } catch (error) {
      return { instance: instance.id, at, status: 0, missing: [`unreachable: ${(error as Error).message}`] };
    }
  }

  /** Polls every running instance's /readyz until stopped; returns the samples. */
  watchReadiness(everyMs = 250): () => Promise<ReadinessSample[]> {
    const samples: ReadinessSample[] = [];
    let on = true;
    const loop = (async () => {
      while (on) {
        samples.push(...(await Promise.all(this.running().map((i) => this.readiness(i)))));
        await elapse(everyMs, 'readiness is sampled at this period');
      }
    })();
    return async () => {
      on = false;
      await loop;
      return samples;
    };
  }

  async allReady(): Promise<boolean> {
    const samples = await Promise.all(this.running().map((i) => this.readiness(i)));
    return samples.every((s) => s.status === 200);
  }

  async allHeld(): Promise<boolean> {
    for (const instance of this.running()) {
      try {
        const owners = liveOwners(await clusterView(instance, this.region.managerToken));
        return this.region.uais.every((uai) => owners.has(uai));
      } catch {
        // this one cannot answer: ask the next
      }
    }
    return false;
  }

  /** The store's current desired per topic: rev and content. */
  async storeDesired(): Promise<Map<string, { rev: number; content: string }>> {
    const client = new pg.Client({
      connectionString: this.postgres.url,
      options: `-c search_path=${this.region.schema}`,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{
        uai: string;
        zone: string;
        function: string;
        rev: string;
        content_json: string;
      }>('select uai, zone, function, rev, content_json from bridge_desired');
      return new Map(
        rows.map((r) => [
          `${this.region.prefix}/${r.uai}/${r.zone}/${r.function}/desired`,
          { rev: Number(r.rev), content: canonical(JSON.parse(r.content_json)) },
        ]),
      );
    } finally {
      await client.end();
    }
  }

  /** What a fresh subscriber receives as retained, per desired topic (waits for all, or 5 s). */
  async retainedDesired(): Promise<Map<string, { rev: number; content: string }>> {
    const expected = this.topics.length;
    const client = await mqtt.connectAsync(this.broker.url, {
      clientId: `faults-check-${process.pid}-${Date.now()}`,
      clean: true,
      reconnectPeriod: 0,
    });
    const retained = new Map<string, { rev: number; content: string }>();
    try {
      const all = new Promise<void>((resolve) => {
        client.on('message', (topic, payload, packet) => {
          if (!packet.retain || payload.length === 0) return;
          const {
            rev,
            issued_at: _issued,
            ...content
          } = JSON.parse(payload.toString('utf8')) as {
            rev: number;
            issued_at: string;
          };
          retained.set(topic, { rev, content: canonical(content) });
          if (retained.size === expected) resolve();
        });
      });
      await client.subscribeAsync(`${this.region.prefix}/+/+/+/desired`, { qos: 1 });
      // At most 5 s: a topic still missing then is reported by the caller's comparison.
      await Promise.race([all, deadline(5_000)]);
    } finally {
      await client.endAsync(true);
    }
    return retained;
  }

  /** Every zone's retained desired equals the store's current rev and content; else what differs. */
  async retainedEqualsStore(): Promise<string[]> {
    const [stored, retained] = await Promise.all([this.storeDesired(), this.retainedDesired()]);
    const problems: string[] = [];
    for (const topic of this.topics) {
      const s = stored.get(topic);
      const r = retained.get(topic);
      if (!s) problems.push(`${topic}: nothing stored`);
      else if (!r) problems.push(`${topic}: nothing retained`);
      else if (s.rev !== r.rev || s.content !== r.content)
        problems.push(
          `${topic}: retained rev ${r.rev}, stored rev ${s.rev}${s.content === r.content ? '' : ' (content differs)'}`,
        );
    }
    return problems;
  }

  /** No (topic, rev) carried two payloads, and no topic's rev went backwards as seen by the recorder. */
  revProblems(): string[] {
    const first = new Map<string, string>();
    const last = new Map<string, number>();
    const problems: string[] = [];
    for (const s of this.seen) {
      const key = `${s.topic}#${s.rev}`;
      const known = first.get(key);
      if (known === undefined) first.set(key, s.text);
      else if (
        canonical({ ...JSON.parse(known), issued_at: 0 }) !==
        canonical({ ...JSON.parse(s.text), issued_at: 0 })
      )
        problems.push(`${key}: two payloads`);
      const previous = last.get(s.topic) ?? 0;
      if (s.rev < previous) problems.push(`${s.topic}: rev ${s.rev} after ${previous}`);
      last.set(s.topic, Math.max(previous, s.rev));
    }
    return problems;
  }

  /**
   * Polls until every running instance is ready, every school held and every retained desired
   * equal to the store; `mustRepublishAfter` (broker faults) also wants a message on every topic
   * after that instant. Times are measured from `backAt`.
   */
  async recovery(backAt: number, timeoutMs: number, mustRepublishAfter?: number): Promise<Recovery> {
    let readyMs: number | undefined;
    let notReady = '';
    let heldMs: number | undefined;
    let republishedMs: number | undefined;
    let last = '';
    const recovered = async (): Promise<Recovery | undefined> => {
      if (readyMs === undefined) {
        const samples = await Promise.all(this.running().map((i) => this.readiness(i)));
        if (samples.every((s) => s.status === 200)) readyMs = Date.now() - backAt;
        else
          notReady = samples
            .flatMap((s) => s.missing.map((m) => `${s.instance}: ${m}`))
            .slice(0, 3)
            .join('; ');
      }
      if (heldMs === undefined && (await this.allHeld())) heldMs = Date.now() - backAt;
      if (republishedMs === undefined) {
        const fresh =
          mustRepublishAfter === undefined ||
          this.topics.every((t) => this.seen.some((s) => s.topic === t && s.at >= mustRepublishAfter));
        const problems = fresh
          ? await this.retainedEqualsStore().catch((e: Error) => [e.message])
          : ['not re-published yet'];
        if (problems.length === 0) republishedMs = Date.now() - backAt;
        else last = problems.slice(0, 3).join('; ');
      }
      if (readyMs !== undefined && heldMs !== undefined && republishedMs !== undefined)
        return { readyMs, heldMs, republishedMs };
      return undefined;
    };
    const outcome = await waitFor(recovered, {
      timeoutMs: Math.max(0, backAt + timeoutMs - Date.now()),
      intervalMs: 200,
      what: 'recovery',
    }).catch(() => undefined);
    if (outcome) return outcome;
    throw new Error(
      `no recovery within ${timeoutMs} ms: ready ${readyMs ?? `no (${notReady})`}, held ${heldMs ?? 'no'}, republished ${republishedMs ?? `no (${last})`}`,
    );
  }

  async createOverride(on: Instance, uai: string, zone: string, setpoint: number): Promise<number> {
    const response = await fetch(`${on.url}/api/overrides`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.region.managerToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        uai,
        zone,
        function: 'heating',
        mode: 'comfort',
        setpoint_c: setpoint,
        duration: 'PT2H',
        reason: 'essai de panne',
      }),
      signal: AbortSignal.timeout(20_000),
    }).catch(() => undefined);
    return response?.status ?? 0;
  }

  /** SIGTERM to every running instance: how long each took to exit, and with what. */
  async stopAll(
    timeoutMs: number,
  ): Promise<Array<{ id: string; ms: number; code: number | null | 'alive' }>> {
    return Promise.all(
      this.running().map(async (instance) => {
        const started = Date.now();
        instance.signal('SIGTERM');
        const code = await Promise.race([instance.exited, deadline(timeoutMs).then(() => 'alive' as const)]);
        return { id: instance.id, ms: Date.now() - started, code };
      }),
    );
  }

  /** Everything ends: instances (SIGCONT then SIGKILL), recorder, broker, database, files. */
  async destroy(): Promise<void> {
    for (const instance of this.instances.values()) {
      if (instance.process.exitCode === null && instance.process.signalCode === null) {
        instance.signal('SIGCONT');
        instance.signal('SIGKILL');
        await instance.exited;
      }
    }
    await this.recorder?.endAsync(true).catch(() => {});
    await this.broker.destroy();
    await this.postgres.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
