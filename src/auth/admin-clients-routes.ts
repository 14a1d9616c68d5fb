/**
 * `POST /api/admin/clients` (admin only): `scope-energie clients add` over HTTP (add-client.ts).
 * The client is appended to the configured clients file and the files are reloaded before the
 * answer, so the credential in the 201 works on this instance at once; other instances reading
 * the same file follow their own watch. The clear credential is in this answer only.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { InputError, isInputError } from '../domain/problems.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses } from '../http/openapi-route.js';
import { inputErrorResponse, problemResponse } from '../http/problem-response.js';
import { addClient, newClientSchema } from './add-client.js';
import type { ClientsHolder } from './clients-holder.js';
import { type AuthEnv, requireRole } from './middleware.js';

export interface AdminClientsDeps {
  /** The configured `clients_file`, written. */
  clientsFile: string;
  /** Clients files whose ids and tokens a new client must not repeat (the generated one). */
  otherFiles: readonly string[];
  holder: Pick<ClientsHolder, 'reload'>;
  /** ISO 8601 now, for the comment above the new entry. */
  now: () => string;
  /** Told of every client created (the audit log). */
  onCreated?: (clientId: string, by: string) => void;
}

/** The 201 body: the client as written, and its clear credential under `secret` or `token`. */
const addedClientSchema = z.union([
  newClientSchema.pick({ name: true, role: true, purpose: true }).extend({
    id: z.string(),
    uais: z.array(z.string()),
    credential: z.literal('secret'),
    secret: z.string().describe('The clear client secret: shown once'),
  }),
  newClientSchema.pick({ name: true, role: true, purpose: true }).extend({
    id: z.string(),
    uais: z.array(z.string()),
    credential: z.literal('token'),
    token: z.string().describe('The clear bearer token: shown once'),
  }),
]);

export const ADMIN_CLIENTS_ROUTES = {
  add: createRoute({
    method: 'post',
    path: '/api/admin/clients',
    summary: 'Onboard an API client: appended to the clients file, its secret (or token) returned once',
    description:
      'The same as `scope-energie clients add`: a random secret stored as a scrypt hash (or, with `credential: token`, a static bearer token stored as a SHA-256 hash) in the configured `clients_file`, whose comments are kept. The clients files are reloaded before the answer, so the credential works on this instance at once (docs/api.md, "Clients without restarts"). The clear credential is in this answer only (`Cache-Control: no-store`). 409 `duplicate-client` for a taken id, `clients-not-reloaded` when another clients file is refused; 422 for a role/purpose/UAI combination the clients file refuses (`wildcard-refused`, `missing-purpose`, `bad-uai`…). Roles: admin.',
    tags: ['Operations'],
    security: [{ bearer: [] }],
    request: {
      body: {
        required: true,
        content: { 'application/json': { schema: newClientSchema.meta({ id: 'NewClientRequest' }) } },
      },
    },
    responses: {
      201: jsonResponse('The client and its credential, shown once', addedClientSchema),
      ...problemResponses(
        400,
        401,
        403,
        [
          409,
          'A taken client id or token (`duplicate-client`, `duplicate-token`), or `clients-not-reloaded`',
        ],
        413,
        422,
      ),
    },
  }),
};

export function adminClientsRoutes(deps: AdminClientsDeps): OpenAPIHono<AuthEnv> {
  const routes = new ApiRoutes<AuthEnv>();
  // No role but admin: `requireRole()` with no list admits admin alone. The body is checked by
  // addClient with the published schema (newClientSchema), as the CLI checks it.
  routes.add({
    route: ADMIN_CLIENTS_ROUTES.add,
    middleware: [requireRole()],
    handler: async (c) => {
      const by = c.get('principal').clientId;
      try {
        let body: unknown;
        try {
          body = await c.req.json();
        } catch {
          throw InputError.of('json-malformed', 'the body is not JSON', 'body', 'malformed');
        }
        const added = await addClient(body, {
          file: deps.clientsFile,
          otherFiles: deps.otherFiles,
          comment: `added by ${by} through POST /api/admin/clients on ${deps.now()}`,
        });
        const reloaded = deps.holder.reload();
        if (!reloaded.ok) {
          // Written but not applied: another file of the set is broken; say which, keep the 201 off.
          return problemResponse(c, 409, [
            {
              code: 'clients-not-reloaded',
              message: `client ${added.client.id} was written to ${added.file}, but the clients files are refused: ${reloaded.problems.map((p) => `${p.where} ${p.message}`).join('; ')}`,
              where: added.file,
            },
          ]);
        }
        deps.onCreated?.(added.client.id, by);
        c.header('Cache-Control', 'no-store');
        return c.json(
          {
            id: added.client.id,
            ...(added.client.name ? { name: added.client.name } : {}),
            role: added.client.role,
            ...(added.client.purpose ? { purpose: added.client.purpose } : {}),
            uais: added.client.uais ?? [],
            credential: added.credential.kind,
            [added.credential.kind]: added.credential.value,
          },
          201,
        );
      } catch (error) {
        if (!isInputError(error)) throw error;
        // The id (or token hash) is taken: a conflict with the current set, not a malformed body.
        const clash = error.problems.some(
          (p) => p.code === 'duplicate-client' || p.code === 'duplicate-token',
        );
        return clash ? problemResponse(c, 409, error.problems) : inputErrorResponse(c, error);
      }
    },
  });
  return routes.app;
}
