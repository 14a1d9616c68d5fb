/**
 * `/api/events?uai=U` (docs/api.md, "Scheduled events"): managers create, change and delete a
 * school's events; managers and auditors read them. The school is a query parameter on every
 * route, so the UAI scope is checked before anything is read; a school outside the caller's list
 * is answered 404, like every bridge route.
 */
import { type Context, Hono } from 'hono';
import { type AuthEnv, requireRole, uaiVisible } from '../auth/middleware.js';
import { parseDateParameter } from '../domain/dates.js';
import { InputError, isInputError } from '../domain/problems.js';
import { requireUai } from '../domain/uai.js';
import { inputErrorResponse, notFound, problemResponse } from '../http/problem-response.js';
import { type EventsService, ReadOnlyEventError } from './events-service.js';
import { NotFoundError } from './overrides-service.js';

/** Longest range of occurrences one GET answers (`from`..`to`, local dates). */
export const MAX_OCCURRENCE_RANGE_DAYS = 62;

export function eventsRoutes(deps: { events: EventsService }): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/api/events', requireRole('manager', 'auditor'), (c) =>
    handle(c, async (uai) => {
      const events = await deps.events.list(uai);
      const fromText = c.req.query('from');
      const toText = c.req.query('to');
      if (fromText === undefined && toText === undefined) return c.json({ uai, events });
      if (fromText === undefined || toText === undefined)
        throw InputError.of(
          'range-incomplete',
          'give both from and to, or neither',
          'from (query)',
          'malformed',
        );
      const from = parseDateParameter(fromText, 'from (query)');
      const to = parseDateParameter(toText, 'to (query)');
      const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
      if (days < 0 || days > MAX_OCCURRENCE_RANGE_DAYS)
        throw InputError.of(
          'bad-range',
          `to must be from 0 to ${MAX_OCCURRENCE_RANGE_DAYS} days after from`,
          'to (query)',
          'malformed',
        );
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
  );

  app.get('/api/events/:id', requireRole('manager', 'auditor'), (c) =>
    handle(c, async (uai) => {
      const id = c.req.param('id');
      const answer = await deps.events.get(uai, id);
      if (!answer) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
      return c.json(answer);
    }),
  );

  app.post('/api/events', requireRole('manager'), (c) =>
    handle(c, async (uai) => {
      const answer = await deps.events.create(uai, await jsonBody(c), c.get('principal').clientId);
      c.header('Location', `/api/events/${answer.event.id}?uai=${uai}`);
      return c.json(answer, 201);
    }),
  );

  app.put('/api/events/:id', requireRole('manager'), (c) =>
    handle(c, async (uai) => {
      const id = c.req.param('id');
      const answer = await deps.events.update(uai, id, await jsonBody(c), c.get('principal').clientId);
      if (!answer) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
      return c.json(answer);
    }),
  );

  app.delete('/api/events/:id', requireRole('manager'), (c) =>
    handle(c, async (uai) => {
      const id = c.req.param('id');
      const deleted = await deps.events.delete(uai, id, c.get('principal').clientId);
      if (!deleted) return notFound(c, `event ${id} of ${uai}`, 'id (path)');
      return c.json({ deleted });
    }),
  );

  return app;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw InputError.of('json-malformed', 'the body is not JSON', 'body', 'malformed');
  }
}

/** `?uai` required and visible; input errors, unknown schools and read-only events answered here. */
async function handle(c: Context<AuthEnv>, work: (uai: string) => Promise<Response>): Promise<Response> {
  try {
    const text = c.req.query('uai');
    if (text === undefined)
      throw InputError.of('uai-missing', 'give the school: ?uai=…', 'uai (query)', 'malformed');
    const uai = requireUai(text, 'uai (query)');
    if (!uaiVisible(c, uai)) return notFound(c, `establishment ${uai}`, 'uai (query)');
    return await work(uai);
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
