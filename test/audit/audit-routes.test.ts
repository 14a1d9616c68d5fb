import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnchoring } from '../../src/audit/audit-anchoring.js';
import { auditRoutes } from '../../src/audit/audit-routes.js';
import { type Checkpoint, checkpointSignatureHolds } from '../../src/audit/checkpoint.js';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { configSchema } from '../../src/config/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { openStore, type Store } from '../../src/store/store.js';
import { makeClients } from '../helpers/clients.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { tamper } from '../store/audit-tamper.js';

const A = '0670080Y';
const B = '0670999X';
const T0 = Date.parse('2026-11-30T07:00:00.000Z');

const clients = makeClients([
  { id: 'manager-a', role: 'manager', uais: [A] },
  { id: 'manager-all', role: 'manager', uais: ['*'] },
  { id: 'auditor-a', role: 'auditor', uais: [A] },
  { id: 'admin', role: 'admin' },
  { id: 'editor', role: 'editor', uais: [A] },
]);

let dir: string;
let store: Store;
let app: Hono<AuthEnv>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'scope-energie-audit-routes-'));
  store = await openStore({ dataDir: dir });
  await store.audit.append([
    { at: T0, kind: 'import', uai: A, actor: 'editor', detail: { version: 3, sha256: 'c'.repeat(64) } },
    { at: T0 + 1000, kind: 'config', actor: 'system', detail: { rules_version: '2026-11' } },
    {
      at: T0 + 2000,
      kind: 'override',
      uai: A,
      zone: 'aile-b',
      actor: 'manager-a',
      detail: { event: 'created', reason: 'Réunion parents-élèves' },
    },
    { at: T0 + 3000, kind: 'publish', uai: B, zone: 'gym', actor: 'bridge', detail: { rev: 4 } },
  ]);
  app = checkDocumentedResponses(new Hono<AuthEnv>());
  app.use('/api/*', requireAuth(clients.authenticator));
  app.route('/', auditRoutes({ audit: store.audit }));
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function seqs(client: string, query = ''): Promise<number[]> {
  const response = await app.request(`/api/audit${query}`, { headers: clients.bearer(client) });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { entries: { seq: number }[] };
  return body.entries.map((e) => e.seq);
}

