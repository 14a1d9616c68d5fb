/**
 * A room-booking tool's iCalendar export (GRR, Mrbs, Outlook resource calendars…) → bookings
 * (docs/events.md, "Booking feeds"). Pure: text, the school's zone, the window and the room
 * mapping in; bookings and warnings out. The text is untrusted and bounded: the caller caps its
 * size, each recurring booking yields at most MAX_OCCURRENCES_PER_BOOKING occurrences inside the
 * window, the whole feed at most MAX_BOOKINGS, and sub-daily rules are refused (as the timetable
 * ICS reader does, src/formats/ics.ts). Costly enough for a big feed to run in a worker
 * (src/bridge/booking-feed-pool.ts).
 *
 * - A booking's key is its UID; an occurrence of a series is `UID@<its original start, UTC>`, so
 *   a moved booking (same UID, or a RECURRENCE-ID override) is recognised as moved.
 * - Instants: `Z` is UTC, a TZID that names an IANA zone is that zone, anything else (floating,
 *   Windows names) is the school's zone; the booking is then kept as local wall-clock times in the
 *   school's zone, like a manager's event.
 * - Rooms: LOCATION split on `,` and `;`, each name mapped through the feed's `rooms` table
 *   (booking tool name → devices room) when listed, else kept as is. A booking without room is
 *   skipped with a warning; so are all-day, cancelled, and over-long (> MAX_OCCURRENCE_HOURS) ones.
 */
import ICAL from 'ical.js';
import { DateTime, IANAZone } from 'luxon';
import { InputError, type Problem } from '../domain/problems.js';
import { MAX_OCCURRENCE_HOURS } from './scheduled-event.js';

export const MAX_BOOKINGS = 2000;
export const MAX_OCCURRENCES_PER_BOOKING = 400;
const SUB_DAILY = new Set(['SECONDLY', 'MINUTELY', 'HOURLY']);

export interface Booking {
  key: string;
  title: string;
  /** Local `YYYY-MM-DDTHH:mm` in the school's zone. */
  start: string;
  end: string;
  rooms: string[];
}

export interface BookingFeedInput {
  text: string;
  timezone: string;
  /** Epoch ms: only occurrences meeting it are kept (a past year of bookings plans nothing). */
  window: { from: number; to: number };
  /** Booking tool room name → room id or name in devices/. */
  rooms: Record<string, string>;
}

export interface BookingFeedResult {
  bookings: Booking[];
  /** At most 20, with `skipped` counting every booking left out. */
  warnings: Problem[];
  skipped: number;
}

type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalTime = InstanceType<typeof ICAL.Time>;

export function readBookingFeed(input: BookingFeedInput): BookingFeedResult {
  let root: IcalComponent;
  try {
    root = new ICAL.Component(ICAL.parse(input.text) as unknown[]);
  } catch (error) {
    throw InputError.of('ics-malformed', `not iCalendar: ${(error as Error).message}`, 'feed', 'malformed');
  }
  const calendars = root.name === 'vcalendar' ? [root] : root.getAllSubcomponents('vcalendar');
  if (calendars.length === 0) throw InputError.of('ics-malformed', 'no VCALENDAR', 'feed', 'malformed');
  const vevents = calendars.flatMap((c) => c.getAllSubcomponents('vevent'));
  const warnings: Problem[] = [];
  let skipped = 0;
  const skip = (code: string, message: string, where: string) => {
    skipped++;
    if (warnings.length < 20) warnings.push({ code, message, where });
  };
  const masters = new Map<string, IcalComponent>();
  const overrides: IcalComponent[] = [];
  for (const v of vevents) {
    const uid = String(v.getFirstPropertyValue('uid') ?? '');
    if (!uid) {
      skip('booking-no-uid', 'a VEVENT without UID cannot be followed from one poll to the next', 'VEVENT');
      continue;
    }
    if (v.hasProperty('recurrence-id')) overrides.push(v);
    else masters.set(uid, v);
  }
  const out: Booking[] = [];
  const push = (b: Booking) => {
    if (out.length >= MAX_BOOKINGS) {
      throw InputError.of(
        'feed-too-many-bookings',
        `the feed holds more than ${MAX_BOOKINGS} bookings in the window`,
        'feed',
        'too-large',
      );
    }
    out.push(b);
  };
  for (const [uid, master] of masters) {
    const event = new ICAL.Event(master);
    for (const o of overrides) if (String(o.getFirstPropertyValue('uid')) === uid) event.relateException(o);
    if (isCancelled(master)) continue;
    const start = master.getFirstPropertyValue('dtstart') as IcalTime | null;
    if (!(start instanceof ICAL.Time)) {
      skip('booking-bad-start', `booking ${uid} has no valid DTSTART`, uid);
      continue;
    }
    if (start.isDate) {
      skip('booking-all-day', `booking ${uid} lasts all day: not a room booking`, uid);
      continue;
    }
    if (!event.isRecurring()) {
      const booking = bookingOf(uid, master, input, skip);
      if (booking && overlaps(booking.instants, input.window)) push(booking.booking);
      continue;
    }
    const rule = master.getFirstPropertyValue('rrule') as { freq?: string } | null;
    if (rule?.freq && SUB_DAILY.has(rule.freq)) {
      skip(
        'booking-rule-sub-daily',
        `booking ${uid} recurs ${rule.freq}: rooms are not booked within a day`,
        uid,
      );
      continue;
    }
    const iterator = event.iterator();
    let count = 0;
    let kept = 0;
    for (let next = iterator.next(); next; next = iterator.next()) {
      const original = instantOf(next, input.timezone);
      if (original >= input.window.to) break;
      // Occurrences before the window cost too: a rule started years ago is read this far only.
      if (++count > MAX_OCCURRENCES_PER_BOOKING * 4) {
        skip(
          'booking-rule-too-long',
          `booking ${uid} recurs too often before the window; later occurrences ignored`,
          uid,
        );
        break;
      }
      const details = event.getOccurrenceDetails(next);
      const component = details.item.component;
      if (isCancelled(component)) continue;
      const key = `${uid}@${new Date(original).toISOString()}`;
      const booking = bookingOf(key, component, input, skip, details.startDate, details.endDate);
      if (!booking || !overlaps(booking.instants, input.window)) continue;
      push(booking.booking);
      if (++kept > MAX_OCCURRENCES_PER_BOOKING) {
        throw InputError.of(
          'booking-too-many-occurrences',
          `booking ${uid} recurs more than ${MAX_OCCURRENCES_PER_BOOKING} times in the window`,
          uid,
          'too-large',
        );
      }
    }
  }
  return {
    bookings: out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.key < b.key ? -1 : 1)),
    warnings,
    skipped,
  };
}

