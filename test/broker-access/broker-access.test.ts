/**
 * The service part: provisioning at start and on every devices/ reload (SiteHolder), visible in
 * /metrics, on a test-owned Mosquitto.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/app/metrics.js';
import { hashSecret } from '../../src/auth/secrets.js';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { type BrokerAccess, startBrokerAccess } from '../../src/broker-access/broker-access.js';
import { configSchema } from '../../src/config/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import {
  type DynsecMosquitto,
  mosquittoSkipReason,
  startDynsecMosquitto,
} from '../helpers/mosquitto-dynsec.js';
import { connectOutcome, waitFor } from '../helpers/mqtt-contract.js';

const UAI = '0670080Y';
const skip = mosquittoSkipReason();

const devices = (gateways: string[]) =>
  `school:\n  uai: "${UAI}"\n  name: Lycée\ngateways:\n${gateways
    .map((g) => `  - id: ${g}\n    username: ${g}\n    password_hash: "${hashSecret(`${g}-password`)}"\n`)
    .join('')}zones: []\n`;

describe.skipIf(skip !== null)(`broker access in the service${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: DynsecMosquitto;
  let dir: string;
  let site: SiteHolder;
  let access: BrokerAccess | null;
  const audit: AuditEvent[] = [];

  beforeAll(async () => {
    server = await startDynsecMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'scope-broker-access-'));
    await mkdir(join(dir, 'devices'));
    await writeFile(join(dir, 'devices', `${UAI}.yaml`), devices(['gw-1']));
    site = new SiteHolder({ devicesDir: join(dir, 'devices'), rulesDir: resolve('rules') });
    const config = configSchema.parse({
      mqtt: {
        url: server.url,
        username: 'bridge',
        password_env: 'TEST_BRIDGE_PASSWORD',
        provisioning: {
          broker: 'mosquitto',
          admin_username: server.admin.username,
          admin_password_env: 'TEST_ADMIN_PASSWORD',
        },
      },
    });
    access = await startBrokerAccess({
      config,
      baseDir: dir,
      env: { TEST_BRIDGE_PASSWORD: 'bridge-password', TEST_ADMIN_PASSWORD: server.admin.password },
      site,
      store: {} as Store, // Mosquitto provisioning keeps nothing in the store.
      clock: new ManualClock(Date.parse('2026-12-03T08:00:00Z')),
      logger: pino({ level: 'silent' }),
      version: 'test',
      audit: (events) => audit.push(...events),
    });
  }, 30_000);
  afterAll(async () => {
    access?.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("provisions at start: the bridge's login works, a gateway without an issued password is reported", async () => {
    expect(await connectOutcome(server.url, { username: 'bridge', password: 'bridge-password' })).toBe(0);
    expect(access?.stats()).toMatchObject({
      broker: 'mosquitto',
      runs: { ok: 1, failed: 0 },
      last: { ok: true, logins: 2, needsCredentials: 1, conflicts: 0 },
    });
    const metrics = createMetrics();
    metrics.setSources({ brokerAccess: () => access!.stats() });
    const text = await metrics.registry.metrics();
    expect(text).toContain('scope_energie_broker_provisioning_runs{broker="mosquitto",outcome="ok"} 1');
    expect(text).toContain(
      'scope_energie_broker_provisioning_last{broker="mosquitto",value="needs_credentials"} 1',
    );
    expect(audit.map((e) => e.detail['reason'])).toEqual(['start']);
  });

  it('follows a devices/ reload: a removed gateway is disabled, an added one created', async () => {
    await writeFile(join(dir, 'devices', `${UAI}.yaml`), devices(['gw-2']));
    site.reload();
    await waitFor(() => access!.stats().runs.ok === 2, { what: 'a second run' });
    expect(audit.at(-1)?.detail).toMatchObject({
      reason: 'devices reloaded',
      changes: { clients_created: ['gw-2'], clients_disabled: ['gw-1'] },
      needs_credentials: ['gw-2'],
    });
    expect(await connectOutcome(server.url, { username: 'bridge', password: 'bridge-password' })).toBe(0);
  });
});
