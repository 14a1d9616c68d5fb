/**
 * A booking feed over a week of changes (issue 20): a local HTTP server serves the booking tool's
 * iCalendar export; the bridge's real parts (planning with events, dispatcher, publisher, MQTT on
 * the embedded aedes broker) run on a ManualClock, and a real subscriber sees the CDI's and the
 * gym's `desired` follow each change: bookings added, one moved, a room known under another name
 * in the booking tool (the feed's mapping table), the feed down for a day (the last good bookings
 * keep heating), a booking cancelled. Paris is UTC+1 that week: 18:00 local = 17:00Z.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/bridge/audit-events.js';
import { BookingFeeds } from '../../src/bridge/booking-feeds.js';
import { Dispatcher } from '../../src/bridge/dispatcher.js';
import { EventsService } from '../../src/bridge/events-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { type HeldOccupancy, PlanningService } from '../../src/bridge/planning.js';
import { BridgePublisher } from '../../src/bridge/publisher.js';
import { MqttTopics } from '../../src/contract/topics.js';
import { ManualClock } from '../../src/domain/clock.js';
import { readBookingFeed } from '../../src/events/booking-feed.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { copySite, DEMO_UAI, fixedOccupancy } from '../bridge/bridge-fixtures.js';
import { type BrokerTarget, embeddedTarget, temporaryStore } from '../bridge/dispatch-fixtures.js';
import { ManualScheduler } from '../bridge/manual-scheduler.js';
import { type Collector, clearRetained, collectMessages } from '../helpers/mqtt-contract.js';

const VERSION = '0.1.0-test';

function vevent(uid: string, date: string, from: string, to: string, location: string, summary: string) {
  const stamp = (time: string) => `${date.replaceAll('-', '')}T${time.replace(':', '')}00`;
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260301T000000Z',
    `DTSTART;TZID=Europe/Paris:${stamp(from)}`,
    `DTEND;TZID=Europe/Paris:${stamp(to)}`,
    `SUMMARY:${summary}`,
    `LOCATION:${location}`,
    'END:VEVENT',
  ].join('\r\n');
}
const calendar = (...events: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//GRR//test//FR', ...events, 'END:VCALENDAR', ''].join('\r\n');

const A = vevent('grr-a', '2026-03-09', '18:00', '21:00', 'CDI', 'Conseil de classe');
const B = vevent('grr-b', '2026-03-10', '18:00', '21:00', 'CDI', 'Réunion parents');
const B_MOVED = vevent('grr-b', '2026-03-10', '20:00', '22:00', 'CDI', 'Réunion parents');
const C = vevent('grr-c', '2026-03-11', '18:00', '21:00', 'Salle de sport', 'Club de badminton');
const D = vevent('grr-d', '2026-03-12', '18:00', '21:00', 'CDI', 'Cours du soir');
const F = vevent('grr-f', '2026-03-13', '18:00', '21:00', 'CDI', 'Atelier');

/** The booking tool: serves `body` with an ETag, 304 on a match, 503 while `down`. */
function bookingServer() {
  const state = { body: '', down: false, requests: [] as { ifNoneMatch: string | null; status: number }[] };
  const server: Server = createServer((req, res) => {
    const etag = `"${createHash('sha256').update(state.body).digest('hex').slice(0, 16)}"`;
    const ifNoneMatch = (req.headers['if-none-match'] as string | undefined) ?? null;
    const status = state.down ? 503 : ifNoneMatch === etag ? 304 : 200;
    state.requests.push({ ifNoneMatch, status });
    if (status === 200) res.writeHead(200, { 'Content-Type': 'text/calendar', ETag: etag }).end(state.body);
    else res.writeHead(status).end();
  });
  return { state, server };
}

