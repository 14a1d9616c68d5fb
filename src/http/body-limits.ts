/**
 * One request-body limit for every route, applied before authentication and before any handler
 * reads the body: timetable imports (`/scope/entree/…`) get `server.body_limit_mb`, every other
 * route `server.form_body_limit_kb`. A declared `Content-Length` over the limit is refused
 * without reading a byte; a chunked body is counted as it streams and refused as soon as it
 * crosses the limit (hono's bodyLimit), so a 200 MB body costs at most the limit in memory.
 * The 413 closes the connection: the rest of an oversized upload is not drained.
 */
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
  return (c, next) => (c.req.path.startsWith(IMPORT_PATH_PREFIX) ? imports(c, next) : forms(c, next));
}
