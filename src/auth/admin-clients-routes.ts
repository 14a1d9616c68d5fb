/**
 * `POST /api/admin/clients` (admin only): `scope-energie clients add` over HTTP (add-client.ts).
 * The client is appended to the configured clients file and the files are reloaded before the
 * answer, so the credential in the 201 works on this instance at once; other instances reading
 * the same file follow their own watch. The clear credential is in this answer only.
 */
import { Hono } from 'hono';
import { InputError, isInputError } from '../domain/problems.js';
import { inputErrorResponse, problemResponse } from '../http/problem-response.js';
import { addClient } from './add-client.js';
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

export function adminClientsRoutes(deps: AdminClientsDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  // No role but admin: `requireRole()` with no list admits admin alone.
  app.post('/api/admin/clients', requireRole(), async (c) => {
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
      const clash = error.problems.some((p) => p.code === 'duplicate-client' || p.code === 'duplicate-token');
      return clash ? problemResponse(c, 409, error.problems) : inputErrorResponse(c, error);
    }
  });
  return app;
}
