/**
 * Issue 15: a client that behaves like Home Assistant, against the whole service on the embedded
 * broker (demo lycée, a `gw-ha` gateway with the homeassistant adapter). Home Assistant connects
 * with a Will on `homeassistant/status`, subscribes to its discovery prefix and the entities'
 * topics, and sends its birth. It must see every entity with a valid discovery payload, keep them
 * available across a devices/ reload that adds and removes zones (the bridge's session is never
 * dropped: no `offline` on the availability topics), see the removed zone withdrawn, and a target
 * set from Home Assistant must become an audited override capped at the legal maximum.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { type CollectedMessage, connectRaw, parsePayload, waitFor } from '../helpers/mqtt-contract.js';
import { DOCUMENTED_KEYS, expandAbbreviations } from './home-assistant-keys.js';

const REPO = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
// Tuesday 1 December 2026, 10:00 in Strasbourg: a school day.
const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
const HA_LOGIN = { username: 'ha-tilleuls', password: 'demo-gateway-password' };
const PREFIX = 'sobriete/v1';
const DISCOVERY = `homeassistant/${DEMO_UAI}`;
const BIRTH = 'homeassistant/status';
const HA_STATUS = `${PREFIX}/${DEMO_UAI}/gateway/gw-ha/status`;

/** The demo devices with a Home Assistant gateway driving the listed zones. */
function devicesWithHa(zones: readonly string[]): string {
  const file = parse(readFileSync(REPO('devices/0670999X.yaml'), 'utf8')) as {
    gateways: Record<string, unknown>[];
    zones: { id: string; gateway: string }[];
  };
  const demo = file.gateways[0]!;
  file.gateways.push({
    id: 'gw-ha',
    username: HA_LOGIN.username,
    password_hash: demo['password_hash'],
    adapter: 'homeassistant',
  });
  for (const zone of file.zones) if (zones.includes(zone.id)) zone.gateway = 'gw-ha';
  return stringify(file);
}

const config = (topic: string, component: string, zone: string, key: string) =>
  topic === `${DISCOVERY}/${component}/scope-energie/${DEMO_UAI}_${zone}_${key}/config`;

