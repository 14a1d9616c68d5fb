import { describe, expect, it } from 'vitest';
import { expandOccupancy } from '../../src/calendar/expand-occupancy.js';
import { toOccupancyBody } from '../../src/calendar/occupancy-body.js';
import { SchoolCalendar } from '../../src/calendar/school-calendar.js';
import { isInputError } from '../../src/domain/problems.js';
import { everyDate, lastSunday, OpenCalendar, publicHolidaysOnly, timetable, utc } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const spans = (intervals: Array<{ start: number; end: number }>) =>
  intervals.map((i) => `${iso(i.start)}/${iso(i.end)}`);

describe('every day of 2025–2028: a lesson at 08:00–09:00 local', () => {
  it('starts at 06:00Z in summer time and 07:00Z in winter time, once per day', () => {
    const dates = everyDate('2025-01-01', '2028-12-31');
    const tt = timetable({
      rooms: [{ id: 'R', name: 'B012' }],
      // One lesson per date: consecutive days never touch, so nothing merges.
      lessons: [{ id: 'L', rooms: ['R'], day: 1, start: '08:00', end: '09:00', dates }],
    });
    const occupancy = expandOccupancy(tt, 1, '0511234P', new OpenCalendar(), {
      from: '2025-01-01',
      to: '2028-12-31',
    });
    const expected = dates.map((date) => {
      const year = Number(date.slice(0, 4));
      const summer = date >= lastSunday(year, 3) && date < lastSunday(year, 10);
      return `${date}T0${summer ? 6 : 7}:00:00Z/${date}T0${summer ? 7 : 8}:00:00Z`;
    });
    expect(occupancy.rooms[0]?.intervals).toHaveLength(1461);
    expect(spans(occupancy.rooms[0]?.intervals ?? [])).toEqual(expected);
  });
});

/** docs/formats.md, "Worked examples": the EDT clear export, written as the normalised timetable an EDT reader gives. */
function edtExample() {
  const week = (k: number) => new Date(Date.UTC(2025, 8, 1 + (k - 1) * 7)).toISOString().slice(0, 10);
  const weeks = (...ks: number[]) => ks.map(week);
  return timetable({
    uai: '0679999E',
    school_year: { start: '2025-09-01', end: '2026-07-04' },
    rooms: [
      { id: '1', name: 'B012' },
      { id: '2', name: 'LABO 1' },
    ],
    lessons: [
      // A: Semaines 525566 = bits 1–7, 10, 19.
      {
        id: 'A',
        rooms: ['1'],
        day: 1,
        start: '08:00',
        end: '09:50',
        weeks: weeks(1, 2, 3, 4, 5, 6, 7, 10, 19),
      },
      // B: its Salle items alternate (170 = bits 1, 3, 5, 7; 84 = bits 2, 4, 6).
      { id: 'B#1', rooms: ['1'], day: 2, start: '10:05', end: '11:00', weeks: weeks(1, 3, 5, 7) },
      { id: 'B#2', rooms: ['2'], day: 2, start: '10:05', end: '11:00', weeks: weeks(2, 4, 6) },
      // C: no Salle.
      { id: 'C', rooms: [], day: 3, start: '13:30', end: '14:25', weeks: weeks(1, 2, 3, 4, 5, 6, 7) },
      // D: 08:55–11:00 across the recess, SemainesAnnulation = bit 3.
      { id: 'D', rooms: ['1'], day: 1, start: '08:55', end: '11:00', weeks: weeks(1, 2, 3, 4, 5, 6, 7) },
    ],
    cancellations: [{ lesson: 'D', date: '2025-09-15' }],
  });
}

