/**
 * `GET /api/cluster` (docs/deployment.md, "What to monitor"): the bridge instances sharing the
 * database, which one answered, and who holds each of the caller's schools under which fencing
 * epoch until when. Managers, auditors and admins; a caller sees only its own UAIs' leases.
 */
import { z } from 'zod';
import { type AuthEnv, requireRole } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import type { SchoolLeases } from '../cluster/school-leases.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses } from '../http/openapi-route.js';
import type { LeaseRepository } from '../store/lease-repository.js';

export interface ClusterRoutesDeps {
  leases: Pick<SchoolLeases, 'instanceId'>;
  repository: Pick<LeaseRepository, 'leases' | 'instances' | 'now'>;
}

export interface ClusterBody {
  instance: string;
  instances: Array<{ id: string; started_at: string; heartbeat_at: string; live: boolean }>;
  leases: Array<{ uai: string; owner: string; epoch: number; expires_at: string; live: boolean }>;
}

const instant = z.iso.datetime();

/** The declaration of `GET /api/cluster` (what it answers and /openapi.json publishes). */
export const CLUSTER_ROUTES = {
  cluster: createRoute({
    method: 'get',
    path: '/api/cluster',
    summary: 'The bridge instances sharing the database and who holds each of the caller’s schools',
    description:
      'Instances with their last heartbeat, and per school the holding instance, its fencing epoch and lease expiry (docs/deployment.md); "live" against the database clock. Roles: manager, auditor, admin.',
    tags: ['Bridge'],
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse(
        'The instances and leases',
        z.strictObject({
          instance: z.string().describe('The instance that answered'),
          instances: z.array(
            z.strictObject({ id: z.string(), started_at: instant, heartbeat_at: instant, live: z.boolean() }),
          ),
          leases: z.array(
            z.strictObject({
              uai: z.string(),
              owner: z.string(),
              epoch: z.int().describe('Fencing epoch'),
              expires_at: instant,
              live: z.boolean(),
            }),
          ),
        }),
      ),
      ...problemResponses(401, 403),
    },
  }),
};

export function clusterRoutes(deps: ClusterRoutesDeps): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();
  routes.add({
    route: CLUSTER_ROUTES.cluster,
    middleware: [requireRole('manager', 'auditor')],
    handler: async (c) => {
      const principal = c.get('principal');
      const [instances, leases, now] = await Promise.all([
        deps.repository.instances(),
        deps.repository.leases(),
        // "Live" against the database clock, like the leases themselves: never this machine's.
        deps.repository.now(),
      ]);
      const iso = (ms: number) => new Date(ms).toISOString();
      const body: ClusterBody = {
        instance: deps.leases.instanceId,
        instances: instances.map((i) => ({
          id: i.instanceId,
          started_at: iso(i.startedAt),
          heartbeat_at: iso(i.heartbeatAt),
          live: i.expiresAt > now,
        })),
        leases: leases
          .filter((l) => canAccessUai(principal, l.uai))
          .map((l) => ({
            uai: l.uai,
            owner: l.owner,
            epoch: l.epoch,
            expires_at: iso(l.expiresAt),
            live: l.expiresAt > now,
          })),
      };
      return c.json(body);
    },
  });
  return routes.app;
}
