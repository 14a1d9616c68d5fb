/**
 * The week calendar of events (events-page.tsx) over HTTP, mounted by routes.tsx behind the same
 * page authentication:
 * - `GET /tableau-de-bord/{uai}/evenements?semaine=YYYY-MM-DD`: the week holding that date;
 * - `POST /tableau-de-bord/{uai}/evenements`: create an event (Post/Redirect/Get; refused: the page
 *   again with the errors next to the fields, the values kept, 422);
 * - `POST /tableau-de-bord/{uai}/evenements/{id}/suppression`: delete a manager's event.
 * Managers and auditors read, managers write; POSTs must come from this site.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AuthEnv } from '../auth/middleware.js';
import { hasRole } from '../auth/principal.js';
import { ReadOnlyEventError } from '../bridge/events-service.js';
import { NotFoundError } from '../bridge/overrides-service.js';
import { localDate } from '../bridge/school-plan.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays, dateParameterProblem, mondayOf } from '../domain/dates.js';
import { isInputError } from '../domain/problems.js';
import type { DashboardDeps } from './deps.js';
import {
  EMPTY_EVENT_FORM,
  type EventFormErrors,
  type EventFormValues,
  eventBodyOf,
  eventFormErrorsOf,
  readEventForm,
} from './event-form.js';
import { type EventsDay, EventsPage, eventsHref, weekdayLabel, whereText } from './events-page.js';
import { localTime } from './labels.js';
import { ErrorPage, type Viewer } from './pages.js';

/** What routes.tsx shares with this page (its session, 404 and write checks). */
export interface PageHelpers {
  viewerOf(c: Context<AuthEnv>): Viewer;
  page(c: Context<AuthEnv>, node: unknown, status?: ContentfulStatusCode): Response;
  schoolOf(c: Context<AuthEnv>, deps: DashboardDeps): { devices: LoadedDevices } | { response: Response };
  refuseWrite(c: Context<AuthEnv>, deps: DashboardDeps): Response | null;
}

