/**
 * `GET /healthz` (the process is alive) and `GET /readyz` (the instance can do its work; the
 * reasons in `missing`), declared once (src/http/openapi-route.ts). No token: a load balancer or
 * an orchestrator probes them.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { ApiRoutes, createRoute, jsonResponse } from '../http/openapi-route.js';

const TAG = 'Operations';

const readinessSchema = z.strictObject({
  status: z.enum(['ready', 'not-ready']),
  missing: z
    .array(z.string())
    .describe('One line per reason: `store: …`, `broker: …`, `leases: …`, `sync …`'),
});

export const HEALTH_ROUTES = {
  healthz: createRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    description: 'Roles: anyone.',
    tags: [TAG],
    security: [],
    responses: { 200: jsonResponse('Alive', z.strictObject({ status: z.literal('ok') })) },
  }),
  readyz: createRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness (store, broker, share of the schools held, age of the last sync)',
    description:
      "Not ready (503) while the store does not answer lease rounds within two renewals, the broker is unreachable, the instance holds none of its share of the schools, or a school it holds is past sync.stale_after_hours; `missing` says which, one line each (`store: …`, `broker: …`, `leases: …`, `sync …`). About the instance's ability to do its work, not the process: use /healthz for liveness. Roles: anyone.",
    tags: [TAG],
    security: [],
    responses: {
      200: jsonResponse('Ready', readinessSchema),
      503: jsonResponse('Not ready: `missing` says what', readinessSchema),
    },
  }),
};

/** The two probes; `readiness` lists what keeps the instance from being ready (none: ready). */
export function healthRoutes(readiness?: () => Promise<string[]>): OpenAPIHono {
  const routes = new ApiRoutes();
  routes.add({ route: HEALTH_ROUTES.healthz, handler: (c) => c.json({ status: 'ok' }) });
  routes.add({
    route: HEALTH_ROUTES.readyz,
    handler: async (c) => {
      const missing = (await readiness?.()) ?? [];
      return c.json(
        { status: missing.length === 0 ? 'ready' : 'not-ready', missing },
        missing.length === 0 ? 200 : 503,
      );
    },
  });
  return routes.app;
}