describe('GET /api/audit', () => {
  it('shows each role its scope: managers their schools, auditors also hub-wide entries', async () => {
    expect(await seqs('admin')).toEqual([1, 2, 3, 4]);
    expect(await seqs('manager-a')).toEqual([1, 3]);
    expect(await seqs('manager-all')).toEqual([1, 3, 4]);
    expect(await seqs('auditor-a')).toEqual([1, 2, 3]);
  });

  it('filters by school, zone, kind and period', async () => {
    expect(await seqs('admin', `?uai=${B}`)).toEqual([4]);
    expect(await seqs('admin', '?zone=aile-b')).toEqual([3]);
    expect(await seqs('auditor-a', '?kind=config')).toEqual([2]);
    expect(await seqs('admin', '?from=2026-11-30T07:00:01Z&to=2026-11-30T08:00:03%2B01:00')).toEqual([2, 3]);
  });

  it('answers the entries in full as JSON', async () => {
    const response = await app.request(`/api/audit?kind=override`, { headers: clients.bearer('manager-a') });
    const body = (await response.json()) as { entries: unknown[] };
    const [stored] = await store.audit.list({ kind: 'override' });
    expect(body).toEqual({ entries: [stored] });
    expect(body.entries[0]).toMatchObject({
      seq: 3,
      at: '2026-11-30T07:00:02.000Z',
      detail: { event: 'created', reason: 'Réunion parents-élèves' },
    });
  });

  it('answers CSV with a BOM, ";" and the accents intact', async () => {
    const response = await app.request(`/api/audit?format=csv&kind=override`, {
      headers: clients.bearer('auditor-a'),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="audit.csv"');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [stored] = await store.audit.list({ kind: 'override' });
    // TextDecoder drops the BOM by default; ignoreBOM keeps it so the text can be compared whole.
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe(
      '\uFEFFseq;at;kind;uai;zone;actor;detail;prev_hash;hash\r\n' +
        `3;2026-11-30T07:00:02.000Z;override;${A};aile-b;manager-a;` +
        `"{""event"":""created"",""reason"":""Réunion parents-élèves""}";${stored!.prevHash};${stored!.hash}\r\n`,
    );
  });

  it('refuses other roles (403), hides schools outside the scope (404) and names bad parameters', async () => {
    const forbidden = await app.request('/api/audit', { headers: clients.bearer('editor') });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('forbidden');

    expect((await app.request('/api/audit')).status).toBe(401);

    const hidden = await app.request(`/api/audit?uai=${B}`, { headers: clients.bearer('manager-a') });
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual({
      errors: [{ code: 'not-found', message: `establishment ${B} not found`, where: 'uai (query)' }],
    });

    const bad = await app.request('/api/audit?kind=coffee&from=2026-11-30T07:00:00&format=xlsx', {
      headers: clients.bearer('admin'),
    });
    expect(bad.status).toBe(400);
    const { errors } = (await bad.json()) as { errors: { code: string; where: string }[] };
    expect(errors.map((e) => [e.code, e.where])).toEqual([
      ['bad-kind', 'kind (query)'],
      ['invalid-date', 'from'],
      ['bad-format', 'format (query)'],
    ]);

    const badUai = await app.request('/api/audit?uai=123', { headers: clients.bearer('admin') });
    expect(badUai.status).toBe(400);
    expect(((await badUai.json()) as { errors: { code: string; where: string }[] }).errors[0]).toMatchObject({
      code: 'bad-uai',
      where: 'uai (query)',
    });
  });
});

describe('anchoring routes (issue 21)', () => {
  async function anchored() {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'scope-energie-anchoring-routes-'));
    const own = await openStore({ dataDir });
    await own.audit.append([
      { at: T0, kind: 'import', uai: A, actor: 'editor', detail: { version: 1 } },
      {
        at: T0 + 1000,
        kind: 'override',
        uai: A,
        zone: 'aile-b',
        actor: 'manager-a',
        detail: { event: 'created' },
      },
    ]);
    const clock = new ManualClock(T0 + 60_000);
    const anchoring = createAnchoring({
      config: configSchema.parse({}).audit,
      paths: { baseDir: dataDir, dataDir },
      env: {},
      audit: own.audit,
      clock,
      logger: createLogger('silent'),
    });
    const routes = new Hono<AuthEnv>();
    routes.use('/api/*', requireAuth(clients.authenticator));
    routes.route(
      '/',
      auditRoutes({ audit: own.audit, monitor: anchoring.monitor, checkpointer: anchoring.checkpointer }),
    );
    return { dataDir, own, anchoring, routes };
  }

  it('signs a checkpoint on demand into the directory, serves it, the public key and a verification', async () => {
    const { dataDir, own, anchoring, routes } = await anchored();
    try {
      const none = await routes.request('/api/audit/checkpoints/latest', {
        headers: clients.bearer('auditor-a'),
      });
      expect(none.status).toBe(404);
      const made = await routes.request('/api/audit/checkpoints', {
        method: 'POST',
        headers: clients.bearer('auditor-a'),
      });
      expect(made.status).toBe(201);
      const { checkpoint, sinks } = (await made.json()) as { checkpoint: Checkpoint; sinks: unknown };
      const head = await own.audit.head();
      expect(checkpoint).toEqual({
        format: 'scope-energie/audit-checkpoint/v1',
        seq: 2,
        hash: head.hash,
        at: '2026-11-30T07:01:00.000Z',
        key_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        signature: expect.any(String),
      });
      expect(sinks).toEqual([{ sink: `directory:${path.join(dataDir, 'audit-checkpoints')}`, ok: true }]);
      const file = path.join(
        dataDir,
        'audit-checkpoints',
        'audit-checkpoint-000000000002-2026-11-30T070100000Z.json',
      );
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(checkpoint);

      const latest = await routes.request('/api/audit/checkpoints/latest', {
        headers: clients.bearer('admin'),
      });
      expect(await latest.json()).toEqual(checkpoint);

      const keyResponse = await routes.request('/api/audit/public-key', {
        headers: clients.bearer('editor'),
      });
      expect(keyResponse.status).toBe(200);
      const key = (await keyResponse.json()) as { algorithm: string; key_id: string; public_key_pem: string };
      expect(key).toMatchObject({ algorithm: 'Ed25519', key_id: checkpoint.key_id });
      expect(checkpointSignatureHolds(checkpoint, createPublicKey(key.public_key_pem))).toBe(true);

      const verified = await routes.request('/api/audit/verify', { headers: clients.bearer('auditor-a') });
      expect(verified.status).toBe(200);
      expect(await verified.json()).toEqual({
        ok: true,
        checked: 2,
        head,
        anchor: { seq: 2, hash: head.hash, source: 'checkpoint', at: checkpoint.at },
        scope: 'full',
        verifiedAt: '2026-11-30T07:01:00.000Z',
      });
      for (const [route, method] of [
        ['/api/audit/verify', 'GET'],
        ['/api/audit/checkpoints', 'POST'],
      ] as const) {
        const forbidden = await routes.request(route, { method, headers: clients.bearer('manager-a') });
        expect(forbidden.status).toBe(403);
      }
    } finally {
      anchoring.stop();
      await own.close();
    }
  });

  it('flags an altered entry in GET /api/audit and reports the break in /api/audit/verify', async () => {
    const { own, anchoring, routes } = await anchored();
    try {
      await tamper(own, sql`update audit_log set actor = 'someone-else' where seq = 1`);
      const verified = await routes.request('/api/audit/verify', { headers: clients.bearer('admin') });
      expect(await verified.json()).toMatchObject({
        ok: false,
        checked: 0,
        firstBad: { seq: 1, reason: 'hash-mismatch' },
      });
      const listed = await routes.request('/api/audit', { headers: clients.bearer('admin') });
      const body = (await listed.json()) as {
        entries: { seq: number; actor: string; tampered?: string }[];
        chain: unknown;
      };
      expect(body.entries.map((e) => [e.seq, e.actor, e.tampered])).toEqual([
        [1, 'someone-else', 'hash-mismatch'],
        [2, 'manager-a', undefined],
      ]);
      expect(body.chain).toMatchObject({ ok: false, firstBad: { seq: 1, reason: 'hash-mismatch' } });
    } finally {
      anchoring.stop();
      await own.close();
    }
  });
});
