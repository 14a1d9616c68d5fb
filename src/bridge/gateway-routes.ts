/**
 * `GET /api/gateways` (docs/api.md, "Bridge API"): each gateway's status, last
 * seen, and per zone function the latest rev, the applied rev, the measured temperature and the
 * lagging flag. Managers, auditors and admins; a caller sees only its own UAIs. Mount inside the
 * bearer-authenticated sub-app (after `requireAuth`).
 */
import { z } from 'zod';
import { type AuthEnv, requireRole } from '../auth/middleware.js';
import { canAccessUai } from '../auth/principal.js';
import { ZONE_FUNCTIONS } from '../devices/schema.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses } from '../http/openapi-route.js';
import type { GatewayReport, GatewayTracker } from './gateway-tracker.js';

export interface GatewayRoutesDeps {
  tracker: Pick<GatewayTracker, 'report'>;
}

export interface GatewaysBody {
  gateways: GatewayReport[];
}

const online = z.enum(['online', 'offline']);

/** The declaration of `GET /api/gateways` (what it answers and /openapi.json publishes). */
export const GATEWAY_ROUTES = {
  gateways: createRoute({
    method: 'get',
    path: '/api/gateways',
    summary:
      'Each gateway of the caller’s schools: status, last seen, per zone the latest and applied revision',
    description:
      'A zone whose gateway has not applied the latest revision within the configured delay is flagged `lagging`. zigbee2mqtt zones are read from their devices’ state (docs/gateway-contract.md) and also carry `available` (the device’s availability) once known. Roles: manager, auditor, admin.',
    tags: ['Bridge'],
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse(
        'The gateways',
        z.strictObject({
          gateways: z.array(
            z.strictObject({
              uai: z.string(),
              gateway: z.string(),
              state: z
                .enum(['online', 'offline', 'unknown'])
                .describe('`unknown` until the gateway published a status'),
              last_seen: z.iso.datetime().nullable(),
              zones: z.array(
                z.strictObject({
                  zone: z.string(),
                  function: z.enum(ZONE_FUNCTIONS),
                  latest_rev: z.int().nullable().describe('The latest rev the bridge issued'),
                  applied_rev: z.int().nullable().describe('The rev the gateway last reported applying'),
                  mode: z.string().nullable(),
                  setpoint_c: z.number().nullable(),
                  measured_c: z.number().nullable(),
                  source: z.string().nullable(),
                  reported_at: z.string().nullable().describe('The gateway’s own timestamp of the report'),
                  lagging: z.boolean(),
                  available: online.optional(),
                }),
              ),
            }),
          ),
        }),
      ),
      ...problemResponses(401, 403),
    },
  }),
};

export function gatewayRoutes(deps: GatewayRoutesDeps): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();
  routes.add({
    route: GATEWAY_ROUTES.gateways,
    middleware: [requireRole('manager', 'auditor')],
    handler: (c) => {
      const principal = c.get('principal');
      const body: GatewaysBody = { gateways: deps.tracker.report((uai) => canAccessUai(principal, uai)) };
      return c.json(body);
    },
  });
  return routes.app;
}
