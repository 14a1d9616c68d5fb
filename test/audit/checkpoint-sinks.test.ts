/**
 * The checkpoint sinks against real endpoints: a directory that never overwrites, a webhook on a
 * local HTTP server (retries on 503 and on a timeout, none on 400), a retained MQTT topic on the
 * machine's broker (MQTT_URL).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAuditSigningKey } from '../../src/audit/audit-signing-key.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { directorySink, mqttSink, webhookSink } from '../../src/audit/checkpoint-sinks.js';

const key = loadAuditSigningKey({ dataDir: mkdtempSync(join(tmpdir(), 'scope-energie-sinks-')) });
const checkpoint = signCheckpoint({ seq: 42, hash: 'a'.repeat(64) }, Date.parse('2026-11-30T10:00:00Z'), key);

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

/** A server answering each request with the next handler; records the bodies it received. */
async function server(handlers: ((res: ServerResponse) => void)[]) {
  const bodies: unknown[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push({ auth: req.headers.authorization, body: JSON.parse(text) });
      const handler = handlers.shift();
      handler?.(res);
    });
  });
  servers.push(s);
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/checkpoints`, bodies };
}

const status = (code: number) => (res: ServerResponse) => res.writeHead(code).end();

describe('checkpoint sinks', () => {
  it('directory: one read-only file per checkpoint, never overwritten', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'scope-energie-sinks-')), 'worm');
    const sink = directorySink(dir);
    await sink.write(checkpoint);
    await expect(sink.write({ ...checkpoint, hash: 'b'.repeat(64) })).rejects.toThrow(/EEXIST/);
    expect(sink.latest()).toEqual(checkpoint);
  });

  it('webhook: retries a 503 after the configured delay, with the bearer token', async () => {
    const { url, bodies } = await server([status(503), status(204)]);
    const waits: number[] = [];
    const sink = webhookSink({
      url,
      timeoutMs: 2000,
      retries: 3,
      retryDelayMs: 250,
      bearerToken: 'secret-token',
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await sink.write(checkpoint);
    expect(bodies).toEqual([
      { auth: 'Bearer secret-token', body: checkpoint },
      { auth: 'Bearer secret-token', body: checkpoint },
    ]);
    expect(waits).toEqual([250]);
  });

  it('webhook: a 400 is final; a silent endpoint times out per attempt and is retried', async () => {
    const refusing = await server([status(400), status(204)]);
    const noWait = { sleep: async () => {} };
    await expect(
      webhookSink({ url: refusing.url, timeoutMs: 2000, retries: 3, retryDelayMs: 1, ...noWait }).write(
        checkpoint,
      ),
    ).rejects.toThrow(`webhook ${refusing.url} answered 400`);
    expect(refusing.bodies).toHaveLength(1);

    // First request never answered: aborted after timeoutMs, the retry is stored.
    const silent = await server([() => {}, status(200)]);
    await webhookSink({ url: silent.url, timeoutMs: 200, retries: 1, retryDelayMs: 1, ...noWait }).write(
      checkpoint,
    );
    expect(silent.bodies).toHaveLength(2);
  });

  const MQTT_URL = process.env['MQTT_URL'];
  it.skipIf(!MQTT_URL)('mqtt: retained, so a later subscriber receives the checkpoint', async () => {
    const topic = `test/scope-energie-${randomUUID()}/audit/checkpoint`;
    const publisher = await mqtt.connectAsync(MQTT_URL as string);
    try {
      const sink = mqttSink(topic, async (name, payload, options) => {
        await publisher.publishAsync(name, payload, options);
        return 'sent';
      });
      await sink.write(checkpoint);
      const subscriber = await mqtt.connectAsync(MQTT_URL as string);
      try {
        const received = new Promise<{ retain: boolean; body: unknown }>((done) =>
          subscriber.on('message', (_t, payload, packet) =>
            done({ retain: packet.retain, body: JSON.parse(payload.toString()) }),
          ),
        );
        await subscriber.subscribeAsync(topic, { qos: 1 });
        expect(await received).toEqual({ retain: true, body: checkpoint });
      } finally {
        await subscriber.endAsync();
      }
      await expect(mqttSink(topic, async () => 'dropped').write(checkpoint)).rejects.toThrow(
        `mqtt ${topic}: dropped`,
      );
      await publisher.publishAsync(topic, '', { retain: true, qos: 1 });
    } finally {
      await publisher.endAsync();
    }
  });
});
