/**
 * `/api/events` through `app.request()`, the real Authenticator, a real store on every backend,
 * the real planning service (the live plan follows a change at once) and an audit sink.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { eventsRoutes } from '../../src/bridge/events-routes.js';
import { EventsService } from '../../src/bridge/events-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import { ManualClock } from '../../src/domain/clock.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  OUTSIDE_UAI,
} from '../bridge/bridge-fixtures.js';
import { checkDocumentedResponses } from '../helpers/documented.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();
// biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, asserted field by field.
type Json = any;

describe.each(backends)('events API on $name', (backend) => {
  // Monday 2026-01-12 17:30Z (18:30 Paris).
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder(files);
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  const audited: AuditEvent[] = [];
  const feed = new MutablePlanFeed();
  let store: Store;
  let app: Hono<AuthEnv>;
  let planning: PlanningService;

  beforeAll(async () => {
    store = await backend.open();
    const occupancy = fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) });
    const events = new EventsService({
      repository: store.events,
      site,
      calendars,
      occupancy,
      clock,
      audit: (entries) => audited.push(...entries),
    });
    planning = new PlanningService({
      site,
      calendars,
      occupancy,
      overrides: { overridesFor: async () => [], onChange: () => () => {} },
      events,
      feed,
      clock,
    });
    await planning.start();
    app = checkDocumentedResponses(new Hono<AuthEnv>());
    app.use('*', requireAuth(clients.authenticator));
    app.route('/', eventsRoutes({ events }));
  });
  afterAll(async () => {
    await planning.stop();
    await backend.cleanup();
  });

  const send = (method: string, path: string, body: unknown, who = 'manager') =>
    app.request(path, {
      method,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...clients.bearer(who) },
    });
  const get = (path: string, who = 'manager') => app.request(path, { headers: clients.bearer(who) });
  const json = async (res: Response): Promise<Json> => res.json();
  // The CDI tonight 19:30–22:00 Paris (18:30Z–21:00Z): preheat from 17:30Z.
  const meeting = {
    title: 'Réunion parents',
    start: '2026-01-12T19:30',
    end: '2026-01-12T22:00',
    target: { zone: 'cdi' },
  };

  /** Resolves with the next plan of the school the feed receives. */
  const nextPlan = () =>
    new Promise<void>((resolve) => {
      const off = feed.subscribe((uai) => {
        if (uai === DEMO_UAI) {
          off();
          resolve();
        }
      });
    });
  const cdiHeatingAt = (iso: string) =>
    feed
      .plan(DEMO_UAI)
      ?.zones.find((z) => z.zone === 'cdi')
      ?.functions.heating?.find((s) => s.from <= Date.parse(iso) && Date.parse(iso) < s.to);

  it('creates an event (manager), replans at once, audits it, and reports conflicts and holidays', async () => {
    expect(cdiHeatingAt('2026-01-12T19:00:00Z')?.mode).not.toBe('comfort');
    const planned = nextPlan();
    const res = await send('POST', `/api/events?uai=${DEMO_UAI}`, meeting);
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.event).toMatchObject({ ...meeting, uai: DEMO_UAI, source: 'manual', created_by: 'manager' });
    expect(res.headers.get('Location')).toBe(`/api/events/${body.event.id}?uai=${DEMO_UAI}`);
    expect(body.holidays).toEqual([]);
    expect(body.lessons_checked).toEqual({
      from: '2026-01-05T00:00:00.000Z',
      to: '2026-02-02T23:59:59.000Z',
    });
    await planned;
    const during = cdiHeatingAt('2026-01-12T19:00:00Z');
    expect(during).toMatchObject({ mode: 'comfort', setpoint_c: 19, reason: { kind: 'occupied' } });
    expect(during?.reason.events).toEqual([{ id: body.event.id, title: 'Réunion parents' }]);
    expect(cdiHeatingAt('2026-01-12T17:45:00Z')?.reason.kind).toBe('preheat');
    const entry = audited.at(-1);
    expect(entry).toMatchObject({
      kind: 'override',
      actor: 'manager',
      uai: DEMO_UAI,
      detail: { object: 'scheduled-event', event: 'created', event_id: body.event.id, before: null },
    });
    expect(entry?.detail['after']).toEqual({ ...meeting });
  });

  it('reports a second event in the same rooms as a conflict, and a holiday date', async () => {
    const res = await send('POST', `/api/events?uai=${DEMO_UAI}`, {
      title: 'Conseil',
      start: '2026-01-12T21:00',
      end: '2026-01-12T23:00',
      target: { rooms: ['CDI'] },
      recurrence: { weekdays: [1], until: '2026-02-16' },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.conflicts).toEqual([
      {
        date: '2026-01-12',
        room: 'CDI',
        from: '2026-01-12T20:00:00.000Z',
        to: '2026-01-12T21:00:00.000Z',
        with: { kind: 'event', id: expect.any(String), title: 'Réunion parents' },
      },
    ]);
    // Monday 2026-02-16 is in zone B's winter holidays.
    expect(body.holidays).toEqual([{ date: '2026-02-16', kind: 'holiday', name: "Vacances d'Hiver" }]);
  });

  it('lists the events and a week of occurrences (auditor), and changes and deletes them with before/after', async () => {
    const list = await json(
      await get(`/api/events?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-18`, 'auditor'),
    );
    expect(list.events.map((e: Json) => e.title).sort()).toEqual(['Conseil', 'Réunion parents']);
    expect(list.occurrences.map((o: Json) => [o.title, o.start, o.end])).toEqual([
      ['Réunion parents', '2026-01-12T18:30:00.000Z', '2026-01-12T21:00:00.000Z'],
      ['Conseil', '2026-01-12T20:00:00.000Z', '2026-01-12T22:00:00.000Z'],
    ]);
    const id = list.events.find((e: Json) => e.title === 'Réunion parents').id;
    const planned = nextPlan();
    const put = await send('PUT', `/api/events/${id}?uai=${DEMO_UAI}`, {
      ...meeting,
      start: '2026-01-12T20:30',
    });
    expect(put.status).toBe(200);
    expect((await json(put)).event.start).toBe('2026-01-12T20:30');
    await planned;
    expect(cdiHeatingAt('2026-01-12T18:45:00Z')?.reason.kind).toBe('preheat');
    expect(audited.at(-1)?.detail).toMatchObject({
      event: 'updated',
      before: { start: '2026-01-12T19:30' },
      after: { start: '2026-01-12T20:30' },
    });
    const del = await app.request(`/api/events/${id}?uai=${DEMO_UAI}`, {
      method: 'DELETE',
      headers: clients.bearer('manager'),
    });
    expect(del.status).toBe(200);
    expect(audited.at(-1)?.detail).toMatchObject({ event: 'deleted', after: null });
    expect((await get(`/api/events/${id}?uai=${DEMO_UAI}`)).status).toBe(404);
  });

  it('refuses bad input naming where and why, writes for auditors, and other schools', async () => {
    const bad = await send('POST', `/api/events?uai=${DEMO_UAI}`, { ...meeting, end: '2026-01-12T19:00' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors).toEqual([
      expect.objectContaining({ code: 'end-before-start', where: '$.end' }),
    ]);
    const zone = await send('POST', `/api/events?uai=${DEMO_UAI}`, {
      ...meeting,
      target: { zone: 'piscine' },
    });
    expect(zone.status).toBe(422);
    expect((await json(zone)).errors[0]).toMatchObject({ code: 'zone-unknown', where: '$.target.zone' });
    const room = await send('POST', `/api/events?uai=${DEMO_UAI}`, {
      ...meeting,
      target: { rooms: ['CDI', 'X9'] },
    });
    expect((await json(room)).errors[0]).toMatchObject({
      code: 'room-in-no-zone',
      where: '$.target.rooms[1]',
    });
    const long = await send('POST', `/api/events?uai=${DEMO_UAI}`, {
      ...meeting,
      recurrence: { weekdays: [1], until: '2027-12-31' },
    });
    expect((await json(long)).errors[0]).toMatchObject({
      code: 'recurrence-too-long',
      where: '$.recurrence.until',
    });
    expect((await send('POST', `/api/events?uai=${DEMO_UAI}`, meeting, 'auditor')).status).toBe(403);
    expect((await send('POST', `/api/events?uai=${OUTSIDE_UAI}`, meeting)).status).toBe(404);
    expect((await get(`/api/events?uai=${DEMO_UAI}`, 'other-manager')).status).toBe(404);
    expect((await get('/api/events')).status).toBe(400);
    expect((await app.request(`/api/events?uai=${DEMO_UAI}`)).status).toBe(401);
  });
});
