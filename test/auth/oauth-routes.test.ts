import { Hono } from 'hono';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import { clientSchema } from '../../src/auth/clients.js';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { oauthRoutes } from '../../src/auth/oauth-routes.js';
import { hashSecret } from '../../src/auth/secrets.js';
import { ManualClock } from '../../src/domain/clock.js';
import { checkDocumentedResponses } from '../helpers/documented.js';

const KEY = new TextEncoder().encode('0123456789abcdef0123456789abcdef-test-key');
const START = Date.parse('2026-03-02T08:00:00Z');
// Characters that HTTP Basic must carry form-urlencoded (RFC 6749 §2.3.1).
const SECRET = 'p@ss:word%+é';

let app: Hono<AuthEnv>;
beforeAll(() => {
  const auth = new Authenticator({
    clients: [
      clientSchema.parse({
        id: 'energie',
        role: 'consumer',
        purpose: 'sobriete-energetique',
        uais: ['0670999X'],
        secret_hash: hashSecret(SECRET),
      }),
    ],
    signingKey: KEY,
    issuer: 'scope-energie',
    audience: 'scope-energie',
    tokenTtlSeconds: 900,
    clock: new ManualClock(START),
  });
  app = checkDocumentedResponses(new Hono<AuthEnv>());
  app.route('/', oauthRoutes(auth));
  app.use('/api/*', requireAuth(auth));
  app.get('/api/whoami', (c) =>
    c.json({ client: c.var.principal.clientId, uais: [...(c.var.principal.uais as Set<string>)] }),
  );
});

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function tokenRequest(
  form: Record<string, string>,
  authorization?: string,
  contentType = 'application/x-www-form-urlencoded',
) {
  return app.request('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...(authorization ? { Authorization: authorization } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

describe('POST /oauth/token', () => {
  it('issues a bearer JWT to HTTP Basic credentials, usable on the API', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' }, basic('energie', SECRET));
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Pragma')).toBe('no-cache');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(900);
    expect(decodeJwt(body.access_token).exp).toBe(START / 1000 + 900);
    const api = await app.request('/api/whoami', {
      headers: { Authorization: `Bearer ${body.access_token}` },
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ client: 'energie', uais: ['0670999X'] });
  });

  it('accepts client_id and client_secret in the form body, with a scope', async () => {
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'energie',
      client_secret: SECRET,
      scope: 'uai:0670999X',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe('uai:0670999X');
  });

  it('answers RFC 6749 §5.2 errors', async () => {
    const cases: [Response, number, string, string][] = [
      [
        await tokenRequest({ grant_type: 'client_credentials' }, basic('energie', 'wrong')),
        401,
        'invalid_client',
        'unknown client, disabled client or wrong secret',
      ],
      [
        await tokenRequest({ grant_type: 'client_credentials' }, basic('nobody', SECRET)),
        401,
        'invalid_client',
        'unknown client, disabled client or wrong secret',
      ],
      [
        await tokenRequest({ grant_type: 'client_credentials' }),
        401,
        'invalid_client',
        'client authentication is missing: HTTP Basic or client_id and client_secret',
      ],
      [
        await tokenRequest(
          { grant_type: 'password', username: 'x', password: 'y' },
          basic('energie', SECRET),
        ),
        400,
        'unsupported_grant_type',
        'grant_type "password" is not supported: use client_credentials',
      ],
      [await tokenRequest({}, basic('energie', SECRET)), 400, 'invalid_request', 'grant_type is missing'],
      [
        await tokenRequest(
          { grant_type: 'client_credentials', client_id: 'energie' },
          basic('energie', SECRET),
        ),
        400,
        'invalid_request',
        'authenticate with HTTP Basic or with client_id/client_secret, not both',
      ],
      [
        await tokenRequest(
          { grant_type: 'client_credentials' },
          basic('energie', SECRET),
          'application/json',
        ),
        400,
        'invalid_request',
        'send the request as application/x-www-form-urlencoded (RFC 6749 §4.4.2)',
      ],
      [
        await tokenRequest(
          { grant_type: 'client_credentials', scope: 'uai:0670080Y' },
          basic('energie', SECRET),
        ),
        400,
        'invalid_scope',
        "scope uai:0670080Y is outside this client's UAIs",
      ],
    ];
    for (const [res, status, error, description] of cases) {
      expect({ status: res.status, body: await res.json() }).toEqual({
        status,
        body: { error, error_description: description },
      });
      expect(res.headers.get('WWW-Authenticate')).toBe(
        status === 401 ? 'Basic realm="scope-energie", charset="UTF-8"' : null,
      );
    }
  });

  it('refuses a repeated parameter', async () => {
    const res = await app.request('/oauth/token', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: basic('energie', SECRET),
      },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter grant_type is repeated',
    });
  });
});