export function eventsPageRoutes(deps: DashboardDeps, helpers: PageHelpers): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const { viewerOf, page, schoolOf, refuseWrite } = helpers;
  const events = deps.events;
  if (!events) return app;

  const render = async (
    c: Context<AuthEnv>,
    devices: LoadedDevices,
    options: {
      week: string | undefined;
      form: EventFormValues;
      errors: EventFormErrors;
      flash?: string;
      status: ContentfulStatusCode;
    },
  ) => {
    const school = devices.value.school;
    const today = localDate(deps.clock.now(), school.timezone);
    const monday = mondayOf(options.week ?? today);
    const sunday = addDays(monday, 6);
    const [list, occurrences, occupancy] = await Promise.all([
      events.list(school.uai),
      events.occurrences(school.uai, {
        from: Date.parse(`${monday}T00:00:00Z`) - 14 * 3_600_000,
        to: Date.parse(`${sunday}T00:00:00Z`) + 38 * 3_600_000,
      }),
      deps.occupancy(school.uai, { from: monday, to: sunday }).catch(() => null),
    ]);
    const zones = devices.value.zones.map((z) => ({ id: z.id, name: z.name }));
    const lessonsByDay = new Map<string, { rooms: Set<string>; first: number; last: number }>();
    for (const room of occupancy?.occupancy.rooms ?? []) {
      for (const i of room.intervals) {
        const date = localDate(i.start, school.timezone);
        const day = lessonsByDay.get(date) ?? { rooms: new Set<string>(), first: i.start, last: i.end };
        day.rooms.add(room.name);
        day.first = Math.min(day.first, i.start);
        day.last = Math.max(day.last, i.end);
        lessonsByDay.set(date, day);
      }
    }
    const days: EventsDay[] = Array.from({ length: 7 }, (_, n) => {
      const date = addDays(monday, n);
      const lessons = lessonsByDay.get(date);
      return {
        date,
        label: weekdayLabel(date),
        timetable: !occupancy
          ? 'Emploi du temps indisponible'
          : lessons
            ? `${lessons.rooms.size} salle(s) occupée(s), de ${localTime(lessons.first, school.timezone)} à ${localTime(lessons.last, school.timezone)}`
            : 'Aucun cours',
        occurrences: occurrences
          .filter((o) => o.date === date)
          .map((o) => {
            const event = list.find((e) => e.id === o.eventId);
            return {
              time: `${localTime(o.start, school.timezone)}–${localTime(o.end, school.timezone)}`,
              title: o.title,
              where: whereText(o.target, zones),
              source: event?.source === 'feed' ? `flux ${event.feed_id ?? ''}` : 'saisi',
            };
          }),
      };
    });
    return page(
      c,
      <EventsPage
        viewer={viewerOf(c)}
        uai={school.uai}
        name={school.name}
        timezone={school.timezone}
        monday={monday}
        previous={addDays(monday, -7)}
        next={addDays(monday, 7)}
        days={days}
        events={list}
        zones={zones}
        form={options.form}
        errors={options.errors}
        flash={options.flash}
      />,
      options.status,
    );
  };

  app.get('/tableau-de-bord/:uai/evenements', async (c) => {
    const viewer = viewerOf(c);
    if (!hasRole(c.get('principal'), 'manager', 'auditor')) {
      return page(
        c,
        <ErrorPage viewer={viewer} title="Accès refusé" message="Rôles admis : manager, auditor, admin." />,
        403,
      );
    }
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const week = c.req.query('semaine');
    if (week !== undefined && dateParameterProblem(week, 'semaine')) {
      return page(
        c,
        <ErrorPage
          viewer={viewer}
          title="Requête incorrecte"
          message="semaine : une date AAAA-MM-JJ est attendue."
        />,
        400,
      );
    }
    const flash = c.req.query('ok');
    return render(c, school.devices, {
      week,
      form: EMPTY_EVENT_FORM,
      errors: {},
      ...(flash ? { flash } : {}),
      status: 200,
    });
  });

  app.post('/tableau-de-bord/:uai/evenements', async (c) => {
    const refused = refuseWrite(c, deps);
    if (refused) return refused;
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const form = new URLSearchParams(await c.req.text());
    const week = weekOf(form);
    const values = readEventForm(form);
    const { uai } = school.devices.value.school;
    const again = (errors: EventFormErrors) =>
      render(c, school.devices, { week, form: values, errors, status: 422 });
    try {
      await events.create(uai, eventBodyOf(values), c.get('principal').clientId);
    } catch (error) {
      if (isInputError(error)) return again(eventFormErrorsOf(error.problems));
      if (error instanceof NotFoundError) return again({ zone: 'Zone inconnue pour cet établissement.' });
      throw error;
    }
    return c.redirect(`${eventsHref(uai, week ?? values.date, { ok: 'evenement-cree' })}#semaine-titre`, 303);
  });

  app.post('/tableau-de-bord/:uai/evenements/:id/suppression', async (c) => {
    const refused = refuseWrite(c, deps);
    if (refused) return refused;
    const school = schoolOf(c, deps);
    if ('response' in school) return school.response;
    const { uai } = school.devices.value.school;
    const id = c.req.param('id');
    const week = weekOf(new URLSearchParams(await c.req.text()));
    let deleted: unknown;
    try {
      deleted = await events.delete(uai, id, c.get('principal').clientId);
    } catch (error) {
      if (error instanceof ReadOnlyEventError) {
        return page(
          c,
          <ErrorPage
            viewer={viewerOf(c)}
            title="Évènement en lecture seule"
            message="Cet évènement vient d’un flux de réservation : modifiez-le dans l’outil de réservation."
          />,
          409,
        );
      }
      throw error;
    }
    if (!deleted) {
      return page(
        c,
        <ErrorPage
          viewer={viewerOf(c)}
          title="Évènement introuvable"
          message={`Aucun évènement ${id} pour ${uai}.`}
        />,
        404,
      );
    }
    return c.redirect(`${eventsHref(uai, week, { ok: 'evenement-supprime' })}#liste-titre`, 303);
  });

  return app;
}

function weekOf(form: URLSearchParams): string | undefined {
  const week = form.get('semaine') ?? '';
  return dateParameterProblem(week, 'semaine') === null ? week : undefined;
}
