/**
 * The data-quality checks of VUE on a small synthetic school where each check has exactly one
 * thing to find (and a cancellation that removes an overlap), with a real devices file.
 */
import { describe, expect, it } from 'vitest';
import { SchoolCalendar } from '../../../src/calendar/index.js';
import { loadDevicesFile } from '../../../src/devices/load.js';
import { type Timetable, type TimetableInput, timetableSchema } from '../../../src/domain/timetable.js';
import { assessDataQuality, type DevicesState, type Finding } from '../../../src/scope/vue/data-quality.js';

const UAI = '0679999E';
const FILE = `devices/${UAI}.yaml`;
const DEVICES_YAML = `school:
  uai: "${UAI}"
  name: Lycée test
gateways:
  - id: gw
    username: gw
    password_hash: "scrypt$16384$8$1$obW5g1k0lAIrmBU9XnF7iw==$7X+3a6eWlKzP6EV73ZMa4wQOBnK/reGSHsYH4ntfiS0="
zones:
  - id: principal
    name: Salles A
    gateway: gw
    rooms: [A1, A2]
    functions: [lighting]
    category: classroom
  - id: reserve
    name: Réserve
    gateway: gw
    rooms: [A3, B7]
    functions: [lighting]
    category: storage
`;

function school(overrides: Partial<TimetableInput> = {}): Timetable {
  return timetableSchema.parse({
    uai: UAI,
    grid: {
      days: [1, 2, 3, 4, 5],
      places: [
        { start: '08:00', end: '12:00' },
        { start: '13:00', end: '18:00' },
      ],
    },
    rooms: ['A1', 'A2', 'A3', 'X9'].map((id) => ({ id, name: id })),
    lessons: [
      {
        id: 'L1',
        rooms: ['A1'],
        day: 1,
        start: '08:00',
        end: '10:00',
        weeks: ['2025-12-01', '2025-12-08'],
        subject: 'MATHS',
      },
      { id: 'L2', rooms: ['A1'], day: 1, start: '09:00', end: '11:00', weeks: ['2025-12-08'] },
      { id: 'L3', rooms: [], day: 2, start: '10:00', end: '11:00', dates: ['2025-12-02'] },
      { id: 'L4', rooms: ['X9'], day: 3, start: '08:00', end: '09:00', weeks: ['2025-12-01'] },
      { id: 'L5', rooms: ['A1'], day: 6, start: '08:00', end: '09:00', weeks: ['2025-12-01'] },
      { id: 'L6', rooms: ['A2'], day: 4, start: '17:30', end: '19:00', weeks: ['2025-12-01'] },
      { id: 'L7', rooms: ['A2'], day: 1, start: '08:00', end: '09:00', weeks: ['2025-12-22'] },
    ],
    ...overrides,
  });
}

const calendar = SchoolCalendar.forSchool({ uai: UAI, zone: 'B' });
const loaded: DevicesState = { status: 'loaded', devices: loadDevicesFile(DEVICES_YAML, FILE) };
const assess = (timetable: Timetable, devices: DevicesState = loaded) =>
  assessDataQuality({ timetable, devices, calendar, referenceMonday: '2025-12-01' });
const byCode = (findings: Finding[], code: string) => {
  const found = findings.find((f) => f.code === code);
  if (!found) throw new Error(`no finding ${code}`);
  return found;
};

