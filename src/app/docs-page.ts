/**
 * `GET /openapi.json` and `GET /docs` (docs/api.md): the OpenAPI document and its
 * server-rendered reference page, every route with its parameters, bodies and responses (no
 * script, no CDN). Both need a token or a session, like every route but health (docs/api.md says
 * why). The document is built once: it depends only on the code.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { Authenticator } from '../auth/authenticator.js';
import type { AuthEnv } from '../auth/middleware.js';
import { type Html, layout } from '../scope/vue/layout.js';
import { requirePageAuth } from '../scope/vue/session.js';
import { buildOpenApi, type OpenApiOptions } from './openapi.js';

type Json = Record<string, unknown>;

export function docsRoutes(authenticator: Authenticator, options: OpenApiOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const document = buildOpenApi(options);
  const text = JSON.stringify(document, null, 2);
  const auth = requirePageAuth(authenticator);
  app.get('/openapi.json', auth, (c) =>
    c.body(text, 200, { 'Content-Type': 'application/json; charset=UTF-8' }),
  );
  app.get('/docs', auth, (c) => c.html(docsPage(document, c.get('principal').clientId)));
  return app;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export function docsPage(document: Json, clientId: string): Html {
  const paths = (document['paths'] ?? {}) as Record<string, Record<string, Json>>;
  const components = ((document['components'] as Json | undefined)?.['schemas'] ?? {}) as Record<
    string,
    unknown
  >;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );
  const anchor = (method: string, path: string) => `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
  const schemaBlock = (schema: unknown) =>
    html`<details><summary>Schéma</summary><pre>${pretty(schema)}</pre></details>`;
  const content = (media: Json | undefined) =>
    media === undefined
      ? ''
      : html`<ul>${Object.entries(media).map(
          ([type, value]) => html`<li><code>${type}</code>${schemaBlock((value as Json)['schema'])}</li>`,
        )}</ul>`;

  return layout(
    { title: 'Documentation de l’API', clientId },
    html`<div lang="en"><h1>${String((document['info'] as Json)['title'])} ${String((document['info'] as Json)['version'])}: API reference</h1>
<p>${String((document['info'] as Json)['description'])}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<nav aria-label="Routes"><ul>${operations.map(
      ({ path, method, operation }) =>
        html`<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${path}</code></a> ${String(operation['summary'])}</li>`,
    )}</ul></nav>
${operations.map(({ path, method, operation }) => {
  const parameters = (operation['parameters'] ?? []) as Json[];
  const body = operation['requestBody'] as Json | undefined;
  const responses = (operation['responses'] ?? {}) as Record<string, Json>;
  const security = (operation['security'] ?? []) as Json[];
  return html`<section id="${anchor(method, path)}">
<h2><code>${method.toUpperCase()} ${path}</code></h2>
<p>${String(operation['summary'])}. ${String(operation['description'] ?? '')}</p>
<p>Authentication: ${security.length === 0 ? 'none' : security.map((s) => Object.keys(s).join('')).join(' or ')}.</p>
${
  parameters.length === 0
    ? ''
    : html`<table><caption>Parameters</caption><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Schema</th><th scope="col">Description</th></tr></thead><tbody>${parameters.map(
        (p) =>
          html`<tr><th scope="row"><code>${String(p['name'])}</code></th><td>${String(p['in'])}</td><td>${p['required'] ? 'yes' : 'no'}</td><td><code>${JSON.stringify(p['schema'])}</code></td><td>${String(p['description'] ?? '')}</td></tr>`,
      )}</tbody></table>`
}
${body === undefined ? '' : html`<h3>Request body</h3>${content(body['content'] as Json | undefined)}`}
<h3>Responses</h3>
<ul>${Object.entries(responses).map(
    ([status, response]) =>
      html`<li><strong>${status}</strong> ${String(response['description'])}${
        response['headers'] === undefined
          ? ''
          : html` (headers: ${Object.keys(response['headers'] as Json).join(', ')})`
      }${content(response['content'] as Json | undefined)}</li>`,
  )}</ul>
</section>`;
})}
<h2 id="schemas">Schemas</h2>
${Object.entries(components).map(
  ([name, schema]) =>
    html`<section id="schema-${name}"><h3>${name}</h3><pre>${pretty(schema)}</pre></section>`,
)}</div>`,
  );
}
