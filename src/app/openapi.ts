/**
 * The OpenAPI 3.1 description of the service (`GET /openapi.json`, rendered at `/docs`). The JSON
 * API routes are declared once with `createRoute` (DECLARED_ROUTES, src/http/openapi-route.ts) and
 * the document is generated from those declarations. What is left in the hand list below is what
 * is not JSON: the pages (HTML, French), `/metrics` (Prometheus text), `/openapi.json` and `/docs`;
 * each entry declares its method, path, parameters and responses as zod schemas, turned into JSON
 * Schema by zod 4's `z.toJSONSchema` (draft 2020-12, which OpenAPI 3.1 uses as is).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { AUDIT_ROUTES } from '../audit/audit-routes.js';
import { ADMIN_CLIENTS_ROUTES } from '../auth/admin-clients-routes.js';
import { OAUTH_ROUTES } from '../auth/oauth-routes.js';
import { BRIDGE_ROUTES } from '../bridge/bridge-routes.js';
import { CLUSTER_ROUTES } from '../bridge/cluster-routes.js';
import { EVENTS_ROUTES } from '../bridge/events-routes.js';
import { GATEWAY_ROUTES } from '../bridge/gateway-routes.js';
import { COMPLIANCE_ROUTES } from '../compliance/compliance-routes.js';
import type { RouteConfig } from '../http/openapi-route.js';
import { SAVINGS_ROUTES } from '../savings/savings-routes.js';
import { ENTREE_ROUTES } from '../scope/entree/routes.js';
import { SORTIE_ROUTES } from '../scope/sortie/routes.js';
import { problemsSchema, uaiPathSchema } from '../scope/sortie/schemas.js';
import { vueQuerySchema } from '../scope/vue/schemas.js';
import { COMFORT_ROUTES } from '../telemetry/comfort-routes.js';
import { HEALTH_ROUTES } from './health-routes.js';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete';
export type RouteAuth = 'none' | 'bearer' | 'bearer-or-session';

/** A schema published once under `components.schemas` and referenced from each use. */
export interface NamedSchema {
  name: string;
  schema: z.ZodType;
  io?: 'input' | 'output';
}

type Content = z.ZodType | NamedSchema | { binary: string } | { html: string } | { form: z.ZodObject };

export interface RouteResponse {
  description: string;
  content?: Record<string, Content>;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI path template: `/scope/sortie/v1/etablissements/{uai}/occupation`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  /** Who may call it (docs/api.md, "Roles and purposes: who sees what"). */
  roles: string;
  pathParameters?: z.ZodObject;
  query?: z.ZodObject;
  requestBody?: { required: boolean; content: Record<string, Content> };
  responses: Record<string, RouteResponse>;
}

const named = (name: string, schema: z.ZodType, io?: 'input' | 'output'): NamedSchema => ({
  name,
  schema,
  ...(io ? { io } : {}),
});

const Problems = named('Problems', problemsSchema);

const loginFormSchema = z.object({
  identifiant: z.string().optional().describe('Client id (with secret)'),
  secret: z.string().optional().describe('Client secret (with identifiant)'),
  jeton: z.string().optional().describe('Or a bearer token (static or JWT)'),
  suite: z.string().optional().describe('Path of this site to return to after login'),
});

const loginQuerySchema = z.object({
  suite: z.string().optional().describe('Path of this site to return to after login'),
});

const errors = (...statuses: number[]): Record<string, RouteResponse> => {
  const descriptions: Record<number, string> = {
    400: 'Bad parameter or body: `where` names it',
    401: 'Missing, expired, tampered or wrong-audience token',
    403: 'This role may not use this route',
    404: 'No such school, or not in this client’s list (indistinguishable)',
    413: 'Body over the route’s limit (`body-too-large`): server.body_limit_mb for imports, server.form_body_limit_kb elsewhere',
    409: 'Conflicts with the current state: `code` says which (a taken client id: `duplicate-client`)',
    415: 'Unknown format',
    422: 'A well-formed document that breaks a rule',
    429: 'Too many failed attempts for this client id or address (`too-many-attempts`); see Retry-After',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: descriptions[status] ?? 'Error',
        content: { 'application/json': Problems },
        ...(status === 429 ? { headers: { 'Retry-After': 'Seconds until an attempt is taken again' } } : {}),
      },
    ]),
  );
};

/** An HTML answer of a dashboard form route: the page again with its errors, or an error page. */
function htmlResponse(description: string, html = 'error page'): RouteResponse {
  return { description, content: { 'text/html': { html } } };
}