describe('the worked EDT example (docs/formats.md, "Worked examples")', () => {
  const calendar = SchoolCalendar.forSchool({ uai: '0679999E' });
  const occupancy = expandOccupancy(edtExample(), 3, '0679999E', calendar, {
    from: '2025-09-01',
    to: '2026-01-31',
  });
  const b012 = occupancy.rooms.find((r) => r.name === 'B012');
  const labo = occupancy.rooms.find((r) => r.name === 'LABO 1');

  it('gives B012 exactly the merged A ∪ D mornings, the B Tuesdays, 11-03 and 01-05', () => {
    expect(spans(b012?.intervals ?? [])).toEqual([
      '2025-09-01T06:00:00Z/2025-09-01T09:00:00Z', // 08:00–11:00: A and D merged
      '2025-09-02T08:05:00Z/2025-09-02T09:00:00Z',
      '2025-09-08T06:00:00Z/2025-09-08T09:00:00Z',
      '2025-09-15T06:00:00Z/2025-09-15T07:50:00Z', // D cancelled: A alone, 08:00–09:50
      '2025-09-16T08:05:00Z/2025-09-16T09:00:00Z',
      '2025-09-22T06:00:00Z/2025-09-22T09:00:00Z',
      '2025-09-29T06:00:00Z/2025-09-29T09:00:00Z',
      '2025-09-30T08:05:00Z/2025-09-30T09:00:00Z',
      '2025-10-06T06:00:00Z/2025-10-06T09:00:00Z',
      '2025-10-13T06:00:00Z/2025-10-13T09:00:00Z',
      '2025-10-14T08:05:00Z/2025-10-14T09:00:00Z',
      '2025-11-03T07:00:00Z/2025-11-03T08:50:00Z', // after the switch to winter time
      '2026-01-05T07:00:00Z/2026-01-05T08:50:00Z', // school week 19
    ]);
  });

  it('gives LABO 1 the other B Tuesdays and counts the 7 room-less C lessons', () => {
    expect(spans(labo?.intervals ?? [])).toEqual([
      '2025-09-09T08:05:00Z/2025-09-09T09:00:00Z',
      '2025-09-23T08:05:00Z/2025-09-23T09:00:00Z',
      '2025-10-07T08:05:00Z/2025-10-07T09:00:00Z',
    ]);
    expect(occupancy.unassigned).toBe(7);
    expect(occupancy).toMatchObject({ uai: '0679999E', version: 3, timezone: 'Europe/Paris' });
  });

  it('has nothing in the Toussaint weeks', () => {
    const toussaint = [utc('2025-10-18T22:00:00Z'), utc('2025-11-02T23:00:00Z')];
    const inside = occupancy.rooms
      .flatMap((r) => r.intervals)
      .filter((i) => i.start >= toussaint[0]! && i.start < toussaint[1]!);
    expect(inside).toEqual([]);
  });

  it('keeps the lesson ids behind each merged interval when asked, sorted', () => {
    const withSources = expandOccupancy(
      edtExample(),
      3,
      '0679999E',
      calendar,
      {
        from: '2025-09-01',
        to: '2025-09-15',
      },
      { includeSources: true },
    );
    const intervals = withSources.rooms[0]?.intervals ?? [];
    expect(intervals.map((i) => i.source)).toEqual([['A', 'D'], ['B#1'], ['A', 'D'], ['A']]);
  });

  it('serialises to the SORTIE body, sources only on request', () => {
    const body = toOccupancyBody(occupancy);
    expect(body.rooms[0]?.intervals[0]).toEqual({
      start: '2025-09-01T06:00:00Z',
      end: '2025-09-01T09:00:00Z',
    });
    expect(body).toMatchObject({ uai: '0679999E', version: 3, from: '2025-09-01', to: '2026-01-31' });
    expect(Object.keys(body)).toEqual(['uai', 'version', 'timezone', 'from', 'to', 'rooms']);
    const week = expandOccupancy(
      edtExample(),
      3,
      '0679999E',
      calendar,
      { from: '2025-09-01', to: '2025-09-07' },
      {
        includeSources: true,
      },
    );
    expect(toOccupancyBody(week, { includeSources: true }).rooms).toEqual([
      {
        room: '1',
        name: 'B012',
        intervals: [
          { start: '2025-09-01T06:00:00Z', end: '2025-09-01T09:00:00Z', source: ['A', 'D'] },
          { start: '2025-09-02T08:05:00Z', end: '2025-09-02T09:00:00Z', source: ['B#1'] },
        ],
      },
      { room: '2', name: 'LABO 1', intervals: [] },
    ]);
    expect(toOccupancyBody(week).rooms[0]?.intervals[0]).toEqual({
      start: '2025-09-01T06:00:00Z',
      end: '2025-09-01T09:00:00Z',
    });
  });
});

