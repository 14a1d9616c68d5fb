/**
 * SCOPE-VUE over HTTP (docs/api.md, "SCOPE-VUE"): `GET /scope/vue` (the schools the caller may
 * see) and `GET /scope/vue/{uai}?semaine=YYYY-MM-DD`, in French, for managers and the operator.
 * Authenticated by session cookie or bearer (session.ts). A school outside the caller's list is
 * the same 404 page as a school that does not exist.
 */

import { createHash } from 'node:crypto';
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
import { type SiteDevices, siteDevicesSource } from './devices-source.js';
import { errorPage, establishmentsPage, VUE_BASE, vuePage } from './page.js';
import { vueQuerySchema } from './schemas.js';
import { requirePageAuth } from './session.js';
import { inProcessViewRunner, ViewCache, type ViewTaskRunner } from './view-pool.js';
import { calendarSpecOf } from './view-task.js';

export interface VueDeps {
  authenticator: Authenticator;
  store: Store;
  clock: Clock;
  calendars: SchoolCalendars;
  /**
   * The devices files: the service's site holder (no file read per view); tools and tests pass a
   * holder loaded once.
   */
  site: SiteDevices;
  /**
   * Where the week grid and the data-quality check run (the service: a worker, view-pool.ts);
   * default: on this thread.
   */
  runView?: ViewTaskRunner | undefined;
}

export function vueRoutes(deps: VueDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const views = new ViewCache(deps.runView ?? inProcessViewRunner);
  const devicesOf = siteDevicesSource(deps.site);
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
    // The version's metadata only: the document is decoded by the view task, off this thread.
    const meta = canAccessUai(principal, uai) ? await deps.store.timetables.currentMeta(uai) : null;
    const schools = meta ? await deps.store.timetables.listEstablishments() : [];
    const school = schools.find((s) => s.uai === uai);
    if (!meta || !school) {
      return c.html(
        errorPage(principal.clientId, 'Établissement introuvable', `Aucun établissement ${uai} visible.`),
        404,
      );
    }
    const calendar = deps.calendars.calendarOf(uai, school.timezone);
    const today = DateTime.fromMillis(deps.clock.now(), { zone: school.timezone }).toISODate() ?? '';
    const currentMonday = mondayOf(today);
    const monday = query.semaine === undefined ? currentMonday : mondayOf(query.semaine);
    const devices = devicesOf(uai);
    // Everything the view depends on: a stored version never changes (its hash says so), the
    // devices file as the holder has it now, the calendar changes with its holiday data.
    const key = [
      uai,
      meta.version,
      meta.sha256,
      deps.calendars.fingerprint,
      school.timezone,
      calendar.departement,
      createHash('sha256').update(JSON.stringify(devices)).digest('base64url'),
      monday,
      query.cours ?? '',
      query.constat ?? '',
      query.page ?? '',
    ].join('|');
    const view = await views.run(key, async () => {
      const encoded = await deps.store.timetables.currentEncoded(uai);
      if (!encoded) throw new Error(`the timetable of ${uai} went away while its page was read`);
      return {
        kind: 'week',
        document: encoded.document,
        calendar: calendarSpecOf(calendar),
        devices,
        monday,
        highlight: query.cours,
        page: query.constat === undefined ? undefined : { code: query.constat, page: query.page ?? 1 },
      };
    });
    if (view.kind !== 'week') throw new Error('a week view was expected');
    c.header('Cache-Control', 'private, no-store');
    return c.html(
      vuePage({
        uai,
        name: school.name ?? view.name,
        version: meta.version,
        timezone: view.timezone,
        grid: view.grid,
        findings: view.findings,
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
