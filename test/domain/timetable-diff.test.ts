import { describe, expect, it } from 'vitest';
import type { Lesson, Timetable } from '../../src/domain/timetable.js';
import { diffTimetables } from '../../src/domain/timetable-diff.js';

function timetable(parts: Pick<Timetable, 'rooms' | 'lessons'>): Timetable {
  return {
    format: 'scope-emploi-du-temps/v1',
    timezone: 'Europe/Paris',
    cancellations: [],
    events: [],
    ...parts,
  };
}

const maths: Lesson = {
  id: 'L1',
  rooms: ['B012'],
  day: 1,
  start: '08:00',
  end: '09:00',
  weeks: ['2025-09-01', '2025-09-08'],
  subject: 'MATHS',
  teachers: ['T1'],
  groups: ['2NDE1'],
};

describe('diffTimetables', () => {
  it('reports nothing between a timetable and itself', () => {
    const t = timetable({ rooms: [{ id: 'B012', name: 'B012' }], lessons: [maths] });
    expect(diffTimetables(t, structuredClone(t))).toEqual({
      rooms: { added: [], removed: [], changed: [] },
      lessons: { added: [], removed: [], changed: [] },
    });
  });

  it('lists rooms and lessons added, removed and changed, sorted by id, fields in schema order', () => {
    const older = timetable({
      rooms: [
        { id: 'R2', name: 'LABO 1' },
        { id: 'R1', name: 'B012', building: 'B' },
        { id: 'R3', name: 'CDI' },
      ],
      lessons: [{ ...maths, id: 'L3' }, maths, { ...maths, id: 'L2', day: 2 }],
    });
    const newer = timetable({
      rooms: [
        { id: 'R4', name: 'GYMNASE' },
        { id: 'R2', name: 'LABO 2' },
        { id: 'R1', name: 'B012' },
        { id: 'R0', name: 'AMPHI' },
      ],
      lessons: [
        { ...maths, id: 'L4', day: 5 },
        { ...maths, id: 'L2', day: 2 },
        { ...maths, end: '10:00', start: '08:30', teachers: ['T2'], dates: ['2025-09-03'] },
      ],
    });

    expect(diffTimetables(older, newer)).toStrictEqual({
      rooms: {
        added: [
          { id: 'R0', name: 'AMPHI' },
          { id: 'R4', name: 'GYMNASE' },
        ],
        removed: [{ id: 'R3', name: 'CDI' }],
        changed: [
          { id: 'R1', changes: [{ field: 'building', before: 'B', after: null }] },
          { id: 'R2', changes: [{ field: 'name', before: 'LABO 1', after: 'LABO 2' }] },
        ],
      },
      lessons: {
        added: [{ ...maths, id: 'L4', day: 5 }],
        removed: [{ ...maths, id: 'L3' }],
        changed: [
          {
            id: 'L1',
            changes: [
              { field: 'start', before: '08:00', after: '08:30' },
              { field: 'end', before: '09:00', after: '10:00' },
              { field: 'dates', before: null, after: ['2025-09-03'] },
              { field: 'teachers', before: ['T1'], after: ['T2'] },
            ],
          },
        ],
      },
    });
  });

  it('ignores the order of rooms, weeks, teachers and groups in a lesson, but not a changed member', () => {
    const older = timetable({
      rooms: [],
      lessons: [{ ...maths, rooms: ['A', 'B'], weeks: ['2025-09-01', '2025-09-08'], groups: ['G1', 'G2'] }],
    });
    const reordered = timetable({
      rooms: [],
      lessons: [{ ...maths, rooms: ['B', 'A'], weeks: ['2025-09-08', '2025-09-01'], groups: ['G2', 'G1'] }],
    });
    const changed = timetable({
      rooms: [],
      lessons: [{ ...maths, rooms: ['B', 'C'], weeks: ['2025-09-08', '2025-09-01'], groups: ['G2', 'G1'] }],
    });

    expect(diffTimetables(older, reordered).lessons.changed).toEqual([]);
    expect(diffTimetables(older, changed).lessons.changed).toEqual([
      { id: 'L1', changes: [{ field: 'rooms', before: ['A', 'B'], after: ['B', 'C'] }] },
    ]);
  });

  it('sorts ids by code unit, not by locale (upper case before lower case, "L10" before "L2")', () => {
    const ids = ['b', 'L2', 'L10', 'a', 'B'];
    const diff = diffTimetables(
      timetable({ rooms: [], lessons: [] }),
      timetable({ rooms: ids.map((id) => ({ id, name: id })), lessons: [] }),
    );
    expect(diff.rooms.added.map((r) => r.id)).toEqual(['B', 'L10', 'L2', 'a', 'b']);
  });

  it('gives the same answer whatever the order of entries in either document', () => {
    const rooms = ['R1', 'R2', 'R3'].map((id) => ({ id, name: id }));
    const lessons = ['L1', 'L2', 'L3'].map((id, i) => ({ ...maths, id, day: i + 1 }));
    const older = timetable({ rooms: rooms.slice(0, 2), lessons: lessons.slice(0, 2) });
    const newer = timetable({
      rooms: rooms.slice(1).map((r) => ({ ...r, name: `${r.name}'` })),
      lessons: lessons.slice(1).map((l) => ({ ...l, end: '12:00' })),
    });
    const expected = diffTimetables(older, newer);
    const reversed = diffTimetables(
      timetable({ rooms: [...older.rooms].reverse(), lessons: [...older.lessons].reverse() }),
      timetable({ rooms: [...newer.rooms].reverse(), lessons: [...newer.lessons].reverse() }),
    );

    expect(reversed).toEqual(expected);
    expect(expected.rooms.changed).toEqual([
      { id: 'R2', changes: [{ field: 'name', before: 'R2', after: "R2'" }] },
    ]);
    expect(expected.lessons.changed).toEqual([
      { id: 'L2', changes: [{ field: 'end', before: '09:00', after: '12:00' }] },
    ]);
    expect(expected.rooms.added.map((r) => r.id)).toEqual(['R3']);
    expect(expected.lessons.removed.map((l) => l.id)).toEqual(['L1']);
  });
});
