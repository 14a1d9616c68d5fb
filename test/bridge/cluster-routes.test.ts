/**
 * `GET /api/cluster` through `app.request()`: the real Authenticator and bearer check, real
 * SchoolLeases on a real store of every backend.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { type ClusterBody, clusterRoutes } from '../../src/bridge/cluster-routes.js';
import { SchoolLeases } from '../../src/cluster/school-leases.js';
import type { Store } from '../../src/store/store.js';
import { makeClients } from '../helpers/clients.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { elapse } from '../helpers/wait.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();

const MINE = '0670080Y';
const ALSO_MINE = '0750654D';
const NOT_MINE = '0670999X';

describe.each(backends)('GET /api/cluster on $name', (backend) => {
  const clients = makeClients([
    { id: 'manager', role: 'manager', uais: [MINE, ALSO_MINE] },
    { id: 'auditor', role: 'auditor', uais: [ALSO_MINE] },
    { id: 'admin', role: 'admin' },
    { id: 'editor', role: 'editor', uais: [MINE] },
    { id: 'consumer', role: 'consumer', purpose: 'sobriete-energetique', uais: ['*'] },
  ]);
  let store: Store;
  let leases: SchoolLeases;
  let app: Hono<AuthEnv>;

  beforeAll(async () => {
    store = await backend.open();
    // A departed instance: its heartbeat has run out.
    await store.leases.heartbeat('bridge-gone', 1);
    // Past its expiry on any clock resolution before bridge-1's heartbeat reads the time.
    await elapse(20, "bridge-gone's 1 ms TTL runs out on the database server's clock");
    leases = new SchoolLeases({
      repository: store.leases,
      instanceId: 'bridge-1',
      schools: () => [MINE, ALSO_MINE, NOT_MINE],
      takeoverMs: 60_000,
    });
    await leases.start();
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route('/', clusterRoutes({ leases, repository: store.leases }));
  });
  afterAll(async () => {
    await leases.stop();
    await backend.cleanup();
  });

  const get = (who?: string) =>
    app.request('/api/cluster', { headers: who === undefined ? {} : clients.bearer(who) });

  async function expected(uais: readonly string[]): Promise<ClusterBody> {
    const iso = (ms: number) => new Date(ms).toISOString();
    const instances = await store.leases.instances();
    const rows = await store.leases.leases();
    return {
      instance: 'bridge-1',
      instances: instances.map((i) => ({
        id: i.instanceId,
        started_at: iso(i.startedAt),
        heartbeat_at: iso(i.heartbeatAt),
        live: i.instanceId === 'bridge-1',
      })),
      leases: rows
        .filter((l) => uais.includes(l.uai))
        .map((l) => ({ uai: l.uai, owner: 'bridge-1', epoch: 1, expires_at: iso(l.expiresAt), live: true })),
    };
  }

  it('answers 401 without a token', async () => {
    const response = await get();
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: [
        {
          code: 'unauthorized',
          message: 'this endpoint needs an Authorization: Bearer <token> header',
          where: 'Authorization header',
        },
      ],
    });
  });

  it.each(['editor', 'consumer'])('answers 403 to a %s', async (who) => {
    const response = await get(who);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      errors: [
        {
          code: 'forbidden',
          message: `role ${who} may not use this endpoint (allowed: manager, auditor, admin)`,
          where: 'Authorization header',
        },
      ],
    });
  });

  it('shows a manager the instances and the leases of its own schools only', async () => {
    const response = await get('manager');
    expect(response.status).toBe(200);
    const body = (await response.json()) as ClusterBody;
    expect(body).toEqual(await expected([MINE, ALSO_MINE]));
    expect(body.leases.map((l) => l.uai)).toEqual([ALSO_MINE, MINE].sort());
    expect(body.instances.map((i) => [i.id, i.live])).toEqual([
      ['bridge-1', true],
      ['bridge-gone', false],
    ]);
  });

  it('shows an auditor its school, and an admin every school', async () => {
    expect(await (await get('auditor')).json()).toEqual(await expected([ALSO_MINE]));
    expect(await (await get('admin')).json()).toEqual(await expected([MINE, ALSO_MINE, NOT_MINE]));
  });
});