/**
 * A dashboard page (HTML, French, docs/dashboard.md): the answers every page shares — the page,
 * 303 to /connexion without a session, 403 to other roles, 404 for a school outside the caller's
 * list, 400 for a bad date or period when it reads one — written once instead of per entry.
 */
function pageRoute(spec: {
  path: string;
  summary: string;
  description?: string;
  roles: string;
  /** 200: its description and what the HTML shows. */
  page: [string, string];
  /** The 400 page (description, what the HTML shows), for pages that read dates or periods. */
  badRequest?: [string, string];
}): RouteDoc {
  const html = (what: string) => ({ 'text/html': { html: what } });
  return {
    method: 'get',
    path: spec.path,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: spec.roles,
    ...(spec.path.includes('{uai}') ? { pathParameters: uaiPathSchema } : {}),
    responses: {
      '200': { description: spec.page[0], content: html(spec.page[1]) },
      '303': { description: 'No session: redirect to /connexion' },
      ...(spec.badRequest
        ? { '400': { description: spec.badRequest[0], content: html(spec.badRequest[1]) } }
        : {}),
      '403': { description: 'Other roles', content: html('error page') },
      ...(spec.path.includes('{uai}')
        ? {
            '404': {
              description: 'No such school, or not in the caller’s list',
              content: html('error page'),
            },
          }
        : {}),
    },
  };
}

