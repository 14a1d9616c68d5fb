/**
 * `POST /oauth/token`, OAuth2 client credentials (RFC 6749 §4.4). The client authenticates with
 * HTTP Basic (§2.3.1, id and secret form-urlencoded first) or with `client_id`/`client_secret` in
 * the form body, never both. Errors follow §5.2: `{error, error_description}`, 401 for
 * `invalid_client`, 400 otherwise; answers are never cached (§5.1).
 */
import { Hono } from 'hono';
import { type Authenticator, OAuthError, type OAuthErrorCode } from './authenticator.js';
import { type LoginThrottle, retryAfterSeconds } from './login-throttle.js';
import { remoteAddressOf } from './remote-address.js';

/**
 * The body's size is bounded for every route by the app (src/http/body-limits.ts,
 * `server.form_body_limit_kb`). Wrong secrets are throttled per client id and address: past
 * `auth.throttle.max_failures` the answer is 429 `too-many-attempts` with Retry-After (a problem
 * body, the contract of issue 13), whatever the secret, until the window ends.
 */
export function oauthRoutes(authenticator: Authenticator, throttle?: LoginThrottle): Hono {
  const app = new Hono();
  app.post('/oauth/token', async (c) => {
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    const fail = (error: OAuthErrorCode, description: string) => {
      if (error === 'invalid_client')
        c.header('WWW-Authenticate', 'Basic realm="scope-energie", charset="UTF-8"');
      return c.json({ error, error_description: description }, error === 'invalid_client' ? 401 : 400);
    };

    const contentType = c.req.header('Content-Type') ?? '';
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      return fail(
        'invalid_request',
        'send the request as application/x-www-form-urlencoded (RFC 6749 §4.4.2)',
      );
    }
    const form = new URLSearchParams(await c.req.text());
    for (const name of ['grant_type', 'client_id', 'client_secret', 'scope']) {
      if (form.getAll(name).length > 1) return fail('invalid_request', `parameter ${name} is repeated`);
    }
    const grantType = form.get('grant_type');
    if (grantType === null) return fail('invalid_request', 'grant_type is missing');
    if (grantType !== 'client_credentials') {
      return fail(
        'unsupported_grant_type',
        `grant_type "${grantType}" is not supported: use client_credentials`,
      );
    }

    const basic = parseBasic(c.req.header('Authorization'));
    const inBody = form.has('client_id') || form.has('client_secret');
    if (basic === 'malformed')
      return fail('invalid_client', 'the Authorization header is not valid HTTP Basic');
    if (basic && inBody) {
      return fail(
        'invalid_request',
        'authenticate with HTTP Basic or with client_id/client_secret, not both',
      );
    }
    const clientId = basic ? basic.id : form.get('client_id');
    const secret = basic ? basic.secret : form.get('client_secret');
    if (!clientId || !secret) {
      return fail(
        'invalid_client',
        'client authentication is missing: HTTP Basic or client_id and client_secret',
      );
    }

    const keys = { clientId, address: remoteAddressOf(c) };
    const blockedMs = throttle?.blockedForMs(keys) ?? 0;
    if (blockedMs > 0) {
      const seconds = retryAfterSeconds(blockedMs);
      c.header('Retry-After', String(seconds));
      return c.json(
        {
          errors: [
            {
              code: 'too-many-attempts',
              message: `too many failed token requests for this client or from this address: retry in ${seconds} s`,
              where: 'client authentication',
            },
          ],
        },
        429,
      );
    }
    try {
      const token = await authenticator.issueToken(clientId, secret, form.get('scope') ?? undefined);
      throttle?.recordSuccess(keys);
      return c.json(token, 200);
    } catch (error) {
      if (error instanceof OAuthError) {
        if (error.error === 'invalid_client') throttle?.recordFailure(keys);
        return fail(error.error, error.description);
      }
      throw error;
    }
  });
  return app;
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`. */
function parseBasic(header: string | undefined): { id: string; secret: string } | 'malformed' | null {
  if (header === undefined) return null;
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match) return /^Basic\b/i.test(header) ? 'malformed' : null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return 'malformed';
  }
}
