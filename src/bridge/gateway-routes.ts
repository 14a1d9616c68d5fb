/**
 * `GET /api/gateways` (docs/api.md, "Bridge API"): each gateway's status, last
 * seen, and per zone function the latest rev, the applied rev, the measured temperature and the
 * lagging flag. Managers, auditors and admins; a caller sees only its own UAIs. Mount inside the
 * bearer-authenticated sub-app (after `requireAuth`).
 */
import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import type { GatewayReport, GatewayTracker } from './gateway-tracker.js';

export interface GatewayRoutesDeps {
  tracker: Pick<GatewayTracker, 'report'>;
}

export interface GatewaysBody {
  gateways: GatewayReport[];
}

export function gatewayRoutes(deps: GatewayRoutesDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/api/gateways', requireRole('manager', 'auditor'), (c) => {
    const principal = c.get('principal');
    const body: GatewaysBody = { gateways: deps.tracker.report((uai) => canAccessUai(principal, uai)) };
    return c.json(body);
  });
  return app;
}