function bookingOf(
  key: string,
  component: IcalComponent,
  input: BookingFeedInput,
  skip: (code: string, message: string, where: string) => void,
  startTime?: IcalTime,
  endTime?: IcalTime,
): { booking: Booking; instants: { from: number; to: number } } | null {
  const startProperty = component.getFirstProperty('dtstart');
  const start = startTime ?? (component.getFirstPropertyValue('dtstart') as IcalTime);
  let end = endTime ?? (component.getFirstPropertyValue('dtend') as IcalTime | null);
  if (!end) {
    const duration = component.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
    if (duration instanceof ICAL.Duration) {
      end = start.clone();
      end.addDuration(duration);
    }
  }
  if (!(end instanceof ICAL.Time) || end.isDate) {
    skip('booking-no-end', `booking ${key} has no DTEND or DURATION`, key);
    return null;
  }
  const zone = zoneOf(startProperty?.getFirstParameter('tzid'), start, input.timezone);
  const endZone = zoneOf(component.getFirstProperty('dtend')?.getFirstParameter('tzid'), end, input.timezone);
  const from = wallInstant(start, zone);
  const to = wallInstant(end, endZone);
  if (!(to > from)) {
    skip('booking-ends-before-start', `booking ${key} ends before it starts`, key);
    return null;
  }
  if (to - from > MAX_OCCURRENCE_HOURS * 3_600_000) {
    skip('booking-too-long', `booking ${key} lasts over ${MAX_OCCURRENCE_HOURS} h`, key);
    return null;
  }
  const location = String(component.getFirstPropertyValue('location') ?? '');
  const rooms = [
    ...new Set(
      location
        .split(/[,;]/)
        .map((name) => name.trim())
        .filter((name) => name.length > 0)
        .map((name) => input.rooms[name] ?? name),
    ),
  ].slice(0, 50);
  if (rooms.length === 0) {
    skip('booking-no-room', `booking ${key} names no room (LOCATION)`, key);
    return null;
  }
  const title =
    String(component.getFirstPropertyValue('summary') ?? '')
      .trim()
      .slice(0, 200) || 'Réservation';
  return {
    booking: {
      key,
      title,
      start: localText(from, input.timezone),
      end: localText(to, input.timezone),
      rooms,
    },
    instants: { from, to },
  };
}

function zoneOf(tzid: string | undefined | null, time: IcalTime, school: string): string {
  if (time.zone?.tzid === 'UTC') return 'UTC';
  const name = (tzid ?? '').replace(/^\//, '');
  return name && IANAZone.isValidZone(name) ? name : school;
}

function wallInstant(t: IcalTime, zone: string): number {
  return DateTime.fromObject(
    { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
    { zone },
  ).toMillis();
}

function instantOf(t: IcalTime, school: string): number {
  return wallInstant(t, t.zone?.tzid === 'UTC' ? 'UTC' : school);
}

function localText(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
}

function overlaps(a: { from: number; to: number }, b: { from: number; to: number }): boolean {
  return a.to > b.from && a.from < b.to;
}

function isCancelled(component: IcalComponent): boolean {
  return String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
}