describe('zone B holidays and public holidays', () => {
  const calendar = SchoolCalendar.forSchool({ uai: '0511234P' });
  const tt = timetable({
    rooms: [
      { id: 'SAT', name: 'Saturday room' },
      { id: 'MON', name: 'Monday room' },
    ],
    lessons: [
      {
        id: 'S',
        rooms: ['SAT'],
        day: 6,
        start: '08:00',
        end: '12:00',
        weeks: ['2025-10-13', '2025-10-20', '2025-10-27', '2025-11-03'],
      },
      {
        id: 'M',
        rooms: ['MON'],
        day: 1,
        start: '14:00',
        end: '15:00',
        weeks: ['2025-10-13', '2025-10-20', '2025-10-27', '2025-11-03'],
      },
    ],
  });
  const occupancy = expandOccupancy(tt, 1, '0511234P', calendar, { from: '2025-10-13', to: '2025-11-09' });

  it('keeps the day pupils leave (Saturday 18 Oct) and the return day (Monday 3 Nov), drops the closed dates', () => {
    expect(spans(occupancy.rooms[0]?.intervals ?? [])).toEqual([
      '2025-10-18T06:00:00Z/2025-10-18T10:00:00Z',
      '2025-11-08T07:00:00Z/2025-11-08T11:00:00Z',
    ]);
    expect(spans(occupancy.rooms[1]?.intervals ?? [])).toEqual([
      '2025-10-13T12:00:00Z/2025-10-13T13:00:00Z',
      '2025-11-03T13:00:00Z/2025-11-03T14:00:00Z',
    ]);
  });

  it('drops lessons on public holidays, and on Good Friday / 26 Dec only in Alsace-Moselle', () => {
    const dates = ['2026-04-03', '2026-04-06', '2026-12-24', '2026-12-26', '2026-12-28'];
    const holidaysTt = timetable({
      rooms: [{ id: 'R', name: 'R' }],
      lessons: [{ id: 'L', rooms: ['R'], day: 1, start: '10:00', end: '11:00', dates }],
    });
    const days = (uai: string) =>
      expandOccupancy(holidaysTt, 1, uai, SchoolCalendar.forSchool({ uai, periods: [] }), {
        from: '2026-04-01',
        to: '2026-12-31',
      }).rooms[0]?.intervals.map((i) => iso(i.start).slice(0, 10));
    // Easter Monday closes both; Good Friday and 26 December close only the 67 school.
    expect(days('0511234P')).toEqual(['2026-04-03', '2026-12-24', '2026-12-26', '2026-12-28']);
    expect(days('0670999X')).toEqual(['2026-12-24', '2026-12-28']);
  });
});