export const ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/scope/vue',
    summary: 'VUE: the schools the caller may see (HTML, French)',
    tag: 'SCOPE-VUE',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    responses: {
      '200': { description: 'Page', content: { 'text/html': { html: 'list of schools' } } },
      '303': { description: 'No session: redirect to /connexion' },
      '403': htmlResponse('Other roles'),
    },
  },
  {
    method: 'get',
    path: '/scope/vue/{uai}',
    summary: 'VUE: rooms × days grid of one week and the data-quality panel (HTML, French)',
    tag: 'SCOPE-VUE',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    pathParameters: uaiPathSchema,
    query: vueQuerySchema,
    responses: {
      '200': { description: 'Page', content: { 'text/html': { html: 'week grid and data-quality panel' } } },
      '303': { description: 'No session: redirect to /connexion' },
      '400': {
        description:
          'Bad UAI or date (`invalid-date`, `date-out-of-range`): the page for a browser, the problem body otherwise',
        content: { 'text/html': { html: 'error page' }, 'application/json': Problems },
      },
      '403': htmlResponse('Other roles'),
      '404': {
        description: 'No such school, or not in the caller’s list',
        content: { 'text/html': { html: 'error page' } },
      },
    },
  },
  pageRoute({
    path: '/tableau-de-bord',
    summary: 'Dashboard: the schools of the caller’s list that the bridge drives, with alerts (HTML, French)',
    roles: 'manager, auditor, admin',
    page: ['Page', 'schools and alerts'],
  }),
  pageRoute({
    path: '/tableau-de-bord/{uai}',
    summary: 'Dashboard: one school (zones now, day and week timelines, overrides, savings) (HTML, French)',
    description: 'Query `jour=YYYY-MM-DD` (default today in the school’s time zone).',
    roles: 'manager, auditor, admin',
    page: ['Page', 'school page'],
    badRequest: ['Bad date', 'error page'],
  }),
  pageRoute({
    path: '/tableau-de-bord/{uai}/salles',
    summary:
      'Dashboard: rooms in no zone (with a proposed zone and why) and zones naming rooms gone from the timetable (HTML, French)',
    roles: 'manager, auditor, admin',
    page: ['Page', 'rooms and zones'],
  }),
  pageRoute({
    path: '/tableau-de-bord/{uai}/economies-mesurees',
    summary:
      'Dashboard: measured savings (IPMVP option C) beside the model estimate, or the data missing (HTML, French)',
    description:
      'Query `reference_du`, `reference_au`, `du`, `au` (YYYY-MM-DD): the baseline and reporting periods; without them, the form alone.',
    roles: 'manager, auditor, admin',
    page: ['Page', 'measured savings'],
    badRequest: ['Bad date', 'page with the error'],
  }),
  pageRoute({
    path: '/tableau-de-bord/{uai}/evenements',
    summary:
      'Dashboard: the week’s scheduled events beside the timetable, with the form to create one (HTML, French)',
    description: 'Query `semaine=YYYY-MM-DD` (any day of the week; default this week).',
    roles: 'manager, auditor, admin',
    page: ['Page', 'events calendar'],
    badRequest: ['Bad date', 'error page'],
  }),
  {
    method: 'post',
    path: '/tableau-de-bord/{uai}/evenements',
    summary: 'Dashboard: create a scheduled event from the form (Post/Redirect/Get)',
    description: 'Origin (or Referer) must be this site. Refused: the page again with the errors.',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    pathParameters: uaiPathSchema,
    responses: {
      '303': { description: 'Created: back to the week of the event' },
      '400': htmlResponse('Refused', 'page with the errors'),
      '403': htmlResponse('Auditor, or cross-site request'),
      '404': htmlResponse('No such school'),
      ...errors(413),
    },
  },
  {
    method: 'post',
    path: '/tableau-de-bord/{uai}/evenements/{id}/suppression',
    summary:
      'Dashboard: delete a scheduled event (Post/Redirect/Get); events of a booking feed are read-only',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    pathParameters: uaiPathSchema.extend({ id: z.string().describe('Event id') }),
    responses: {
      '303': { description: 'Deleted: back to the week' },
      '403': htmlResponse('Auditor, or cross-site request'),
      '404': htmlResponse('No such school or event'),
      '409': htmlResponse('An event of a booking feed'),
    },
  },
  pageRoute({
    path: '/tableau-de-bord/{uai}/conformite',
    summary:
      'Dashboard: the compliance report as a printable French page (docs/audit.md, "Compliance report")',
    description:
      'Query `from`, `to` (YYYY-MM-DD, at most 93 days) and `format=csv` for the same bytes as `GET /api/compliance`.',
    roles: 'manager, auditor, admin',
    page: ['Page, or the CSV', 'compliance report'],
    badRequest: ['Bad period', 'error page'],
  }),
  pageRoute({
    path: '/tableau-de-bord/{uai}/confort',
    summary: 'Dashboard: measured comfort per heated zone over a chosen period (HTML, French)',
    description:
      'Query `du`, `au` (YYYY-MM-DD; default the current week): the figures of `GET /api/comfort`.',
    roles: 'manager, auditor, admin',
    page: ['Page', 'comfort table'],
    badRequest: ['Bad period', 'page with the error'],
  }),
  {
    method: 'get',
    path: '/tableau-de-bord/{uai}/confort.csv',
    summary:
      'Dashboard: the comfort report as CSV for a browser session (same bytes as `GET /api/comfort?format=csv`)',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, auditor, admin',
    pathParameters: uaiPathSchema,
    responses: {
      '200': { description: 'text/csv (UTF-8 with BOM, `;`, CRLF)' },
      '303': { description: 'No session: redirect to /connexion' },
      '400': htmlResponse('Bad period'),
      '403': htmlResponse('Other roles'),
      '404': htmlResponse('No such school'),
    },
  },
  {
    method: 'get',
    path: '/tableau-de-bord/{uai}/telemetrie-horaire.csv',
    summary:
      'Dashboard: hourly telemetry as CSV for a browser session (same bytes as `GET /api/telemetry/hourly`)',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, auditor, admin',
    pathParameters: uaiPathSchema,
    responses: {
      '200': { description: 'text/csv (UTF-8 with BOM, `;`, CRLF)' },
      '303': { description: 'No session: redirect to /connexion' },
      '400': htmlResponse('Bad period'),
      '403': htmlResponse('Other roles'),
      '404': htmlResponse('No such school'),
    },
  },
  {
    method: 'post',
    path: '/tableau-de-bord/{uai}/derogations',
    summary: 'Dashboard: create an override from the form (Post/Redirect/Get)',
    description:
      'Refused: the page again with the errors next to the fields and the values kept. Origin (or Referer) must be this site.',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    pathParameters: uaiPathSchema,
    responses: {
      '303': { description: 'Created: back to the school page' },
      '400': htmlResponse('Refused', 'page with the errors'),
      '403': htmlResponse('Auditor, or cross-site request'),
      '404': htmlResponse('No such school'),
      ...errors(413),
    },
  },
  {
    method: 'post',
    path: '/tableau-de-bord/{uai}/derogations/{id}/annulation',
    summary: 'Dashboard: cancel an override (Post/Redirect/Get)',
    tag: 'Pages',
    auth: 'bearer-or-session',
    roles: 'manager, admin',
    pathParameters: uaiPathSchema.extend({ id: z.string().describe('Override id') }),
    responses: {
      '303': { description: 'Cancelled (or already over): back to the school page' },
      '403': htmlResponse('Auditor, or cross-site request'),
      '404': htmlResponse('No such school or override'),
    },
  },
  {
    method: 'get',
    path: '/connexion',
    summary: 'Login form for the pages (HTML, French)',
    tag: 'Pages',
    auth: 'none',
    roles: 'anyone',
    query: loginQuerySchema,
    responses: { '200': { description: 'Form', content: { 'text/html': { html: 'login form' } } } },
  },
  {
    method: 'post',
    path: '/connexion',
    summary: 'Open a session: HttpOnly, SameSite=Strict cookie holding a short-lived JWT',
    description:
      'Origin (or Referer) must be this site. Client id and secret, or a bearer token. Failed logins are throttled per client id and address (auth.throttle): 429 with Retry-After, an HTML form for a browser, the problem body otherwise.',
    tag: 'Pages',
    auth: 'none',
    roles: 'any configured client',
    requestBody: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { form: loginFormSchema } },
    },
    responses: {
      '303': {
        description: 'Logged in: back to `suite`',
        headers: { 'Set-Cookie': 'scope_session=<JWT>; HttpOnly; SameSite=Strict; Path=/' },
      },
      '400': {
        description: 'Nothing to log in with',
        content: { 'text/html': { html: 'form with the error' } },
      },
      '401': { description: 'Wrong credentials', content: { 'text/html': { html: 'form with the error' } } },
      '403': htmlResponse('Cross-site request'),
      ...errors(413, 429),
    },
  },
  {
    method: 'post',
    path: '/deconnexion',
    summary: 'Close the session: revoked on the server (every instance), cookie cleared',
    tag: 'Pages',
    auth: 'none',
    roles: 'anyone',
    responses: {
      '303': { description: 'Cookie cleared; to /connexion' },
      '403': htmlResponse('Cross-site request'),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This description',
    tag: 'Documentation',
    auth: 'bearer-or-session',
    roles: 'any authenticated client',
    responses: {
      '200': {
        description: 'OpenAPI 3.1 document',
        content: {
          'application/json': z
            .looseObject({
              openapi: z.literal('3.1.0'),
              info: z.looseObject({ title: z.string(), version: z.string() }),
              paths: z.record(z.string(), z.record(z.string(), z.unknown())),
            })
            .describe('An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)'),
        },
      },
    },
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'This description, rendered (HTML)',
    tag: 'Documentation',
    auth: 'bearer-or-session',
    roles: 'any authenticated client',
    responses: { '200': { description: 'Page', content: { 'text/html': { html: 'API reference' } } } },
  },
  {
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus metrics: HTTP requests, sync age and staleness per school, publishes, gateways online and lagging, audit chain broken, booking feeds failing',
    tag: 'Operations',
    auth: 'bearer',
    roles: 'auditor, admin',
    responses: { '200': { description: 'Prometheus text exposition format' }, ...errors(401, 403) },
  },
];

