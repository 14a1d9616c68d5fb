/**
 * Onboarding without restarts (issue 20): against a running service, a client added by
 * `scope-energie clients add` logs in as soon as the service has reloaded the file it wrote; the
 * admin API's client works at once; a client removed from the file loses its tokens at the next
 * request; a bad edit keeps the last valid clients and raises scope_energie_clients_file_refused.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientsReloadResult } from '../../src/auth/clients-holder.js';
import { configSchema } from '../../src/config/schema.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { cli, REPO_ROOT } from '../helpers/cli.js';
import { documentedFetch } from '../helpers/documented.js';

const CLOCK = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));

describe('clients onboarding on a running service', () => {
  let service: RunningService;
  let dataDir: string;
  let clientsFile: string;
  let admin: string;
  /** Kept from the first test for the revocation test. */
  let kleberSecret = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-onboarding-'));
    clientsFile = join(dataDir, 'clients.yaml');
    copyFileSync(join(REPO_ROOT, 'config/clients.example.yaml'), clientsFile);
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      storage: { data_dir: dataDir },
      mqtt: { embedded: { port: 0 } },
      paths: { devices_dir: join(REPO_ROOT, 'devices'), rules_dir: join(REPO_ROOT, 'rules') },
      clients_file: clientsFile,
      demo: { gateway: false },
      log: { level: 'silent' },
    });
    service = await startService({ config, logger: createLogger('silent'), baseDir: dataDir, clock: CLOCK });
    // The example's admin matches no token: a static admin token of our own, added by the CLI.
    const run = await cli(['clients', 'add', '--role', 'admin', '--id', 'ops', '--token', '--json'], {
      cwd: dataDir,
      env: { SCOPE_ENERGIE_CLIENTS_FILE: clientsFile },
    });
    expect(run.code).toBe(0);
    admin = JSON.parse(run.stdout).token;
  });

  afterAll(async () => {
    await service?.stop();
  });

  /** Resolves with the first reload `accept`s (file-watch reloads: no fixed wait). */
  const nextReload = (accept: (r: ClientsReloadResult) => boolean) =>
    new Promise<ClientsReloadResult>((resolve) => {
      const off = service.clients.onReload((result) => {
        if (accept(result)) {
          off();
          resolve(result);
        }
      });
    });
  const tokenFor = (id: string, secret: string) =>
    documentedFetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
    });
  const get = (path: string, token: string) =>
    documentedFetch(`${service.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });

  it('a manager added by the CLI works against the running service, for its schools only', async () => {
    const reloaded = nextReload((r) => r.ok && r.added.includes('kleber'));
    const run = await cli(
      ['clients', 'add', '--role', 'manager', '--uai', DEMO_UAI, '--name', 'Lycée Kléber', '--id', 'kleber'],
      { cwd: dataDir, env: { SCOPE_ENERGIE_CLIENTS_FILE: clientsFile } },
    );
    expect(run.code).toBe(0);
    const secret = /^secret: (\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(secret).toMatch(/^sec_/);
    kleberSecret = secret;
    expect(run.stdout).toContain(`client kleber (manager; UAI ${DEMO_UAI}) added to ${clientsFile}`);
    // The file keeps the example's comments, and only a hash of the secret.
    const text = readFileSync(clientsFile, 'utf8');
    expect(text).toContain('# Secrets and tokens are stored HASHED');
    expect(text).not.toContain(secret);
    await reloaded;

    const issued = await tokenFor('kleber', secret);
    expect(issued.status).toBe(200);
    const { access_token: token } = (await issued.json()) as { access_token: string };
    expect((await get(`/api/overrides?uai=${DEMO_UAI}`, token)).status).toBe(200);
    expect((await get('/api/overrides?uai=0670080Y', token)).status).toBe(404);
    expect((await get('/metrics', admin)).status).toBe(200);
  });

  it('the admin API creates a client that works at once; managers may not use it', async () => {
    const created = await documentedFetch(`${service.url}/api/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'manager', uais: [DEMO_UAI], name: 'Gestionnaire API', id: 'par-api' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: 'par-api', role: 'manager', uais: [DEMO_UAI], credential: 'secret' });
    // No reload to wait for: the route reloaded before answering.
    expect((await tokenFor('par-api', String(body['secret']))).status).toBe(200);

    const again = await documentedFetch(`${service.url}/api/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'manager', uais: [DEMO_UAI], id: 'par-api' }),
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('duplicate-client');

    const bad = await documentedFetch(`${service.url}/api/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'editor', uais: ['*'] }),
    });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({
      errors: [expect.objectContaining({ code: 'wildcard-refused', where: '$.uais' })],
    });

    const { access_token: manager } = (await (await tokenFor('par-api', String(body['secret']))).json()) as {
      access_token: string;
    };
    const refused = await documentedFetch(`${service.url}/api/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${manager}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'admin' }),
    });
    expect(refused.status).toBe(403);
  });

  it('a bad edit keeps the last valid clients (and says so on /metrics); removing a client revokes it at once', async () => {
    const issued = await tokenFor('kleber', kleberSecret);
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const valid = readFileSync(clientsFile, 'utf8');

    const refused = nextReload((r) => !r.ok);
    writeFileSync(clientsFile, `${valid}\n  - id: broken\n    role: manager\n    secret_hash: hunter2\n`);
    const result = await refused;
    expect(result.ok ? [] : result.problems.map((p) => p.code)).toContain('clear-text-secret');
    expect((await get(`/api/overrides?uai=${DEMO_UAI}`, token)).status).toBe(200);
    expect(await (await get('/metrics', admin)).text()).toMatch(/^scope_energie_clients_file_refused 1$/m);

    const removed = nextReload((r) => r.ok && r.removed.includes('kleber'));
    writeFileSync(
      clientsFile,
      valid.replace(
        /\n\n {2}# added by scope-energie clients add[^\n]*\n {2}- id: kleber\n(?: {4}[^\n]*\n)+/,
        '\n',
      ),
    );
    await removed;
    const after = await get(`/api/overrides?uai=${DEMO_UAI}`, token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain(
      'disabled, removed or has changed rights',
    );
    expect(await (await get('/metrics', admin)).text()).toMatch(/^scope_energie_clients_file_refused 0$/m);
  });
});
