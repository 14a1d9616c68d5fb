/**
 * The SORTIE client against a real HTTP server (hono on @hono/node-server, port 0) that this file
 * scripts: answers, failures, delays, 304, 401, and an OAuth2 token endpoint.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CachingTokenProvider,
  clientCredentialsTokens,
  SortieClient,
  SortieError,
} from '../../src/bridge/sortie-client.js';
import { occupancyFromBody } from '../../src/bridge/sortie-source.js';
import { ManualClock } from '../../src/domain/clock.js';
import { elapse } from '../helpers/wait.js';

const UAI = '0670999X';
const BODY = {
  uai: UAI,
  version: 3,
  timezone: 'Europe/Paris',
  from: '2026-01-12',
  to: '2026-01-13',
  rooms: [
    {
      room: 'B101',
      name: 'B101',
      intervals: [
        { start: '2026-01-12T07:00:00Z', end: '2026-01-12T08:55:00Z' },
        { start: '2026-01-13T09:10:00Z', end: '2026-01-13T11:05:00Z' },
      ],
    },
    { room: 'CDI', name: 'CDI', intervals: [] },
  ],
};
const ETAG = '"occ-v3"';

interface Scripted {
  status: number;
  delayMs?: number;
  body?: unknown;
}

/** The scripted server: answers come from `script` in order, then 200 with BODY. */
const server = {
  script: [] as Scripted[],
  hits: [] as Array<{ path: string; authorization: string | undefined; ifNoneMatch: string | undefined }>,
  tokenRequests: [] as Array<{ authorization: string | undefined; form: string }>,
  validTokens: new Set<string>(),
  issued: 0,
  url: '',
  close: () => {},
};

function resetServer() {
  server.script = [];
  server.hits = [];
  server.tokenRequests = [];
  server.validTokens = new Set(['static-token']);
  server.issued = 0;
}

beforeAll(async () => {
  const app = new Hono();
  app.post('/oauth/token', async (c) => {
    server.tokenRequests.push({ authorization: c.req.header('Authorization'), form: await c.req.text() });
    const token = `tok-${++server.issued}`;
    server.validTokens.add(token);
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
  });
  app.get('/scope/sortie/v1/etablissements/:uai/occupation', async (c) => {
    server.hits.push({
      path: c.req.path + new URL(c.req.url).search,
      authorization: c.req.header('Authorization'),
      ifNoneMatch: c.req.header('If-None-Match'),
    });
    const token = c.req.header('Authorization')?.replace(/^Bearer /, '') ?? '';
    if (!server.validTokens.has(token))
      return c.json(
        { errors: [{ code: 'unauthorized', message: 'token refused', where: 'Authorization header' }] },
        401,
      );
    const next = server.script.shift();
    if (next?.delayMs) await elapse(next.delayMs, 'the scripted SORTIE answers this slowly');
    if (next && next.status !== 200) {
      return c.json(
        { errors: [{ code: 'boom', message: `scripted ${next.status}`, where: 'test' }] },
        next.status as 500,
      );
    }
    if (c.req.header('If-None-Match') === ETAG) return c.body(null, 304);
    c.header('ETag', ETAG);
    return c.json(next?.body ?? BODY);
  });
  app.get('/scope/sortie/v1/etablissements', (c) =>
    c.json({
      etablissements: [
        {
          uai: UAI,
          name: 'Lycée',
          timezone: 'Europe/Paris',
          version: 3,
          updated_at: '2026-01-10T08:00:00.000Z',
        },
      ],
    }),
  );
  await new Promise<void>((done) => {
    const http = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      server.url = `http://127.0.0.1:${info.port}`;
      done();
    });
    server.close = () => http.close();
  });
});
afterAll(() => server.close());
beforeEach(resetServer);

const staticTokens = { getToken: async () => 'static-token' };

function client(options: Partial<ConstructorParameters<typeof SortieClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = new SortieClient({
    baseUrl: `${server.url}/scope/sortie/v1/`,
    tokens: staticTokens,
    timeoutMs: 2000,
    retries: 3,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { c, sleeps };
}

const RANGE = { from: '2026-01-12', to: '2026-01-13' };

async function failure(promise: Promise<unknown>): Promise<SortieError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a SortieError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SortieError);
  return error as SortieError;
}

