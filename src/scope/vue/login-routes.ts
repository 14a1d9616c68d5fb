/**
 * `GET /connexion` (the French login form), `POST /connexion` (checks a client id and secret, or
 * a bearer token, through the Authenticator and opens a session cookie) and `POST /deconnexion`.
 * The cookie holds a session JWT of the Authenticator's usual lifetime (`auth.jwt_ttl_s`), so a
 * session ends by itself and a disabled client loses it at its next request; logout revokes its
 * `sid` in the store, so the old cookie value opens nothing on any instance. Failed logins are
 * throttled per client id and address (429 with Retry-After, auth.throttle).
 */
import { type Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { decodeJwt } from 'jose';
import { type Authenticator, OAuthError, type TokenResponse } from '../../auth/authenticator.js';
import { type LoginThrottle, retryAfterSeconds } from '../../auth/login-throttle.js';
import { remoteAddressOf } from '../../auth/remote-address.js';
import type { Clock } from '../../domain/clock.js';
import { layout } from './layout.js';
import { sameOrigin } from './origin-check.js';
import {
  clearSessionCookie,
  LOGIN_PATH,
  SESSION_COOKIE,
  safeReturnPath,
  setSessionCookie,
} from './session.js';

export interface LoginDeps {
  authenticator: Authenticator;
  clock: Clock;
  /** `server.public_url`: its origin is accepted on POSTs and its scheme decides `Secure`. */
  publicUrl?: string | undefined;
  /** Where a login without `suite` lands; default VUE (the service sets the dashboard). */
  afterLogin?: string;
  /** Failed logins per client id and address (auth.throttle); none when absent. */
  throttle?: LoginThrottle | undefined;
}

export const DEFAULT_AFTER_LOGIN = '/scope/vue';

export function loginRoutes(deps: LoginDeps): Hono {
  const app = new Hono();
  const afterLogin = deps.afterLogin ?? DEFAULT_AFTER_LOGIN;

  app.get(LOGIN_PATH, (c) => c.html(loginPage(safeReturnPath(c.req.query('suite'), afterLogin), undefined)));

  app.post(LOGIN_PATH, async (c) => {
    c.header('Cache-Control', 'no-store');
    if (!sameOrigin(c, deps.publicUrl)) return refusedOrigin(c);
    const form = new URLSearchParams(await c.req.text());
    const back = safeReturnPath(form.get('suite') ?? undefined, afterLogin);
    const fail = (status: ContentfulStatusCode, message: string) => c.html(loginPage(back, message), status);

    const clientId = form.get('identifiant')?.trim() ?? '';
    const secret = form.get('secret') ?? '';
    const token = form.get('jeton')?.trim() ?? '';
    const keys = { clientId: token === '' ? clientId : undefined, address: remoteAddressOf(c) };
    const blockedMs = deps.throttle?.blockedForMs(keys) ?? 0;
    if (blockedMs > 0) {
      const seconds = retryAfterSeconds(blockedMs);
      c.header('Retry-After', String(seconds));
      if (!(c.req.header('Accept') ?? '').includes('text/html')) return tooManyAttempts(c, seconds);
      return fail(
        429,
        `Trop d’essais infructueux : réessayez dans ${Math.ceil(seconds / 60)} min (${seconds} s).`,
      );
    }
    const failed = (message: string) => {
      deps.throttle?.recordFailure(keys);
      return fail(401, message);
    };
    let session: TokenResponse;
    if (token !== '') {
      const result = await deps.authenticator.verifyBearer(token);
      if (!result.ok) return failed('Ce jeton n’est pas reconnu ou a expiré.');
      // One of our JWTs: the session ends when it does (never lengthen a token's life).
      const exp = token.split('.').length === 3 ? decodeJwt(token).exp : undefined;
      session = await deps.authenticator.issueSession(
        result.principal,
        exp === undefined ? undefined : exp * 1000,
      );
    } else if (clientId !== '' && secret !== '') {
      try {
        const principal = await deps.authenticator.authenticateClient(clientId, secret);
        session = await deps.authenticator.issueSession(principal);
      } catch (error) {
        if (error instanceof OAuthError) return failed('Identifiant ou secret incorrect.');
        throw error;
      }
      deps.throttle?.recordSuccess(keys);
    } else {
      return fail(400, 'Indiquez un identifiant et un secret, ou un jeton.');
    }
    setSessionCookie(c, session.access_token, session.expires_in, deps.publicUrl);
    return c.redirect(back, 303);
  });

  app.post('/deconnexion', async (c) => {
    if (!sameOrigin(c, deps.publicUrl)) return refusedOrigin(c);
    // Revoked on the server: the cookie's value, replayed, no longer opens anything.
    const token = getCookie(c, SESSION_COOKIE);
    if (token !== undefined) await deps.authenticator.revokeSession(token);
    clearSessionCookie(c, deps.publicUrl);
    return c.redirect(LOGIN_PATH, 303);
  });

  return app;
}

/** The contract's 429 for scripts (issue 13); browsers get the form with the message. */
function tooManyAttempts(c: Context, seconds: number): Response {
  return c.json(
    {
      errors: [
        {
          code: 'too-many-attempts',
          message: `too many failed attempts from this client or address: retry in ${seconds} s`,
          where: 'body',
        },
      ],
    },
    429,
  );
}

function refusedOrigin(c: Context): Response | Promise<Response> {
  return c.html(
    layout(
      { title: 'Requête refusée' },
      html`<h1>Requête refusée</h1>
<p class="erreur">Ce formulaire doit être envoyé depuis une page de ce site (en-tête Origin absent ou étranger).</p>
<p><a href="${LOGIN_PATH}">Retour à la connexion</a></p>`,
    ),
    403,
  );
}

function loginPage(back: string, error: string | undefined) {
  return layout(
    { title: 'Connexion' },
    html`<h1>Connexion</h1>
${error === undefined ? '' : html`<p class="erreur" role="alert">${error}</p>`}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="suite" value="${back}">
<fieldset>
<legend>Client de l’API (identifiant et secret)</legend>
<label for="identifiant">Identifiant client</label>
<input id="identifiant" name="identifiant" autocomplete="username">
<label for="secret">Secret</label>
<input id="secret" name="secret" type="password" autocomplete="current-password">
</fieldset>
<fieldset>
<legend>Ou un jeton d’accès</legend>
<label for="jeton">Jeton (bearer)</label>
<input id="jeton" name="jeton" type="password" autocomplete="off">
</fieldset>
<button type="submit">Se connecter</button>
</form>`,
  );
}
