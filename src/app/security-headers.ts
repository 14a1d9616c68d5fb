/**
 * Security headers on every response, HTML or JSON (hono/secure-headers):
 * - a Content-Security-Policy that allows no script at all (the pages have none), no frame
 *   (`frame-ancestors 'none'`, OWASP clickjacking cheat sheet), forms only to this site, and
 *   exactly the pages' two inline style sheets, allowed by their SHA-256 (CSP Level 3 §8.2
 *   "hash-source"): no `unsafe-inline` anywhere;
 * - `X-Frame-Options: DENY` for browsers without CSP 2, `X-Content-Type-Options: nosniff`,
 *   `Referrer-Policy: same-origin` (the pages' POSTs still carry a same-origin Referer for the
 *   origin check, src/scope/vue/origin-check.ts; nothing leaves for other sites).
 * Strict-Transport-Security is left to the TLS-terminating proxy: on the plain-http loopback
 * default it means nothing, and its scope (sub-domains) is the region's decision.
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { STYLE as DASHBOARD_STYLE } from '../dashboard/layout.js';
import { isPreSecured, useSecurityHeaders } from '../http/pre-secured.js';
import { STYLE as PAGE_STYLE } from '../scope/vue/layout.js';

/** `'sha256-…'` of an inline `<style>` element's exact text. */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'none'"],
  styleSrc: [styleHash(PAGE_STYLE), styleHash(DASHBOARD_STYLE)],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

const SECURE_HEADERS_OPTIONS = {
  contentSecurityPolicy: CONTENT_SECURITY_POLICY,
  xFrameOptions: 'DENY',
  referrerPolicy: 'same-origin',
  strictTransportSecurity: false,
} as const;

/** The security headers as a plain record, exactly as hono's middleware sets them. */
async function securityHeaderRecord(): Promise<Readonly<Record<string, string>>> {
  // Its options hold no per-request value: running it once on an empty response gives them all.
  const context = { res: new Response(null) } as unknown as Parameters<MiddlewareHandler>[0];
  await secureHeaders(SECURE_HEADERS_OPTIONS)(context, async () => {});
  const record: Record<string, string> = {};
  for (const [name, value] of context.res.headers) record[name] = value;
  return Object.freeze(record);
}

export function securityHeaders(): MiddlewareHandler {
  const record = securityHeaderRecord();
  useSecurityHeaders(record);
  return async (c, next) => {
    await next();
    // A response built with them (src/http/pre-secured.ts): reading its headers would cost more.
    if (isPreSecured(c.res)) return;
    // As hono's middleware does: set after the handler, overwriting what it set.
    const headers = c.res.headers;
    for (const [name, value] of Object.entries(await record)) headers.set(name, value);
  };
}
