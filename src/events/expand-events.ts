/**
 * Scheduled events → UTC occurrences (docs/events.md). Pure: the events, a range and the school's
 * zone in, instants out; no clock read. Local wall-clock times become instants by the calendar's
 * exact rule (src/calendar/zone-days.ts: a time in a spring-forward gap moves forward by the gap,
 * one in an autumn overlap takes the earlier instant), so an event at 18:00 is 18:00 on both sides
 * of a DST switch. Work is bounded: a recurrence spans at most MAX_RECURRENCE_DAYS (schema), and
 * only the days that meet the range are looked at.
 */

import { MS_PER_DAY } from '../calendar/day-number.js';
import { dayNumberOfIso, isoOfDayNumber, isoWeekdayOf } from '../calendar/index.js';
import { zoneDays } from '../calendar/zone-days.js';
import type { Zone } from '../devices/schema.js';
import type { OccupancyInterval } from '../domain/occupancy.js';
import { type EventFields, occurrenceSpan, type ScheduledEvent } from './scheduled-event.js';

/** The `source` an event gives an occupancy interval (lessons have their ids, timetable events `event:`). */
export const EVENT_SOURCE_PREFIX = 'scheduled-event:';

export interface EventOccurrence {
  eventId: string;
  title: string;
  /** Local date the occurrence starts on. */
  date: string;
  /** Epoch ms UTC, inclusive. */
  start: number;
  /** Epoch ms UTC, exclusive. */
  end: number;
  target: EventFields['target'];
}

type Expandable = Pick<ScheduledEvent, 'id' | 'title' | 'start' | 'end' | 'recurrence' | 'target'>;

/**
 * Occurrences of `events` that overlap `range` (epoch ms), sorted by start. One occurrence per
 * date the event takes place on: its start date without recurrence; with one, each date from the
 * start date to `until` (inclusive) that falls on one of its weekdays, minus `except`.
 */
export function expandEvents(
  events: readonly Expandable[],
  range: { from: number; to: number },
  timezone: string,
): EventOccurrence[] {
  const out: EventOccurrence[] = [];
  // Offsets are at most ±14 h and an occurrence at most 72 h: these local days bound the range.
  const firstDay = Math.floor(range.from / MS_PER_DAY) - 4;
  const lastDay = Math.floor(range.to / MS_PER_DAY) + 1;
  // One table of UTC offsets per (zone, range), shared with the calendar: luxon once per day, not
  // per instant (docs/performance.md, "luxon"); switch days take the exact rule.
  const days = zoneDays(timezone, firstDay, lastDay + 4);
  const firstDate = isoOfDayNumber(firstDay);
  const windowLastDate = isoOfDayNumber(lastDay);
  for (const event of events) {
    // A school's year of events, most far from the window: those that cannot meet it cost a
    // date comparison (ISO dates compare as text), nothing more.
    const r = event.recurrence;
    const lastDate = r ? r.until : event.start.slice(0, 10);
    if (lastDate < firstDate || event.start.slice(0, 10) > windowLastDate) continue;
    const span = occurrenceSpan(event.start, event.end);
    if (span === null || span.minutes <= 0) continue;
    const startDay = dayNumberOfIso(event.start.slice(0, 10));
    const startMinutes = minutesOf(event.start);
    const endMinutes = minutesOf(event.end);
    const untilDay = r ? dayNumberOfIso(r.until) : startDay;
    const except = r && r.except.length > 0 ? new Set(r.except) : null;
    const from = Math.max(startDay, firstDay);
    const to = Math.min(untilDay, lastDay);
    for (let day = from; day <= to; day++) {
      if (r && !r.weekdays.includes(isoWeekdayOf(day))) continue;
      const date = isoOfDayNumber(day);
      if (except?.has(date)) continue;
      const start = days.instant(day - firstDay, startMinutes);
      const end = days.instant(day + span.days - firstDay, endMinutes);
      if (!(end > start) || end <= range.from || start >= range.to) continue;
      out.push({ eventId: event.id, title: event.title, date, start, end, target: event.target });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end || (a.eventId < b.eventId ? -1 : 1));
}

/** Does the occurrence reach this zone: the zone itself, or one of its rooms (by id or name, as devices/ allows). */
export function reachesZone(target: EventFields['target'], zone: Pick<Zone, 'id' | 'rooms'>): boolean {
  if ('zone' in target) return target.zone === zone.id;
  return target.rooms.some((room) => zone.rooms.includes(room));
}

/** The zone's occupancy from events, sources `scheduled-event:<id>`, sorted by start. */
export function eventZoneOccupancy(
  occurrences: readonly EventOccurrence[],
  zone: Pick<Zone, 'id' | 'rooms'>,
): OccupancyInterval[] {
  return occurrences
    .filter((o) => reachesZone(o.target, zone))
    .map((o) => ({ start: o.start, end: o.end, source: [`${EVENT_SOURCE_PREFIX}${o.eventId}`] }));
}

function minutesOf(localDateTime: string): number {
  return Number(localDateTime.slice(11, 13)) * 60 + Number(localDateTime.slice(14, 16));
}