describe('a Home Assistant client against the service (embedded broker)', () => {
  let service: RunningService;
  let dataDir: string;
  let devicesFile: string;
  let tokens: Record<string, string>;
  let haSession: Awaited<ReturnType<typeof connectRaw>>;
  /** Everything Home Assistant's one session receives, in order. */
  const ha = {
    messages: [] as CollectedMessage[],
    waitForMessage: (predicate: (m: CollectedMessage) => boolean, timeoutMs = 5_000) =>
      waitFor(() => ha.messages.find(predicate), { timeoutMs, what: 'a message for Home Assistant' }),
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scope-energie-ha-'));
    cpSync(REPO('devices'), join(dataDir, 'devices'), { recursive: true });
    devicesFile = join(dataDir, 'devices', `${DEMO_UAI}.yaml`);
    writeFileSync(devicesFile, devicesWithHa(['batiment-b-est', 'batiment-b-ouest']));
    service = await startService({
      config: configSchema.parse({
        server: { host: '127.0.0.1', port: 0 },
        storage: { data_dir: dataDir },
        mqtt: { embedded: { port: 0 } },
        paths: { devices_dir: join(dataDir, 'devices'), rules_dir: REPO('rules') },
        clients_file: join(dataDir, 'no-clients.yaml'),
        log: { level: 'silent' },
      }),
      logger: createLogger(process.env['HA_DEBUG'] ? 'info' : 'silent'),
      baseDir: dataDir,
      clock: CLOCK,
    });
    const credentials = await readFile(join(dataDir, 'initial-credentials.txt'), 'utf8');
    tokens = Object.fromEntries(
      [...credentials.matchAll(/^(demo-[a-z]+|admin)\s.*?(se_\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    // Home Assistant as it connects: Will on its birth topic, its subscriptions (discovery prefix,
    // then the topics the discovered entities name), its birth. An automation publishes the
    // gateway's status (docs/adapters.md, "Home Assistant").
    haSession = await connectRaw(service.mqttUrl, HA_LOGIN, {
      will: { topic: BIRTH, payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    haSession.on('message', (topic, raw, packet) => {
      ha.messages.push({ topic, payload: parsePayload(raw), retain: packet.retain, qos: packet.qos });
    });
    const granted = await haSession.subscribeAsync(
      [
        `${DISCOVERY}/#`,
        `${PREFIX}/bridge/status`,
        HA_STATUS,
        `${PREFIX}/${DEMO_UAI}/+/+/desired`,
        `${PREFIX}/${DEMO_UAI}/+/+/reported`,
      ],
      { qos: 1 },
    );
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1, 1]);
    await haSession.publishAsync(HA_STATUS, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
    await haSession.publishAsync(BIRTH, 'online', { qos: 1, retain: false });
    // Everything retained that Home Assistant reads at connect has arrived (both availability topics).
    await ha.waitForMessage((m) => m.topic === `${PREFIX}/bridge/status`, 10_000);
    await ha.waitForMessage((m) => m.topic === HA_STATUS, 10_000);
  });

  afterAll(async () => {
    await haSession?.endAsync(true);
    await service?.stop();
  });

  it('sees every entity of its school with a valid discovery payload, available on bridge and gateway', async () => {
    const zones = ['batiment-b-est', 'batiment-b-ouest'];
    const wanted = zones.flatMap((zone) => [
      ['climate', zone, 'heating'],
      ['sensor', zone, 'temperature'],
      ['light', zone, 'lighting'],
    ]);
    await waitFor(
      () => wanted.every(([c, z, k]) => ha.messages.some((m) => config(m.topic, c!, z!, k!) && m.payload)),
      { timeoutMs: 10_000 },
    );
    const configs = ha.messages.filter((m) => m.topic.endsWith('/config') && m.payload !== null);
    // Only its own school's entities, only the Home Assistant zones.
    expect(new Set(configs.map((m) => m.topic)).size).toBe(wanted.length);
    for (const message of configs) {
      const component = message.topic.split('/')[2] as keyof typeof DOCUMENTED_KEYS;
      const payload = expandAbbreviations(message.payload as Record<string, unknown>);
      for (const key of Object.keys(payload)) expect(DOCUMENTED_KEYS[component], key).toContain(key);
      for (const key of Object.keys(payload['device'] as object))
        expect(DOCUMENTED_KEYS.device).toContain(key);
      expect(payload['availability_mode']).toBe('all');
      expect((payload['availability'] as { topic: string }[]).map((a) => a.topic)).toEqual([
        `${PREFIX}/bridge/status`,
        HA_STATUS,
      ]);
      expect((payload['device'] as Record<string, string>)['name']).toMatch(/^Lycée des Tilleuls/);
      expect((payload['device'] as Record<string, string>)['configuration_url']).toBe(
        `${service.url}/tableau-de-bord/${DEMO_UAI}`,
      );
    }
    const climate = configs.find((m) => config(m.topic, 'climate', 'batiment-b-est', 'heating'))!
      .payload as Record<string, unknown>;
    expect([climate['min_temp'], climate['max_temp'], climate['temp_step']]).toEqual([5, 19, 0.5]);
    const sensor = configs.find((m) => config(m.topic, 'sensor', 'batiment-b-est', 'temperature'))!
      .payload as Record<string, unknown>;
    expect([sensor['device_class'], sensor['state_class'], sensor['unit_of_measurement']]).toEqual([
      'temperature',
      'measurement',
      '°C',
    ]);
  });

  it('keeps the entities available across a devices/ reload, withdraws the zone that left, announces the new one', async () => {
    const statusBefore = ha.messages.filter((m) => m.topic === `${PREFIX}/bridge/status`).length;
    const from = ha.messages.length;
    // batiment-b-ouest leaves Home Assistant (back to the native gateway), batiment-c joins.
    writeFileSync(devicesFile, devicesWithHa(['batiment-b-est', 'batiment-c']));
    const withdrawn = ['climate/heating', 'sensor/temperature', 'light/lighting'].map((ck) => {
      const [c, k] = ck.split('/');
      return (m: { topic: string; payload: unknown; retain: boolean }) =>
        config(m.topic, c!, 'batiment-b-ouest', k!) && m.payload === null;
    });
    await waitFor(() => withdrawn.every((w) => ha.messages.slice(from).some(w)), { timeoutMs: 15_000 });
    // The positive barrier: the new zone's entity, announced after the rights changed.
    await ha.waitForMessage(
      (m) => config(m.topic, 'climate', 'batiment-c', 'heating') && m.payload !== null,
      15_000,
    );
    const since = ha.messages.slice(from);
    // Never offline: neither the bridge's status nor the gateway's moved (no reconnect re-published them).
    const availability = since.filter((m) => m.topic === `${PREFIX}/bridge/status` || m.topic === HA_STATUS);
    expect(availability).toEqual([]);
    expect(ha.messages.filter((m) => m.topic === `${PREFIX}/bridge/status`)).toHaveLength(statusBefore);
    expect(
      ha.messages
        .filter((m) => m.topic === `${PREFIX}/bridge/status`)
        .every((m) => (m.payload as { state: string }).state === 'online'),
    ).toBe(true);
    // The kept zone was not touched; the withdrawals came before the new zone's announcement.
    expect(since.some((m) => m.topic.includes('_batiment-b-est_'))).toBe(false);
    const lastWithdrawal = Math.max(...withdrawn.map((w) => since.findIndex(w)));
    const announcement = since.findIndex((m) => config(m.topic, 'climate', 'batiment-c', 'heating'));
    expect(lastWithdrawal).toBeLessThan(announcement);
  });

  it('turns a target set from Home Assistant into an audited override capped at the legal maximum', async () => {
    const topic = `${DISCOVERY}/climate/scope-energie/${DEMO_UAI}_batiment-b-est_heating/temperature_set`;
    const desired = `${PREFIX}/${DEMO_UAI}/batiment-b-est/heating/desired`;
    const from = ha.messages.length;
    await haSession.publishAsync(topic, '25', { qos: 1, retain: false });
    const state = await ha.waitForMessage(
      (m) => m.topic === desired && (m.payload as { reason?: { kind?: string } }).reason?.kind === 'override',
      10_000,
    );
    expect(ha.messages.indexOf(state)).toBeGreaterThanOrEqual(from);
    expect((state.payload as { mode: string; setpoint_c: number }).setpoint_c).toBe(19);
    const manager = tokens['demo-manager']!;
    const { overrides: list } = (await (
      await fetch(`${service.url}/api/overrides?uai=${DEMO_UAI}&active=true`, {
        headers: { Authorization: `Bearer ${manager}` },
      })
    ).json()) as {
      overrides: { author: string; setpoint_c: number; reason: string; requested: unknown; zone: string }[];
    };
    const mine = list.find((o) => o.zone === 'batiment-b-est');
    expect(mine).toMatchObject({
      author: `Home Assistant (${DEMO_UAI}/gw-ha)`,
      setpoint_c: 19,
      requested: { next_change: true },
    });
    expect(mine?.reason).toContain('25 °C');
    // The audit log names Home Assistant as the actor.
    await waitFor(
      async () => {
        const { entries } = (await (
          await fetch(`${service.url}/api/audit?uai=${DEMO_UAI}&kind=override`, {
            headers: { Authorization: `Bearer ${manager}` },
          })
        ).json()) as { entries: { actor: string }[] };
        return entries.some((e) => e.actor === `Home Assistant (${DEMO_UAI}/gw-ha)`);
      },
      { timeoutMs: 10_000 },
    );
  });

  it('answers an unreadable command by publishing the state again (the entity snaps back)', async () => {
    const topic = `${DISCOVERY}/climate/scope-energie/${DEMO_UAI}_batiment-c_heating/preset_set`;
    const desired = `${PREFIX}/${DEMO_UAI}/batiment-c/heating/desired`;
    const from = ha.messages.length;
    await haSession.publishAsync(topic, 'turbo', { qos: 1, retain: false });
    const again = await ha.waitForMessage(
      (m) => m.topic === desired && ha.messages.indexOf(m) >= from,
      10_000,
    );
    expect((again.payload as { reason: { kind: string } }).reason.kind).not.toBe('override');
  });
});
