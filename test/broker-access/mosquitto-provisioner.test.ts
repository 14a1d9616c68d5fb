/**
 * Reconciliation against a real Mosquitto with dynamic security: idempotent (nothing sent when
 * nothing changed), never touching what it does not manage, reporting the logins whose password
 * only `gateway credentials` can set, audited when it changes something.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { DynsecClient } from '../../src/broker-access/dynsec-client.js';
import { MosquittoProvisioner } from '../../src/broker-access/mosquitto-provisioner.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { loadSite } from '../../src/site/load-site.js';
import {
  type DynsecMosquitto,
  mosquittoSkipReason,
  startDynsecMosquitto,
} from '../helpers/mosquitto-dynsec.js';
import { connectOutcome } from '../helpers/mqtt-contract.js';

const UAI = '0670080Y';
const skip = mosquittoSkipReason();

function devicesYaml(gateways: { id: string; username: string; hash: string; previous?: string }[]): string {
  return `school:\n  uai: "${UAI}"\n  name: Lycée\ngateways:\n${gateways
    .map(
      (g) =>
        `  - id: ${g.id}\n    username: ${g.username}\n    password_hash: "${g.hash}"\n${g.previous ?? ''}`,
    )
    .join('')}zones: []\n`;
}

describe.skipIf(skip !== null)(`Mosquitto provisioning${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: DynsecMosquitto;
  let dir: string;
  const clock = new ManualClock(Date.parse('2026-12-03T08:00:00Z'));
  const audit: AuditEvent[] = [];
  let provisioner: MosquittoProvisioner;
  const admin = () =>
    DynsecClient.connect({
      url: server.url,
      username: server.admin.username,
      password: server.admin.password,
    });
  const site = async (yaml: string) => {
    await writeFile(join(dir, 'devices', `${UAI}.yaml`), yaml);
    return loadSite({ devicesDir: join(dir, 'devices'), rulesDir: resolve('rules') });
  };
  const hash1 = hashSecret('gw-1-password');

  beforeAll(async () => {
    server = await startDynsecMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'scope-provisioning-'));
    await mkdir(join(dir, 'devices'));
    provisioner = new MosquittoProvisioner({
      connect: admin,
      topics: new MqttTopics('sobriete/v1'),
      version: 'test',
      clock,
      logger: pino({ level: 'silent' }),
      audit: (events) => audit.push(...events),
    });
    // Someone else's client and role on the same broker.
    const client = await admin();
    await client.execute([
      {
        command: 'createRole',
        rolename: 'ops',
        acls: [{ acltype: 'subscribePattern', topic: '#', allow: true }],
      },
      { command: 'createClient', username: 'ops-tool', password: 'ops', roles: [{ rolename: 'ops' }] },
    ]);
    await client.close();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('provisions once, then sends nothing when nothing changed', async () => {
    const current = await site(devicesYaml([{ id: 'gw-1', username: 'gw-1', hash: hash1 }]));
    const first = await provisioner.reconcile(() => current, {
      reason: 'start',
      passwords: new Map([['gw-1', 'gw-1-password']]),
    });
    expect(first).toMatchObject({ ok: true, needsCredentials: [], conflicts: [], failed: [] });
    expect(first.changes.clients_created).toEqual(['gw-1']);
    expect(first.changes.roles_created.sort()).toEqual([
      'scope-energie-bridge',
      `scope-energie-gateway-${UAI}-gw-1`,
      `scope-energie-school-${UAI}`,
    ]);
    expect(first.messages).toBe(1);
    expect(await connectOutcome(server.url, { username: 'gw-1', password: 'gw-1-password' })).toBe(0);

    const second = await provisioner.reconcile(() => current, { reason: 'reload' });
    expect(second).toMatchObject({ ok: true, commands: 0, messages: 0, needsCredentials: [] });
    expect(audit.map((e) => [e.kind, e.actor, e.detail['reason']])).toEqual([
      ['config', 'broker-provisioning', 'start'],
    ]);
  });

  it('leaves clients and roles it does not manage alone, and names a username it cannot take', async () => {
    const current = await site(
      devicesYaml([
        { id: 'gw-1', username: 'gw-1', hash: hash1 },
        { id: 'gw-2', username: 'ops-tool', hash: hashSecret('x') },
      ]),
    );
    const report = await provisioner.reconcile(() => current, { reason: 'reload' });
    expect(report.conflicts).toEqual([
      {
        kind: 'client',
        name: 'ops-tool',
        reason: 'a client with that username exists and is not managed by scope-energie',
      },
    ]);
    const client = await admin();
    const [ops, role] = await client.execute([
      { command: 'getClient', username: 'ops-tool' },
      { command: 'getRole', rolename: 'ops' },
    ]);
    await client.close();
    expect(ops?.data).toMatchObject({ client: { username: 'ops-tool', roles: [{ rolename: 'ops' }] } });
    expect((ops?.data as { client?: { disabled?: boolean } } | undefined)?.client?.disabled).toBeUndefined();
    expect(role?.data).toMatchObject({ role: { rolename: 'ops', acls: [{ topic: '#' }] } });
    expect(await connectOutcome(server.url, { username: 'ops-tool', password: 'ops' })).toBe(0);
  });

  it('reports a hand-edited hash as needing credentials, and disables a removed gateway', async () => {
    const edited = await site(devicesYaml([{ id: 'gw-1', username: 'gw-1', hash: hashSecret('other') }]));
    const report = await provisioner.reconcile(() => edited, { reason: 'reload' });
    expect(report).toMatchObject({ ok: true, needsCredentials: ['gw-1'] });
    // Nothing sent for gw-1 (its broker password cannot be fixed from a hash); only the role of
    // the gateway that left with the previous case goes.
    expect(report.changes).toMatchObject({
      clients_updated: [],
      passwords_set: [],
      roles_deleted: [`scope-energie-gateway-${UAI}-gw-2`],
    });

    const removed = await site(devicesYaml([{ id: 'gw-3', username: 'gw-3', hash: hashSecret('three') }]));
    const after = await provisioner.reconcile(() => removed, { reason: 'reload' });
    expect(after.changes.clients_disabled).toEqual(['gw-1']);
    expect(after.changes.roles_deleted).toEqual([`scope-energie-gateway-${UAI}-gw-1`]);
    // gw-3 was never issued a password through the service: created without one, refused.
    expect(after.needsCredentials).toEqual(['gw-3']);
    expect(await connectOutcome(server.url, { username: 'gw-1', password: 'gw-1-password' })).not.toBe(0);
    expect(await connectOutcome(server.url, { username: 'gw-3', password: 'three' })).not.toBe(0);
  });

  it('keeps a rotated credential until valid_until, then disables it', async () => {
    const hashNew = hashSecret('gw-3-new');
    const rotated = await site(
      devicesYaml([
        {
          id: 'gw-3',
          username: 'gw-3.r2',
          hash: hashNew,
          previous: `    previous:\n      username: gw-3\n      password_hash: "${hashSecret('three')}"\n      valid_until: "2026-12-03T09:00:00Z"\n`,
        },
      ]),
    );
    const report = await provisioner.reconcile(() => rotated, {
      reason: 'credentials',
      passwords: new Map([
        ['gw-3.r2', 'gw-3-new'],
        ['gw-3', 'three'],
      ]),
    });
    expect(report).toMatchObject({ ok: true, needsCredentials: [] });
    expect(await connectOutcome(server.url, { username: 'gw-3', password: 'three' })).toBe(0);
    expect(await connectOutcome(server.url, { username: 'gw-3.r2', password: 'gw-3-new' })).toBe(0);
    clock.set('2026-12-03T09:00:00Z');
    const lapsed = await provisioner.reconcile(() => rotated, { reason: 'lapse' });
    expect(lapsed.changes.clients_disabled).toEqual(['gw-3']);
    expect(await connectOutcome(server.url, { username: 'gw-3', password: 'three' })).not.toBe(0);
    expect(await connectOutcome(server.url, { username: 'gw-3.r2', password: 'gw-3-new' })).toBe(0);
  });
});
