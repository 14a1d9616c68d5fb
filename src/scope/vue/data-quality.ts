/**
 * The data-quality panel of VUE ("Qualité des données", interfaces.md, SCOPE-VUE): what in a
 * school's timetable and devices file will make the bridge heat the wrong rooms or none. Six
 * checks, each finding pointing at the lessons concerned (and the week to look at):
 * - `chevauchement`: two lessons in one room at overlapping times on the same date;
 * - `sans-salle`: lessons without a room (they occupy nothing: formats.md §1.1 found 26 %);
 * - `salle-inconnue`: rooms used by lessons that no zone of devices/{uai}.yaml drives;
 * - `zone-sans-cours`: zones none of whose rooms any lesson uses (heated on no timetable at all);
 * - `hors-grille`: lessons outside the school's day grid (day or hours);
 * - `vacances`: lessons dated on days the calendar closes (holidays, public holidays): the
 *   expansion drops them, which is right for a copied-over year but hides a wrong zone.
 * Pure: the caller loads the devices file and builds the calendar.
 */
import type { SchoolCalendar } from '../../calendar/index.js';
import type { LoadedDevices } from '../../devices/load.js';
import { mondayOf } from '../../domain/dates.js';
import type { Problem } from '../../domain/problems.js';
import type { Lesson, Timetable } from '../../domain/timetable.js';
import { cancelledOccurrences, lessonDates } from './lesson-dates.js';

export type DevicesState =
  | { status: 'loaded'; devices: LoadedDevices }
  | { status: 'absent'; file: string }
  | { status: 'invalid'; file: string; problems: Problem[] };

export interface LessonRef {
  id: string;
  /** Monday of the week to open to see it. */
  week: string;
  /** `demo-B101-1-0 · MATHÉMATIQUES · lundi 08:00–09:55` */
  label: string;
}

export interface FindingItem {
  message: string;
  lessons: LessonRef[];
  /** Lessons concerned beyond those listed. */
  moreLessons: number;
  /** A week to open (holiday weeks). */
  week?: string;
  /** `devices/0670999X.yaml:42 (zones[3])` for findings about the devices file. */
  where?: string;
}

export type FindingCode =
  | 'chevauchement'
  | 'sans-salle'
  | 'salle-inconnue'
  | 'zone-sans-cours'
  | 'hors-grille'
  | 'vacances';

export interface Finding {
  code: FindingCode;
  title: string;
  /** Why it matters, or why the check could not run. */
  note?: string;
  items: FindingItem[];
  /** Items beyond those listed. */
  moreItems: number;
}

export interface QualityInput {
  timetable: Timetable;
  devices: DevicesState;
  calendar: SchoolCalendar;
  /** The week being viewed: links prefer an occurrence from this week on. */
  referenceMonday: string;
}

const MAX_ITEMS = 100;
const MAX_LESSONS_PER_ITEM = 10;
const WEEKDAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];

export function frenchDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

export function weekdayName(isoWeekday: number): string {
  return WEEKDAYS[isoWeekday - 1] ?? `jour ${isoWeekday}`;
}

export function assessDataQuality(input: QualityInput): Finding[] {
  const { timetable, referenceMonday } = input;
  const datesOf = new Map<string, string[]>(timetable.lessons.map((l) => [l.id, lessonDates(l)]));
  const ref = (lesson: Lesson, on?: string): LessonRef => {
    const dates = datesOf.get(lesson.id) ?? [];
    const date = on ?? dates.find((d) => d >= referenceMonday) ?? dates[dates.length - 1];
    return {
      id: lesson.id,
      week: date === undefined ? referenceMonday : mondayOf(date),
      label: [lesson.id, lesson.subject, `${weekdayName(lesson.day)} ${lesson.start}–${lesson.end}`]
        .filter((part) => part !== undefined && part !== '')
        .join(' · '),
    };
  };
  const refs = (lessons: readonly Lesson[]) => ({
    lessons: lessons.slice(0, MAX_LESSONS_PER_ITEM).map((l) => ref(l)),
    moreLessons: Math.max(0, lessons.length - MAX_LESSONS_PER_ITEM),
  });

  return [
    overlaps(input, datesOf, ref),
    withoutRoom(timetable, refs),
    ...devicesFindings(input, refs),
    outsideGrid(timetable, datesOf, refs),
    inHolidays(input, datesOf, ref),
  ];
}

type RefOf = (lesson: Lesson, on?: string) => LessonRef;
type RefsOf = (lessons: readonly Lesson[]) => { lessons: LessonRef[]; moreLessons: number };

