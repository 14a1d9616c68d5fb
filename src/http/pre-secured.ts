/**
 * Responses built with the security headers already in (issue 18, the SORTIE 304). The app's
 * middleware (src/app/security-headers.ts) adds its headers to a response after the handler:
 * reading a response's headers makes @hono/node-server build a WHATWG `Headers` and a full
 * `Response`, where a response made from a plain header record is written straight to the socket.
 * A route on a hot path builds its response here instead (one record: the middleware's headers
 * and its own), and the middleware leaves it alone. The middleware registers its headers here
 * (`useSecurityHeaders`) so that this module, below app/ and scope/, depends on neither.
 */
const secured = new WeakSet<Response>();
let securityHeaders: Promise<Readonly<Record<string, string>>> = Promise.resolve({});

/** Called by the security middleware when it is made: the headers it sets on every response. */
export function useSecurityHeaders(headers: Promise<Readonly<Record<string, string>>>): void {
  securityHeaders = headers;
}

/** A response without a body carrying the security headers and `headers` (a 304). */
export async function preSecured(status: number, headers: Record<string, string>): Promise<Response> {
  const response = new Response(null, { status, headers: { ...(await securityHeaders), ...headers } });
  secured.add(response);
  return response;
}

/** Whether `response` was built by `preSecured` (its security headers are in). */
export function isPreSecured(response: Response): boolean {
  return secured.has(response);
}
