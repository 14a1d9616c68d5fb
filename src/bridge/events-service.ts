/**
 * Scheduled events (docs/events.md): managers create, change and delete them through the API
 * and the dashboard; booking feeds (booking-feeds.ts) write theirs through `applyFeed`. Every
 * change is audited with who made it and the event before and after, and tells planning, which
 * replans the school at once (as for overrides). Answers carry the event's conflicts (lessons and
 * other events in the same rooms) and the closed days it falls on: shown, never refused — a
 * letting in the holidays is the point of an event.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { type EventReport, eventReport, roomsOf } from '../events/event-report.js';
import { type EventOccurrence, expandEvents } from '../events/expand-events.js';
import {
  type EventFields,
  eventBodySchema,
  MAX_EVENTS_PER_SCHOOL,
  type ScheduledEvent,
} from '../events/scheduled-event.js';
import type { CalendarSource } from '../site/calendars.js';
import type { Site } from '../site/load-site.js';
import type {
  BookingFeedState,
  FeedChanges,
  ScheduledEventRepository,
} from '../store/scheduled-event-repository.js';
import type { AuditEvent, AuditSink } from './audit-events.js';
import { NotFoundError, problemOf } from './overrides-service.js';
import type { HeldOccupancy } from './planning.js';

const DAY = 86_400_000;

/** An event as the API shows it. */
export interface EventView extends EventFields {
  id: string;
  uai: string;
  source: ScheduledEvent['source'];
  feed_id?: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}

export interface EventAnswer extends EventReport {
  event: EventView;
}

export interface EventsServiceOptions {
  repository: ScheduledEventRepository;
  site: { readonly current: Site };
  calendars: Pick<CalendarSource, 'forSchool'>;
  /** The occupancy the bridge holds (lessons), for conflicts. */
  occupancy: { occupancyFor(uai: string): HeldOccupancy | null };
  clock: Clock;
  audit?: AuditSink | undefined;
}

export class EventsService {
  private readonly listeners = new Set<(uai: string) => void>();
  /** Events per school, read once and dropped on every change (planning reads them hourly per school). */
  private readonly cache = new Map<string, Promise<ScheduledEvent[]>>();

  constructor(private readonly options: EventsServiceOptions) {}

  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every event of a school, for planning. */
  eventsFor(uai: string): Promise<ScheduledEvent[]> {
    let events = this.cache.get(uai);
    if (!events) {
      events = this.options.repository.list({ uais: [uai] });
      this.cache.set(uai, events);
      events.catch(() => this.cache.delete(uai));
    }
    return events;
  }

  async list(uai: string): Promise<EventView[]> {
    return (await this.eventsFor(uai)).map(viewOf);
  }

  /** Occurrences of the school's events over a range (the dashboard's week). */
  async occurrences(uai: string, range: { from: number; to: number }): Promise<EventOccurrence[]> {
    return expandEvents(await this.eventsFor(uai), range, this.timezone(uai));
  }

  async get(uai: string, id: string): Promise<EventAnswer | null> {
    const event = await this.options.repository.get(id);
    if (!event || event.uai !== uai) return null;
    return { event: viewOf(event), ...(await this.report(event)) };
  }

  async create(uai: string, body: unknown, actor: string): Promise<EventAnswer> {
    const fields = this.validate(uai, body);
    if ((await this.options.repository.count(uai)) >= MAX_EVENTS_PER_SCHOOL) {
      throw InputError.of(
        'too-many-events',
        `a school holds at most ${MAX_EVENTS_PER_SCHOOL} events; delete past ones first`,
        'uai (query)',
      );
    }
    const now = this.options.clock.now();
    const event: ScheduledEvent = {
      ...fields,
      id: randomUUID(),
      uai,
      source: 'manual',
      created_by: actor,
      created_at: now,
      updated_by: actor,
      updated_at: now,
    };
    await this.options.repository.create(event);
    this.audit([auditEntry('created', event, actor, now, null, event)]);
    this.changed(uai);
    return { event: viewOf(event), ...(await this.report(event)) };
  }

