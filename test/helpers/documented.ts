/**
 * Every response of a declared route checked against its declaration (issue 14): the status must
 * be one the route documents, and a JSON body must parse with the documented schema — the very
 * schema `/openapi.json` publishes (src/app/openapi.ts generates it from the same declarations).
 * Routes still documented by the hand list are not checked here.
 */
import type { Hono } from 'hono';
import type { z } from 'zod';
import { DECLARED_ROUTES } from '../../src/app/openapi.js';
import type { RouteConfig } from '../../src/http/openapi-route.js';

const templates = DECLARED_ROUTES.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The declaration a request reaches, if any (literal paths win over templates). */
export function declaredRoute(method: string, path: string): RouteConfig | undefined {
  const candidates = templates.filter((t) => t.route.method === method.toLowerCase() && t.pattern.test(path));
  return (candidates.find((t) => !t.route.path.includes('{')) ?? candidates[0])?.route;
}

/** Throws when `response` is not what `route` documents for its status. */
export async function expectDocumented(route: RouteConfig, response: Response): Promise<void> {
  const documented = route.responses[response.status] as
    | { content?: Record<string, { schema?: z.ZodType }> }
    | undefined;
  const where = `${route.method.toUpperCase()} ${route.path} → ${response.status}`;
  if (!documented) throw new Error(`${where}: status not documented`);
  const schema = documented.content?.['application/json']?.schema;
  const type = response.headers.get('Content-Type') ?? '';
  if (!schema || !type.startsWith('application/json')) return;
  const body: unknown = await response.clone().json();
  const result = schema.safeParse(body);
  if (!result.success)
    throw new Error(
      `${where}: body does not match the documented schema: ${JSON.stringify(result.error.issues)}`,
    );
}

/**
 * Wraps `app.request` so that each response of a declared route is checked (expectDocumented):
 * a route test then checks every body it receives, not only the ones it inspects.
 */
export function checkDocumentedResponses<A extends Pick<Hono, 'request'>>(app: A): A {
  const request = app.request;
  app.request = (async (input, init, ...rest) => {
    const response = await request(input, init, ...rest);
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const path = new URL(url, 'http://localhost').pathname;
    const route = declaredRoute(method, path);
    if (route) await expectDocumented(route, response);
    return response;
  }) as Hono['request'];
  return app;
}

/**
 * `fetch` against a running service, each response of a declared route checked
 * (expectDocumented): for tests that go through the real server rather than `app.request`.
 */
export async function documentedFetch(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  const route = declaredRoute(init?.method ?? 'GET', new URL(url).pathname);
  if (route) await expectDocumented(route, response);
  return response;
}
