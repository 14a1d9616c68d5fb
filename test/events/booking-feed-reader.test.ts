/**
 * The booking reader (src/events/booking-feed.ts) on untrusted iCalendar: series with an override
 * and an EXDATE, cancelled bookings, the room mapping, and its bounds (sub-daily rules skipped,
 * a series over its occurrence cap refused, over-long and roomless bookings skipped).
 */
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/domain/problems.js';
import { MAX_OCCURRENCES_PER_BOOKING, readBookingFeed } from '../../src/events/booking-feed.js';

const ics = (...lines: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//FR', ...lines, 'END:VCALENDAR', ''].join('\r\n');
const window = { from: Date.parse('2026-03-01T00:00:00Z'), to: Date.parse('2027-03-01T00:00:00Z') };
const read = (text: string, rooms: Record<string, string> = {}) =>
  readBookingFeed({ text, timezone: 'Europe/Paris', window, rooms });

describe('readBookingFeed', () => {
  it('expands a weekly series across the DST switch, with its moved occurrence, EXDATE and mapping', () => {
    const result = read(
      ics(
        'BEGIN:VEVENT',
        'UID:serie',
        'DTSTART;TZID=Europe/Paris:20260319T180000',
        'DTEND;TZID=Europe/Paris:20260319T200000',
        'RRULE:FREQ=WEEKLY;COUNT=4',
        'EXDATE;TZID=Europe/Paris:20260402T180000',
        'SUMMARY:Club théâtre',
        'LOCATION:Salle polyvalente; CDI',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:serie',
        'RECURRENCE-ID;TZID=Europe/Paris:20260326T180000',
        'DTSTART;TZID=Europe/Paris:20260326T190000',
        'DTEND;TZID=Europe/Paris:20260326T210000',
        'SUMMARY:Club théâtre (décalé)',
        'LOCATION:CDI',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:annule',
        'DTSTART:20260320T170000Z',
        'DTEND:20260320T190000Z',
        'STATUS:CANCELLED',
        'LOCATION:CDI',
        'END:VEVENT',
      ),
      { 'Salle polyvalente': 'AMPHI' },
    );
    expect(result.bookings).toEqual([
      {
        key: 'serie@2026-03-19T17:00:00.000Z',
        title: 'Club théâtre',
        start: '2026-03-19T18:00',
        end: '2026-03-19T20:00',
        rooms: ['AMPHI', 'CDI'],
      },
      {
        key: 'serie@2026-03-26T17:00:00.000Z',
        title: 'Club théâtre (décalé)',
        start: '2026-03-26T19:00',
        end: '2026-03-26T21:00',
        rooms: ['CDI'],
      },
      {
        key: 'serie@2026-04-09T16:00:00.000Z',
        title: 'Club théâtre',
        start: '2026-04-09T18:00',
        end: '2026-04-09T20:00',
        rooms: ['AMPHI', 'CDI'],
      },
    ]);
  });

  it('skips sub-daily rules, roomless, all-day and over-long bookings with warnings', () => {
    const result = read(
      ics(
        'BEGIN:VEVENT',
        'UID:h',
        'DTSTART:20260310T080000Z',
        'DTEND:20260310T090000Z',
        'RRULE:FREQ=HOURLY',
        'LOCATION:CDI',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:nr',
        'DTSTART:20260310T080000Z',
        'DTEND:20260310T090000Z',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:ad',
        'DTSTART;VALUE=DATE:20260310',
        'LOCATION:CDI',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:long',
        'DTSTART:20260310T080000Z',
        'DTEND:20260320T090000Z',
        'LOCATION:CDI',
        'END:VEVENT',
      ),
    );
    expect(result.bookings).toEqual([]);
    expect(result.warnings.map((w) => w.code)).toEqual([
      'booking-rule-sub-daily',
      'booking-no-room',
      'booking-all-day',
      'booking-too-long',
    ]);
    expect(result.skipped).toBe(4);
  });

  it('refuses a series over its occurrence cap, and text that is not iCalendar', () => {
    const daily = ics(
      'BEGIN:VEVENT',
      'UID:d',
      'DTSTART:20260310T080000Z',
      'DTEND:20260310T090000Z',
      'RRULE:FREQ=DAILY;BYHOUR=8,10',
      'LOCATION:CDI',
      'END:VEVENT',
    );
    const error = (() => {
      try {
        read(daily);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(isInputError(error) && error.problems[0]?.code).toBe('booking-too-many-occurrences');
    expect(MAX_OCCURRENCES_PER_BOOKING).toBe(400);
    expect(() => read('not a calendar')).toThrow(/not iCalendar/);
  });
});