  /** Replaces an event's fields; null when unknown; feed events are read-only (409 upstream). */
  async update(uai: string, id: string, body: unknown, actor: string): Promise<EventAnswer | null> {
    const before = await this.options.repository.get(id);
    if (!before || before.uai !== uai) return null;
    if (before.source === 'feed') throw new ReadOnlyEventError(before);
    const fields = this.validate(uai, body);
    const now = this.options.clock.now();
    const { recurrence: _dropped, ...kept } = before;
    const after: ScheduledEvent = { ...kept, ...fields, updated_by: actor, updated_at: now };
    if (!(await this.options.repository.update(after))) return null;
    this.audit([auditEntry('updated', after, actor, now, before, after)]);
    this.changed(uai);
    return { event: viewOf(after), ...(await this.report(after)) };
  }

  async delete(uai: string, id: string, actor: string): Promise<EventView | null> {
    const existing = await this.options.repository.get(id);
    if (!existing || existing.uai !== uai) return null;
    if (existing.source === 'feed') throw new ReadOnlyEventError(existing);
    const deleted = await this.options.repository.delete(id);
    if (!deleted) return null;
    this.audit([auditEntry('deleted', deleted, actor, this.options.clock.now(), deleted, null)]);
    this.changed(uai);
    return viewOf(deleted);
  }

  /** A booking feed's changes, stored together with its state, audited as added/moved/cancelled. */
  async applyFeed(
    uai: string,
    changes: FeedChanges & { before: Map<string, ScheduledEvent> },
    state: BookingFeedState,
  ): Promise<void> {
    await this.options.repository.applyFeed(changes, state);
    const actor = `booking-feed/${state.feedId}`;
    const at = this.options.clock.now();
    const entries: AuditEvent[] = [
      ...changes.added.map((e) => auditEntry('added', e, actor, at, null, e, 'import')),
      ...changes.changed.map((e) =>
        auditEntry('moved', e, actor, at, changes.before.get(e.id) ?? null, e, 'import'),
      ),
      ...changes.removed.flatMap((id) => {
        const before = changes.before.get(id);
        return before ? [auditEntry('cancelled', before, actor, at, before, null, 'import')] : [];
      }),
    ];
    if (entries.length > 0) {
      this.audit(entries);
      this.changed(uai);
    }
  }

  /** Drops the cached list (another instance changed the school's events: it told us through the store). */
  forget(uai: string): void {
    this.cache.delete(uai);
  }

  /** Tells listeners (planning) that a school's events changed; drops the cached list. */
  private changed(uai: string): void {
    this.cache.delete(uai);
    for (const listener of this.listeners) listener(uai);
  }

  private audit(entries: AuditEvent[]): void {
    this.options.audit?.(entries);
  }

  private timezone(uai: string): string {
    const devices = this.options.site.current.devices.get(uai);
    if (!devices) throw new NotFoundError(`establishment ${uai}`, 'uai (query)');
    return devices.value.school.timezone;
  }

  /** The body checked against the schema and the school's zones and rooms. */
  private validate(uai: string, body: unknown): EventFields {
    const devices = this.options.site.current.devices.get(uai);
    if (!devices) throw new NotFoundError(`establishment ${uai}`, 'uai (query)');
    const parsed = eventBodySchema.safeParse(body);
    if (!parsed.success) throw new InputError(parsed.error.issues.map(problemOf), 'malformed');
    const fields = parsed.data;
    const zones = devices.value.zones;
    if ('zone' in fields.target) {
      const zone = fields.target.zone;
      if (!zones.some((z) => z.id === zone)) {
        throw InputError.of(
          'zone-unknown',
          `${uai} has no zone ${zone} (zones: ${zones.map((z) => z.id).join(', ')})`,
          '$.target.zone',
        );
      }
    } else {
      const known = new Set(zones.flatMap((z) => z.rooms));
      const index = fields.target.rooms.findIndex((room) => !known.has(room));
      if (index >= 0) {
        throw InputError.of(
          'room-in-no-zone',
          `room ${fields.target.rooms[index]} is in no zone of ${uai}: no heating, lighting or ventilation would follow the event`,
          `$.target.rooms[${index}]`,
        );
      }
    }
    return fields;
  }