function finding(code: FindingCode, title: string, items: FindingItem[], note?: string): Finding {
  return {
    code,
    title,
    ...(note === undefined ? {} : { note }),
    items: items.slice(0, MAX_ITEMS),
    moreItems: Math.max(0, items.length - MAX_ITEMS),
  };
}

function overlaps(input: QualityInput, datesOf: Map<string, string[]>, ref: RefOf): Finding {
  const { timetable } = input;
  const cancelled = cancelledOccurrences(timetable);
  const byRoomDate = new Map<string, Lesson[]>();
  for (const lesson of timetable.lessons) {
    for (const date of datesOf.get(lesson.id) ?? []) {
      if (cancelled.has(`${lesson.id}|${date}`)) continue;
      for (const room of lesson.rooms) {
        const key = `${room}|${date}`;
        const list = byRoomDate.get(key);
        if (list) list.push(lesson);
        else byRoomDate.set(key, [lesson]);
      }
    }
  }
  const pairs = new Map<string, { room: string; a: Lesson; b: Lesson; first: string; count: number }>();
  for (const [key, lessons] of byRoomDate) {
    if (lessons.length < 2) continue;
    const [room, date] = key.split('|') as [string, string];
    lessons.sort((x, y) => x.start.localeCompare(y.start) || x.id.localeCompare(y.id));
    for (let i = 0; i < lessons.length; i++) {
      const a = lessons[i] as Lesson;
      // HH:MM strings compare as times.
      for (let j = i + 1; j < lessons.length && (lessons[j] as Lesson).start < a.end; j++) {
        const b = lessons[j] as Lesson;
        if (b.id === a.id) continue;
        const pairKey = `${room}|${a.id}|${b.id}`;
        const pair = pairs.get(pairKey);
        if (pair) {
          pair.count++;
          if (date < pair.first) pair.first = date;
        } else pairs.set(pairKey, { room, a, b, first: date, count: 1 });
      }
    }
  }
  const roomName = new Map(timetable.rooms.map((r) => [r.id, r.name]));
  const items = [...pairs.values()]
    .sort((x, y) => x.room.localeCompare(y.room) || x.first.localeCompare(y.first))
    .map((pair) => ({
      message:
        `Salle ${roomName.get(pair.room) ?? pair.room} : ${pair.a.id} (${pair.a.start}–${pair.a.end}) et ` +
        `${pair.b.id} (${pair.b.start}–${pair.b.end}) se chevauchent le ${frenchDate(pair.first)}` +
        (pair.count > 1 ? ` et ${pair.count - 1} autre(s) date(s)` : ''),
      lessons: [ref(pair.a, pair.first), ref(pair.b, pair.first)],
      moreLessons: 0,
    }));
  return finding('chevauchement', 'Cours qui se chevauchent dans une même salle', items);
}

function withoutRoom(timetable: Timetable, refs: RefsOf): Finding {
  const lessons = timetable.lessons.filter((l) => l.rooms.length === 0);
  return finding(
    'sans-salle',
    'Cours sans salle',
    lessons.map((lesson) => ({
      message: `${lesson.id} n’a pas de salle : il ne chauffe ni n’éclaire aucune zone.`,
      ...refs([lesson]),
    })),
  );
}

