/**
 * `/api/events?uai=U` (docs/api.md, "Scheduled events"): managers create, change and delete a
 * school's events; managers and auditors read them. The school is a query parameter on every
 * route, so the UAI scope is checked before anything is read; a school outside the caller's list
 * is answered 404, like every bridge route.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { dateParameterSchema } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai, uaiParameterSchema } from '../domain/uai.js';
import { eventBodySchema } from '../events/scheduled-event.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses, validQuery } from '../http/openapi-route.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import { eventAnswerSchema, eventListSchema, eventViewSchema } from './bridge-api.js';
import { type EventsService, ReadOnlyEventError } from './events-service.js';
import { NotFoundError } from './overrides-service.js';

/** Longest range of occurrences one GET answers (`from`..`to`, local dates). */
export const MAX_OCCURRENCE_RANGE_DAYS = 62;

const TAG = 'Bridge';
const security = [{ bearer: [] }];
const schoolQuery = z.object({ uai: uaiParameterSchema('uai (query)').describe('The school (UAI)') });
const eventIdPath = z.object({ id: z.string().describe('Event id') });
const EventRequest = eventBodySchema.meta({ id: 'EventRequest' });

/** `from` and `to` of the occurrences: both or neither, `to` 0–62 days after `from`. */
const listQuerySchema = schoolQuery
  .extend({
    from: dateParameterSchema('from (query)').optional().describe('First local date of occurrences'),
    to: dateParameterSchema('to (query)')
      .optional()
      .describe(
        `Last local date of occurrences (inclusive), at most ${MAX_OCCURRENCE_RANGE_DAYS} days after from`,
      ),
  })
  .superRefine((query, ctx) => {
    if ((query.from === undefined) !== (query.to === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'give both from and to, or neither',
        params: { code: 'range-incomplete' },
      });
      return;
    }
    if (query.from === undefined || query.to === undefined) return;
    const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000;
    if (days < 0 || days > MAX_OCCURRENCE_RANGE_DAYS)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `to must be from 0 to ${MAX_OCCURRENCE_RANGE_DAYS} days after from`,
        params: { code: 'bad-range' },
      });
  });

const readOnly: [number, string] = [409, 'The event comes from a booking feed (`event-from-feed`)'];