describe('assessDataQuality', () => {
  const findings = assess(school());

  it('reports the seven checks in order', () => {
    expect(findings.map((f) => f.code)).toEqual([
      'chevauchement',
      'jamais',
      'sans-salle',
      'salle-inconnue',
      'zone-sans-cours',
      'hors-grille',
      'vacances',
    ]);
  });

  it('finds two lessons overlapping in one room, linking both to the week of the overlap', () => {
    expect(byCode(findings, 'chevauchement').items).toEqual([
      {
        message: 'Salle A1 : L1 (08:00–10:00) et L2 (09:00–11:00) se chevauchent le 08/12/2025',
        lessons: [
          { id: 'L1', week: '2025-12-08', label: 'L1 · MATHS · lundi 08:00–10:00' },
          { id: 'L2', week: '2025-12-08', label: 'L2 · lundi 09:00–11:00' },
        ],
        moreLessons: 0,
      },
    ]);
  });

  it('drops an overlap whose occurrence is cancelled', () => {
    const cancelled = assess(school({ cancellations: [{ lesson: 'L2', date: '2025-12-08' }] }));
    expect(byCode(cancelled, 'chevauchement').items).toEqual([]);
  });

  it('reports three lessons chaining into one another as one overlap with its pairs counted and named', () => {
    const findings = assess(
      school({
        lessons: [
          {
            id: 'M1',
            rooms: ['A2'],
            day: 2,
            start: '08:00',
            end: '09:00',
            weeks: ['2025-12-01', '2025-12-08'],
          },
          {
            id: 'M2',
            rooms: ['A2'],
            day: 2,
            start: '08:30',
            end: '10:00',
            weeks: ['2025-12-01', '2025-12-08'],
          },
          {
            id: 'M3',
            rooms: ['A2'],
            day: 2,
            start: '09:30',
            end: '11:00',
            weeks: ['2025-12-01', '2025-12-08'],
          },
          // Touches M3's end: no overlap.
          { id: 'M4', rooms: ['A2'], day: 2, start: '11:00', end: '12:00', weeks: ['2025-12-01'] },
        ],
      }),
    );
    expect(byCode(findings, 'chevauchement').items).toEqual([
      {
        message:
          'Salle A2 : 3 cours se chevauchent le 02/12/2025 et 1 autre(s) date(s), entre 08:00 et 11:00 (2 paire(s) de cours : M1 et M2, M2 et M3)',
        lessons: [
          { id: 'M1', week: '2025-12-01', label: 'M1 · mardi 08:00–09:00' },
          { id: 'M2', week: '2025-12-01', label: 'M2 · mardi 08:30–10:00' },
          { id: 'M3', week: '2025-12-01', label: 'M3 · mardi 09:30–11:00' },
        ],
        moreLessons: 0,
      },
    ]);
  });

  /** 2n lessons in one room: n at one slot, n at the next, every week of a term. */
  function pile(n: number): Timetable {
    const weeks = Array.from({ length: 12 }, (_, w) => {
      const monday = new Date(Date.UTC(2025, 8, 1 + 7 * w));
      return monday.toISOString().slice(0, 10);
    });
    return school({
      lessons: Array.from({ length: 2 * n }, (_, i) => ({
        id: `P${i}`,
        rooms: ['A1'],
        day: 1,
        start: i % 2 === 0 ? '08:00' : '10:00',
        end: i % 2 === 0 ? '09:00' : '11:00',
        weeks,
      })),
    });
  }

  it('counts the pairs of a pile of lessons without listing them', () => {
    const items = byCode(assess(pile(2_000)), 'chevauchement').items;
    expect(items.map((i) => i.message.replace(/, dont .*\)$/, ')'))).toEqual([
      'Salle A1 : 2\u202f000 cours se chevauchent le 01/09/2025 et 11 autre(s) date(s), entre 08:00 et 09:00 (1\u202f999\u202f000 paire(s) de cours)',
      'Salle A1 : 2\u202f000 cours se chevauchent le 01/09/2025 et 11 autre(s) date(s), entre 10:00 et 11:00 (1\u202f999\u202f000 paire(s) de cours)',
    ]);
    expect(items[0]?.lessons).toHaveLength(10);
    expect(items[0]?.moreLessons).toBe(1_990);
  });

  it('reads each lesson a bounded number of times: 10 times the pile, about 10 times the work', () => {
    // Counted, not timed (a loaded machine skews timings): every read of a lesson's fields. The
    // pair-by-pair check read two lessons per overlapping pair, ~n²/2 for a pile of n.
    const readsOf = (timetable: Timetable): number => {
      let reads = 0;
      const lessons = timetable.lessons.map(
        (lesson) =>
          new Proxy(lesson, {
            get(target, key, receiver) {
              reads++;
              return Reflect.get(target, key, receiver);
            },
          }),
      );
      assess({ ...timetable, lessons });
      return reads;
    };
    const small = readsOf(pile(500));
    const large = readsOf(pile(5_000));
    expect(large / small).toBeGreaterThan(9);
    expect(large / small).toBeLessThan(11);
  });

  it('finds the lesson without a room, grouped by subject and class', () => {
    expect(byCode(findings, 'sans-salle')).toMatchObject({ lessonCount: 1, moreItems: 0, page: 1 });
    expect(byCode(findings, 'sans-salle').items).toEqual([
      {
        message: 'Matière non précisée : 1 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.',
        lessons: [{ id: 'L3', week: '2025-12-01', label: 'L3 · mardi 10:00–11:00' }],
        moreLessons: 0,
      },
    ]);
  });

  it('groups 182 lessons without a room by subject and class, apart from those that never take place', () => {
    const weeks = ['2025-12-01', '2025-12-08'];
    const subjects = ['MATHS', 'ANGLAIS', 'EPS'];
    const lessons = [
      // 150 that take place: 3 subjects × 2 classes × 25.
      ...Array.from({ length: 150 }, (_, i) => ({
        id: `S${i}`,
        rooms: [],
        day: 2,
        start: '10:00',
        end: '11:00',
        weeks,
        subject: subjects[i % 3],
        groups: [i % 2 === 0 ? '2NDE 1' : '2NDE 2'],
      })),
      // 20 placed in no week, 8 only in the Christmas holidays, 4 only after the year's end.
      ...Array.from({ length: 20 }, (_, i) => ({
        id: `N${i}`,
        rooms: [],
        day: 1,
        start: '08:00',
        end: '09:00',
        weeks: [],
        subject: 'OPTION',
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        id: `H${i}`,
        rooms: [],
        day: 1,
        start: '08:00',
        end: '09:00',
        weeks: ['2025-12-22'],
      })),
      ...Array.from({ length: 4 }, (_, i) => ({
        id: `Y${i}`,
        rooms: ['A1'],
        day: 1,
        start: '08:00',
        end: '09:00',
        dates: ['2026-08-03'],
      })),
    ];
    const found = assess(school({ lessons, school_year: { start: '2025-09-01', end: '2026-07-04' } }));
    const without = byCode(found, 'sans-salle');
    expect(without.lessonCount).toBe(150);
    expect(without.items.map((i) => [i.message, i.lessons.length, i.moreLessons])).toEqual([
      ['ANGLAIS · 2NDE 1 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
      ['ANGLAIS · 2NDE 2 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
      ['EPS · 2NDE 1 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
      ['EPS · 2NDE 2 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
      ['MATHS · 2NDE 1 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
      ['MATHS · 2NDE 2 : 25 cours sans salle, qui ne chauffent ni n’éclairent aucune zone.', 10, 15],
    ]);
    const never = byCode(found, 'jamais');
    expect(never.lessonCount).toBe(32);
    expect(never.items.map((i) => [i.message, i.lessons.length, i.moreLessons])).toEqual([
      [
        '20 cours : aucune semaine ni date dans l’export : le logiciel les déclare sans les placer (cours en attente, option non ouverte).',
        10,
        10,
      ],
      ['4 cours : toutes leurs dates sont hors de l’année scolaire déclarée par le fichier.', 4, 0],
      [
        '8 cours : toutes leurs dates sont annulées ou tombent un jour de fermeture (vacances, jour férié).',
        8,
        0,
      ],
    ]);
    // Listed without a week: no page shows them.
    expect(never.items[0]?.lessons[0]).toEqual({ id: 'N0', label: 'N0 · OPTION · lundi 08:00–09:00' });
  });

  it('lists a finding’s items a page of 100 at a time, with complete counts', () => {
    const lessons = Array.from({ length: 250 }, (_, i) => ({
      id: `S${i}`,
      rooms: [],
      day: 2,
      start: '10:00',
      end: '11:00',
      weeks: ['2025-12-01'],
      subject: `MATIÈRE ${String(i).padStart(3, '0')}`,
    }));
    const timetable = school({ lessons });
    const first = byCode(assess(timetable), 'sans-salle');
    expect([first.items.length, first.itemsBefore, first.moreItems, first.page, first.lessonCount]).toEqual([
      100, 0, 150, 1, 250,
    ]);
    expect(first.items[0]?.message).toMatch(/^MATIÈRE 000 :/);
    const third = byCode(
      assessDataQuality({
        timetable,
        devices: loaded,
        calendar,
        referenceMonday: '2025-12-01',
        page: { code: 'sans-salle', page: 3 },
      }),
      'sans-salle',
    );
    expect([third.items.length, third.itemsBefore, third.moreItems, third.page]).toEqual([50, 200, 0, 3]);
    expect(third.items[0]?.message).toMatch(/^MATIÈRE 200 :/);
    // Past the last page: the last.
    const past = byCode(
      assessDataQuality({
        timetable,
        devices: loaded,
        calendar,
        referenceMonday: '2025-12-01',
        page: { code: 'sans-salle', page: 9 },
      }),
      'sans-salle',
    );
    expect(past.page).toBe(3);
  });

  it('finds the room used by lessons but in no zone', () => {
    const items = byCode(findings, 'salle-inconnue').items;
    expect(items.map((i) => [i.message, i.lessons.map((l) => l.id)])).toEqual([
      [`La salle X9 (1 cours) n’appartient à aucune zone de ${FILE} : ses cours ne pilotent rien.`, ['L4']],
    ]);
  });

  it('finds the zone none of whose rooms has lessons, with its line in the devices file', () => {
    expect(byCode(findings, 'zone-sans-cours').items).toEqual([
      {
        message:
          'Zone reserve (Réserve) : aucune de ses salles (A3, B7) n’a de cours ; absentes de l’emploi du temps : B7. Elle restera en mode réduit ou hors-gel.',
        lessons: [],
        moreLessons: 0,
        where: `${FILE}:15 (zones[1])`,
      },
    ]);
  });

  it('finds lessons outside the day grid, by day and by hours', () => {
    expect(byCode(findings, 'hors-grille').items.map((i) => [i.message, i.lessons.map((l) => l.id)])).toEqual(
      [
        ['Matière non précisée : finit à 19:00, après 18:00 (1 cours).', ['L6']],
        ['Matière non précisée : le samedi n’est pas un jour de la grille (1 cours).', ['L5']],
      ],
    );
  });

  it('finds lessons dated in the Christmas holidays, grouped by week', () => {
    const items = byCode(findings, 'vacances').items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      week: '2025-12-22',
      message:
        'Semaine du 22/12/2025 (Vacances de Noël) : 1 cours datés un jour de fermeture, non comptés comme occupation.',
      lessons: [{ id: 'L7', week: '2025-12-22' }],
    });
  });

  it('says why the devices checks cannot run when the file is missing or refused', () => {
    const absent = assess(school(), { status: 'absent', file: FILE });
    expect(byCode(absent, 'salle-inconnue')).toEqual({
      code: 'salle-inconnue',
      title: 'Salles de l’emploi du temps inconnues de devices/',
      note: `Aucun fichier ${FILE} : aucune salle de cet établissement n’est pilotée.`,
      items: [],
      moreItems: 0,
      itemsBefore: 0,
      page: 1,
    });
    const invalid = assess(school(), {
      status: 'invalid',
      file: FILE,
      problems: [{ code: 'x', message: 'bad', where: `${FILE}:3` }],
    });
    expect(byCode(invalid, 'zone-sans-cours').note).toBe(`Le fichier ${FILE} est refusé : ${FILE}:3 bad`);
  });

  it('says the grid check cannot run without a grid', () => {
    const noGrid = assess(timetableSchema.parse({ ...school(), grid: undefined }));
    expect(byCode(noGrid, 'hors-grille')).toMatchObject({
      items: [],
      note: 'Le fichier ne donne pas de grille horaire : contrôle impossible.',
    });
  });
});
