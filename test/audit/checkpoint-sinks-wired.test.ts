/**
 * The checkpoint sinks as the running service builds them (createAnchoring from the `audit`
 * configuration, as src/service.ts does): one checkpoint reaches the directory, a webhook on a
 * local HTTP server and a retained topic on a broker (the embedded aedes with a login of its own,
 * and the machine's Mosquitto when MQTT_URL is set), where a subscriber connecting afterwards
 * reads it.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnchoring } from '../../src/audit/audit-anchoring.js';
import { checkpointSignatureHolds } from '../../src/audit/checkpoint.js';
import { hashSecret } from '../../src/auth/secrets.js';
import { configSchema } from '../../src/config/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { openStore, type Store } from '../../src/store/store.js';

const SINK_LOGIN = { username: 'audit-checkpoints', password: 'checkpoint-sink-password' };
const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));

let store: Store;
let broker: EmbeddedBroker;
const received: { auth: string | undefined; body: unknown }[] = [];
const webhook = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk) => {
    text += chunk;
  });
  req.on('end', () => {
    received.push({ auth: req.headers.authorization, body: JSON.parse(text) });
    res.writeHead(204).end();
  });
});

beforeAll(async () => {
  store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'scope-energie-sinks-wired-')) });
  await store.audit.append([
    { at: clock.now(), kind: 'config', uai: null, zone: null, actor: 'system', detail: { applied: true } },
  ]);
  await new Promise<void>((done) => webhook.listen(0, '127.0.0.1', done));
});

afterAll(async () => {
  await new Promise((done) => webhook.close(done));
  await broker?.close();
  await store?.close();
});

/** Connects after the checkpoint: only a retained message can reach it. */
async function retainedOn(
  url: string,
  topic: string,
  login: object,
): Promise<{ retain: boolean; body: unknown }> {
  const subscriber = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...login });
  try {
    const message = new Promise<{ retain: boolean; body: unknown }>((done) =>
      subscriber.on('message', (_t, payload, packet) =>
        done({ retain: packet.retain, body: JSON.parse(payload.toString()) }),
      ),
    );
    await subscriber.subscribeAsync(topic, { qos: 1 });
    return await message;
  } finally {
    await subscriber.endAsync();
  }
}

async function anchoringWith(mqttConfig: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-sinks-wired-data-'));
  const config = configSchema.parse({
    audit: {
      checkpoint_interval_s: 0,
      webhook: {
        url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/checkpoints`,
        bearer_token_env: 'TEST_AUDIT_WEBHOOK_TOKEN',
      },
      mqtt: mqttConfig,
    },
  });
  const anchoring = createAnchoring({
    config: config.audit,
    paths: { baseDir: dataDir, dataDir },
    env: { TEST_AUDIT_WEBHOOK_TOKEN: 'webhook-token', ...env },
    audit: store.audit,
    clock,
    logger: createLogger('silent'),
  });
  return { anchoring, dataDir };
}

describe('checkpoint sinks wired from the configuration', () => {
  it('embedded aedes with a login: directory, webhook and retained topic all get the checkpoint', async () => {
    const topic = `region/audit/${randomUUID()}/checkpoint`;
    broker = await startEmbeddedBroker({
      port: 0,
      bridgeCredentials: {
        username: SINK_LOGIN.username,
        passwordHash: hashSecret(SINK_LOGIN.password),
        extraAcl: { publish: [topic], subscribe: [topic] },
      },
      gateways: [],
    });
    const { anchoring, dataDir } = await anchoringWith(
      { url: broker.url, topic, username: SINK_LOGIN.username, password_env: 'TEST_AUDIT_MQTT_PASSWORD' },
      { TEST_AUDIT_MQTT_PASSWORD: SINK_LOGIN.password },
    );
    received.length = 0;
    const { checkpoint, sinks } = await anchoring.checkpointer.checkpoint();
    expect(checkpoint).toMatchObject({ seq: 1, at: '2026-12-01T10:00:00.000Z' });
    expect(checkpointSignatureHolds(checkpoint, createPublicKey(anchoring.checkpointer.publicKeyPem))).toBe(
      true,
    );
    const port = (webhook.address() as AddressInfo).port;
    expect(sinks).toEqual([
      { sink: `directory:${join(dataDir, 'audit-checkpoints')}`, ok: true },
      { sink: `webhook:http://127.0.0.1:${port}/checkpoints`, ok: true },
      { sink: `mqtt:mqtt://127.0.0.1:${broker.port}/${topic}`, ok: true },
    ]);
    expect(readdirSync(join(dataDir, 'audit-checkpoints'))).toEqual([
      'audit-checkpoint-000000000001-2026-12-01T100000000Z.json',
    ]);
    expect(received).toEqual([{ auth: 'Bearer webhook-token', body: checkpoint }]);
    expect(await retainedOn(broker.url, topic, SINK_LOGIN)).toEqual({ retain: true, body: checkpoint });
  });

  it('a wrong broker password: that sink fails and says so, the others keep the checkpoint', async () => {
    const { anchoring } = await anchoringWith(
      { url: broker.url, topic: 'region/audit/refused', username: SINK_LOGIN.username, password_env: 'P' },
      { P: 'not-the-password' },
    );
    const { sinks } = await anchoring.checkpointer.checkpoint();
    expect(sinks.map((s) => s.ok)).toEqual([true, true, false]);
    expect(sinks[2]?.error).toMatch(/Bad username or password|Not authorized/i);
  });

  it('a password_env that is not set is refused when the sinks are built, naming the field', async () => {
    await expect(
      anchoringWith({ url: 'mqtt://127.0.0.1:1', password_env: 'TEST_UNSET_AUDIT_PASSWORD' }, {}),
    ).rejects.toThrow(/audit\.mqtt\.password_env names TEST_UNSET_AUDIT_PASSWORD/);
  });

  const MQTT_URL = process.env['MQTT_URL'];
  it.skipIf(!MQTT_URL)(
    'Mosquitto (MQTT_URL): the checkpoint is retained for a later subscriber',
    async () => {
      const topic = `test/scope-energie-${randomUUID()}/audit/checkpoint`;
      const { anchoring } = await anchoringWith({ url: MQTT_URL, topic }, {});
      const { checkpoint, sinks } = await anchoring.checkpointer.checkpoint();
      expect(sinks.every((s) => s.ok)).toBe(true);
      expect(await retainedOn(MQTT_URL as string, topic, {})).toEqual({ retain: true, body: checkpoint });
      const cleaner = await mqtt.connectAsync(MQTT_URL as string);
      await cleaner.publishAsync(topic, '', { retain: true, qos: 1 });
      await cleaner.endAsync();
    },
  );
});
