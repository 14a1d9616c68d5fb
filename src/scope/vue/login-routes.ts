/**
 * `GET /connexion` (the French login form), `POST /connexion` (checks a client id and secret, or
 * a bearer token, through the Authenticator and opens a session cookie) and `POST /deconnexion`.
 * The cookie holds a JWT of the Authenticator's usual lifetime (`auth.jwt_ttl_s`), so a session
 * ends by itself and a disabled client loses it at its next request.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { decodeJwt } from 'jose';
import { type Authenticator, OAuthError, type TokenResponse } from '../../auth/authenticator.js';
import type { Clock } from '../../domain/clock.js';
import { layout } from './layout.js';
import { sameOrigin } from './origin-check.js';
import { clearSessionCookie, LOGIN_PATH, safeReturnPath, setSessionCookie } from './session.js';

export interface LoginDeps {
  authenticator: Authenticator;
  clock: Clock;
  /** `server.public_url`: its origin is accepted on POSTs and its scheme decides `Secure`. */
  publicUrl?: string | undefined;
  /** Where a login without `suite` lands; default VUE (the service sets the dashboard). */
  afterLogin?: string;
}

export const DEFAULT_AFTER_LOGIN = '/scope/vue';

export function loginRoutes(deps: LoginDeps): Hono {
  const app = new Hono();
  const afterLogin = deps.afterLogin ?? DEFAULT_AFTER_LOGIN;

  app.get(LOGIN_PATH, (c) => c.html(loginPage(safeReturnPath(c.req.query('suite'), afterLogin), undefined)));

  app.post(LOGIN_PATH, bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    c.header('Cache-Control', 'no-store');
    if (!sameOrigin(c, deps.publicUrl)) return refusedOrigin(c);
    const form = new URLSearchParams(await c.req.text());
    const back = safeReturnPath(form.get('suite') ?? undefined, afterLogin);
    const fail = (status: ContentfulStatusCode, message: string) => c.html(loginPage(back, message), status);

    const clientId = form.get('identifiant')?.trim() ?? '';
    const secret = form.get('secret') ?? '';
    const token = form.get('jeton')?.trim() ?? '';
    let session: { jwt: string; maxAge: number };
    if (token !== '') {
      const result = await deps.authenticator.verifyBearer(token);
      if (!result.ok) return fail(401, 'Ce jeton n’est pas reconnu ou a expiré.');
      if (token.split('.').length === 3) {
        // Already one of our JWTs: keep it and its expiry (never lengthen a token's life).
        const exp = decodeJwt(token).exp ?? 0;
        session = { jwt: token, maxAge: exp - deps.clock.now() / 1000 };
      } else {
        session = sessionOf(await deps.authenticator.mintToken(result.principal.clientId));
      }
    } else if (clientId !== '' && secret !== '') {
      try {
        session = sessionOf(await deps.authenticator.issueToken(clientId, secret));
      } catch (error) {
        if (error instanceof OAuthError) return fail(401, 'Identifiant ou secret incorrect.');
        throw error;
      }
    } else {
      return fail(400, 'Indiquez un identifiant et un secret, ou un jeton.');
    }
    setSessionCookie(c, session.jwt, session.maxAge, deps.publicUrl);
    return c.redirect(back, 303);
  });

  app.post('/deconnexion', (c) => {
    if (!sameOrigin(c, deps.publicUrl)) return refusedOrigin(c);
    clearSessionCookie(c, deps.publicUrl);
    return c.redirect(LOGIN_PATH, 303);
  });

  return app;
}

function sessionOf(token: TokenResponse): { jwt: string; maxAge: number } {
  return { jwt: token.access_token, maxAge: token.expires_in };
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
