import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import { clientSchema } from '../../src/auth/clients.js';
import { type AuthEnv, requireAuth, requireRole, uaiVisible } from '../../src/auth/middleware.js';
import { hashToken } from '../../src/auth/secrets.js';
import { ManualClock } from '../../src/domain/clock.js';

const KEY = new TextEncoder().encode('0123456789abcdef0123456789abcdef-test-key');
const START = Date.parse('2026-03-02T08:00:00Z');
const TOKENS = { consumer: 'se_consumer', manager: 'se_manager', admin: 'se_admin' };

function setup() {
  const clock = new ManualClock(START);
  const auth = new Authenticator({
    clients: [
      {
        id: 'ent',
        role: 'consumer',
        purpose: 'ent',
        uais: ['0670999X'],
        token_hashes: [hashToken(TOKENS.consumer)],
      },
      { id: 'mgr', role: 'manager', uais: ['0670080Y'], token_hashes: [hashToken(TOKENS.manager)] },
      { id: 'op', role: 'admin', token_hashes: [hashToken(TOKENS.admin)] },
    ].map((c) => clientSchema.parse(c)),
    signingKey: KEY,
    issuer: 'scope-energie',
    audience: 'scope-energie',
    tokenTtlSeconds: 3600,
    clock,
    clockToleranceSeconds: 0,
  });
  const app = new Hono<AuthEnv>();
  app.use('/api/*', requireAuth(auth));
  app.get('/api/whoami', (c) => c.json({ client: c.var.principal.clientId }));
  app.get('/api/plans', requireRole('manager', 'auditor'), (c) => c.json({ ok: true }));
  app.get('/api/schools/:uai', (c) =>
    uaiVisible(c, c.req.param('uai')) ? c.json({ uai: c.req.param('uai') }) : c.json({ errors: [] }, 404),
  );
  return { app, auth, clock };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe('requireAuth', () => {
  it('passes a valid static token and sets the principal', async () => {
    const res = await setup().app.request('/api/whoami', bearer(TOKENS.consumer));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ client: 'ent' });
  });

  it('answers 401 with a Bearer challenge when the header is missing', async () => {
    const res = await setup().app.request('/api/whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="scope-energie"');
    expect(await res.json()).toEqual({
      errors: [
        {
          code: 'unauthorized',
          message: 'this endpoint needs an Authorization: Bearer <token> header',
          where: 'Authorization header',
        },
      ],
    });
  });

  it('answers 401 to another scheme and to an unknown token', async () => {
    const { app } = setup();
    const basic = await app.request('/api/whoami', { headers: { Authorization: 'Basic ZW50OnNlY3JldA==' } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="scope-energie", error="invalid_request", error_description="the Authorization header is not Bearer <token>"',
    );
    const wrong = await app.request('/api/whoami', bearer('se_wrong'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="scope-energie", error="invalid_token", error_description="the bearer token is not known"',
    );
    expect(await wrong.json()).toEqual({
      errors: [
        { code: 'unauthorized', message: 'the bearer token is not known', where: 'Authorization header' },
      ],
    });
  });

  it('answers 401 to an expired JWT, saying so', async () => {
    const { app, auth, clock } = setup();
    const { access_token } = await auth.mintToken('mgr');
    expect((await app.request('/api/whoami', bearer(access_token))).status).toBe(200);
    clock.advance(3600_000);
    const res = await app.request('/api/whoami', bearer(access_token));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      errors: [
        {
          code: 'unauthorized',
          message: 'the bearer token has expired: request a new one at POST /oauth/token',
          where: 'Authorization header',
        },
      ],
    });
  });
});

describe('requireRole', () => {
  it('answers 403 to a role not allowed, and admits the role and admin', async () => {
    const { app } = setup();
    const consumer = await app.request('/api/plans', bearer(TOKENS.consumer));
    expect(consumer.status).toBe(403);
    expect(await consumer.json()).toEqual({
      errors: [
        {
          code: 'forbidden',
          message: 'role consumer may not use this endpoint (allowed: manager, auditor, admin)',
          where: 'Authorization header',
        },
      ],
    });
    expect((await app.request('/api/plans', bearer(TOKENS.manager))).status).toBe(200);
    expect((await app.request('/api/plans', bearer(TOKENS.admin))).status).toBe(200);
  });
});

describe('uaiVisible', () => {
  it('shows a client its own UAIs only, whatever the case; admin sees all', async () => {
    const { app } = setup();
    expect((await app.request('/api/schools/0670999x', bearer(TOKENS.consumer))).status).toBe(200);
    expect((await app.request('/api/schools/0670080Y', bearer(TOKENS.consumer))).status).toBe(404);
    expect((await app.request('/api/schools/0670999X', bearer(TOKENS.manager))).status).toBe(404);
    expect((await app.request('/api/schools/0750654D', bearer(TOKENS.admin))).status).toBe(200);
  });
});
