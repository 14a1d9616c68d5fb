/**
 * The address a request came from, for throttling: the TCP peer that @hono/node-server exposes
 * as `c.env.incoming`. Behind a reverse proxy every request shows the proxy's address, so the
 * per-address count covers the whole proxy; the per-client-id count still applies (docs/api.md).
 * `app.request()` in tests passes the same shape as its third argument.
 */
import type { Context } from 'hono';

export interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

export function remoteAddressOf(c: Context): string | undefined {
  return (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
}