describe('a booking feed over a week of changes (aedes)', () => {
  const clock = new ManualClock(Date.parse('2026-03-09T16:15:00Z'));
  const audited: AuditEvent[] = [];
  const { state, server } = bookingServer();
  const cleanups: (() => Promise<void>)[] = [];
  let target: BrokerTarget;
  let topics: MqttTopics;
  let watcher: Collector;
  let feeds: BookingFeeds;
  let planning: PlanningService;
  let dispatcher: Dispatcher;
  let scheduler: ManualScheduler;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/grr.ics`;
    const files = copySite();
    const demoFile = join(files.devicesDir, `${DEMO_UAI}.yaml`);
    writeFileSync(
      demoFile,
      `${readFileSync(demoFile, 'utf8')}\nbooking_feeds:\n  - id: grr\n    url: "${url}"\n    poll_minutes: 15\n    rooms:\n      "Salle de sport": GYMNASE\n`,
    );
    const site = new SiteHolder(files);
    const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
    const stores = await temporaryStore();
    cleanups.push(() => stores.cleanup());
    const store = stores.store;
    // No lessons in the CDI or the gym that fortnight: what heats is the feed.
    const held: HeldOccupancy = {
      from: '2026-03-02',
      to: '2026-03-27',
      occupancy: {
        uai: DEMO_UAI,
        version: 1,
        timezone: 'Europe/Paris',
        from: '2026-03-02',
        to: '2026-03-27',
        rooms: [],
        unassigned: 0,
      },
    };
    const occupancy = fixedOccupancy({ [DEMO_UAI]: held });
    const events = new EventsService({
      repository: store.events,
      site,
      calendars,
      occupancy,
      clock,
      audit: (entries) => audited.push(...entries),
    });
    feeds = new BookingFeeds({
      site,
      repository: store.events,
      events,
      parse: async (input) => readBookingFeed(input),
      clock,
      baseDir: files.dir,
    });
    const feed = new MutablePlanFeed();
    planning = new PlanningService({
      site,
      calendars,
      occupancy,
      overrides: { overridesFor: async () => [], onChange: () => () => {} },
      events,
      feed,
      clock,
    });

    target = await embeddedTarget();
    topics = new MqttTopics(target.prefix);
    scheduler = new ManualScheduler(clock);
    const connection = new MqttConnection({
      url: target.url,
      ...target.bridge,
      prefix: target.prefix,
      version: VERSION,
      clock,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 },
    });
    const publisher = new BridgePublisher({ connection, topics, version: VERSION });
    dispatcher = new Dispatcher({ feed, publisher, repository: store.bridgeState, clock, scheduler });
    watcher = await collectMessages(
      target.url,
      target.observer,
      `${target.prefix}/${DEMO_UAI}/+/heating/desired`,
    );
    await publisher.start();
    await planning.start();
    await dispatcher.start();
    await connection.start();
    cleanups.push(async () => {
      await watcher.close();
      await planning.stop();
      await dispatcher.stop();
      await publisher.stop();
      await connection.stop();
      await clearRetained(target.url, target.observer, [topics.bridgeStatus().topic]).catch(() => {});
      await target.close();
    });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  type Desired = { mode: string; setpoint_c?: number; reason: { kind: string; lessons?: string[] } };
  /** The next `desired` of a zone's heating after message number `mark` that satisfies `check`. */
  const nextDesired = async (mark: number, zone: string, check: (d: Desired) => boolean) => {
    const topic = topics.desired(DEMO_UAI, zone, 'heating').topic;
    const m = await watcher.waitForMessage(
      (msg) => watcher.messages.indexOf(msg) >= mark && msg.topic === topic && check(msg.payload as Desired),
    );
    return m.payload as Desired;
  };
  const eventIdOf = (uid: string) => {
    const entry = audited.find((e) => e.detail['feed_key'] === uid && e.detail['event'] === 'added');
    return entry?.detail['event_id'] as string;
  };
  /** Moves the clock (firing the plan's transitions) and replans, as the hourly job would. */
  const advance = async (iso: string) => {
    await scheduler.advanceTo(iso, dispatcher);
    await planning.replanAll();
  };

  it('Monday: the bookings are added, and the CDI preheats for tonight’s one', async () => {
    await watcher.waitForMessage((m) => m.topic === topics.desired(DEMO_UAI, 'cdi', 'heating').topic);
    const mark = watcher.messages.length;
    state.body = calendar(A, B, D, F);
    clock.set('2026-03-09T16:30:00Z');
    await feeds.pollDue();
    expect(audited.filter((e) => e.detail['event'] === 'added').map((e) => e.detail['feed_key'])).toEqual([
      'grr-a',
      'grr-b',
      'grr-d',
      'grr-f',
    ]);
    expect(audited[0]).toMatchObject({ kind: 'import', actor: 'booking-feed/grr', uai: DEMO_UAI });
    const desired = await nextDesired(mark, 'cdi', (d) => d.mode === 'comfort');
    expect(desired.reason).toMatchObject({
      kind: 'preheat',
      lessons: [`scheduled-event:${eventIdOf('grr-a')}`],
    });
    expect(desired.setpoint_c).toBe(19);
  });

  it('Tuesday: an unchanged feed costs a 304; the moved meeting takes the comfort away from 18:00', async () => {
    await advance('2026-03-10T16:15:00Z');
    await feeds.pollDue();
    expect(state.requests.at(-1)).toEqual({ ifNoneMatch: expect.stringMatching(/^"/), status: 304 });
    // 17:30 local: the meeting's preheat (17:00–18:00 local) holds.
    await advance('2026-03-10T16:30:00Z');
    const before = await nextDesired(
      0,
      'cdi',
      (d) =>
        d.mode === 'comfort' &&
        d.reason.kind === 'preheat' &&
        !!d.reason.lessons?.includes(`scheduled-event:${eventIdOf('grr-b')}`),
    );
    expect(before.mode).toBe('comfort');
    const mark = watcher.messages.length;
    state.body = calendar(A, B_MOVED, D, F);
    await feeds.pollDue();
    expect(audited.at(-1)?.detail).toMatchObject({
      event: 'moved',
      feed_key: 'grr-b',
      before: { start: '2026-03-10T18:00', end: '2026-03-10T21:00' },
      after: { start: '2026-03-10T20:00', end: '2026-03-10T22:00' },
    });
    const after = await nextDesired(mark, 'cdi', () => true);
    expect(after.mode).not.toBe('comfort');
    expect(after.reason.kind).toBe('short-gap');
  });

  it('Wednesday: a booking of "Salle de sport" reaches the gym through the mapping table', async () => {
    await advance('2026-03-11T16:30:00Z');
    const mark = watcher.messages.length;
    state.body = calendar(A, B_MOVED, C, D, F);
    await feeds.pollDue();
    const gym = await nextDesired(mark, 'gymnase', (d) => d.mode === 'comfort');
    expect(gym.reason.lessons).toEqual([`scheduled-event:${eventIdOf('grr-c')}`]);
  });

  it('Thursday: the feed is down all day; the last good bookings keep heating and the failure shows', async () => {
    state.down = true;
    await advance('2026-03-12T07:00:00Z');
    await feeds.pollDue();
    expect(feeds.status()).toEqual([
      {
        uai: DEMO_UAI,
        feed: 'grr',
        ok: false,
        last_success_at: '2026-03-11T16:30:00.000Z',
        failing_since: '2026-03-12T07:00:00.000Z',
        last_error: 'HTTP 503 from the feed',
      },
    ]);
    const mark = watcher.messages.length;
    await advance('2026-03-12T16:30:00Z');
    await feeds.pollDue();
    expect(feeds.status()[0]?.failing_since).toBe('2026-03-12T07:00:00.000Z');
    const desired = await nextDesired(mark, 'cdi', (d) => d.mode === 'comfort');
    expect(desired.reason.lessons).toEqual([`scheduled-event:${eventIdOf('grr-d')}`]);
  });

  it('Friday: the feed is back; the cancelled workshop no longer heats the CDI', async () => {
    state.down = false;
    await advance('2026-03-13T16:30:00Z');
    await nextDesired(
      0,
      'cdi',
      (d) => d.mode === 'comfort' && !!d.reason.lessons?.includes(`scheduled-event:${eventIdOf('grr-f')}`),
    );
    const mark = watcher.messages.length;
    state.body = calendar(A, B_MOVED, C, D);
    await feeds.pollDue();
    expect(audited.at(-1)?.detail).toMatchObject({ event: 'cancelled', feed_key: 'grr-f', after: null });
    const after = await nextDesired(mark, 'cdi', () => true);
    expect(after.mode).not.toBe('comfort');
    expect(feeds.status()[0]).toMatchObject({
      ok: true,
      failing_since: null,
      last_success_at: '2026-03-13T16:30:00.000Z',
    });
  });
});
