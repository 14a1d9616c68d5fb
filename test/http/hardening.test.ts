/**
 * Issue 13's HTTP hardening through `app.request()` on the real app, a real store on every
 * backend and the real Authenticator: body limits on every route (streamed bodies refused at the
 * limit, never read further), security headers on every response, date parameters, the 400
 * safety net for RangeError/URIError, throttled logins and token requests under an injected
 * clock, and logout revoking the session for every instance sharing the store.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { Authenticator } from '../../src/auth/authenticator.js';
import { type Client, clientSchema } from '../../src/auth/clients.js';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import type { AuthEnv } from '../../src/auth/middleware.js';
import { hashSecret } from '../../src/auth/secrets.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { schoolCalendars } from '../../src/scope/sortie/school-calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { createSessionRevocationRepository } from '../../src/store/session-revocation-repository.js';
import type { Store } from '../../src/store/store.js';
import { makeClients } from '../helpers/clients.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();
const DEVICES_DIR = fileURLToPath(new URL('../../devices', import.meta.url));
const RULES_DIR = fileURLToPath(new URL('../../rules', import.meta.url));
const ORIGIN = 'http://localhost';
const SECRET = 'correct horse battery staple';
const FORM_LIMIT = 64 * 1024;
const VUE = `/scope/vue/${DEMO_UAI}`;

interface Problems {
  errors: { code: string; message: string; where: string }[];
}

/** A body of `total` bytes in 16 kB chunks, counting what the reader actually pulled. */
function countedStream(total: number) {
  const chunk = new Uint8Array(16 * 1024).fill(0x20);
  const pulled = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.bytes >= total) return controller.close();
      pulled.bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled };
}

