/**
 * The facilities managers' dashboard over HTTP (issue 7), in French, server-rendered:
 * - `GET /tableau-de-bord`: the schools of the caller's list that the bridge drives, with alerts;
 * - `GET /tableau-de-bord/{uai}?jour=YYYY-MM-DD`: one school (zones, day and week, overrides, savings);
 * - `GET /tableau-de-bord/{uai}/salles`: rooms in no zone (with a proposal) and zones naming gone rooms;
 * - `POST /tableau-de-bord/{uai}/derogations`: create an override from the form (Post/Redirect/Get;
 *   the page again with the errors next to the fields and the values kept when it is refused);
 * - `POST /tableau-de-bord/{uai}/derogations/{id}/annulation`: cancel one.
 * Session cookie or bearer like VUE (requirePageAuth); managers, auditors and admins read, only
 * managers and admins write (403 for an auditor); a school outside the caller's list is the same
 * 404 page as a school that does not exist. POSTs must come from this site (origin check).
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { AuthEnv } from '../auth/middleware.js';
import { canAccessUai, hasRole } from '../auth/principal.js';
import { NotFoundError } from '../bridge/overrides-service.js';
import type { LoadedDevices } from '../devices/load.js';
import { dateParameterProblem, MAX_SUPPORTED_DATE, MIN_SUPPORTED_DATE } from '../domain/dates.js';
import { isInputError } from '../domain/problems.js';
import { pathUai } from '../domain/uai.js';
import { problemResponse } from '../http/problem-response.js';
import { sameOrigin } from '../scope/vue/origin-check.js';
import { requirePageAuth } from '../scope/vue/session.js';
import { comfortPageRoutes } from './comfort-pages.js';
import { compliancePageRoutes } from './compliance-page.js';
import { schoolState, schoolsOverview } from './dashboard-state.js';
import type { DashboardDeps } from './deps.js';
import { eventsPageRoutes } from './events-routes.js';
import { renderDocument } from './layout.js';
import { measuredSavingsRoutes } from './measured-savings-page.js';
import {
  EMPTY_OVERRIDE_FORM,
  formErrorsOf,
  type OverrideFormErrors,
  type OverrideFormValues,
  overrideBodyOf,
  readOverrideForm,
} from './override-form.js';
import { overviewQuerySchema, overviewView } from './overview.js';
import {
  DASHBOARD_BASE,
  ErrorPage,
  FLASH_CODES,
  OverviewPage,
  SchoolPage,
  schoolHref,
  type Viewer,
} from './pages.js';
import { RoomMappingPage, roomMappingView } from './room-mapping.js';

const pageQuerySchema = z.object({
  /** Checked before (dateParameterProblem): the supported range as well as the format. */
  jour: z.string().optional(),
  ok: z.enum(FLASH_CODES).optional(),
});

export function dashboardRoutes(deps: DashboardDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const auth = requirePageAuth(deps.authenticator);
  app.use(DASHBOARD_BASE, auth);
  app.use(`${DASHBOARD_BASE}/*`, auth);
  app.route('/', measuredSavingsRoutes(deps));
  app.route('/', compliancePageRoutes(deps));

  app.get(DASHBOARD_BASE, async (c) => {
    const viewer = viewerOf(c);
    if (!hasRole(c.get('principal'), 'manager', 'auditor')) return forbidden(c, viewer);
    const query = overviewQuerySchema.safeParse(c.req.query());
    if (!query.success) {
      return page(
        c,
        <ErrorPage
          viewer={viewer}
          title="Requête incorrecte"
          message={query.error.issues.map((i) => i.message).join(' ; ')}
        />,
        400,
      );
    }
    const schools = await schoolsOverview(deps, c.get('principal'));
    return page(c, <OverviewPage viewer={viewer} view={overviewView(schools, query.data)} />);
  });

  app.get(`${DASHBOARD_BASE}/:uai`, async (c) => {
    const viewer = viewerOf(c);
    if (!hasRole(c.get('principal'), 'manager', 'auditor')) return forbidden(c, viewer);
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const jour = c.req.query('jour');
    const dateProblem = jour === undefined ? null : dateParameterProblem(jour, 'jour');
    if (dateProblem) {
      // A browser gets the French page; a script (no `Accept: text/html`) the usual problem body.
      if (!(c.req.header('Accept') ?? '').includes('text/html'))
        return problemResponse(c, 400, [dateProblem]);
      return page(
        c,
        <ErrorPage
          viewer={viewer}
          title="Requête incorrecte"
          message={
            dateProblem.code === 'date-out-of-range'
              ? `jour : les dates vont du ${MIN_SUPPORTED_DATE} au ${MAX_SUPPORTED_DATE}.`
              : 'jour : une date AAAA-MM-JJ est attendue.'
          }
        />,
        400,
      );
    }
    const query = pageQuerySchema.safeParse(c.req.query());
    if (!query.success) {
      return page(
        c,
        <ErrorPage
          viewer={viewer}
          title="Requête incorrecte"
          message={query.error.issues.map((i) => i.message).join(' ; ')}
        />,
        400,
      );
    }
    return schoolPage(c, deps, school.devices, {
      date: query.data.jour,
      flash: query.data.ok,
      form: EMPTY_OVERRIDE_FORM,
      errors: {},
      status: 200,
    });
  });

  app.get(`${DASHBOARD_BASE}/:uai/salles`, async (c) => {
    const viewer = viewerOf(c);
    if (!hasRole(c.get('principal'), 'manager', 'auditor')) return forbidden(c, viewer);
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    return page(c, <RoomMappingPage viewer={viewer} view={await roomMappingView(deps, school.devices)} />);
  });

  app.post(`${DASHBOARD_BASE}/:uai/derogations`, async (c) => {
    const refused = refuseWrite(c, deps);
    if (refused) return refused;
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const form = new URLSearchParams(await c.req.text());
    const date = dateOf(form);
    const values = readOverrideForm(form);
    const { uai, timezone } = school.devices.value.school;
    const body = overrideBodyOf(values, uai, timezone);
    const again = (errors: OverrideFormErrors) =>
      schoolPage(c, deps, school.devices, { date, form: values, errors, status: 422 });
    if (!body.ok) return again(body.errors);
    try {
      await deps.overrides.create(body.body, c.get('principal').clientId);
    } catch (error) {
      if (isInputError(error)) return again(formErrorsOf(error.problems, values));
      if (error instanceof NotFoundError) return again({ zone: 'Zone inconnue pour cet établissement.' });
      throw error;
    }
    return c.redirect(`${schoolHref(uai, date, { ok: 'derogation-creee' })}#derogations`, 303);
  });

  app.post(`${DASHBOARD_BASE}/:uai/derogations/:id/annulation`, async (c) => {
    const refused = refuseWrite(c, deps);
    if (refused) return refused;
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const { uai } = school.devices.value.school;
    const id = c.req.param('id');
    const stored = await deps.overrides.getStored(id);
    if (!stored || stored.uai !== uai) {
      return page(
        c,
        <ErrorPage
          viewer={viewerOf(c)}
          title="Dérogation introuvable"
          message={`Aucune dérogation ${id} pour ${uai}.`}
        />,
        404,
      );
    }
    const result = await deps.overrides.cancel(id, c.get('principal').clientId);
    const date = dateOf(new URLSearchParams(await c.req.text()));
    const ok = result?.status === 'cancelled' ? 'derogation-annulee' : 'derogation-deja-terminee';
    return c.redirect(`${schoolHref(uai, date, { ok })}#derogations`, 303);
  });

  // The week calendar of events (events-routes.tsx), behind the same authentication.
  app.route('/', eventsPageRoutes(deps, { viewerOf, page, schoolOf, refuseWrite }));
  // Comfort for a chosen period and the CSV exports (issue 16): comfort-pages.tsx.
  app.route('/', comfortPageRoutes(deps));

  return app;
}

