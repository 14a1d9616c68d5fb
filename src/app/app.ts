/**
 * The HTTP surface: one hono app assembled from each part's routes. Routes are tested through
 * `app.request()` without a server; `serve()` in src/service.ts binds it to a port.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Authenticator } from '../auth/authenticator.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { type AuthEnv, requireAuth, requireRole } from '../auth/middleware.js';
import { oauthRoutes } from '../auth/oauth-routes.js';
import type { DashboardDeps } from '../dashboard/deps.js';
import { DASHBOARD_BASE } from '../dashboard/pages.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { isInputError } from '../domain/problems.js';
import { bodyLimits, bodyTooLarge, DEFAULT_FORM_BODY_BYTES } from '../http/body-limits.js';
import { inputErrorResponse, problemResponse } from '../http/problem-response.js';
import { type EntreeDeps, entreeRoutes } from '../scope/entree/routes.js';
import { type SortieDeps, sortieRoutes } from '../scope/sortie/routes.js';
import { SortieOccupancy } from '../scope/sortie/sortie-occupancy.js';
import { type LoginDeps, loginRoutes } from '../scope/vue/login-routes.js';
import { type VueDeps, vueRoutes } from '../scope/vue/routes.js';
import { docsRoutes } from './docs-page.js';
import { healthRoutes } from './health-routes.js';
import type { Metrics } from './metrics.js';
import type { OpenApiOptions } from './openapi.js';
import { securityHeaders } from './security-headers.js';

/** auth.throttle's defaults (config/default.yaml), for apps built without a configuration. */
const DEFAULT_THROTTLE = { maxFailures: 10, windowMs: 300_000, maxTracked: 10_000 };

export interface HttpAppDeps {
  authenticator: Authenticator;
  entree: EntreeDeps;
  sortie?: SortieDeps;
  /** VUE pages and their login (cookie sessions); the authenticator is `authenticator`. */
  vue?: Omit<VueDeps & LoginDeps, 'authenticator'>;
  /** The managers' dashboard (`/tableau-de-bord`); its login is VUE's (`/connexion`). */
  dashboard?: Omit<DashboardDeps, 'authenticator'>;
  /** `/openapi.json` and `/docs`. */
  docs?: OpenApiOptions;
  /** The bridge's routes (overrides, plans, gateways), mounted behind the bearer check. */
  bridge?: Hono<AuthEnv>;
  /** `GET /api/savings` (model estimate), behind the bearer check. */
  savings?: Hono<AuthEnv>;
  /** `GET /api/audit` (behind the bearer check). */
  audit?: Hono<AuthEnv>;
  /** `POST /api/admin/clients` (behind the bearer check; src/auth/admin-clients-routes.ts). */
  admin?: Hono<AuthEnv>;
  /** Prometheus metrics: counted for every request, served at `/metrics` (admin, auditor). */
  metrics?: Metrics;
  /** Readiness: what is not ready yet (empty when ready). */
  readiness?: () => Promise<string[]>;
  logError?: (error: unknown, context: { method: string; path: string }) => void;
  /** Request-body limits (body-limits.ts); default: the entree limit for imports, 64 kB elsewhere. */
  formBodyLimitBytes?: number;
  /** Failed logins and token requests (auth.throttle); default: 10 per 5 minutes per id and address. */
  throttle?: LoginThrottle;
}

export function createHttpApp(deps: HttpAppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  if (deps.metrics) app.use('*', deps.metrics.middleware);
  app.use('*', securityHeaders());
  app.use(
    '*',
    bodyLimits({
      importBytes: deps.entree.bodyLimitBytes,
      formBytes: deps.formBodyLimitBytes ?? DEFAULT_FORM_BODY_BYTES,
    }),
  );
  const throttle = deps.throttle ?? new LoginThrottle(DEFAULT_THROTTLE);
  app.onError((error, c) => {
    if (isInputError(error)) return inputErrorResponse(c, error);
    if (error instanceof HTTPException) {
      if (error.status === 413) return bodyTooLarge(c, deps.formBodyLimitBytes ?? DEFAULT_FORM_BODY_BYTES);
      return error.getResponse();
    }
    // A safety net, not the fix: input that reaches Date, Intl or decodeURIComponent unchecked
    // (a year 0000, a bad % escape) is the client's error, never a 500. Logged, so the route
    // that let it through gets its own check.
    if (error instanceof RangeError || error instanceof URIError) {
      deps.logError?.(error, { method: c.req.method, path: c.req.path });
      return problemResponse(c, 400, [
        {
          code: 'bad-request',
          message: `the request holds a value out of range or badly encoded (${error.name})`,
          where: c.req.path,
        },
      ]);
    }
    deps.logError?.(error, { method: c.req.method, path: c.req.path });
    return problemResponse(c, 500, [
      {
        code: 'internal-error',
        message: 'the service failed to handle this request; it is logged',
        where: c.req.path,
      },
    ]);
  });
  app.notFound((c) =>
    problemResponse(c, 404, [{ code: 'not-found', message: 'no such route', where: c.req.path }]),
  );

  // Health needs no token (the only anonymous endpoints): load balancers and probes call them.
  app.route('/', healthRoutes(deps.readiness));
  app.route('/', oauthRoutes(deps.authenticator, throttle));
  // Pages and docs authenticate by session cookie or bearer (src/scope/vue/session.ts): mounted
  // before the bearer-only sub-app, whose catch-all middleware would answer them 401.
  if (deps.vue) {
    app.route(
      '/',
      loginRoutes({
        ...deps.vue,
        authenticator: deps.authenticator,
        throttle,
        // Managers and auditors alike start on the dashboard when there is one (auditors may not see VUE).
        ...(deps.dashboard ? { afterLogin: DASHBOARD_BASE } : {}),
      }),
    );
    app.route('/', vueRoutes({ ...deps.vue, authenticator: deps.authenticator }));
  }
  if (deps.dashboard) {
    if (!deps.vue)
      app.route(
        '/',
        loginRoutes({
          ...deps.dashboard,
          authenticator: deps.authenticator,
          throttle,
          afterLogin: DASHBOARD_BASE,
        }),
      );
    app.route('/', dashboardRoutes({ ...deps.dashboard, authenticator: deps.authenticator }));
  }
  if (deps.docs) app.route('/', docsRoutes(deps.authenticator, deps.docs));

  // SORTIE keeps current versions in memory; an import through this app invalidates its school
  // at once, so a consumer (the in-process bridge too: it shares this instance) never gets a 304
  // for a timetable that has just changed.
  const sortieOccupancy = deps.sortie && (deps.sortie.occupancy ?? new SortieOccupancy(deps.sortie));
  const entree: EntreeDeps = {
    ...deps.entree,
    onImported: (report, importedBy) => {
      sortieOccupancy?.invalidate(report.uai);
      deps.entree.onImported?.(report, importedBy);
    },
  };

  const protectedApp = new Hono<AuthEnv>();
  protectedApp.use('*', requireAuth(deps.authenticator));
  protectedApp.route('/', entreeRoutes(entree));
  if (deps.sortie) protectedApp.route('/', sortieRoutes({ ...deps.sortie, occupancy: sortieOccupancy }));
  if (deps.bridge) protectedApp.route('/', deps.bridge);
  if (deps.savings) protectedApp.route('/', deps.savings);
  if (deps.audit) protectedApp.route('/', deps.audit);
  if (deps.admin) protectedApp.route('/', deps.admin);
  const metrics = deps.metrics;
  if (metrics) {
    protectedApp.get('/metrics', requireRole('auditor'), async (c) =>
      c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
    );
  }
  app.route('/', protectedApp);
  return app;
}