  private async report(event: ScheduledEvent): Promise<EventReport> {
    const devices = this.options.site.current.devices.get(event.uai);
    if (!devices) throw new NotFoundError(`establishment ${event.uai}`, 'uai (query)');
    const school = devices.value.school;
    const timezone = school.timezone;
    // The event's whole span (a recurrence spans at most MAX_RECURRENCE_DAYS), a day either side.
    const first = Date.parse(`${event.start.slice(0, 10)}T00:00:00Z`) - 2 * DAY;
    const last = Date.parse(`${event.recurrence?.until ?? event.end.slice(0, 10)}T00:00:00Z`) + 5 * DAY;
    const span = { from: first, to: last };
    const occurrences = expandEvents([event], span, timezone);
    const others = expandEvents(
      (await this.eventsFor(event.uai)).filter((e) => e.id !== event.id),
      span,
      timezone,
    );
    const held = this.options.occupancy.occupancyFor(event.uai);
    const calendar = this.options.calendars.forSchool(school.uai, {
      ...(school.departement === undefined ? {} : { departement: school.departement }),
      timezone,
    });
    const zones = devices.value.zones;
    return eventReport({
      occurrences,
      others,
      zones,
      lessons: held
        ? {
            rooms: held.occupancy.rooms.filter((r) =>
              roomsOf(event.target, zones).some((room) => room === r.room || room === r.name),
            ),
            from: Date.parse(`${held.from}T00:00:00Z`),
            to: Date.parse(`${held.to}T23:59:59Z`),
          }
        : null,
      closure: (date) => calendar.closure(date),
    });
  }
}

/** A feed's event changed through the API: the feed owns it (409). */
export class ReadOnlyEventError extends Error {
  constructor(readonly event: ScheduledEvent) {
    super(`event ${event.id} comes from booking feed ${event.feed?.id}: change it in the booking tool`);
    this.name = 'ReadOnlyEventError';
  }
}

export function viewOf(e: ScheduledEvent): EventView {
  return {
    id: e.id,
    uai: e.uai,
    title: e.title,
    start: e.start,
    end: e.end,
    ...(e.recurrence ? { recurrence: e.recurrence } : {}),
    target: e.target,
    source: e.source,
    ...(e.feed ? { feed_id: e.feed.id } : {}),
    created_by: e.created_by,
    created_at: new Date(e.created_at).toISOString(),
    updated_by: e.updated_by,
    updated_at: new Date(e.updated_at).toISOString(),
  };
}

/** The event's fields an audit entry keeps (what the plan follows). */
function auditFields(e: ScheduledEvent) {
  return {
    title: e.title,
    start: e.start,
    end: e.end,
    ...(e.recurrence ? { recurrence: e.recurrence } : {}),
    target: e.target,
  };
}

/**
 * Audit kinds are fixed by the log's schema (migration 0004): a manager's event is recorded like
 * an override (a manager's change to the plan), a feed's change like an import (docs/audit.md).
 */
function auditEntry(
  event: 'created' | 'updated' | 'deleted' | 'added' | 'moved' | 'cancelled',
  e: ScheduledEvent,
  actor: string,
  at: number,
  before: ScheduledEvent | null,
  after: ScheduledEvent | null,
  kind: 'override' | 'import' = 'override',
): AuditEvent {
  return {
    kind,
    at,
    actor,
    uai: e.uai,
    detail: {
      object: 'scheduled-event',
      event,
      event_id: e.id,
      source: e.source,
      ...(e.feed ? { feed_id: e.feed.id, feed_key: e.feed.key } : {}),
      before: before ? auditFields(before) : null,
      after: after ? auditFields(after) : null,
    },
  };
}