/** The declarations of the events routes (what they validate, answer and publish). */
export const EVENTS_ROUTES = {
  list: createRoute({
    method: 'get',
    path: '/api/events',
    summary:
      'A school’s scheduled events (meetings, lettings, exams, booking feeds), with a range’s occurrences',
    description:
      'Every event of the school (docs/events.md); with `from` and `to` (local dates, at most 62 days apart) also `occurrences`: {event_id, title, date, start, end}, instants in UTC. Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { query: listQuerySchema },
    responses: { 200: jsonResponse('The events', eventListSchema), ...problemResponses(400, 401, 403, 404) },
  }),
  create: createRoute({
    method: 'post',
    path: '/api/events',
    summary:
      'Schedule an event: occupancy of a zone or rooms, planned like a lesson (preheat, lighting lead, gap rules)',
    description:
      'Local start and end in the school’s zone; optional weekly recurrence (weekdays, until, except) over at most 400 days. Replanned and published at once; audited with the event after. The answer lists conflicts (lessons or other events in the same rooms) and the closed days the event falls on: shown, not refused. Roles: manager, admin.',
    tags: [TAG],
    security,
    request: {
      query: schoolQuery,
      body: { required: true, content: { 'application/json': { schema: EventRequest } } },
    },
    responses: {
      201: jsonResponse('Created; `Location` names it', eventAnswerSchema, {
        Location: '/api/events/{id}?uai={uai}',
      }),
      ...problemResponses(400, 401, 403, 404, 413, 422),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/api/events/{id}',
    summary: 'One event, with its conflicts and holidays',
    description: 'Roles: manager, auditor, admin.',
    tags: [TAG],
    security,
    request: { params: eventIdPath, query: schoolQuery },
    responses: { 200: jsonResponse('The event', eventAnswerSchema), ...problemResponses(400, 401, 403, 404) },
  }),
  replace: createRoute({
    method: 'put',
    path: '/api/events/{id}',
    summary: 'Replace a manager’s event (a booking feed’s is read-only: 409)',
    description: 'Roles: manager, admin.',
    tags: [TAG],
    security,
    request: {
      params: eventIdPath,
      query: schoolQuery,
      body: { required: true, content: { 'application/json': { schema: EventRequest } } },
    },
    responses: {
      200: jsonResponse('The event as replaced', eventAnswerSchema),
      ...problemResponses(400, 401, 403, 404, readOnly, 413, 422),
    },
  }),
  delete: createRoute({
    method: 'delete',
    path: '/api/events/{id}',
    summary: 'Delete a manager’s event (all its dates); replanned at once',
    description: 'Roles: manager, admin.',
    tags: [TAG],
    security,
    request: { params: eventIdPath, query: schoolQuery },
    responses: {
      200: jsonResponse('The deleted event', z.strictObject({ deleted: eventViewSchema })),
      ...problemResponses(400, 401, 403, 404, readOnly),
    },
  }),
};

/** `?uai` given, a UAI, and in the caller's list: before the other parameters are read. */
const visibleSchool: MiddlewareHandler<AuthEnv> = async (c, next) => {
  try {
    const text = c.req.query('uai');
    if (text === undefined)
      throw InputError.of('uai-missing', 'give the school: ?uai=…', 'uai (query)', 'malformed');
    const uai = requireUai(text, 'uai (query)');
    if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (query)');
  } catch (error) {
    if (isInputError(error)) return inputErrorResponse(c, error);
    throw error;
  }
  await next();
};

export function eventsRoutes(deps: { events: EventsService }): ApiRoutes<AuthEnv>['app'] {
  const routes = new ApiRoutes<AuthEnv>();
  const readers = [requireRole('manager', 'auditor'), visibleSchool];
  const writers = [requireRole('manager'), visibleSchool];

  routes.add({
    route: EVENTS_ROUTES.list,
    middleware: readers,
    handler: (c) =>
      handle(c, async (uai) => {
        const events = await deps.events.list(uai);
        const { from, to } = validQuery(c, listQuerySchema);
        if (from === undefined || to === undefined) return c.json({ uai, events });
        // Local dates; the expansion keeps occurrences meeting [from 00:00, to + 1 day) in UTC ± a day.
        const occurrences = await deps.events.occurrences(uai, {
          from: Date.parse(`${from}T00:00:00Z`) - 14 * 3_600_000,
          to: Date.parse(`${to}T00:00:00Z`) + 86_400_000 + 14 * 3_600_000,
        });
        return c.json({
          uai,
          events,
          occurrences: occurrences
            .filter((o) => o.date >= from && o.date <= to)
            .map((o) => ({
              event_id: o.eventId,
              title: o.title,
              date: o.date,
              start: new Date(o.start).toISOString(),
              end: new Date(o.end).toISOString(),
            })),
        });
      }),
  });

  routes.add({
    route: EVENTS_ROUTES.get,
    middleware: readers,
    handler: (c) =>
      handle(c, async (uai) => {
        const id = c.req.param('id') ?? '';
        const answer = await deps.events.get(uai, id);
        if (!answer) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
        return c.json(answer);
      }),
  });

  routes.add({
    route: EVENTS_ROUTES.create,
    middleware: writers,
    handler: (c) =>
      handle(c, async (uai) => {
        // The service validates the body with eventBodySchema, the declared one.
        const answer = await deps.events.create(uai, await jsonBody(c), c.get('principal').clientId);
        c.header('Location', `/api/events/${answer.event.id}?uai=${uai}`);
        return c.json(answer, 201);
      }),
  });

  routes.add({
    route: EVENTS_ROUTES.replace,
    middleware: writers,
    handler: (c) =>
      handle(c, async (uai) => {
        const id = c.req.param('id') ?? '';
        const answer = await deps.events.update(uai, id, await jsonBody(c), c.get('principal').clientId);
        if (!answer) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
        return c.json(answer);
      }),
  });

  routes.add({
    route: EVENTS_ROUTES.delete,
    middleware: writers,
    handler: (c) =>
      handle(c, async (uai) => {
        const id = c.req.param('id') ?? '';
        const deleted = await deps.events.delete(uai, id, c.get('principal').clientId);
        if (!deleted) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
        return c.json({ deleted });
      }),
  });

  return routes.app;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw InputError.of('json-malformed', 'the body is not JSON', 'body', 'malformed');
  }
}

/** The school (checked by `visibleSchool`); input errors, unknown schools and read-only events answered here. */
async function handle(c: Context<AuthEnv>, work: (uai: string) => Promise<Response>): Promise<Response> {
  try {
    return await work(requireUai(c.req.query('uai') ?? '', 'uai (query)'));
  } catch (error) {
    if (isInputError(error)) return inputErrorResponse(c, error);
    if (error instanceof NotFoundError) return notFound(c, error.what, error.where);
    if (error instanceof ReadOnlyEventError) {
      return problemResponse(c, 409, [
        { code: 'event-from-feed', message: error.message, where: 'id (path)' },
      ]);
    }
    throw error;
  }
}
