/**
 * Routes that document themselves (issue 14): each JSON API route is declared once with
 * `createRoute` (@hono/zod-openapi) — its path and query schemas, its body schema and the schema
 * of each response — and that one declaration is what the router validates with and what
 * `/openapi.json` publishes (src/app/openapi.ts generates the document from the same objects).
 *
 * Validation failures keep the project's problem body (`{errors: [{code, message, where}]}`,
 * src/domain/problems.ts): a parameter is named with its location (`from (query)`, `uai (path)`),
 * and a custom issue may carry its own `code` and `where` in its params (dates, UAIs).
 *
 * Request bodies are declared for the document but validated where they always were, in the
 * service that receives them (overrides, events): with the same schema object, so the published
 * body and the checked body cannot drift, and a body refused by a dashboard form or the API gets
 * the same problems. The route's own middleware (role, school visibility) runs before the
 * validators: a school outside the caller's list is 404 whatever the parameters.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { InputError, type Problem } from '../domain/problems.js';
import { inputErrorResponse } from './problem-response.js';

export { createRoute, type RouteConfig };

/** The error body of every route (src/http/problem-response.ts). */
export const problemsSchema = z.strictObject({
  errors: z.array(
    z.strictObject({
      code: z.string().describe('Stable machine code, kebab-case'),
      message: z.string().describe('One sentence for a person'),
      where: z.string().describe('Which parameter, header, line or JSON path'),
    }),
  ),
});

/** The same schema, published once under `components.schemas.Problems`. */
export const ProblemsBody = problemsSchema.meta({ id: 'Problems' });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad parameter or body: `where` names it',
  401: 'Missing, expired, tampered or wrong-audience token',
  403: 'This role may not use this route',
  404: 'No such school, or not in this client’s list (indistinguishable)',
  409: 'Conflicts with the current state: `code` says which',
  413: 'Body over the route’s limit (`body-too-large`): server.form_body_limit_kb',
  415: 'Unknown format',
  422: 'A well-formed document that breaks a rule',
  503: 'A dependency cannot answer now: `code` says which',
};

export interface ProblemResponse {
  description: string;
  content: { 'application/json': { schema: typeof ProblemsBody } };
}

/** The problem responses of a route, by status, with the shared descriptions (or the given ones). */
export function problemResponses(
  ...statuses: (number | [number, string])[]
): Record<number, ProblemResponse> {
  return Object.fromEntries(
    statuses.map((entry) => {
      const [status, description] = Array.isArray(entry)
        ? entry
        : [entry, ERROR_DESCRIPTIONS[entry] ?? 'Error'];
      return [status, { description, content: { 'application/json': { schema: ProblemsBody } } }];
    }),
  );
}

/** A JSON response of `schema`, for a route's `responses`. */
export function jsonResponse<S extends z.ZodType>(
  description: string,
  schema: S,
  headers?: Record<string, string>,
): {
  description: string;
  content: { 'application/json': { schema: S } };
  headers?: Record<string, { description: string; schema: { type: 'string' } }>;
} {
  return {
    description,
    content: { 'application/json': { schema } },
    ...(headers
      ? {
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, text]) => [
              name,
              { description: text, schema: { type: 'string' as const } },
            ]),
          ),
        }
      : {}),
  };
}

export type ParameterLocation = 'query' | 'path';

/**
 * Zod issues of path or query parameters as problems: one per parameter (a missing `from` also
 * fails the range check), `code` from the issue's params or `parameter-missing`/`bad-parameter`,
 * `where` from the issue's params or `name (location)`.
 */
export function parameterProblems(
  issues: readonly z.core.$ZodIssue[],
  values: Record<string, unknown>,
  location: ParameterLocation,
): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const issue of issues) {
    const name = String(issue.path[0] ?? '');
    if (seen.has(name)) continue;
    seen.add(name);
    const params =
      issue.code === 'custom' ? (issue.params as { code?: unknown; where?: unknown } | undefined) : undefined;
    const custom = params?.code;
    const code =
      typeof custom === 'string'
        ? custom
        : values[name] === undefined
          ? 'parameter-missing'
          : 'bad-parameter';
    const where = typeof params?.where === 'string' ? params.where : `${name} (${location})`;
    problems.push({ code, message: issue.message, where });
  }
  return problems;
}

/** What a route answers when its parameters fail their schema: an `InputError` (400 by default). */
export type ParameterErrors = (
  issues: readonly z.core.$ZodIssue[],
  target: 'query' | 'param',
  c: Context,
) => InputError;

const defaultParameterErrors: ParameterErrors = (issues, target, c) =>
  target === 'query'
    ? new InputError(parameterProblems(issues, c.req.query(), 'query'), 'malformed')
    : new InputError(parameterProblems(issues, c.req.param(), 'path'), 'malformed');

export interface ApiRoute<E extends Env> {
  route: RouteConfig;
  /** Run before the validators (role, school visibility), in order. */
  middleware?: MiddlewareHandler<E>[];
  handler: (c: Context<E>) => Response | Promise<Response>;
  /** How parameter issues become problems (default: `parameterProblems`). */
  errors?: ParameterErrors;
  /**
   * The handler checks the parameters itself (declared for the document only), where the
   * validator would change a published answer: the order of checks (a school outside the list is
   * 404 before its dates are read) or a route's own codes (`option-missing`, range checks).
   * test/service/openapi-constraints.test.ts holds such routes to their documented constraints.
   */
  handlerValidates?: true;
}

/**
 * A sub-app of documented routes. Each `add` mounts one declaration: its middleware, then the
 * path and query validators of @hono/zod-openapi answering the problem body, then the handler.
 */
export class ApiRoutes<E extends Env> {
  readonly app = new OpenAPIHono<E>();
  readonly routes: RouteConfig[] = [];

  add(spec: ApiRoute<E>): this {
    const { route } = spec;
    this.routes.push(route);
    const errors = spec.errors ?? defaultParameterErrors;
    // The body is declared for the document only (see the header): the service validates it.
    const request =
      route.request && !spec.handlerValidates
        ? {
            ...(route.request.params ? { params: route.request.params } : {}),
            ...(route.request.query ? { query: route.request.query } : {}),
          }
        : undefined;
    const { request: _declared, ...declaration } = route;
    const mounted: RouteConfig = {
      ...declaration,
      hide: true,
      ...(request ? { request } : {}),
      ...(spec.middleware?.length ? { middleware: spec.middleware as RouteConfig['middleware'] } : {}),
    };
    // The handler and hook answer with any Response; the declared response schemas are checked
    // by the route tests (test/helpers/documented.ts), not by the types.
    this.app.openapi(
      mounted,
      spec.handler as never,
      ((result, c) => {
        if (result.success) return undefined;
        const target = result.target === 'param' ? 'param' : 'query';
        return inputErrorResponse(c, errors(result.error.issues, target, c));
      }) as Parameters<OpenAPIHono<E>['openapi']>[2],
    );
    return this;
  }
}

/** The validated query of a route (after its validator ran). */
export function validQuery<S extends z.ZodType>(c: Context, _schema: S): z.output<S> {
  return c.req.valid('query' as never) as z.output<S>;
}