type JsonObject = Record<string, unknown>;

function toJson(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  delete json['$schema'];
  return json;
}

function isNamed(content: Content): content is NamedSchema {
  return typeof content === 'object' && 'name' in content && 'schema' in content;
}

export interface OpenApiOptions {
  version: string;
  /** `server.public_url`, when known. */
  serverUrl?: string | undefined;
}

/**
 * The routes declared with `createRoute` (src/http/openapi-route.ts): the router validates with
 * these declarations and the document below is generated from them.
 */
export const DECLARED_ROUTES: readonly RouteConfig[] = [
  ...Object.values(ENTREE_ROUTES),
  ...Object.values(SORTIE_ROUTES),
  ...Object.values(BRIDGE_ROUTES),
  ...Object.values(EVENTS_ROUTES),
  ...Object.values(AUDIT_ROUTES),
  ...Object.values(GATEWAY_ROUTES),
  ...Object.values(CLUSTER_ROUTES),
  ...Object.values(HEALTH_ROUTES),
  ...Object.values(OAUTH_ROUTES),
  ...Object.values(ADMIN_CLIENTS_ROUTES),
  ...Object.values(SAVINGS_ROUTES),
  ...Object.values(COMPLIANCE_ROUTES),
  ...Object.values(COMFORT_ROUTES),
];

/** Method and OpenAPI path of every documented route (declared and listed). */
export function documentedRoutes(): { method: string; path: string }[] {
  return [...DECLARED_ROUTES, ...ROUTES].map((r) => ({ method: r.method, path: r.path }));
}

