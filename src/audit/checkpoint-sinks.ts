/**
 * Where checkpoints go, outside the database (docs/audit.md, "Anchoring"): a directory meant for
 * write-once storage (a WORM mount, an object-lock bucket mounted as files), an HTTP webhook (the
 * auditor's or a timestamping service's), a retained MQTT topic. Each sink either stores the
 * checkpoint or throws; the checkpointer reports each outcome.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type Checkpoint, checkpointSchema } from './checkpoint.js';

export interface CheckpointSink {
  /** `directory:/path`, `webhook:https://…`, `mqtt:topic`: shown in logs and API answers. */
  readonly name: string;
  write(checkpoint: Checkpoint): Promise<void>;
}

/** File name of a checkpoint: sorts by seq, then instant; never reused. */
export function checkpointFileName(checkpoint: Checkpoint): string {
  const instant = checkpoint.at.replaceAll(':', '').replace('.', '');
  return `audit-checkpoint-${String(checkpoint.seq).padStart(12, '0')}-${instant}.json`;
}

const FILE_NAME = /^audit-checkpoint-\d{12}-\d{4}-\d{2}-\d{2}T\d{9}Z\.json$/;

/**
 * One file per checkpoint, created exclusively (`wx`: an existing file is never overwritten) and
 * read-only (0444); on write-once storage even the service's own account cannot change it later.
 */
export interface DirectorySink extends CheckpointSink {
  latest(): Checkpoint | null;
  /**
   * The newest checkpoint (highest seq) with a seq in `(afterSeq, maxSeq]` taken before `beforeMs`,
   * chosen by file name, then read; null when none.
   */
  newestWithin(afterSeq: number, maxSeq: number, beforeMs: number): Checkpoint | null;
}

const NAME_PARTS = /^audit-checkpoint-(\d{12})-(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z\.json$/;

export function directorySink(dir: string): DirectorySink {
  return {
    name: `directory:${dir}`,
    async write(checkpoint) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, checkpointFileName(checkpoint)), `${JSON.stringify(checkpoint, null, 2)}\n`, {
        flag: 'wx',
        mode: 0o444,
      });
    },
    /** The checkpoint with the highest seq (then latest instant) in the directory, if any. */
    latest() {
      let names: string[];
      try {
        names = readdirSync(dir).filter((name) => FILE_NAME.test(name));
      } catch {
        return null;
      }
      const last = names.sort().at(-1);
      if (last === undefined) return null;
      return checkpointSchema.parse(JSON.parse(readFileSync(join(dir, last), 'utf8')));
    },
    newestWithin(afterSeq, maxSeq, beforeMs) {
      let names: string[];
      try {
        names = readdirSync(dir).sort().reverse();
      } catch {
        return null;
      }
      for (const name of names) {
        const parts = NAME_PARTS.exec(name);
        if (!parts) continue;
        const [, seqText, date, hh, mm, ss, ms] = parts;
        const seq = Number(seqText);
        if (seq > maxSeq) continue;
        if (seq <= afterSeq) return null;
        if (Date.parse(`${date}T${hh}:${mm}:${ss}.${ms}Z`) >= beforeMs) continue;
        const checkpoint = checkpointSchema.parse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
        if (checkpoint.seq === seq && Date.parse(checkpoint.at) < beforeMs) return checkpoint;
      }
      return null;
    },
  };
}

export interface WebhookSinkOptions {
  url: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first, on a network error, a timeout, 429 or 5xx. */
  retries: number;
  /** Wait before retry n (1-based): `retryDelayMs × 2^(n-1)`. */
  retryDelayMs: number;
  /** `Authorization: Bearer …` when given. */
  bearerToken?: string | undefined;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** POSTs the checkpoint as JSON; a 2xx answer stores it, any other 4xx is final. */
export function webhookSink(options: WebhookSinkOptions): CheckpointSink {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  return {
    name: `webhook:${new URL(options.url).origin}${new URL(options.url).pathname}`,
    async write(checkpoint) {
      let lastError: Error | undefined;
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        if (attempt > 0) await sleep(options.retryDelayMs * 2 ** (attempt - 1));
        let response: Response;
        try {
          response = await doFetch(options.url, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              ...(options.bearerToken ? { Authorization: `Bearer ${options.bearerToken}` } : {}),
            },
            body: JSON.stringify(checkpoint),
            signal: AbortSignal.timeout(options.timeoutMs),
            redirect: 'error',
          });
        } catch (error) {
          lastError = new Error(`webhook ${options.url}: ${(error as Error).message}`);
          continue;
        }
        await response.body?.cancel();
        if (response.ok) return;
        lastError = new Error(`webhook ${options.url} answered ${response.status}`);
        if (response.status !== 429 && response.status < 500) break;
      }
      throw lastError ?? new Error(`webhook ${options.url}: not sent`);
    },
  };
}

/** The bridge's MQTT publish (MqttConnection.publish with explicit options): `sent` or why not. */
export type RetainedPublish = (
  topic: string,
  payload: string,
  options: { retain: true; qos: 1 },
) => Promise<string>;

/**
 * The last checkpoint, retained on `topic`: whoever subscribes (the region's supervision, an
 * auditor's logger) gets it at once, and a broker outside the hub's host keeps it.
 */
export function mqttSink(topic: string, publish: RetainedPublish, name = `mqtt:${topic}`): CheckpointSink {
  return {
    name,
    async write(checkpoint) {
      const outcome = await publish(topic, JSON.stringify(checkpoint), { retain: true, qos: 1 });
      // Offline, the connection drops rather than queues (src/mqtt/connection.ts): not stored.
      if (outcome !== 'sent') throw new Error(`mqtt ${topic}: ${outcome}`);
    },
  };
}

export interface BrokerSinkOptions {
  /** `mqtt://` or `mqtts://`: a broker the hub's operators do not control, ideally. */
  url: string;
  topic: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Connect and publish, each. */
  timeoutMs: number;
}

/**
 * A retained checkpoint on a broker of its own: one short connection per checkpoint (hourly by
 * default), so that nothing stays open between checkpoints and a broker that was down at one
 * checkpoint gets the next. Not the bridge's connection: that one's ACL covers only the contract's
 * topics, and the point is a broker outside the hub.
 */
export function brokerSink(options: BrokerSinkOptions): CheckpointSink {
  const where = new URL(options.url);
  return mqttSink(
    options.topic,
    async (topic, payload, publishOptions) => {
      const client = await mqtt.connectAsync(options.url, {
        connectTimeout: options.timeoutMs,
        reconnectPeriod: 0,
        clean: true,
        ...(options.username !== undefined ? { username: options.username } : {}),
        ...(options.password !== undefined ? { password: options.password } : {}),
      });
      try {
        const timeout = AbortSignal.timeout(options.timeoutMs);
        await Promise.race([
          client.publishAsync(topic, payload, publishOptions),
          new Promise((_, reject) =>
            timeout.addEventListener('abort', () =>
              reject(new Error(`no PUBACK within ${options.timeoutMs} ms`)),
            ),
          ),
        ]);
        return 'sent';
      } finally {
        await client.endAsync(true).catch(() => undefined);
      }
    },
    `mqtt:${where.protocol}//${where.host}/${options.topic}`,
  );
}
