/**
 * The demo lycée shipped with `npm start`: a fictional school (UAI 0670999X, valid check letter,
 * Strasbourg so Alsace-Moselle holidays apply) with 15 rooms and a realistic week, generated for
 * the school year that contains `now` so the demo never runs out of lessons. Names of teachers
 * and classes are invented; they exist so that the energy purpose can be shown NOT to receive them.
 */
import { SchoolCalendar } from '../calendar/index.js';
import { addDays, mondayOf } from '../domain/dates.js';
import type { Lesson, Room, TimetableInput } from '../domain/timetable.js';

export const DEMO_UAI = '0670999X';
export const DEMO_NAME = 'Lycée des Tilleuls (démonstration)';
/** Public, documented demo password of the demo gateway (its scrypt hash is in devices/0670999X.yaml). */
export const DEMO_GATEWAY_PASSWORD = 'demo-gateway-password';

const ROOMS: Room[] = [
  ...['B101', 'B102', 'B103', 'B104', 'B105', 'B106'].map((id) => ({ id, name: id, building: 'B' })),
  ...['C201', 'C202', 'SALLE-INFO'].map((id) => ({ id, name: id, building: 'C' })),
  { id: 'LABO-PC', name: 'LABO-PC', building: 'L' },
  { id: 'LABO-SVT', name: 'LABO-SVT', building: 'L' },
  { id: 'ATELIER', name: 'ATELIER', building: 'A' },
  { id: 'GYMNASE', name: 'GYMNASE', building: 'G' },
  { id: 'CDI', name: 'CDI', building: 'B' },
  { id: 'AMPHI', name: 'AMPHI', building: 'B' },
];

/** Two-hour blocks of a lycée day (with recess and lunch) and the Saturday morning. */
const SLOTS = [
  ['08:00', '09:55'],
  ['10:10', '12:05'],
  ['13:30', '15:25'],
  ['15:40', '17:30'],
] as const;

const SUBJECTS = [
  'MATHÉMATIQUES',
  'FRANÇAIS',
  'HISTOIRE-GÉOGRAPHIE',
  'ANGLAIS LV1',
  'ALLEMAND LV2',
  'PHYSIQUE-CHIMIE',
  'SVT',
  'SES',
  'PHILOSOPHIE',
  'NSI',
];
const TEACHERS = [
  'Mme ARNAUD',
  'M. BERTIN',
  'Mme CHARPENTIER',
  'M. DELORME',
  'Mme ESTÈVE',
  'M. FAURE',
  'Mme GIRARD',
  'M. HUBERT',
  'Mme IMBERT',
  'M. JOLY',
];
const CLASSES = [
  '2NDE 1',
  '2NDE 2',
  '2NDE 3',
  '1RE G1',
  '1RE G2',
  'TLE G1',
  'TLE G2',
  '1RE STI2D',
  'TLE STI2D',
];

/** Which slots each room uses on each weekday (1 = Monday); deterministic, hand-shaped. */
function usage(roomIndex: number, day: number, slot: number): boolean {
  const room = ROOMS[roomIndex]!.id;
  if (day === 3 && slot >= 2) return false; // free Wednesday afternoon
  if (day === 6) return ['B101', 'B102', 'B103'].includes(room) && slot < 2; // Saturday morning
  if (day === 7) return false;
  switch (room) {
    case 'GYMNASE':
      return day !== 3 || slot < 2;
    case 'LABO-PC':
    case 'LABO-SVT':
      return (day + slot + roomIndex) % 3 !== 0;
    case 'ATELIER':
      return day === 1 || day === 2 || day === 4;
    case 'CDI':
      return slot < 3;
    case 'AMPHI':
      return day === 2 && slot === 1;
    case 'SALLE-INFO':
      return (day + slot) % 2 === 0;
    default:
      // Classrooms: busy most of the time, one free block a day that moves.
      return (slot + day + roomIndex) % 4 !== 0 && !(room === 'B106' && day === 5 && slot === 3);
  }
}

/** Monday of the week of the rentrée for the school year containing `now` (Sep 1 as the pivot). */
export function demoSchoolYear(now: number): {
  start: string;
  end: string;
  firstMonday: string;
  lastMonday: string;
} {
  const date = new Date(now);
  const startYear = date.getUTCMonth() >= 7 ? date.getUTCFullYear() : date.getUTCFullYear() - 1;
  const start = `${startYear}-09-01`;
  const end = `${startYear + 1}-07-04`;
  return { start, end, firstMonday: mondayOf(start), lastMonday: mondayOf(end) };
}

export function buildDemoTimetable(now: number): TimetableInput {
  const year = demoSchoolYear(now);
  // Like EDT exports, the demo leaves out the weeks the zone B holidays close entirely; single
  // public holidays stay in (the calendar removes them), as in real files.
  const calendar = SchoolCalendar.forSchool({ uai: DEMO_UAI });
  const weeks: string[] = [];
  for (let monday = year.firstMonday; monday <= year.lastMonday; monday = addDays(monday, 7)) {
    const open = [0, 1, 2, 3, 4].some((d) => calendar.closure(addDays(monday, d))?.kind !== 'holiday');
    if (open) weeks.push(monday);
  }
  const lessons: Lesson[] = [];
  let n = 0;
  ROOMS.forEach((room, roomIndex) => {
    for (let day = 1; day <= 6; day++) {
      SLOTS.forEach(([start, end], slot) => {
        if (!usage(roomIndex, day, slot)) return;
        const k = roomIndex * 7 + day * 3 + slot;
        lessons.push({
          id: `demo-${room.id}-${day}-${slot}`,
          rooms: [room.id],
          day,
          start,
          end,
          weeks,
          subject:
            room.id === 'GYMNASE'
              ? 'EPS'
              : room.id === 'ATELIER'
                ? 'STI2D ATELIER'
                : SUBJECTS[k % SUBJECTS.length],
          teachers: [TEACHERS[k % TEACHERS.length]!],
          groups: [CLASSES[(k + n) % CLASSES.length]!],
        });
        n++;
      });
    }
  });
  // A lesson without a room, as real exports have (26 % in a real EDT file).
  lessons.push({
    id: 'demo-sans-salle',
    rooms: [],
    day: 4,
    start: '13:30',
    end: '15:25',
    weeks,
    subject: 'ACCOMPAGNEMENT',
    groups: ['2NDE 3'],
  });
  return {
    format: 'scope-emploi-du-temps/v1',
    uai: DEMO_UAI,
    name: DEMO_NAME,
    school_year: { start: year.start, end: year.end },
    timezone: 'Europe/Paris',
    grid: { days: [1, 2, 3, 4, 5, 6], places: SLOTS.map(([start, end]) => ({ start, end })) },
    rooms: ROOMS,
    lessons,
    cancellations: [],
    events: [],
  };
}