describe.each(backends)('HTTP hardening on $name', (backend) => {
  const clock = new ManualClock(Date.parse('2025-11-26T09:00:00Z'));
  const made = makeClients(
    [
      { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
      { id: 'manager', role: 'manager', uais: [DEMO_UAI] },
    ],
    clock,
  );
  const withSecret: Client = clientSchema.parse({
    id: 'manager-secret',
    role: 'manager',
    uais: [DEMO_UAI],
    secret_hash: hashSecret(SECRET),
  });
  const signingKey = randomBytes(32);
  let store: Store;
  /** Two instances sharing the store and the signing key, each with its own Authenticator. */
  let app: ReturnType<typeof createHttpApp>;
  let otherInstance: ReturnType<typeof createHttpApp>;
  let throttle: LoginThrottle;

  const authenticatorOn = (s: Store) =>
    new Authenticator({
      clients: [...[...made.clients.values()].map((c) => c.client), withSecret],
      signingKey,
      issuer: 'scope-energie-test',
      audience: 'scope-energie-test',
      tokenTtlSeconds: 900,
      clock,
      // Verified secrets are not cached here: every wrong secret costs its full scrypt check.
      secretCacheMs: 0,
      sessionRevocations: createSessionRevocationRepository(s.db, clock),
    });

  /** A bridge-like sub-app: reads JSON like POST /api/overrides, and throws what it is told to. */
  const probe = new Hono<AuthEnv>();
  probe.post('/api/overrides', async (c) => c.json({ read: JSON.stringify(await c.req.json()).length }));
  probe.get('/api/throws/:kind', (c) => {
    const kind = c.req.param('kind');
    if (kind === 'range') throw new RangeError('Invalid time value');
    if (kind === 'uri') decodeURIComponent('%E0%A4%A');
    if (kind === 'teapot') throw new HTTPException(418, { message: 'short and stout' });
    throw new Error('a bug');
  });

  beforeAll(async () => {
    store = await backend.open();
    const calendars = schoolCalendars({ zone: 'B' });
    throttle = new LoginThrottle({ maxFailures: 10, windowMs: 300_000, maxTracked: 1000, clock });
    const build = (s: Store, t?: LoginThrottle) =>
      createHttpApp({
        authenticator: authenticatorOn(s),
        entree: { store: s, clock, bodyLimitBytes: 4 * 1024 * 1024, strictJson: false },
        sortie: { store: s, calendars },
        vue: {
          store: s,
          clock,
          calendars,
          site: new SiteHolder({ devicesDir: DEVICES_DIR, rulesDir: RULES_DIR }),
        },
        bridge: probe,
        docs: { version: '9.9.9' },
        formBodyLimitBytes: FORM_LIMIT,
        ...(t ? { throttle: t } : {}),
        logError: () => {},
      });
    app = build(store, throttle);
    otherInstance = build(await backend.open());
    const res = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(buildDemoTimetable(clock.now())),
      headers: { 'Content-Type': 'application/json', ...made.bearer('editor') },
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => backend.cleanup());

  const bodyTooLarge = {
    errors: [
      {
        code: 'body-too-large',
        message: `the request body is larger than the limit of ${FORM_LIMIT} bytes for this route`,
        where: 'body',
      },
    ],
  };

  describe('body limits', () => {
    it('refuses a declared oversized body on every route with 413 body-too-large, before authentication', async () => {
      const big = 'x'.repeat(FORM_LIMIT + 1);
      const routes: Array<[string, Record<string, string>]> = [
        ['/connexion', { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN }],
        ['/oauth/token', { 'Content-Type': 'application/x-www-form-urlencoded' }],
        ['/api/overrides', { 'Content-Type': 'application/json', ...made.bearer('manager') }],
        ['/api/overrides', { 'Content-Type': 'application/json' }],
        [`/tableau-de-bord/${DEMO_UAI}/derogations`, { Origin: ORIGIN }],
      ];
      for (const [path, headers] of routes) {
        const res = await app.request(`${ORIGIN}${path}`, { method: 'POST', body: big, headers });
        expect([path, res.status, await res.json()]).toEqual([path, 413, bodyTooLarge]);
        expect(res.headers.get('Connection')).toBe('close');
      }
      // At the limit, the body goes through.
      const atLimit = await app.request('/api/overrides', {
        method: 'POST',
        body: JSON.stringify('x'.repeat(FORM_LIMIT - 2)),
        headers: { 'Content-Type': 'application/json', ...made.bearer('manager') },
      });
      expect(await atLimit.json()).toEqual({ read: FORM_LIMIT });
    });

    it('stops reading a streamed 200 MB body at the limit: 413, at most one chunk past 64 kB pulled', async () => {
      const { stream, pulled } = countedStream(200 * 1024 * 1024);
      const res = await app.request('/api/overrides', {
        method: 'POST',
        body: stream,
        headers: { 'Content-Type': 'application/json', ...made.bearer('manager') },
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual(bodyTooLarge);
      // The reader may have asked for one chunk ahead of what it consumed.
      expect(pulled.bytes).toBeLessThanOrEqual(FORM_LIMIT + 2 * 16 * 1024);
    });

    it('gives imports their own, larger limit', async () => {
      const res = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
        method: 'PUT',
        body: JSON.stringify({ ...buildDemoTimetable(clock.now()), padding: 'x'.repeat(FORM_LIMIT * 2) }),
        headers: { 'Content-Type': 'application/json', ...made.bearer('editor') },
      });
      expect(res.status).not.toBe(413);
      const huge = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
        method: 'PUT',
        body: new Uint8Array(4 * 1024 * 1024 + 1),
        headers: { 'Content-Type': 'application/json', ...made.bearer('editor') },
      });
      expect(huge.status).toBe(413);
      expect(((await huge.json()) as Problems).errors[0]).toMatchObject({
        code: 'body-too-large',
        where: 'body',
      });
    });
  });

  describe('security headers', () => {
    it('puts CSP without inline script, frame-ancestors none, nosniff, Referrer-Policy and X-Frame-Options on every response', async () => {
      const responses = [
        await app.request('/healthz'),
        await app.request('/connexion'),
        await app.request(VUE, { headers: { ...made.bearer('manager'), Accept: 'text/html' } }),
        await app.request('/docs', { headers: made.bearer('manager') }),
        await app.request('/no-such-route'),
        await app.request('/api/overrides', { method: 'POST', body: 'x'.repeat(FORM_LIMIT + 1) }),
        await app.request('/api/throws/bug', { headers: made.bearer('manager') }),
      ];
      for (const res of responses) {
        const csp = res.headers.get('Content-Security-Policy') ?? '';
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toContain("script-src 'none'");
        expect(csp).toContain("default-src 'none'");
        expect(csp).not.toContain('unsafe-inline');
        expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*' 'sha256-[A-Za-z0-9+/]+=*'/);
        expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
        expect(res.headers.get('Referrer-Policy')).toBe('same-origin');
        expect(res.headers.get('X-Frame-Options')).toBe('DENY');
      }
      // An unknown route meets the bearer check of the API's catch-all first.
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 401, 413, 500]);
    });

    it('puts the same security headers on a SORTIE 304 (built pre-secured) as on its 200', async () => {
      const url = `/scope/sortie/v1/etablissements/${DEMO_UAI}/occupation?from=2025-12-01&to=2025-12-07`;
      const ok = await app.request(url, { headers: made.bearer('manager') });
      expect(ok.status).toBe(200);
      const etag = ok.headers.get('ETag') ?? '';
      const notModified = await app.request(url, {
        headers: { ...made.bearer('manager'), 'If-None-Match': etag },
      });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe('');
      const headersOf = (res: Response) =>
        Object.fromEntries([...res.headers].filter(([name]) => name !== 'content-type'));
      // RFC 9110 §15.4.5: ETag, Cache-Control and Vary as the 200 would send them.
      expect(headersOf(notModified)).toEqual(headersOf(ok));
      expect(notModified.headers.get('Cache-Control')).toBe('private, no-cache');
      expect(notModified.headers.get('Vary')).toBe('Authorization, Cookie');
      expect(notModified.headers.get('X-Frame-Options')).toBe('DENY');
      expect(notModified.headers.get('Content-Security-Policy')).toBe(
        ok.headers.get('Content-Security-Policy'),
      );
      // A query refused once is refused again (only valid queries are remembered).
      for (let i = 0; i < 2; i++) {
        const bad = await app.request(url.replace('2025-12-07', '2025-11-07'), {
          headers: made.bearer('manager'),
        });
        expect(bad.status).toBe(400);
      }
    });
  });

  describe('date parameters and the 400 safety net', () => {
    it('answers VUE scripts with the problem body, browsers with the French page', async () => {
      const script = await app.request(`${VUE}?semaine=9999-12-27`, { headers: made.bearer('manager') });
      expect(script.status).toBe(400);
      expect(await script.json()).toEqual({
        errors: [
          {
            code: 'date-out-of-range',
            message: '9999-12-27 is outside the supported dates 2000-01-01 to 2099-12-31',
            where: 'semaine',
          },
        ],
      });
      const browser = await app.request(`${VUE}?semaine=2025-02-29`, {
        headers: { ...made.bearer('manager'), Accept: 'text/html' },
      });
      expect(browser.status).toBe(400);
      expect(await browser.text()).toContain('semaine : &quot;2025-02-29&quot; is not a date YYYY-MM-DD');
    });

    it('answers a RangeError or URIError that escapes a route with 400, other errors 500, HTTP errors as they are', async () => {
      const get = (kind: string) => app.request(`/api/throws/${kind}`, { headers: made.bearer('manager') });
      for (const [kind, name] of [
        ['range', 'RangeError'],
        ['uri', 'URIError'],
      ]) {
        const res = await get(kind as string);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          errors: [
            {
              code: 'bad-request',
              message: `the request holds a value out of range or badly encoded (${name})`,
              where: `/api/throws/${kind}`,
            },
          ],
        });
      }
      expect((await get('teapot')).status).toBe(418);
      expect(((await (await get('bug')).json()) as Problems).errors[0]?.code).toBe('internal-error');
    });
  });

  describe('throttling', () => {
    const token = (form: Record<string, string>, address?: string) =>
      app.request(
        '/oauth/token',
        {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        },
        address === undefined ? undefined : { incoming: { socket: { remoteAddress: address } } },
      );
    const login = (form: Record<string, string>, address?: string, accept?: string) =>
      app.request(
        `${ORIGIN}/connexion`,
        {
          method: 'POST',
          body: new URLSearchParams(form).toString(),
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: ORIGIN,
            ...(accept ? { Accept: accept } : {}),
          },
        },
        address === undefined ? undefined : { incoming: { socket: { remoteAddress: address } } },
      );

    it('blocks token requests for a client id after 10 failures, even with the right secret, until the window ends', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await token({ client_id: 'manager-secret', client_secret: `wrong-${i}` });
        expect(res.status).toBe(401);
      }
      clock.advance(60_000);
      const blocked = await token({ client_id: 'manager-secret', client_secret: SECRET });
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('Retry-After')).toBe('240');
      expect(await blocked.json()).toEqual({
        errors: [
          {
            code: 'too-many-attempts',
            message: 'too many failed token requests for this client or from this address: retry in 240 s',
            where: 'client authentication',
          },
        ],
      });
      // The same id is blocked at /connexion too: one count per client id.
      const page = await login({ identifiant: 'manager-secret', secret: SECRET }, undefined, 'text/html');
      expect(page.status).toBe(429);
      expect(page.headers.get('Retry-After')).toBe('240');
      expect(await page.text()).toContain('Trop d’essais infructueux');

      clock.advance(240_000);
      const again = await token({ client_id: 'manager-secret', client_secret: SECRET });
      expect(again.status).toBe(200);
    });

    it('blocks an address rotating client ids, and leaves other addresses alone', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await login({ identifiant: `guess-${i}`, secret: 'x' }, '203.0.113.7');
        expect(res.status).toBe(401);
      }
      const blocked = await login({ identifiant: 'manager-secret', secret: SECRET }, '203.0.113.7');
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('Retry-After')).toBe('300');
      expect(((await blocked.json()) as Problems).errors[0]?.code).toBe('too-many-attempts');
      const tokenBlocked = await token({ client_id: 'manager-secret', client_secret: SECRET }, '203.0.113.7');
      expect(tokenBlocked.status).toBe(429);

      const elsewhere = await login({ identifiant: 'manager-secret', secret: SECRET }, '198.51.100.1');
      expect(elsewhere.status).toBe(303);
      clock.advance(300_000);
    });
  });

  describe('logout', () => {
    const sessionOf = (res: Response) =>
      /scope_session=([^;]+)/.exec(res.headers.get('Set-Cookie') ?? '')?.[1];

    it('revokes the session on the server: the old cookie opens nothing, on any instance sharing the store', async () => {
      const login = await app.request(`${ORIGIN}/connexion`, {
        method: 'POST',
        body: new URLSearchParams({ identifiant: 'manager-secret', secret: SECRET }).toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
      });
      expect(login.status).toBe(303);
      const cookie = `scope_session=${sessionOf(login)}`;
      const open = (on: typeof app, accept?: string) =>
        on.request(VUE, { headers: { Cookie: cookie, ...(accept ? { Accept: accept } : {}) } });
      expect((await open(app, 'text/html')).status).toBe(200);
      expect((await open(otherInstance, 'text/html')).status).toBe(200);

      const out = await app.request(`${ORIGIN}/deconnexion`, {
        method: 'POST',
        headers: { Origin: ORIGIN, Cookie: cookie },
      });
      expect(out.status).toBe(303);
      expect(out.headers.get('Set-Cookie')).toMatch(/^scope_session=; Max-Age=0;/);

      for (const instance of [app, otherInstance]) {
        const page = await open(instance, 'text/html');
        expect(page.status).toBe(303);
        expect(page.headers.get('Location')).toBe(`/connexion?suite=${encodeURIComponent(VUE)}`);
        const script = await open(instance);
        expect(script.status).toBe(401);
        expect(((await script.json()) as Problems).errors[0]?.code).toBe('unauthorized');
      }
      // The same token as a bearer header is refused too.
      const bearer = await otherInstance.request('/scope/sortie/v1/etablissements', {
        headers: { Authorization: `Bearer ${sessionOf(login)}` },
      });
      expect(bearer.status).toBe(401);
      expect(((await bearer.json()) as Problems).errors[0]?.message).toBe(
        'this session was closed by logging out: log in again',
      );
    });

    it('keeps a revocation only until its token would have expired', async () => {
      const revocations = createSessionRevocationRepository(store.db, clock);
      await revocations.revoke('sid-short', clock.now() + 1_000);
      expect(await revocations.isRevoked('sid-short')).toBe(true);
      clock.advance(1_000);
      expect(await revocations.isRevoked('sid-short')).toBe(false);
      expect(await revocations.prune()).toBeGreaterThanOrEqual(1);
      const left = await store.db
        .selectFrom('revoked_sessions')
        .select('sid')
        .where('sid', '=', 'sid-short')
        .execute();
      expect(left).toEqual([]);
    });
  });
});
