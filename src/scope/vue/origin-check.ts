/**
 * CSRF defence for the pages' POSTs (login, logout), on top of the `SameSite=Strict` cookie: the
 * request must come from this site, as its `Origin` (or, when a browser omits it, `Referer`)
 * says (OWASP CSRF cheat sheet, "Verifying Origin with standard headers"). A request that shows
 * neither is refused: a browser always sends one of them on a form POST.
 */
import type { Context } from 'hono';

export function sameOrigin(c: Context, publicUrl: string | undefined): boolean {
  const allowed = new Set([new URL(c.req.url).origin]);
  if (publicUrl !== undefined) allowed.add(new URL(publicUrl).origin);
  if (c.req.header('Sec-Fetch-Site') === 'cross-site') return false;
  const origin = c.req.header('Origin');
  if (origin !== undefined) return origin !== 'null' && allowed.has(origin);
  const referer = c.req.header('Referer');
  if (referer === undefined) return false;
  try {
    return allowed.has(new URL(referer).origin);
  } catch {
    return false;
  }
}
