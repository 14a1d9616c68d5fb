/**
 * `POST /oauth/token`, OAuth2 client credentials (RFC 6749 §4.4). The client authenticates with
 * HTTP Basic (§2.3.1, id and secret form-urlencoded first) or with `client_id`/`client_secret` in
 * the form body, never both. Errors follow §5.2: `{error, error_description}`, 401 for
 * `invalid_client`, 400 otherwise; answers are never cached (§5.1).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  ApiRoutes,
  createRoute,
  jsonResponse,
  ProblemsBody,
  problemResponses,
} from '../http/openapi-route.js';
import { type Authenticator, OAuthError, type OAuthErrorCode } from './authenticator.js';
import { type LoginThrottle, retryAfterSeconds } from './login-throttle.js';
import { remoteAddressOf } from './remote-address.js';

/** The form of a token request (RFC 6749 §4.4.2), as published; the handler reads it by hand. */
export const tokenRequestSchema = z.object({
  grant_type: z.literal('client_credentials'),
  client_id: z.string().optional().describe('Unless HTTP Basic authentication is used'),
  client_secret: z.string().optional().describe('Unless HTTP Basic authentication is used'),
  scope: z.string().optional().describe('Space-separated uai:<UAI> values narrowing the token'),
});

const tokenResponseSchema = z.strictObject({
  access_token: z.string().describe('JWT (HS256) carrying role, purpose and UAIs'),
  token_type: z.literal('Bearer'),
  expires_in: z.int().describe('Seconds'),
  scope: z.string().optional(),
});

/** RFC 6749 §5.2. */
const oauthErrorSchema = z.strictObject({
  error: z.enum([
    'invalid_request',
    'invalid_client',
    'invalid_grant',
    'unsupported_grant_type',
    'invalid_scope',
  ]),
  error_description: z.string(),
});

export const OAUTH_ROUTES = {
  token: createRoute({
    method: 'post',
    path: '/oauth/token',
    summary: 'OAuth2 client credentials: a short-lived JWT',
    description:
      'RFC 6749 §4.4. Authenticate with HTTP Basic or client_id/client_secret in the form, not both. Roles: any configured client with a secret.',
    tags: ['Authentication'],
    security: [],
    request: {
      body: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: tokenRequestSchema } },
      },
    },
    responses: {
      200: jsonResponse('Token issued', tokenResponseSchema),
      400: jsonResponse('RFC 6749 §5.2 error', oauthErrorSchema),
      401: jsonResponse('invalid_client', oauthErrorSchema, {
        'WWW-Authenticate': 'Basic realm="scope-energie", charset="UTF-8"',
      }),
      ...problemResponses(413),
      429: {
        description: 'Too many failed attempts for this client id or address (`too-many-attempts`)',
        content: { 'application/json': { schema: ProblemsBody } },
        headers: {
          'Retry-After': {
            description: 'Seconds until an attempt is taken again',
            schema: { type: 'string' },
          },
        },
      },
    },
  }),
};

/**
 * The body's size is bounded for every route by the app (src/http/body-limits.ts,
 * `server.form_body_limit_kb`). Wrong secrets are throttled per client id and address: past
 * `auth.throttle.max_failures` the answer is 429 `too-many-attempts` with Retry-After (a problem
 * body, the contract of issue 13), whatever the secret, until the window ends.
 */
export function oauthRoutes(authenticator: Authenticator, throttle?: LoginThrottle): OpenAPIHono {
  const routes = new ApiRoutes();
  // The form is read by hand (RFC 6749 answers: `invalid_request`, not the problem body).
  routes.add({
    route: OAUTH_ROUTES.token,
    handler: async (c) => {
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
    },
  });
  return routes.app;
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
