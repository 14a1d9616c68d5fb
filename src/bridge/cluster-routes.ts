/**
 * `GET /api/cluster` (docs/deployment.md, "What to monitor"): the bridge instances sharing the
 * database, which one answered, and who holds each of the caller's schools under which fencing
 * epoch until when. Managers, auditors and admins; a caller sees only its own UAIs' leases.
 */
import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import type { SchoolLeases } from '../cluster/school-leases.js';
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

export function clusterRoutes(deps: ClusterRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/api/cluster', requireRole('manager', 'auditor'), async (c) => {
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
  });
  return app;
}
