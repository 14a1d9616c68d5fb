import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { readIcs } from '../../src/formats/ics.js';

const FIXTURES = new URL('../fixtures/ics/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

/** A calendar around `lines` (CRLF, as RFC 5545 writes it); the first VEVENT line is line 3. */
function calendar(lines: string[]): Uint8Array {
  return Buffer.from(['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
}

function vevent(...properties: string[]): string[] {
  return ['BEGIN:VEVENT', 'UID:x', ...properties, 'END:VEVENT'];
}

function failure(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('readIcs, docs/formats.md worked example (Pronote-like feed)', () => {
  it('reads UTC times as Paris wall-clock across DST, rooms from DESCRIPTION, and skips all-day and cancelled events', () => {
    const { timetable, warnings } = readIcs(fixture('pronote-edt.ics'));
    expect(warnings).toEqual([
      {
        code: 'ics-all-day-ignored',
        message: '1 all-day event(s) ignored (holidays and notes do not book rooms)',
        where: 'VCALENDAR',
      },
    ]);
    expect(timetable).toEqual({
      format: 'scope-emploi-du-temps/v1',
      uai: '0679999E',
      timezone: 'Europe/Paris',
      rooms: [
        { id: 'LABO 1', name: 'LABO 1' },
        { id: 'B012', name: 'B012' },
      ],
      lessons: [
        {
          // 08:05Z on 2025-10-13 (CEST, +2) and 09:05Z on 2025-11-03 (CET, +1) are both 10:05.
          id: 'ics-1-10:05-11:00-LABO 1',
          rooms: ['LABO 1'],
          day: 1,
          start: '10:05',
          end: '11:00',
          dates: ['2025-10-13', '2025-11-03'],
          subject: 'PHYSIQUE-CHIMIE',
          teachers: ['BRAVO T.'],
          // "2N" + folded " DE3 G1": unfolded to 2NDE3 G1.
          groups: ['2NDE3 G1'],
        },
        {
          id: 'ics-3-14:00-16:00-B012+LABO 1',
          rooms: ['B012', 'LABO 1'],
          day: 3,
          start: '14:00',
          end: '16:00',
          dates: ['2025-10-15'],
          subject: 'SCIENCES',
          teachers: ['ALPHA I.', 'BRAVO T.'],
          groups: ['2NDE3'],
        },
      ],
      cancellations: [],
      events: [],
      source: { format: 'ics', software: '-//Synthetic//scope-energie test feed//FR' },
    });
    expect(timetableSchema.parse(timetable)).toEqual(timetable);
  });
});

describe('readIcs, recurrence', () => {
  it('expands RRULE with TZID, honours EXDATE (TZID and all-day forms), overrides and cancellations', () => {
    const { timetable, warnings } = readIcs(fixture('recurrent.ics'), { expectedUai: '0679999e' });
    expect(warnings).toEqual([]);
    expect(timetable.uai).toBe('0679999E');
    expect(timetable.rooms).toEqual([
      { id: 'B012', name: 'B012' },
      { id: 'GYMNASE', name: 'GYMNASE' },
    ]);
    expect(timetable.lessons).toEqual([
      {
        // 10-20 (EXDATE;TZID), 10-27 (EXDATE;VALUE=DATE) and 11-10 (cancelled override) are gone;
        // 11-03 moved to 10:00.
        id: 'ics-1-08:00-09:50-B012',
        rooms: ['B012'],
        day: 1,
        start: '08:00',
        end: '09:50',
        dates: ['2025-10-06', '2025-10-13'],
        subject: 'MATHEMATIQUES',
      },
      {
        id: 'ics-1-10:00-11:50-B012',
        rooms: ['B012'],
        day: 1,
        start: '10:00',
        end: '11:50',
        dates: ['2025-11-03'],
        subject: 'MATHEMATIQUES (déplacé)',
      },
      {
        // Floating time: the school's wall clock.
        id: 'ics-3-14:00-15:00-GYMNASE',
        rooms: ['GYMNASE'],
        day: 3,
        start: '14:00',
        end: '15:00',
        dates: ['2025-10-08'],
        subject: 'EPS',
      },
    ]);
    // 20:00–01:00 Paris (CEST) spans midnight: a one-off event with exact instants.
    expect(timetable.events).toEqual([
      {
        rooms: ['GYMNASE'],
        start: '2025-10-10T18:00:00.000Z',
        end: '2025-10-10T23:00:00.000Z',
        label: 'Nuit du sport',
      },
    ]);
    expect(timetableSchema.parse(timetable)).toEqual(timetable);
  });

  it('compares a UTC UNTIL with the instants of a TZID series', () => {
    // 2025-10-13 08:00 Paris is 06:00Z: the UNTIL includes it (a wall-clock comparison would not).
    const { timetable } = readIcs(
      calendar(
        vevent(
          'DTSTART;TZID=Europe/Paris:20251006T080000',
          'DTEND;TZID=Europe/Paris:20251006T090000',
          'RRULE:FREQ=WEEKLY;UNTIL=20251013T060000Z',
          'LOCATION:B012',
        ),
      ),
    );
    expect(timetable.lessons.map((l) => l.dates)).toEqual([['2025-10-06', '2025-10-13']]);
  });

  it('removes an occurrence by a UTC EXDATE, and keeps 08:00 local across the DST change', () => {
    const { timetable } = readIcs(
      calendar(
        vevent(
          'DTSTART;TZID=Europe/Paris:20251020T080000',
          'DTEND;TZID=Europe/Paris:20251020T090000',
          'RRULE:FREQ=WEEKLY;COUNT=3',
          // 2025-10-27 08:00 Paris (CET after 10-26) = 07:00Z.
          'EXDATE:20251027T070000Z',
          'LOCATION:B012',
        ),
      ),
    );
    expect(timetable.lessons).toEqual([
      {
        id: 'ics-1-08:00-09:00-B012',
        rooms: ['B012'],
        day: 1,
        start: '08:00',
        end: '09:00',
        dates: ['2025-10-20', '2025-11-03'],
      },
    ]);
  });

  it('expands an endless RRULE over two years from DTSTART, with a warning', () => {
    const { timetable, warnings } = readIcs(
      calendar(
        vevent(
          'DTSTART;TZID=Europe/Paris:20250901T080000',
          'DTEND;TZID=Europe/Paris:20250901T083000',
          'RRULE:FREQ=DAILY',
          'LOCATION:B012',
        ),
      ),
    );
    expect(warnings).toEqual([
      {
        code: 'ics-recurrence-truncated',
        message:
          'the RRULE is expanded up to 2027-09-02 (731 days after DTSTART); later occurrences are not kept',
        where: 'line 7, VEVENT/RRULE (UID x)',
      },
    ]);
    const expected: string[] = [];
    for (let i = 0; i <= 731; i++)
      expected.push(new Date(Date.parse('2025-09-01T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10));
    expect(timetable.lessons).toHaveLength(7);
    expect(timetable.lessons.every((l) => l.start === '08:00' && l.end === '08:30')).toBe(true);
    expect(timetable.lessons.flatMap((l) => l.dates ?? []).sort()).toEqual(expected);
    expect(expected.at(-1)).toBe('2027-09-02');
  });
});

describe('readIcs, zones and times', () => {
  it('reads a TZID defined only by a VTIMEZONE of the file', () => {
    const { timetable, warnings } = readIcs(
      calendar([
        'BEGIN:VTIMEZONE',
        'TZID:Fixed plus one',
        'BEGIN:STANDARD',
        'DTSTART:19700101T000000',
        'TZOFFSETFROM:+0100',
        'TZOFFSETTO:+0100',
        'END:STANDARD',
        'END:VTIMEZONE',
        ...vevent(
          'DTSTART;TZID=Fixed plus one:20251013T100000',
          'DTEND;TZID=Fixed plus one:20251013T110000',
          'LOCATION:B012',
        ),
      ]),
    );
    expect(warnings).toEqual([]);
    // 10:00 at +01:00 = 09:00Z = 11:00 in Paris (CEST).
    expect(timetable.lessons.map((l) => [l.start, l.end, l.dates])).toEqual([
      ['11:00', '12:00', ['2025-10-13']],
    ]);
  });

  it('maps Windows zone names, and assumes the school zone for an unknown TZID with a warning', () => {
    const windows = readIcs(
      calendar(
        vevent('DTSTART;TZID=Romance Standard Time:20251013T100000', 'DURATION:PT1H', 'LOCATION:B012'),
      ),
    );
    expect(windows.warnings).toEqual([]);
    expect(windows.timetable.lessons.map((l) => [l.start, l.end])).toEqual([['10:00', '11:00']]);

    const unknown = readIcs(
      calendar(
        vevent('DTSTART;TZID=Nowhere:20251013T100000', 'DTEND;TZID=Nowhere:20251013T110000', 'LOCATION:B012'),
      ),
    );
    expect(unknown.warnings).toEqual([
      {
        code: 'ics-timezone-unknown',
        message: 'TZID "Nowhere" is neither an IANA zone nor defined by a VTIMEZONE; Europe/Paris is assumed',
        where: 'line 5, VEVENT/DTSTART',
      },
    ]);
    expect(unknown.timetable.lessons.map((l) => [l.start, l.end])).toEqual([['10:00', '11:00']]);
  });

  it('rounds seconds outwards and takes the school zone from X-WR-TIMEZONE', () => {
    const { timetable } = readIcs(
      calendar([
        'X-WR-TIMEZONE:America/Guadeloupe',
        ...vevent('DTSTART:20251013T120030Z', 'DTEND:20251013T125901Z', 'LOCATION:B012'),
      ]),
    );
    expect(timetable.timezone).toBe('America/Guadeloupe');
    // 12:00:30Z = 08:00:30 at -04:00 → 08:00; 12:59:01Z → 08:59:01 → 09:00.
    expect(timetable.lessons.map((l) => [l.day, l.start, l.end, l.dates])).toEqual([
      [1, '08:00', '09:00', ['2025-10-13']],
    ]);
  });

  it('warns about events that book no time or span midnight without a room', () => {
    const { timetable, warnings } = readIcs(
      calendar([
        ...vevent('DTSTART:20251013T080000Z', 'LOCATION:B012'),
        ...vevent('DTSTART:20251013T200000Z', 'DTEND:20251014T020000Z', 'SUMMARY:Veille'),
      ]),
    );
    expect(warnings).toEqual([
      {
        code: 'ics-event-empty',
        message: 'the VEVENT has neither DTEND nor DURATION: it books no time and is skipped',
        where: 'line 3, VEVENT',
      },
      {
        code: 'ics-event-no-room',
        message:
          'an event from 2025-10-13T22:00:00.000+02:00 to 2025-10-14T04:00:00.000+02:00 spans midnight and has no room; skipped',
        where: 'line 8, VEVENT',
      },
    ]);
    expect(timetable.lessons).toEqual([]);
    expect(timetable.events).toEqual([]);
  });
});

describe('readIcs, bad input', () => {
  it('refuses a file without VCALENDAR', () => {
    const error = failure(() =>
      readIcs(Buffer.from('\r\nBEGIN:VEVENT\r\nDTSTART:20251013T080000Z\r\nEND:VEVENT\r\n')),
    );
    expect(error.kind).toBe('malformed');
    expect(error.problems).toEqual([
      { code: 'ics-no-vcalendar', message: 'an iCalendar file starts with BEGIN:VCALENDAR', where: 'line 2' },
    ]);
    const json = failure(() => readIcs(Buffer.from('{"lessons": []}')));
    expect(json.problems[0]?.code).toBe('ics-no-vcalendar');
  });

  it('refuses a line that is not NAME:value, with its line', () => {
    const error = failure(() =>
      readIcs(calendar([...vevent('DTSTART:20251013T080000Z', 'this is not a property')])),
    );
    expect(error.problems).toEqual([
      {
        code: 'ics-malformed',
        message: '"this is not a property" is not a content line NAME:value',
        where: 'line 6',
      },
    ]);
  });

  it('refuses a truncated file (an unclosed VEVENT)', () => {
    const text = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20251013T0800';
    const error = failure(() => readIcs(Buffer.from(text)));
    expect(error.problems).toEqual([
      { code: 'ics-malformed', message: 'BEGIN:VEVENT is never closed (truncated file?)', where: 'line 3' },
    ]);
  });

  it('refuses a DTSTART that is not a date-time, and a VEVENT without DTSTART', () => {
    const bad = failure(() =>
      readIcs(calendar(vevent('SUMMARY:x', 'DTSTART:2025X', 'DTEND:20251013T090000Z'))),
    );
    expect(bad.kind).toBe('malformed');
    expect(bad.problems).toEqual([
      {
        code: 'ics-bad-date',
        message: 'DTSTART "2025X" is not a date or date-time',
        where: 'line 6, VEVENT/DTSTART',
      },
    ]);
    const missing = failure(() => readIcs(calendar(vevent('DTEND:20251013T090000Z'))));
    expect(missing.problems).toEqual([
      { code: 'ics-event-incomplete', message: 'the VEVENT has no DTSTART', where: 'line 3, VEVENT' },
    ]);
  });
});

describe('readIcs, unreadable values', () => {
  it('refuses an RRULE that ical.js cannot read, and a bad EXDATE, with their lines', () => {
    const rrule = failure(() =>
      readIcs(
        calendar(vevent('DTSTART:20251013T080000Z', 'DTEND:20251013T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=x')),
      ),
    );
    expect(rrule.kind).toBe('malformed');
    // ical.js refuses it while parsing; the reader finds its line.
    expect(rrule.problems[0]?.code).toBe('ics-malformed');
    expect(rrule.problems[0]?.where).toBe('line 7');
    const exdate = failure(() =>
      readIcs(
        calendar(
          vevent(
            'DTSTART:20251013T080000Z',
            'DTEND:20251013T090000Z',
            'RRULE:FREQ=DAILY;COUNT=2',
            'EXDATE:2025-10-14',
          ),
        ),
      ),
    );
    expect(exdate.problems).toEqual([
      {
        code: 'ics-bad-date',
        message: 'EXDATE "2025-10-14" is not a date or date-time',
        where: 'line 8, VEVENT/EXDATE',
      },
    ]);
  });
});
