/**
 * What the API answers about an event besides itself (docs/events.md, "Conflicts and holidays"):
 * its occurrences that overlap lessons or other events in the same rooms, and those that fall on
 * a closed day (school holiday, public holiday). Pure; bounded: at most MAX_REPORTED of each.
 */
import type { Zone } from '../devices/schema.js';
import type { RoomOccupancy } from '../domain/occupancy.js';
import type { EventOccurrence } from './expand-events.js';
import { type EventTarget, MAX_OCCURRENCE_HOURS } from './scheduled-event.js';

export const MAX_REPORTED = 50;
const LONGEST_MS = MAX_OCCURRENCE_HOURS * 3_600_000;

export interface EventConflict {
  /** Local date of the occurrence. */
  date: string;
  room: string;
  /** ISO 8601 UTC: the overlap. */
  from: string;
  to: string;
  with: { kind: 'lesson' } | { kind: 'event'; id: string; title: string };
}

export interface EventHoliday {
  date: string;
  kind: string;
  name: string;
}

export interface EventReport {
  conflicts: EventConflict[];
  /** More conflicts than listed. */
  conflicts_total: number;
  holidays: EventHoliday[];
  /** The window the lessons were compared over (the occupancy the bridge holds), ISO UTC; null without timetable. */
  lessons_checked: { from: string; to: string } | null;
}

/** The rooms an event books: its zone's rooms, or the rooms it names. */
export function roomsOf(target: EventTarget, zones: readonly Pick<Zone, 'id' | 'rooms'>[]): string[] {
  if ('rooms' in target) return target.rooms;
  return zones.find((z) => z.id === target.zone)?.rooms ?? [];
}

export function eventReport(input: {
  occurrences: readonly EventOccurrence[];
  /** Occurrences of the school's other events over the same span. */
  others: readonly EventOccurrence[];
  zones: readonly Pick<Zone, 'id' | 'rooms'>[];
  lessons: { rooms: readonly RoomOccupancy[]; from: number; to: number } | null;
  closure: (date: string) => { kind: string; name: string } | null;
}): EventReport {
  const conflicts: EventConflict[] = [];
  let total = 0;
  const add = (c: EventConflict) => {
    total++;
    if (conflicts.length < MAX_REPORTED) conflicts.push(c);
  };
  const roomsByEvent = new Map<string, Set<string>>();
  const roomSet = (o: EventOccurrence) => {
    let set = roomsByEvent.get(o.eventId);
    if (!set) {
      set = new Set(roomsOf(o.target, input.zones));
      roomsByEvent.set(o.eventId, set);
    }
    return set;
  };
  const lessonRooms = new Map<string, RoomOccupancy>();
  for (const room of input.lessons?.rooms ?? []) {
    lessonRooms.set(room.room, room);
    lessonRooms.set(room.name, room);
  }
  // Both sorted by start: each occurrence scans only the others that start within an occurrence's
  // longest span before it and before it ends (linear in what overlaps, not in the school's events).
  const others = [...input.others].sort((a, b) => a.start - b.start);
  const occurrences = [...input.occurrences].sort((a, b) => a.start - b.start);
  let lo = 0;
  for (const o of occurrences) {
    while (lo < others.length && (others[lo] as EventOccurrence).start < o.start - LONGEST_MS) lo++;
    const rooms = roomSet(o);
    for (const room of rooms) {
      const booked = lessonRooms.get(room);
      if (!booked) continue;
      for (const i of booked.intervals) {
        if (i.start >= o.end) break;
        if (i.end > o.start)
          add(conflict(o, room, Math.max(i.start, o.start), Math.min(i.end, o.end), { kind: 'lesson' }));
      }
    }
    for (let k = lo; k < others.length; k++) {
      const other = others[k] as EventOccurrence;
      if (other.start >= o.end) break;
      if (other.end <= o.start || other.eventId === o.eventId) continue;
      const shared = [...roomSet(other)].filter((r) => rooms.has(r));
      for (const room of shared) {
        add(
          conflict(o, room, Math.max(other.start, o.start), Math.min(other.end, o.end), {
            kind: 'event',
            id: other.eventId,
            title: other.title,
          }),
        );
      }
    }
  }
  const holidays: EventHoliday[] = [];
  for (const o of input.occurrences) {
    const closure = input.closure(o.date);
    if (closure && holidays.length < MAX_REPORTED)
      holidays.push({ date: o.date, kind: closure.kind, name: closure.name });
  }
  return {
    conflicts,
    conflicts_total: total,
    holidays,
    lessons_checked: input.lessons
      ? { from: new Date(input.lessons.from).toISOString(), to: new Date(input.lessons.to).toISOString() }
      : null,
  };
}

function conflict(
  o: EventOccurrence,
  room: string,
  from: number,
  to: number,
  other: EventConflict['with'],
): EventConflict {
  return {
    date: o.date,
    room,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    with: other,
  };
}
