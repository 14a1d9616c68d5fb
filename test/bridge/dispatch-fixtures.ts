/**
 * Shared pieces of the bridge dispatch tests: hand-built plans at known UTC instants (no planner:
 * the instants under test are written out, not computed by the code under test), brokers as
 * targets (a fresh embedded aedes, or the external one at MQTT_URL), and an in-memory feed.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashSecret } from '../../src/auth/secrets.js';
import type { SchoolPlan, ZonePlanEntry } from '../../src/bridge/school-plan.js';
import type { ZoneFunction } from '../../src/devices/schema.js';
import type { ExtraAcl } from '../../src/mqtt/acl.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import type { PlanMode, ReasonKind, Segment } from '../../src/rules/segment.js';
import { openStore, type Store } from '../../src/store/store.js';
import { externalBroker, type MqttCredentials, uniquePrefix } from '../helpers/mqtt-contract.js';

export const UAI = '0670999X';
export const OTHER_UAI = '0670080Y';

export function segment(
  fn: ZoneFunction,
  from: string,
  to: string,
  mode: PlanMode,
  options: {
    setpoint?: number;
    kind?: ReasonKind;
    rule?: string;
    lessons?: string[];
    gap_hours?: number;
  } = {},
): Segment {
  return {
    from: Date.parse(from),
    to: Date.parse(to),
    function: fn,
    mode,
    ...(options.setpoint === undefined ? {} : { setpoint_c: options.setpoint }),
    reason: {
      kind: options.kind ?? (mode === 'comfort' || mode === 'on' ? 'occupied' : 'short-gap'),
      rule: options.rule ?? `defaults.${fn}.${mode}`,
      basis: 'test basis',
      ...(options.lessons ? { lessons: options.lessons } : {}),
      ...(options.gap_hours === undefined ? {} : { gap_hours: options.gap_hours }),
    },
  };
}

/** Contiguous segments from a list of [from, mode, setpoint?] and a final end. */
export function timeline(
  fn: ZoneFunction,
  steps: readonly (readonly [string, PlanMode, number?])[],
  end: string,
): Segment[] {
  return steps.map(([from, mode, setpoint], index) =>
    segment(fn, from, steps[index + 1]?.[0] ?? end, mode, setpoint === undefined ? {} : { setpoint }),
  );
}

export function schoolPlan(uai: string, zones: readonly ZonePlanEntry[]): SchoolPlan {
  const all = zones.flatMap((z) => Object.values(z.functions).flat());
  const from = Math.min(...all.map((s) => s!.from));
  const to = Math.max(...all.map((s) => s!.to));
  return {
    uai,
    horizon: { from, to },
    rulesVersion: 'test',
    timetableVersion: 1,
    fallback: false,
    zones: [...zones],
    hash: createHash('sha256').update(JSON.stringify(zones)).digest('hex'),
  };
}

export interface BrokerTarget {
  name: 'aedes' | 'mosquitto';
  url: string;
  prefix: string;
  bridge: MqttCredentials;
  observer: MqttCredentials;
  gateway: MqttCredentials;
  restart?: () => Promise<void>;
  close(): Promise<void>;
}

const BRIDGE = { username: 'bridge', password: 'bridge-secret' };
const GATEWAY = { username: 'gw-tilleuls', password: 'gw-secret' };
let hashes: { bridge: string; gateway: string } | undefined;

export async function embeddedTarget(
  extraAcl: ExtraAcl = {},
  gatewayExtraAcl: ExtraAcl = {},
): Promise<BrokerTarget> {
  hashes ??= { bridge: hashSecret(BRIDGE.password), gateway: hashSecret(GATEWAY.password) };
  const prefix = uniquePrefix();
  const options = {
    prefix,
    bridgeCredentials: { username: BRIDGE.username, passwordHash: hashes.bridge, extraAcl },
    gateways: [
      {
        uai: UAI,
        gateway: 'gw-tilleuls',
        username: GATEWAY.username,
        passwordHash: hashes.gateway,
        extraAcl: gatewayExtraAcl,
      },
    ],
  };
  let broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, ...options });
  const port = broker.port;
  return {
    name: 'aedes',
    url: broker.url,
    prefix,
    bridge: BRIDGE,
    observer: BRIDGE,
    gateway: GATEWAY,
    restart: async () => {
      await broker.close();
      broker = await startEmbeddedBroker({ port, ...options });
    },
    close: () => broker.close(),
  };
}

export const external = externalBroker();

export async function mosquittoTarget(): Promise<BrokerTarget> {
  if (!('url' in external)) throw new Error(external.skipReason);
  return {
    name: 'mosquitto',
    url: external.url,
    prefix: uniquePrefix(),
    bridge: {},
    observer: {},
    gateway: {},
    close: async () => {},
  };
}

/** A SQLite store in a temporary directory; `reopen()` gives a new Store on the same file (a restart). */
export async function temporaryStore(): Promise<{
  store: Store;
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-bridge-'));
  const opened: Store[] = [await openStore({ dataDir: dir })];
  return {
    store: opened[0]!,
    async reopen() {
      const store = await openStore({ dataDir: dir });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Monday 2 March 2026 (CET, UTC+1): comfort 07:00–17:30 local = 06:00Z–16:30Z.
/** One zone's Monday and Tuesday, heating and lighting (`prefix` makes several distinct zones). */
export const mondayZone = (prefix = '') => ({
  zone: `${prefix}b-est`,
  name: 'Bâtiment B est',
  functions: {
    heating: timeline(
      'heating',
      [
        ['2026-03-01T23:00:00.000Z', 'eco', 16],
        ['2026-03-02T06:00:00.000Z', 'comfort', 19],
        ['2026-03-02T16:30:00.000Z', 'eco', 16],
        ['2026-03-03T06:00:00.000Z', 'comfort', 19],
        ['2026-03-03T16:30:00.000Z', 'eco', 16],
      ],
      '2026-03-05T23:00:00.000Z',
    ),
    lighting: timeline(
      'lighting',
      [
        ['2026-03-01T23:00:00.000Z', 'off'],
        ['2026-03-02T06:50:00.000Z', 'on'],
        ['2026-03-02T16:40:00.000Z', 'off'],
      ],
      '2026-03-05T23:00:00.000Z',
    ),
  },
});