function devicesFindings(input: QualityInput, refs: RefsOf): Finding[] {
  const { timetable, devices } = input;
  const unknownTitle = 'Salles de l’emploi du temps inconnues de devices/';
  const zonesTitle = 'Zones dont aucune salle n’a cours';
  if (devices.status !== 'loaded') {
    const note =
      devices.status === 'absent'
        ? `Aucun fichier ${devices.file} : aucune salle de cet établissement n’est pilotée.`
        : `Le fichier ${devices.file} est refusé : ${devices.problems.map((p) => `${p.where} ${p.message}`).join(' ; ')}`;
    return [
      finding('salle-inconnue', unknownTitle, [], note),
      finding('zone-sans-cours', zonesTitle, [], note),
    ];
  }
  const { value, file, lineOf } = devices.devices;
  const lessonsByRoom = new Map<string, Lesson[]>();
  for (const lesson of timetable.lessons) {
    for (const room of lesson.rooms) {
      const list = lessonsByRoom.get(room);
      if (list) list.push(lesson);
      else lessonsByRoom.set(room, [lesson]);
    }
  }
  const usedRooms = new Set([...lessonsByRoom.keys(), ...timetable.events.flatMap((e) => e.rooms)]);
  // Zones name rooms by timetable id or name (src/rules/check.ts does the same).
  const idOf = new Map<string, string>();
  for (const room of timetable.rooms) {
    idOf.set(room.name, room.id);
    idOf.set(room.id, room.id);
  }
  const claimed = new Set(value.zones.flatMap((zone) => zone.rooms.map((name) => idOf.get(name) ?? name)));
  const nameOf = new Map(timetable.rooms.map((r) => [r.id, r.name]));

  const unknown: FindingItem[] = [...lessonsByRoom.entries()]
    .filter(([room]) => !claimed.has(room))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([room, lessons]) => ({
      message: `La salle ${nameOf.get(room) ?? room} (${lessons.length} cours) n’appartient à aucune zone de ${file} : ses cours ne pilotent rien.`,
      ...refs(lessons),
    }));

  const idle: FindingItem[] = [];
  value.zones.forEach((zone, i) => {
    const ids = zone.rooms.map((name) => idOf.get(name));
    if (ids.some((id) => id !== undefined && usedRooms.has(id))) return;
    const notInTimetable = zone.rooms.filter((_, k) => ids[k] === undefined);
    idle.push({
      message:
        `Zone ${zone.id} (${zone.name}) : aucune de ses salles (${zone.rooms.join(', ')}) n’a de cours` +
        (notInTimetable.length > 0 ? ` ; absentes de l’emploi du temps : ${notInTimetable.join(', ')}` : '') +
        '. Elle restera en mode réduit ou hors-gel.',
      lessons: [],
      moreLessons: 0,
      where: `${file}:${lineOf(['zones', i])} (zones[${i}])`,
    });
  });
  return [finding('salle-inconnue', unknownTitle, unknown), finding('zone-sans-cours', zonesTitle, idle)];
}

function outsideGrid(timetable: Timetable, datesOf: Map<string, string[]>, refs: RefsOf): Finding {
  const title = 'Cours hors de la grille horaire';
  const grid = timetable.grid;
  if (!grid || grid.places.length === 0) {
    return finding(
      'hors-grille',
      title,
      [],
      'Le fichier ne donne pas de grille horaire : contrôle impossible.',
    );
  }
  const days = new Set(grid.days);
  const opens = grid.places.map((p) => p.start).sort()[0] as string;
  const closes = grid.places.map((p) => p.end).sort()[grid.places.length - 1] as string;
  const items: FindingItem[] = [];
  for (const lesson of timetable.lessons) {
    const weekdays = new Set(
      lesson.dates === undefined
        ? [lesson.day]
        : (datesOf.get(lesson.id) ?? []).map((d) => new Date(`${d}T00:00:00Z`).getUTCDay() || 7),
    );
    const reasons: string[] = [];
    const offDays = [...weekdays].filter((d) => !days.has(d));
    if (offDays.length > 0)
      reasons.push(`le ${offDays.map(weekdayName).join(', ')} n’est pas un jour de la grille`);
    if (lesson.start < opens) reasons.push(`commence à ${lesson.start}, avant ${opens}`);
    if (lesson.end > closes) reasons.push(`finit à ${lesson.end}, après ${closes}`);
    if (reasons.length > 0)
      items.push({ message: `${lesson.id} : ${reasons.join(' ; ')}.`, ...refs([lesson]) });
  }
  return finding('hors-grille', title, items);
}

function inHolidays(input: QualityInput, datesOf: Map<string, string[]>, ref: RefOf): Finding {
  const { timetable, calendar } = input;
  const cancelled = cancelledOccurrences(timetable);
  const weeks = new Map<
    string,
    { closures: Set<string>; lessons: Map<string, { lesson: Lesson; date: string }> }
  >();
  for (const lesson of timetable.lessons) {
    for (const date of datesOf.get(lesson.id) ?? []) {
      if (cancelled.has(`${lesson.id}|${date}`)) continue;
      const closure = calendar.closure(date);
      if (!closure) continue;
      const monday = mondayOf(date);
      let week = weeks.get(monday);
      if (!week) {
        week = { closures: new Set(), lessons: new Map() };
        weeks.set(monday, week);
      }
      week.closures.add(closure.name);
      if (!week.lessons.has(lesson.id)) week.lessons.set(lesson.id, { lesson, date });
    }
  }
  const items = [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([monday, week]) => {
      const lessons = [...week.lessons.values()];
      return {
        message: `Semaine du ${frenchDate(monday)} (${[...week.closures].join(', ')}) : ${lessons.length} cours datés un jour de fermeture, non comptés comme occupation.`,
        lessons: lessons.slice(0, MAX_LESSONS_PER_ITEM).map(({ lesson, date }) => ref(lesson, date)),
        moreLessons: Math.max(0, lessons.length - MAX_LESSONS_PER_ITEM),
        week: monday,
      };
    });
  return finding('vacances', 'Cours pendant les vacances ou un jour férié', items);
}