describe('merging, cancellations, events, rooms and range', () => {
  const tt = timetable({
    timezone: 'Europe/Paris',
    rooms: [
      { id: 'R1', name: 'B012' },
      { id: 'R2', name: 'B013' },
      { id: 'R3', name: 'Empty' },
    ],
    lessons: [
      { id: 'L1', rooms: ['R1'], day: 1, start: '08:00', end: '09:00', weeks: ['2026-01-05', '2026-01-12'] },
      { id: 'L2', rooms: ['R1'], day: 1, start: '09:00', end: '10:00', weeks: ['2026-01-05'] }, // touches L1
      { id: 'L3', rooms: ['R1'], day: 1, start: '10:01', end: '11:00', weeks: ['2026-01-05'] }, // a minute apart
      {
        id: 'L4',
        rooms: ['R1', 'R2'],
        day: 2,
        start: '14:00',
        end: '16:00',
        weeks: ['2026-01-05', '2026-01-12'],
      },
      { id: 'L5', rooms: [], day: 3, start: '08:00', end: '09:00', weeks: ['2026-01-05', '2026-01-12'] },
      { id: 'L6', rooms: ['R2'], day: 2, start: '15:00', end: '17:00', dates: ['2026-01-06'] }, // overlaps L4
    ],
    cancellations: [{ lesson: 'L4', date: '2026-01-13' }],
    events: [
      { id: 'open-day', rooms: ['R3'], start: '2026-01-10T08:00:00Z', end: '2026-01-10T12:00:00Z' },
      // Starts before the range: clipped to its first local midnight.
      { id: 'night', rooms: ['R2'], start: '2026-01-04T20:00:00Z', end: '2026-01-05T01:00:00Z' },
      // Overlaps L1 of 01-12 in R1.
      {
        rooms: ['R1'],
        start: '2026-01-12T07:30:00+01:00',
        end: '2026-01-12T08:30:00+01:00',
        label: 'réunion',
      },
    ],
  });
  const calendar = new OpenCalendar();
  const run = (from: string, to: string) =>
    expandOccupancy(tt, 7, '0511234P', calendar, { from, to }, { includeSources: true });

  it('unions overlapping and touching intervals per room, keeping sources', () => {
    const r1 = run('2026-01-05', '2026-01-18').rooms[0]?.intervals ?? [];
    expect(r1.map((i) => [iso(i.start), iso(i.end), i.source])).toEqual([
      ['2026-01-05T07:00:00Z', '2026-01-05T09:00:00Z', ['L1', 'L2']],
      ['2026-01-05T09:01:00Z', '2026-01-05T10:00:00Z', ['L3']],
      ['2026-01-06T13:00:00Z', '2026-01-06T15:00:00Z', ['L4']],
      ['2026-01-12T06:30:00Z', '2026-01-12T08:00:00Z', ['L1', 'event:2']],
    ]);
  });

  it('puts a lesson with several rooms in each, removes cancelled occurrences, adds clipped events', () => {
    const occupancy = run('2026-01-05', '2026-01-18');
    expect(occupancy.rooms.map((r) => r.name)).toEqual(['B012', 'B013', 'Empty']);
    expect(occupancy.rooms[1]?.intervals.map((i) => [iso(i.start), iso(i.end), i.source])).toEqual([
      ['2026-01-04T23:00:00Z', '2026-01-05T01:00:00Z', ['event:night']],
      ['2026-01-06T13:00:00Z', '2026-01-06T16:00:00Z', ['L4', 'L6']],
    ]);
    expect(occupancy.rooms[2]?.intervals.map((i) => [iso(i.start), iso(i.end)])).toEqual([
      ['2026-01-10T08:00:00Z', '2026-01-10T12:00:00Z'],
    ]);
    expect(occupancy.unassigned).toBe(2);
  });

  it('lists every declared room even when nothing happens, and honours inclusive bounds', () => {
    const empty = run('2026-02-02', '2026-02-08');
    expect(empty.rooms).toEqual([
      { room: 'R1', name: 'B012', intervals: [] },
      { room: 'R2', name: 'B013', intervals: [] },
      { room: 'R3', name: 'Empty', intervals: [] },
    ]);
    expect(empty.unassigned).toBe(0);
    // One day: Tuesday 2026-01-06 only (L4 and L6), from = to.
    const tuesday = run('2026-01-06', '2026-01-06');
    expect(tuesday.rooms.map((r) => r.intervals.length)).toEqual([1, 1, 0]);
    // The last day is included: Wednesday 01-14 holds L5 (no room).
    expect(run('2026-01-13', '2026-01-14').unassigned).toBe(1);
    expect(run('2026-01-13', '2026-01-13').unassigned).toBe(0);
  });

  it('refuses a malformed or reversed range with where = from/to', () => {
    const problems = (from: string, to: string) => {
      try {
        run(from, to);
      } catch (error) {
        if (isInputError(error)) return error.problems;
      }
      return null;
    };
    expect(problems('2026-02-30', '2026-03-01')).toEqual([
      { code: 'bad-range', message: '"2026-02-30" is not a date YYYY-MM-DD', where: 'from' },
    ]);
    expect(problems('2026-03-02', '2026-03-01')).toEqual([
      { code: 'bad-range', message: '"to" (2026-03-01) is before "from" (2026-03-02)', where: 'to' },
    ]);
  });
});

