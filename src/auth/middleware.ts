/**
 * hono middleware for the API routes: `requireAuth` turns the bearer token into `c.var.principal`
 * (401 otherwise, RFC 6750 §3), `requireRole` refuses other roles (403), and `uaiVisible` tells a
 * route whether the caller may know a UAI exists.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Problem } from '../domain/problems.js';
import type { Authenticator, BearerFailure } from './authenticator.js';
import { canAccessUai, hasRole, type Principal, type Role } from './principal.js';

export interface AuthEnv {
  Variables: { principal: Principal };
}

export const AUTHORIZATION_WHERE = 'Authorization header';
const REALM = 'scope-energie';

const FAILURE_MESSAGES: Record<BearerFailure, string> = {
  'unknown-token': 'the bearer token is not known',
  expired: 'the bearer token has expired: request a new one at POST /oauth/token',
  'invalid-token': 'the bearer token is not valid (signature, issuer, audience or dates)',
  'client-revoked': 'the client of this bearer token is disabled, removed or has changed rights',
  'logged-out': 'this session was closed by logging out: log in again',
};

function errorBody(code: string, message: string): { errors: Problem[] } {
  return { errors: [{ code, message, where: AUTHORIZATION_WHERE }] };
}

export function requireAuth(authenticator: Authenticator): MiddlewareHandler<AuthEnv> {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    const match = header === undefined ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!match) {
      const message =
        header === undefined
          ? 'this endpoint needs an Authorization: Bearer <token> header'
          : 'the Authorization header is not "Bearer <token>"';
      // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
      c.header(
        'WWW-Authenticate',
        header === undefined ? `Bearer realm="${REALM}"` : challenge('invalid_request', message),
      );
      return c.json(errorBody('unauthorized', message), 401);
    }
    const result = await authenticator.verifyBearer(match[1]!);
    if (!result.ok) {
      const message = FAILURE_MESSAGES[result.reason];
      c.header('WWW-Authenticate', challenge('invalid_token', message));
      return c.json(errorBody('unauthorized', message), 401);
    }
    c.set('principal', result.principal);
    await next();
  });
}

/** Admits the given roles and `admin`; answers 403 to the others. Use after `requireAuth`. */
export function requireRole(...roles: readonly Role[]): MiddlewareHandler<AuthEnv> {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const principal = c.get('principal') as Principal | undefined;
    if (!principal) {
      c.header('WWW-Authenticate', `Bearer realm="${REALM}"`);
      return c.json(
        errorBody('unauthorized', 'this endpoint needs an Authorization: Bearer <token> header'),
        401,
      );
    }
    if (!hasRole(principal, ...roles)) {
      return c.json(
        errorBody(
          'forbidden',
          `role ${principal.role} may not use this endpoint (allowed: ${[...roles, 'admin'].join(', ')})`,
        ),
        403,
      );
    }
    await next();
  });
}

/**
 * Whether the caller may see `uai`. Routes answer 404, not 403, when it may not: a 403 would tell
 * a client that a school it is not entitled to exists in the hub (docs/api.md, "Roles and purposes: who sees what").
 */
export function uaiVisible(c: Context<AuthEnv>, uai: string): boolean {
  const principal = c.get('principal') as Principal | undefined;
  return principal !== undefined && canAccessUai(principal, uai);
}

function challenge(error: string, description: string): string {
  return `Bearer realm="${REALM}", error="${error}", error_description="${description.replace(/["\\]/g, '')}"`;
}