export function viewerOf(c: Context<AuthEnv>): Viewer {
  const principal = c.get('principal');
  return {
    clientId: principal.clientId,
    canWrite: hasRole(principal, 'manager'),
    showVue: hasRole(principal, 'manager'),
  };
}

export function page(c: Context<AuthEnv>, node: unknown, status: ContentfulStatusCode = 200): Response {
  c.header('Cache-Control', 'private, no-store');
  return c.html(renderDocument(node), status);
}

export function forbidden(c: Context<AuthEnv>, viewer: Viewer, message?: string): Response {
  const role = c.get('principal').role;
  return page(
    c,
    <ErrorPage
      viewer={viewer}
      title="Accès refusé"
      message={
        message ??
        `Le rôle ${role} ne donne pas accès au tableau de bord (rôles admis : manager, auditor, admin).`
      }
    />,
    403,
  );
}

/** The school of the path, visible to the caller and driven by the bridge; else the page to answer. */
export function schoolOf(
  c: Context<AuthEnv>,
  deps: DashboardDeps,
): { devices: LoadedDevices } | { response: Response } {
  const viewer = viewerOf(c);
  let uai: string;
  try {
    uai = pathUai(c.req.param('uai') ?? '');
  } catch (error) {
    if (!isInputError(error)) throw error;
    const message = error.problems.map((p) => p.message).join(' ; ');
    return {
      response: page(c, <ErrorPage viewer={viewer} title="Requête incorrecte" message={message} />, 400),
    };
  }
  const devices = canAccessUai(c.get('principal'), uai) ? deps.devices().get(uai) : undefined;
  if (!devices) {
    return {
      response: page(
        c,
        <ErrorPage
          viewer={viewer}
          title="Établissement introuvable"
          message={`Aucun établissement ${uai} piloté dans votre périmètre.`}
        />,
        404,
      ),
    };
  }
  return { devices };
}

/** Cross-site POSTs and read-only roles stop here. */
function refuseWrite(c: Context<AuthEnv>, deps: DashboardDeps): Response | null {
  const viewer = viewerOf(c);
  if (!sameOrigin(c, deps.publicUrl)) {
    return page(
      c,
      <ErrorPage
        viewer={viewer}
        title="Requête refusée"
        message="Ce formulaire doit être envoyé depuis une page de ce site (en-tête Origin absent ou étranger)."
      />,
      403,
    );
  }
  if (!viewer.canWrite) {
    return forbidden(
      c,
      viewer,
      `Le rôle ${c.get('principal').role} consulte le tableau de bord mais ne peut ni créer ni annuler de dérogation (rôles admis : manager, admin).`,
    );
  }
  return null;
}

/** The day the form was sent from, to show again; an unusable one is dropped (today is shown). */
function dateOf(form: URLSearchParams): string | undefined {
  const date = form.get('jour') ?? '';
  return dateParameterProblem(date, 'jour') === null ? date : undefined;
}

async function schoolPage(
  c: Context<AuthEnv>,
  deps: DashboardDeps,
  devices: LoadedDevices,
  options: {
    date: string | undefined;
    flash?: string | undefined;
    form: OverrideFormValues;
    errors: OverrideFormErrors;
    status: ContentfulStatusCode;
  },
): Promise<Response> {
  const view = await schoolState(deps, devices, options.date);
  return page(
    c,
    <SchoolPage
      viewer={viewerOf(c)}
      view={view}
      flash={options.flash}
      form={options.form}
      errors={options.errors}
    />,
    options.status,
  );
}