describe('SortieClient', () => {
  it('reads the occupancy with a bearer token and converts it to epoch ms', async () => {
    const { c } = client();
    const result = await c.occupancy(UAI, RANGE);
    expect(result).toEqual({ status: 'modified', body: BODY, etag: ETAG });
    expect(server.hits).toEqual([
      {
        path: `/scope/sortie/v1/etablissements/${UAI}/occupation?from=2026-01-12&to=2026-01-13`,
        authorization: 'Bearer static-token',
        ifNoneMatch: undefined,
      },
    ]);
    if (result.status !== 'modified') throw new Error('unreachable');
    expect(occupancyFromBody(result.body)).toEqual({
      uai: UAI,
      version: 3,
      timezone: 'Europe/Paris',
      from: '2026-01-12',
      to: '2026-01-13',
      unassigned: 0,
      rooms: [
        {
          room: 'B101',
          name: 'B101',
          intervals: [
            { start: Date.UTC(2026, 0, 12, 7, 0), end: Date.UTC(2026, 0, 12, 8, 55) },
            { start: Date.UTC(2026, 0, 13, 9, 10), end: Date.UTC(2026, 0, 13, 11, 5) },
          ],
        },
        { room: 'CDI', name: 'CDI', intervals: [] },
      ],
    });
  });

  it('sends If-None-Match and reports not-modified on 304', async () => {
    const { c } = client();
    expect(await c.occupancy(UAI, RANGE, ETAG)).toEqual({ status: 'not-modified' });
    expect(server.hits.map((h) => h.ifNoneMatch)).toEqual([ETAG]);
  });

  it('lists the establishments', async () => {
    const { c } = client();
    expect(await c.establishments()).toEqual([
      {
        uai: UAI,
        name: 'Lycée',
        timezone: 'Europe/Paris',
        version: 3,
        updated_at: '2026-01-10T08:00:00.000Z',
      },
    ]);
  });

  it('retries 500 and 503 with exponential backoff and full jitter, then succeeds', async () => {
    server.script = [{ status: 500 }, { status: 503 }];
    const { c, sleeps } = client();
    const result = await c.occupancy(UAI, RANGE);
    expect(result.status).toBe('modified');
    expect(server.hits).toHaveLength(3);
    // random 0.5 × min(30 s, 500 ms × 2^n)
    expect(sleeps).toEqual([250, 500]);
  });

  it('gives up after the configured retries with a typed error naming the status', async () => {
    server.script = [{ status: 503 }, { status: 503 }, { status: 503 }];
    const { c, sleeps } = client({ retries: 2 });
    const error = await failure(c.occupancy(UAI, RANGE));
    expect(error.kind).toBe('http');
    expect(error.details).toEqual({
      url: `${server.url}/scope/sortie/v1/etablissements/${UAI}/occupation?from=2026-01-12&to=2026-01-13`,
      status: 503,
      attempts: 3,
    });
    expect(error.message).toContain('answered 503: scripted 503');
    expect(sleeps).toEqual([250, 500]);
  });

  it('does not retry a 404 (no such school there)', async () => {
    server.script = [{ status: 404 }];
    const { c, sleeps } = client();
    const error = await failure(c.occupancy(UAI, RANGE));
    expect([error.kind, error.details.status, error.details.attempts]).toEqual(['not-found', 404, 1]);
    expect(sleeps).toEqual([]);
  });

  it('times out a slow answer and retries it', async () => {
    server.script = [
      { status: 200, delayMs: 600 },
      { status: 200, delayMs: 600 },
    ];
    const { c, sleeps } = client({ timeoutMs: 150, retries: 1 });
    const started = performance.now();
    const error = await failure(c.occupancy(UAI, RANGE));
    expect(error.kind).toBe('timeout');
    expect(error.details.attempts).toBe(2);
    expect(error.message).toContain('did not answer within 150 ms');
    expect(sleeps).toEqual([250]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reports a refused connection as a network error after its retries', async () => {
    const closed = await new Promise<number>((done) => {
      const http = serve(
        { fetch: () => new Response(''), hostname: '127.0.0.1', port: 0 },
        (info: AddressInfo) => {
          http.close(() => done(info.port));
        },
      );
    });
    const { c, sleeps } = client({ baseUrl: `http://127.0.0.1:${closed}/scope/sortie/v1`, retries: 2 });
    const error = await failure(c.occupancy(UAI, RANGE));
    expect(error.kind).toBe('network');
    expect(error.details.attempts).toBe(3);
    expect(error.message).toContain('ECONNREFUSED');
    expect(sleeps).toEqual([250, 500]);
  });

  it('refuses a body that is not an occupancy, naming the JSON path', async () => {
    server.script = [
      {
        status: 200,
        body: {
          ...BODY,
          rooms: [
            { room: 'B101', name: 'B101', intervals: [{ start: 'lundi', end: '2026-01-12T08:55:00Z' }] },
          ],
        },
      },
    ];
    const { c } = client();
    const error = await failure(c.occupancy(UAI, RANGE));
    expect(error.kind).toBe('bad-body');
    expect(error.message).toContain('at $.rooms[0].intervals[0].start');
  });

  it('backoff delays grow exponentially up to the cap, scaled by the random draw', () => {
    const { c } = client({ random: () => 0.999, backoff: { baseMs: 500, maxMs: 2000 } });
    expect([0, 1, 2, 3, 4].map((n) => c.backoffDelay(n))).toEqual([499, 999, 1998, 1998, 1998]);
  });
});

describe('OAuth2 client credentials', () => {
  it('fetches one token (HTTP Basic), reuses it until shortly before expiry, then fetches another', async () => {
    const clock = new ManualClock(Date.parse('2026-01-12T08:00:00Z'));
    const tokens = clientCredentialsTokens({
      tokenUrl: `${server.url}/oauth/token`,
      clientId: 'region energie',
      clientSecret: 's3cret:x',
      timeoutMs: 2000,
      clock,
    });
    const { c } = client({ tokens });
    await c.occupancy(UAI, RANGE);
    await c.occupancy(UAI, RANGE, ETAG);
    expect(server.tokenRequests).toEqual([
      {
        authorization: `Basic ${Buffer.from('region%20energie:s3cret%3Ax').toString('base64')}`,
        form: 'grant_type=client_credentials',
      },
    ]);
    // 3600 s token, refreshed 60 s early.
    clock.advance(3540_000 - 1);
    await c.occupancy(UAI, RANGE);
    expect(server.tokenRequests).toHaveLength(1);
    clock.advance(1);
    await c.occupancy(UAI, RANGE);
    expect(server.tokenRequests).toHaveLength(2);
    expect(server.hits.map((h) => h.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-2',
    ]);
  });

  it('on 401 drops the cached token and retries once with a fresh one', async () => {
    const clock = new ManualClock(Date.parse('2026-01-12T08:00:00Z'));
    const tokens = clientCredentialsTokens({
      tokenUrl: `${server.url}/oauth/token`,
      clientId: 'region',
      clientSecret: 'secret',
      timeoutMs: 2000,
      clock,
    });
    const { c, sleeps } = client({ tokens });
    await c.occupancy(UAI, RANGE);
    server.validTokens.delete('tok-1'); // revoked server-side
    const result = await c.occupancy(UAI, RANGE);
    expect(result.status).toBe('modified');
    expect(server.hits.map((h) => h.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    expect(sleeps).toEqual([]);
  });

  it('a 401 with a fresh token too is an unauthorized error, not retried further', async () => {
    let minted = 0;
    const tokens = new CachingTokenProvider(async () => ({
      access_token: `never-valid-${++minted}`,
      expires_in: 3600,
    }));
    const { c } = client({ tokens });
    const error = await failure(c.occupancy(UAI, RANGE));
    expect([error.kind, error.details.status, error.details.attempts]).toEqual(['unauthorized', 401, 2]);
    expect(minted).toBe(2);
  });

  it('a refused token request is a token error', async () => {
    const tokens = clientCredentialsTokens({
      tokenUrl: `${server.url}/oauth/nowhere`,
      clientId: 'region',
      clientSecret: 'secret',
      timeoutMs: 2000,
    });
    const { c } = client({ tokens });
    const error = await failure(c.occupancy(UAI, RANGE));
    expect(error.kind).toBe('token');
    expect(error.message).toBe(`token endpoint ${server.url}/oauth/nowhere answered 404: 404 Not Found`);
    expect(server.hits).toEqual([]);
  });
});
