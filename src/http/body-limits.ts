/**
 * One request-body limit for every route, applied before authentication and before any handler
 * reads the body: timetable imports (`/scope/entree/…`) get `server.body_limit_mb`, every other
 * route `server.form_body_limit_kb`. A declared `Content-Length` over the limit is refused
 * without reading a byte; a chunked body is counted as it streams and refused as soon as it
 * crosses the limit (hono's bodyLimit), so a 200 MB body costs at most the limit in memory.
 * The 413 closes the connection without reading the rest of the upload, but gracefully
 * (RFC 9112 §9.6): the answer and a half-close go out, the socket stops reading, and it is only
 * destroyed after a grace period. Destroying it at once (Node's default for `Connection: close`)
 * makes the kernel answer the bytes still arriving with a TCP reset, and a client still writing
 * its body then gets EPIPE/ECONNRESET and loses the 413 (curl: exit 55, Node: `write EPIPE`).
 */
import type { Socket } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problemResponse } from './problem-response.js';

/** Paths of the timetable imports, which take whole exports (the ENTRÉE route has the same limit). */
export const IMPORT_PATH_PREFIX = '/scope/entree/';

export interface BodyLimits {
  /** Bytes, for `/scope/entree/…`. */
  importBytes: number;
  /** Bytes, for every other route. */
  formBytes: number;
}

export const DEFAULT_FORM_BODY_BYTES = 64 * 1024;

export function bodyTooLarge(c: Context, limit: number): Response {
  c.header('Connection', 'close');
  const socket = (c.env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket;
  if (socket) closeWithoutReading(socket);
  return problemResponse(c, 413, [
    {
      code: 'body-too-large',
      message: `the request body is larger than the limit of ${limit} bytes for this route`,
      where: 'body',
    },
  ]);
}

export function bodyLimits(limits: BodyLimits): MiddlewareHandler {
  const imports = bodyLimit({
    maxSize: limits.importBytes,
    onError: (c) => bodyTooLarge(c, limits.importBytes),
  });
  const forms = bodyLimit({ maxSize: limits.formBytes, onError: (c) => bodyTooLarge(c, limits.formBytes) });
  return (c, next) => {
    // A GET or HEAD without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3; a
    // fetch() cannot give them one): nothing to limit, and hono's check would build the full
    // WHATWG Request to find out (issue 18, the SORTIE 304). Other methods may carry a body that
    // only the Request knows of (app.request() sets no Content-Length).
    const method = c.req.method;
    if (
      (method === 'GET' || method === 'HEAD') &&
      c.req.header('Content-Length') === undefined &&
      c.req.header('Transfer-Encoding') === undefined
    )
      return next();
    return c.req.path.startsWith(IMPORT_PATH_PREFIX) ? imports(c, next) : forms(c, next);
  };
}

/**
 * How long a refused upload's connection stays half-closed: enough for the client to read the
 * 413 on any link (one round trip), short enough that a flood of oversized uploads holds few
 * sockets. RFC 9112 §9.6 sets no number; Apache httpd waits 2 s per read while lingering
 * (`SECONDS_TO_LINGER`).
 */
export const REFUSED_UPLOAD_GRACE_MS = 2_000;

/**
 * Replaces, for this one socket, the `destroySoon()` that Node's HTTP server calls once a
 * `Connection: close` response is sent: half-close (the 413 and a FIN go out), stop reading (the
 * unread body stays in the kernel's receive window, which then stops the client: nothing more is
 * read or buffered here), destroy after the grace period. Without a socket (`app.request()`
 * tests) there is nothing to do.
 */
function closeWithoutReading(socket: Socket): void {
  let closing = false;
  socket.destroySoon = () => {
    if (closing) return;
    closing = true;
    socket.pause();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), REFUSED_UPLOAD_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}
