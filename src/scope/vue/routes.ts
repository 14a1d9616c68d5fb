/**
 * SCOPE-VUE over HTTP (docs/api.md, "SCOPE-VUE"): `GET /scope/vue` (the schools the caller may
 * see) and `GET /scope/vue/{uai}?semaine=YYYY-MM-DD`, in French, for managers and the operator.
 * Authenticated by session cookie or bearer (session.ts). A school outside the caller's list is
 * the same 404 page as a school that does not exist.
 */
import { type Context, Hono } from 'hono';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { Authenticator } from '../../auth/authenticator.js';
import type { AuthEnv } from '../../auth/middleware.js';
import { canAccessUai, hasRole } from '../../auth/principal.js';
import type { Clock } from '../../domain/clock.js';
import { mondayOf } from '../../domain/dates.js';
import { isInputError } from '../../domain/problems.js';
import { pathUai } from '../../domain/uai.js';
import { inputErrorResponse } from '../../http/problem-response.js';
import type { Store } from '../../store/store.js';
import { parseParameters } from '../sortie/parse-parameters.js';
import type { SchoolCalendars } from '../sortie/school-calendars.js';
import { assessDataQuality } from './data-quality.js';
import { readDevicesState } from './devices-source.js';
import { errorPage, establishmentsPage, VUE_BASE, vuePage } from './page.js';
import { vueQuerySchema } from './schemas.js';
import { requirePageAuth } from './session.js';
import { weekGrid } from './week-grid.js';

export interface VueDeps {
  authenticator: Authenticator;
  store: Store;
  clock: Clock;
  calendars: SchoolCalendars;
  /** Directory of the devices/{uai}.yaml files (`paths.devices_dir`). */
  devicesDir: string;
}

export function vueRoutes(deps: VueDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const auth = requirePageAuth(deps.authenticator);
  app.use(VUE_BASE, auth);
  app.use(`${VUE_BASE}/*`, auth);

  app.get(VUE_BASE, async (c) => {
    const principal = c.get('principal');
    if (!hasRole(principal, 'manager')) return forbidden(c);
    const schools = (await deps.store.timetables.listEstablishments()).flatMap((s) =>
      s.currentVersion !== null && canAccessUai(principal, s.uai)
        ? [{ uai: s.uai, name: s.name, version: s.currentVersion }]
        : [],
    );
    return c.html(establishmentsPage(principal.clientId, schools));
  });

  app.get(`${VUE_BASE}/:uai`, async (c) => {
    const principal = c.get('principal');
    if (!hasRole(principal, 'manager')) return forbidden(c);
    let uai: string;
    let query: z.infer<typeof vueQuerySchema>;
    try {
      uai = pathUai(c.req.param('uai'));
      query = parseParameters(vueQuerySchema, c.req.query(), 'query');
    } catch (error) {
      if (!isInputError(error)) throw error;
      // A browser gets the French page; a script (no `Accept: text/html`) the usual problem body.
      if (!(c.req.header('Accept') ?? '').includes('text/html')) return inputErrorResponse(c, error);
      const message = error.problems.map((p) => `${p.where} : ${p.message}`).join(' ; ');
      return c.html(errorPage(principal.clientId, 'Requête incorrecte', message), 400);
    }
    const stored = canAccessUai(principal, uai) ? await deps.store.timetables.current(uai) : null;
    if (!stored) {
      return c.html(
        errorPage(principal.clientId, 'Établissement introuvable', `Aucun établissement ${uai} visible.`),
        404,
      );
    }
    const { timetable } = stored;
    const calendar = deps.calendars.calendarOf(uai, timetable.timezone);
    const today = DateTime.fromMillis(deps.clock.now(), { zone: timetable.timezone }).toISODate() ?? '';
    const currentMonday = mondayOf(today);
    const monday = query.semaine === undefined ? currentMonday : mondayOf(query.semaine);
    const [schools, devices] = await Promise.all([
      deps.store.timetables.listEstablishments(),
      readDevicesState(deps.devicesDir, uai),
    ]);
    c.header('Cache-Control', 'private, no-store');
    return c.html(
      vuePage({
        uai,
        name: schools.find((s) => s.uai === uai)?.name ?? timetable.name ?? null,
        version: stored.version,
        timezone: timetable.timezone,
        grid: weekGrid(timetable, monday, calendar, query.cours),
        findings: assessDataQuality({ timetable, devices, calendar, referenceMonday: monday }),
        highlight: query.cours,
        currentMonday,
        clientId: principal.clientId,
      }),
    );
  });

  return app;
}

function forbidden(c: Context<AuthEnv>) {
  const principal = c.get('principal');
  return c.html(
    errorPage(
      principal.clientId,
      'Accès refusé',
      `Le rôle ${principal.role} ne donne pas accès à cette page (rôles admis : manager, admin).`,
    ),
    403,
  );
}
