/**
 * The EMQX views on PostgreSQL: for a devices/ set, `emqx_authn` answers what EMQX's PostgreSQL
 * authenticator asks (password_hash, salt: PBKDF2-SHA256 of the issued password) and `emqx_acl`
 * the contract's rules per username, with the queries docs/mqtt.md gives EMQX.
 */
import { pbkdf2Sync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { emqxRows, syncEmqxRows } from '../../src/broker-access/emqx-access.js';
import { pbkdf2Hash } from '../../src/broker-access/issue-credentials.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { loadSite, type Site } from '../../src/site/load-site.js';
import type { Store } from '../../src/store/store.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const postgres = (await storeBackends()).find((b) => b.name === 'postgres');
const UAI = '0670080Y';
const topics = new MqttTopics('sobriete/v1');

describe.skipIf(!postgres)('EMQX views on PostgreSQL', () => {
  let backend: StoreBackend;
  let store: Store;
  let dir: string;
  let site: Site;

  beforeAll(async () => {
    backend = postgres!;
    store = await backend.open();
    dir = await mkdtemp(join(tmpdir(), 'scope-emqx-'));
    await mkdir(join(dir, 'devices'));
    const gateway = (id: string, username: string, password: string, extra = '') =>
      `  - id: ${id}\n    username: ${username}\n    password_hash: "${hashSecret(password)}"\n${extra}`;
    await writeFile(
      join(dir, 'devices', `${UAI}.yaml`),
      `school:\n  uai: "${UAI}"\n  name: Lycée\ngateways:\n${[
        gateway(
          'gw-1',
          'gw-1',
          'gw-1-password',
          `    emqx_password_hash: "${pbkdf2Hash('gw-1-password', 4096)}"\n`,
        ),
        // Rotated, its previous login still valid (2099) / another whose previous lapsed (2020).
        gateway(
          'gw-2',
          'gw-2.r2',
          'gw-2-new',
          `    emqx_password_hash: "${pbkdf2Hash('gw-2-new', 4096)}"\n    previous:\n      username: gw-2\n      password_hash: "${hashSecret('gw-2-old')}"\n      emqx_password_hash: "${pbkdf2Hash('gw-2-old', 4096)}"\n      valid_until: "2099-01-01T00:00:00Z"\n`,
        ),
        gateway(
          'gw-3',
          'gw-3.r2',
          'gw-3-new',
          `    emqx_password_hash: "${pbkdf2Hash('gw-3-new', 4096)}"\n    previous:\n      username: gw-3\n      password_hash: "${hashSecret('gw-3-old')}"\n      emqx_password_hash: "${pbkdf2Hash('gw-3-old', 4096)}"\n      valid_until: "2020-01-01T00:00:00Z"\n`,
        ),
        // Hashed by hand for the embedded broker only: no EMQX login until credentials are issued.
        gateway('gw-4', 'gw-4', 'gw-4-password'),
      ].join('')}zones: []\n`,
    );
    site = loadSite({ devicesDir: join(dir, 'devices'), rulesDir: resolve('rules') });
  });
  afterAll(async () => {
    await backend?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers EMQX authentication with the PBKDF2 hash of valid credentials only', async () => {
    const rows = emqxRows(site, { topics, version: 'test', bridgeUsername: 'scope-energie-bridge' });
    expect(rows.needsCredentials).toEqual(['gw-4']);
    expect(await syncEmqxRows(store, rows)).toMatchObject({ changed: true, needsCredentials: ['gw-4'] });

    const authn = await sql<{ username: string; password_hash: string; salt: string; is_superuser: boolean }>`
      select username, password_hash, salt, is_superuser from emqx_authn order by username`.execute(store.db);
    expect(authn.rows.map((r) => [r.username, r.is_superuser])).toEqual([
      ['gw-1', false],
      ['gw-2', false],
      ['gw-2.r2', false],
      ['gw-3.r2', false],
    ]);
    // What EMQX computes with password_hash_algorithm {name = pbkdf2, mac_fun = sha256, iterations = 4096, dk_length = 32}.
    const check = (username: string, password: string) => {
      const row = authn.rows.find((r) => r.username === username)!;
      return pbkdf2Sync(password, row.salt, 4096, 32, 'sha256').toString('hex') === row.password_hash;
    };
    expect([check('gw-1', 'gw-1-password'), check('gw-2', 'gw-2-old'), check('gw-2.r2', 'gw-2-new')]).toEqual(
      [true, true, true],
    );
    expect(check('gw-1', 'wrong')).toBe(false);
  });

  it('answers EMQX authorisation with the contract rules, denials first', async () => {
    const acl = await sql<{ permission: string; action: string; topic: string }>`
      select permission, action, topic from emqx_acl where username = ${'gw-1'}
      order by priority desc, action, topic`.execute(store.db);
    expect(acl.rows).toEqual([
      { permission: 'deny', action: 'publish', topic: `sobriete/v1/${UAI}/gateway/+/reported` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/+/heating/reported` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/+/lighting/reported` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/+/ventilation/reported` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/gateway/gw-1/status` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/meter/+/reported` },
      { permission: 'allow', action: 'publish', topic: `sobriete/v1/${UAI}/outdoor/reported` },
      { permission: 'allow', action: 'subscribe', topic: `sobriete/v1/${UAI}/+/+/desired` },
      { permission: 'allow', action: 'subscribe', topic: `sobriete/v1/${UAI}/+/+/schedule` },
    ]);
    const lapsed = await sql`select * from emqx_acl where username = ${'gw-3'}`.execute(store.db);
    expect(lapsed.rows).toEqual([]);
    const bridge = await sql<{ permission: string; action: string; topic: string }>`
      select permission, action, topic from emqx_acl where username = ${'scope-energie-bridge'}
      and action = 'subscribe'`.execute(store.db);
    expect(bridge.rows).toEqual([{ permission: 'allow', action: 'subscribe', topic: 'sobriete/v1/#' }]);
  });

  it('writes nothing when devices/ did not change', async () => {
    const rows = emqxRows(site, { topics, version: 'test', bridgeUsername: 'scope-energie-bridge' });
    expect(await syncEmqxRows(store, rows)).toMatchObject({ changed: false });
  });
});
