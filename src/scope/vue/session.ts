/**
 * Authentication of the HTML pages (VUE, /docs): a browser cannot send a bearer header when it
 * follows a link, so after `POST /connexion` it carries a session cookie holding a short-lived JWT
 * issued by the Authenticator, verified exactly like a bearer token. A bearer header still works
 * (scripts, tests). A page request without credentials is redirected to the login form.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Authenticator } from '../../auth/authenticator.js';
import type { AuthEnv } from '../../auth/middleware.js';

export const SESSION_COOKIE = 'scope_session';
export const LOGIN_PATH = '/connexion';

/** Where a login returns to: only a path of this site (no `//host`, no scheme): no open redirect. */
export function safeReturnPath(candidate: string | undefined, fallback: string): string {
  if (candidate === undefined || !/^\/(?![/\\])[^\s]*$/.test(candidate)) return fallback;
  return candidate;
}

/** `Secure` only over https, or the browser would drop the cookie on a plain-http loopback demo. */
export function isHttps(c: Context, publicUrl: string | undefined): boolean {
  if (publicUrl !== undefined) return publicUrl.startsWith('https:');
  return new URL(c.req.url).protocol === 'https:';
}

export function setSessionCookie(
  c: Context,
  jwt: string,
  maxAgeSeconds: number,
  publicUrl: string | undefined,
): void {
  setCookie(c, SESSION_COOKIE, jwt, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c, publicUrl),
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  });
}

export function clearSessionCookie(c: Context, publicUrl: string | undefined): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c, publicUrl),
  });
}

/**
 * Cookie or bearer, for pages. Without valid credentials: a browser navigation (`Accept:
 * text/html`) is sent to the login form with the page to come back to; anything else gets the
 * same 401 body as the API.
 */
export function requirePageAuth(authenticator: Authenticator): MiddlewareHandler<AuthEnv> {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    const bearer = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    const token = bearer ?? getCookie(c, SESSION_COOKIE);
    const result = token === undefined ? null : await authenticator.verifyBearer(token);
    if (result?.ok) {
      c.set('principal', result.principal);
      await next();
      return;
    }
    if (bearer === undefined && (c.req.header('Accept') ?? '').includes('text/html')) {
      const url = new URL(c.req.url);
      const back = encodeURIComponent(`${url.pathname}${url.search}`);
      if (token !== undefined) clearSessionCookie(c, undefined);
      return c.redirect(`${LOGIN_PATH}?suite=${back}`, 303);
    }
    c.header('WWW-Authenticate', 'Bearer realm="scope-energie"');
    return c.json(
      {
        errors: [
          {
            code: 'unauthorized',
            message:
              token === undefined
                ? `this page needs a session (log in at ${LOGIN_PATH}) or an Authorization: Bearer <token> header`
                : 'the session or bearer token is not valid or has expired',
            where: bearer === undefined ? 'Cookie header' : 'Authorization header',
          },
        ],
      },
      401,
    );
  });
}
