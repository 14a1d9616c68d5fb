/**
 * Scheduled events (issue 20, docs/events.md): a meeting, a letting or an exam outside the
 * timetable — a title, a local start and end in the school's zone, an optional weekly recurrence
 * with exception dates, for a zone or a set of rooms. An event is occupancy: the planner gives it
 * preheat, lighting lead and the gap rules as it does a lesson, for every function of the zones it
 * reaches. One zod schema is the API body, the stored shape and the documentation.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { dayNumberOfIso } from '../calendar/day-number.js';
import { MAX_SUPPORTED_DATE, MIN_SUPPORTED_DATE } from '../domain/dates.js';

/** A recurrence covers at most this many days from its first date: a school year and a bit. */
export const MAX_RECURRENCE_DAYS = 400;
/** One occurrence lasts at most this long (a weekend letting, not a term). */
export const MAX_OCCURRENCE_HOURS = 72;
/** A school holds at most this many events (API and feeds together): bounds every plan and check. */
export const MAX_EVENTS_PER_SCHOOL = 2000;

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(text: string): boolean {
  return (
    LOCAL_DATE.test(text) &&
    DateTime.fromISO(text).isValid &&
    text >= MIN_SUPPORTED_DATE &&
    text <= MAX_SUPPORTED_DATE
  );
}

/** `YYYY-MM-DDTHH:mm`, wall-clock time in the school's zone (no offset: the zone decides it). */
const localDateTime = z
  .string({ error: 'expected a local date and time such as 2026-03-26T18:00' })
  .refine((text) => LOCAL_DATE_TIME.test(text) && validDate(text.slice(0, 10)) && validClock(text), {
    message: 'expected a local date and time such as 2026-03-26T18:00 (no offset: the school zone applies)',
    params: { code: 'bad-local-date-time' },
  });

function validClock(text: string): boolean {
  const hour = Number(text.slice(11, 13));
  const minute = Number(text.slice(14, 16));
  return hour < 24 && minute < 60;
}

const localDate = z
  .string({ error: 'expected a date such as 2026-06-30' })
  .refine(validDate, { message: 'expected a date such as 2026-06-30', params: { code: 'bad-date' } });

export const recurrenceSchema = z.strictObject({
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  weekdays: z
    .array(z.int().min(1).max(7))
    .min(1, 'name at least one weekday (1 = Monday … 7 = Sunday)')
    .max(7)
    .refine((days) => new Set(days).size === days.length, {
      message: 'each weekday once',
      params: { code: 'weekday-repeated' },
    }),
  /** Last local date an occurrence may start on (inclusive). */
  until: localDate,
  /** Local dates on which the occurrence does not take place. */
  except: z.array(localDate).max(MAX_RECURRENCE_DAYS).default([]),
});
export type Recurrence = z.infer<typeof recurrenceSchema>;

export const eventTargetSchema = z.union(
  [
    z.strictObject({ zone: z.string().min(1).max(100) }),
    z.strictObject({ rooms: z.array(z.string().trim().min(1).max(100)).min(1).max(50) }),
  ],
  { error: 'expected {"zone": "…"} or {"rooms": ["…", …]}' },
);
export type EventTarget = z.infer<typeof eventTargetSchema>;

/** What a manager writes (POST and PUT bodies without `uai`): also what a feed produces. */
export const eventFieldsSchema = z
  .strictObject({
    title: z.string().trim().min(1, 'give the event a title').max(200),
    start: localDateTime,
    end: localDateTime,
    recurrence: recurrenceSchema.optional(),
    target: eventTargetSchema,
  })
  .superRefine((event, ctx) => {
    const span = occurrenceSpan(event.start, event.end);
    if (span === null) return;
    if (span.minutes <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `the event ends (${event.end}) before or when it starts (${event.start})`,
        params: { code: 'end-before-start' },
      });
    } else if (span.minutes > MAX_OCCURRENCE_HOURS * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `an occurrence lasts at most ${MAX_OCCURRENCE_HOURS} h`,
        params: { code: 'event-too-long' },
      });
    }
    const r = event.recurrence;
    if (!r) return;
    const first = event.start.slice(0, 10);
    if (r.until < first) {
      ctx.addIssue({
        code: 'custom',
        path: ['recurrence', 'until'],
        message: `the recurrence ends (${r.until}) before the first occurrence (${first})`,
        params: { code: 'until-before-start' },
      });
    } else if (DateTime.fromISO(r.until).diff(DateTime.fromISO(first), 'days').days > MAX_RECURRENCE_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['recurrence', 'until'],
        message: `a recurrence spans at most ${MAX_RECURRENCE_DAYS} days; create another event for the next year`,
        params: { code: 'recurrence-too-long' },
      });
    }
  });
export type EventFields = z.infer<typeof eventFieldsSchema>;

/** Body of `POST /api/events?uai=…` and `PUT /api/events/{id}?uai=…`. */
export const eventBodySchema = eventFieldsSchema;

export type EventSource = 'manual' | 'feed';

/** An event as stored and planned. */
export interface ScheduledEvent extends EventFields {
  id: string;
  uai: string;
  source: EventSource;
  /** For `source: feed`: the feed's id and the booking's key in it (UID, and the occurrence for a series). */
  feed?: { id: string; key: string };
  created_by: string;
  /** Epoch ms. */
  created_at: number;
  updated_by: string;
  updated_at: number;
}

/**
 * Whole days and minutes of wall-clock time from start to end (`end` may fall on a later day);
 * null when either is malformed (the schema reports that).
 */
export function occurrenceSpan(start: string, end: string): { days: number; minutes: number } | null {
  // Plain arithmetic on day numbers: planning calls this for every event, luxon would dominate.
  if (!LOCAL_DATE_TIME.test(start) || !LOCAL_DATE_TIME.test(end)) return null;
  const startDay = dayNumberOfIso(start.slice(0, 10));
  const endDay = dayNumberOfIso(end.slice(0, 10));
  if (Number.isNaN(startDay) || Number.isNaN(endDay)) return null;
  const minutesOf = (text: string) => Number(text.slice(11, 13)) * 60 + Number(text.slice(14, 16));
  const days = endDay - startDay;
  return { days, minutes: days * 1440 + minutesOf(end) - minutesOf(start) };
}