const operationIdOf = (method: string, path: string) =>
  `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`;

/** The OpenAPI 3.1 document of the service: the declared routes and the listed ones (`routes`). */
export function buildOpenApi(
  options: OpenApiOptions,
  routes: readonly RouteDoc[] = ROUTES,
  declared: readonly RouteConfig[] = DECLARED_ROUTES,
): JsonObject {
  // The generator of @hono/zod-openapi (an OpenAPIHono's registry), fed the declarations.
  const generator = new OpenAPIHono();
  for (const { middleware: _, ...route } of declared)
    generator.openAPIRegistry.registerPath({
      ...route,
      operationId: operationIdOf(route.method, route.path),
    });
  const generated = generator.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'scope-energie', version: options.version },
  });
  const listed = buildListed(options, routes);
  const paths = listed['paths'] as Record<string, Record<string, unknown>>;
  for (const [path, operations] of Object.entries(generated.paths ?? {})) {
    paths[path] = { ...(paths[path] ?? {}), ...(operations as Record<string, unknown>) };
  }
  const components = listed['components'] as { schemas: Record<string, unknown> };
  Object.assign(components.schemas, generated.components?.schemas ?? {});
  const tags = new Set([...(listed['tags'] as { name: string }[]).map((t) => t.name)]);
  for (const route of declared) for (const tag of route.tags ?? []) tags.add(tag);
  return { ...listed, tags: [...tags].map((name) => ({ name })) };
}

function buildListed(options: OpenApiOptions, routes: readonly RouteDoc[]): JsonObject {
  const components: Record<string, JsonObject> = {};
  const contentSchema = (content: Content): JsonObject => {
    if (isNamed(content)) {
      components[content.name] ??= toJson(content.schema, content.io);
      return { $ref: `#/components/schemas/${content.name}` };
    }
    if ('binary' in content)
      return { type: 'string', contentMediaType: 'application/octet-stream', description: content.binary };
    if ('html' in content) return { type: 'string', description: content.html };
    if ('form' in content) return toJson(content.form, 'input');
    return toJson(content);
  };
  const mediaTypes = (content: Record<string, Content>) =>
    Object.fromEntries(Object.entries(content).map(([type, c]) => [type, { schema: contentSchema(c) }]));

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const parameters = [...parametersOf(route.pathParameters, 'path'), ...parametersOf(route.query, 'query')];
    const operation: JsonObject = {
      operationId: operationIdOf(route.method, route.path),
      summary: route.summary,
      description: [route.description, `Roles: ${route.roles}.`].filter(Boolean).join(' '),
      tags: [route.tag],
      security:
        route.auth === 'none'
          ? []
          : route.auth === 'bearer'
            ? [{ bearer: [] }]
            : [{ bearer: [] }, { session: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.requestBody
        ? {
            requestBody: {
              required: route.requestBody.required,
              content: mediaTypes(route.requestBody.content),
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(withUnauthorized(route)).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.content ? { content: mediaTypes(response.content) } : {}),
            ...(response.headers
              ? {
                  headers: Object.fromEntries(
                    Object.entries(response.headers).map(([name, description]) => [
                      name,
                      { description, schema: { type: 'string' } },
                    ]),
                  ),
                }
              : {}),
          },
        ]),
      ),
    };
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonObject>)[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'scope-energie',
      version: options.version,
      description:
        'SCOPE hub (ENTRÉE, SORTIE, VUE) and energy-sobriety bridge. Every route but health, the token endpoint and the login form needs a bearer token (or, for pages, the session cookie).',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or static token' },
        session: { type: 'apiKey', in: 'cookie', name: 'scope_session' },
      },
    },
  };
}

/**
 * Every route behind a token or a session answers 401 without one (a page route: to a client
 * that does not ask for HTML; a browser is redirected to /connexion with 303).
 */
function withUnauthorized(route: RouteDoc): Record<string, RouteResponse> {
  if (route.auth === 'none' || route.responses['401']) return route.responses;
  return {
    ...route.responses,
    '401': {
      description:
        route.auth === 'bearer-or-session'
          ? 'No valid token or session, from a client that does not accept HTML (a browser gets the 303)'
          : 'Missing, expired, tampered or wrong-audience token',
      content: { 'application/json': Problems },
    },
  };
}

function parametersOf(schema: z.ZodObject | undefined, location: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const json = toJson(schema, 'input');
  const properties = (json['properties'] ?? {}) as Record<string, JsonObject>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}
