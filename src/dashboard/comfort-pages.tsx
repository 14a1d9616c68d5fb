/**
 * Comfort on the dashboard for a chosen period (issue 16), French, server-rendered:
 * - `GET /tableau-de-bord/{uai}/confort?du=YYYY-MM-DD&au=YYYY-MM-DD`: the comfort table per zone
 *   (default: the current week), with a form to choose the dates;
 * - `GET /tableau-de-bord/{uai}/confort.csv?du=&au=` and `…/telemetrie-horaire.csv?du=&au=`: the
 *   same CSV as `GET /api/comfort?format=csv` and `GET /api/telemetry/hourly`, for a browser
 *   session (the API takes bearer tokens only).
 * Same session, roles and scope as the rest of the dashboard (routes.tsx).
 */
import { type Context, Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.js';
import { hasRole } from '../auth/principal.js';
import { localDate } from '../bridge/school-plan.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays, MAX_SUPPORTED_DATE, MIN_SUPPORTED_DATE, mondayOf } from '../domain/dates.js';
import { isInputError, type Problem } from '../domain/problems.js';
import { problemResponse } from '../http/problem-response.js';
import { comfortPeriod, MAX_COMFORT_DAYS } from '../telemetry/comfort-report.js';
import { comfortCsv, hourlyCsv } from '../telemetry/comfort-routes.js';
import { ComfortSection } from './comfort-section.js';
import { comfortOf } from './dashboard-state.js';
import type { DashboardDeps, DashboardTelemetry } from './deps.js';
import { Layout } from './layout.js';
import { DASHBOARD_BASE, schoolHref, type Viewer } from './pages.js';
import { forbidden, page, schoolOf, viewerOf } from './routes.js';

const WHERE = { from: 'du', to: 'au' };

export function comfortPageRoutes(deps: DashboardDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get(`${DASHBOARD_BASE}/:uai/confort`, async (c) => {
    const viewer = viewerOf(c);
    if (!hasRole(c.get('principal'), 'manager', 'auditor')) return forbidden(c, viewer);
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const { from, to } = periodOf(c, deps, school.devices);
    try {
      const body = await comfortOf(deps, school.devices, from, to, WHERE);
      return page(
        c,
        <ComfortPage viewer={viewer} devices={school.devices} from={from} to={to} body={body} />,
      );
    } catch (error) {
      if (!isInputError(error)) throw error;
      return page(
        c,
        <ComfortPage
          viewer={viewer}
          devices={school.devices}
          from={from}
          to={to}
          body={null}
          problems={error.problems}
        />,
        400,
      );
    }
  });

  const csvRoute = (
    name: string,
    render: (
      telemetry: DashboardTelemetry,
      devices: LoadedDevices,
      from: string,
      to: string,
    ) => Promise<string>,
  ) =>
    app.get(`${DASHBOARD_BASE}/:uai/${name}.csv`, async (c) => {
      const viewer = viewerOf(c);
      if (!hasRole(c.get('principal'), 'manager', 'auditor')) return forbidden(c, viewer);
      const school = schoolOf(c, deps);
      if ('response' in school) return school.response;
      const telemetry = deps.telemetry;
      if (!telemetry)
        return problemResponse(c, 404, [
          { code: 'not-found', message: 'this service records no telemetry', where: 'telemetry' },
        ]);
      const { from, to } = periodOf(c, deps, school.devices);
      try {
        const text = await render(telemetry, school.devices, from, to);
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header(
          'Content-Disposition',
          `attachment; filename="${name}-${school.devices.value.school.uai}-${from}-${to}.csv"`,
        );
        c.header('Cache-Control', 'private, no-store');
        return c.body(text);
      } catch (error) {
        if (!isInputError(error)) throw error;
        return problemResponse(c, 400, error.problems);
      }
    });

  csvRoute('confort', async (_telemetry, devices, from, to) => {
    const body = await comfortOf(deps, devices, from, to, WHERE);
    if (!body) throw new Error('telemetry went away');
    return comfortCsv(body);
  });
  csvRoute('telemetrie-horaire', async (telemetry, devices, from, to) => {
    const period = comfortPeriod(from, to, devices.value.school.timezone, WHERE);
    return hourlyCsv(
      await telemetry.repository.hourlyOf(devices.value.school.uai, period.range.from, period.range.to),
    );
  });

  return app;
}

/** `du`/`au` as given (checked by comfortPeriod), or the current week. */
function periodOf(
  c: Context<AuthEnv>,
  deps: DashboardDeps,
  devices: LoadedDevices,
): { from: string; to: string } {
  const monday = mondayOf(localDate(deps.clock.now(), devices.value.school.timezone));
  return { from: c.req.query('du') ?? monday, to: c.req.query('au') ?? addDays(monday, 6) };
}

/** The page's words for the period's problems (the API's are in English). */
function frenchProblem(problem: Problem): Problem {
  const field = problem.where === 'au' ? 'au' : 'du';
  const message =
    problem.code === 'bad-period'
      ? /before/.test(problem.message)
        ? 'au : le dernier jour précède le premier.'
        : `au : la période dépasse ${MAX_COMFORT_DAYS} jours.`
      : problem.code === 'date-out-of-range'
        ? `${field} : les dates vont du ${MIN_SUPPORTED_DATE} au ${MAX_SUPPORTED_DATE}.`
        : `${field} : une date AAAA-MM-JJ est attendue.`;
  return { ...problem, where: field, message };
}

function ComfortPage(props: {
  viewer: Viewer;
  devices: LoadedDevices;
  from: string;
  to: string;
  body: Awaited<ReturnType<typeof comfortOf>>;
  problems?: Problem[];
}) {
  const { viewer, devices } = props;
  const school = devices.value.school;
  const title = `Confort : ${school.name} (${school.uai})`;
  const problems = (props.problems ?? []).map(frenchProblem);
  const errorOf = (field: string) => problems.find((p) => p.where === field)?.message;
  const field = (id: 'du' | 'au', label: string, value: string) => {
    const error = errorOf(id);
    return (
      <div>
        <label for={id}>{label}</label>
        <input
          id={id}
          name={id}
          type="date"
          value={value}
          required
          {...(error ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-erreur` } : {})}
        />
        {error ? (
          <p class="erreur" id={`${id}-erreur`}>
            {error}
          </p>
        ) : null}
      </div>
    );
  };
  return (
    <Layout title={title} clientId={viewer.clientId} showVue={viewer.showVue}>
      <p>
        <a href={schoolHref(school.uai)}>← {school.name}</a>
      </p>
      <h1>{title}</h1>
      <form method="get" action={`${DASHBOARD_BASE}/${school.uai}/confort`} class="periode">
        {problems.length > 0 ? (
          <div class="resume-erreurs" role="alert">
            <p>La période n’est pas valable :</p>
            <ul>
              {problems.map((p) => (
                <li>
                  <a href={`#${p.where}`}>{p.message}</a>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {field('du', 'Du (premier jour)', props.from)}
        {field('au', 'Au (dernier jour, inclus)', props.to)}
        <button type="submit">Afficher le confort</button>
      </form>
      {props.body ? (
        <ComfortSection body={props.body} heading="Confort mesuré de la période" />
      ) : props.problems ? null : (
        <p>Aucune télémétrie n’est enregistrée par ce service.</p>
      )}
    </Layout>
  );
}