describe('a non-Paris timezone', () => {
  it('uses the timetable zone (Cayenne, UTC−3, no DST)', () => {
    const tt = timetable({
      timezone: 'America/Cayenne',
      rooms: [{ id: 'R', name: 'R' }],
      lessons: [
        { id: 'L', rooms: ['R'], day: 1, start: '08:00', end: '09:00', dates: ['2026-03-30', '2026-07-06'] },
      ],
    });
    const occupancy = expandOccupancy(tt, 1, '9730001X', publicHolidaysOnly(), {
      from: '2026-03-01',
      to: '2026-07-31',
    });
    expect(occupancy.timezone).toBe('America/Cayenne');
    expect(spans(occupancy.rooms[0]?.intervals ?? [])).toEqual([
      '2026-03-30T11:00:00Z/2026-03-30T12:00:00Z',
      '2026-07-06T11:00:00Z/2026-07-06T12:00:00Z',
    ]);
  });
});

describe('compiled weeks', () => {
  it('counts a week listed twice once, and reads a week given by a non-Monday as its Monday', () => {
    const tt = timetable({
      rooms: [{ id: 'R', name: 'R' }],
      lessons: [
        { id: 'twice', rooms: [], day: 2, start: '08:00', end: '09:00', weeks: ['2026-01-05', '2026-01-05'] },
        { id: 'thursday-week', rooms: ['R'], day: 1, start: '10:00', end: '11:00', weeks: ['2026-01-08'] },
      ],
    });
    const occupancy = expandOccupancy(tt, 1, '0511234P', new OpenCalendar(), {
      from: '2026-01-05',
      to: '2026-01-11',
    });
    expect(occupancy.unassigned).toBe(1);
    expect(spans(occupancy.rooms[0]?.intervals ?? [])).toEqual(['2026-01-05T09:00:00Z/2026-01-05T10:00:00Z']);
  });
});

describe('school year bounds', () => {
  it('drops occurrences dated outside school_year (EDT week 1 can start before DateDebut)', () => {
    const tt = timetable({
      school_year: { start: '2013-09-03', end: '2014-07-04' },
      rooms: [{ id: 'R', name: 'R' }],
      lessons: [
        {
          id: 'monday',
          rooms: ['R'],
          day: 1,
          start: '08:00',
          end: '09:00',
          weeks: ['2013-09-02', '2013-09-09'],
        },
        { id: 'tuesday', rooms: ['R'], day: 2, start: '08:00', end: '09:00', weeks: ['2013-09-02'] },
      ],
    });
    const occupancy = expandOccupancy(tt, 1, '0511234P', new OpenCalendar(), {
      from: '2013-09-01',
      to: '2013-09-15',
    });
    expect(spans(occupancy.rooms[0]?.intervals ?? [])).toEqual([
      '2013-09-03T06:00:00Z/2013-09-03T07:00:00Z',
      '2013-09-09T06:00:00Z/2013-09-09T07:00:00Z',
    ]);
  });
});
