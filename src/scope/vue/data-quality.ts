/**
 * The data-quality panel of VUE ("Qualité des données", docs/api.md, "SCOPE-VUE"): what in a
 * school's timetable and devices file will make the bridge heat the wrong rooms or none. Seven
 * checks, each finding pointing at the lessons concerned (and the week to look at):
 * - `chevauchement`: two lessons in one room at overlapping times on the same date;
 * - `jamais`: lessons that never take place (no week or date, every date cancelled, closed or
 *   outside the school year, an end not after the start), grouped by why: they occupy nothing,
 *   and they are left out of the two checks below, where they would only be noise;
 * - `sans-salle`: lessons without a room (they occupy nothing: docs/formats.md, "Real-world shape":
 *   26 % in a real export), grouped by subject and class, for people to fix by subject;
 * - `salle-inconnue`: rooms used by lessons that no zone of devices/{uai}.yaml drives;
 * - `zone-sans-cours`: zones none of whose rooms any lesson uses (heated on no timetable at all);
 * - `hors-grille`: lessons outside the school's day grid (day or hours), grouped by subject, class
 *   and reason;
 * - `vacances`: lessons dated on days the calendar closes (holidays, public holidays): the
 *   expansion drops them, which is right for a copied-over year but hides a wrong zone.
 * Counts are complete: a finding says how many lessons it concerns, and lists its items a page of
 * MAX_ITEMS at a time (`page`), never silently cut. Pure: the caller loads the devices file and
 * builds the calendar.
 *
 * Linear in the timetable's occurrences (n log n where lessons overlap): occurrences are read from
 * the calendar's compiled form (indexed by day, in start order), and overlaps are reported as
 * groups with a count of pairs, never pair by pair (room-overlaps.ts).
 */

import { compileTimetable } from '../../calendar/compiled-timetable.js';
import { isoOfDayNumber, type SchoolCalendar } from '../../calendar/index.js';
import type { LoadedDevices } from '../../devices/load.js';
import { mondayOf } from '../../domain/dates.js';
import type { Problem } from '../../domain/problems.js';
import type { Lesson, Timetable } from '../../domain/timetable.js';
import { lessonDates } from './lesson-dates.js';
import { overlapGroups } from './room-overlaps.js';

export type DevicesState =
  | { status: 'loaded'; devices: LoadedDevices }
  | { status: 'absent'; file: string }
  | { status: 'invalid'; file: string; problems: Problem[] };

export interface LessonRef {
  id: string;
  /** Monday of the week to open to see it; absent for a lesson that never takes place. */
  week?: string;
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
  | 'jamais'
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
  /** Items after those listed (on later pages). */
  moreItems: number;
  /** Items before those listed (on earlier pages); 0 on the first page. */
  itemsBefore: number;
  /** The 1-based page of items listed. */
  page: number;
  /** Lessons concerned in all (every page), for findings that group lessons. */
  lessonCount?: number;
}

/** The finding codes, in the panel's order (also the values of VUE's `constat` parameter). */
export const FINDING_CODES = [
  'chevauchement',
  'jamais',
  'sans-salle',
  'salle-inconnue',
  'zone-sans-cours',
  'hors-grille',
  'vacances',
] as const satisfies readonly FindingCode[];

export interface QualityInput {
  timetable: Timetable;
  devices: DevicesState;
  calendar: SchoolCalendar;
  /** The week being viewed: links prefer an occurrence from this week on. */
  referenceMonday: string;
  /** Which page of one finding's items to list (the others list their first page). */
  page?: { code: FindingCode; page: number } | undefined;
}

/** Items per page of a finding. */
export const MAX_ITEMS = 100;
const MAX_LESSONS_PER_ITEM = 10;
/** Pairs named in the message of an overlap of more than two lessons. */
const MAX_PAIRS_NAMED = 3;
const WEEKDAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];

export function frenchDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

export function weekdayName(isoWeekday: number): string {
  return WEEKDAYS[isoWeekday - 1] ?? `jour ${isoWeekday}`;
}

export function assessDataQuality(input: QualityInput): Finding[] {
  const { timetable, referenceMonday } = input;
  const { datesOf, ref, refs } = lessonRefs(referenceMonday);

  // Compiled once for the checks that read occurrences (it is the costly part of them).
  const compiled = compiledLessons(timetable);
  const never = neverHeld(input, compiled, datesOf);
  const pageOf = (code: FindingCode) => (input.page?.code === code ? input.page.page : 1);
  const findings = [
    overlaps(input, compiled, ref),
    neverFinding(never, refs),
    withoutRoom(timetable, never, refs),
    ...devicesFindings(input, refs),
    outsideGrid(timetable, never, datesOf, refs),
    inHolidays(input, compiled, ref),
  ];
  return findings.map((f) => (pageOf(f.code) === 1 ? f : repage(f, pageOf(f.code))));
}

type DatesOf = (lesson: Lesson) => string[];

/** How findings point at lessons: the week to open prefers an occurrence from `referenceMonday` on. */
function lessonRefs(referenceMonday: string): { datesOf: DatesOf; ref: RefOf; refs: RefsOf } {
  // Dates are worked out only for the lessons a finding names (and those given by exact dates).
  const dateCache = new Map<Lesson, string[]>();
  const datesOf: DatesOf = (lesson) => {
    let dates = dateCache.get(lesson);
    if (!dates) {
      dates = lessonDates(lesson);
      dateCache.set(lesson, dates);
    }
    return dates;
  };
  const ref = (lesson: Lesson, on?: string): LessonRef => {
    const dates = on === undefined ? datesOf(lesson) : [];
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
  return { datesOf, ref, refs };
}
type RefOf = (lesson: Lesson, on?: string) => LessonRef;
type RefsOf = (lessons: readonly Lesson[]) => { lessons: LessonRef[]; moreLessons: number };

/** Findings keep every item until the page is chosen (`repage`), so counts are never cut. */
type FullFinding = Finding & { all?: FindingItem[] };

function finding(
  code: FindingCode,
  title: string,
  items: FindingItem[],
  note?: string,
  lessonCount?: number,
): Finding {
  const first: FullFinding = {
    code,
    title,
    ...(note === undefined ? {} : { note }),
    items: items.slice(0, MAX_ITEMS),
    moreItems: Math.max(0, items.length - MAX_ITEMS),
    itemsBefore: 0,
    page: 1,
    ...(lessonCount === undefined ? {} : { lessonCount }),
  };
  // Kept off the enumerable fields: only `repage` reads it, and it never leaves the worker.
  Object.defineProperty(first, 'all', { value: items, enumerable: false });
  return first;
}

/** The items of page `page` (1-based; past the last page, the last one). */
function repage(f: FullFinding, page: number): Finding {
  const all = f.all ?? f.items;
  const last = Math.max(1, Math.ceil(all.length / MAX_ITEMS));
  const shown = Math.min(Math.max(1, page), last);
  const start = (shown - 1) * MAX_ITEMS;
  return {
    ...f,
    items: all.slice(start, start + MAX_ITEMS),
    itemsBefore: start,
    moreItems: Math.max(0, all.length - start - MAX_ITEMS),
    page: shown,
  };
}

/** Lessons by their index in the compiled timetable (which drops lessons ending before they start). */
type CompiledLessons = ReturnType<typeof compiledLessons>;

function compiledLessons(timetable: Timetable) {
  const compiled = compileTimetable(timetable);
  const byId = new Map(timetable.lessons.map((l) => [l.id, l]));
  const lessons = compiled.lessonIds.map((id) => byId.get(id) as Lesson);
  return { compiled, lessons };
}

const frenchCount = (n: number): string => n.toLocaleString('fr-FR');

/** FNV-1a over the members' indices. */
function hashOf(members: readonly number[]): number {
  let hash = 0x811c9dc5;
  for (const m of members) hash = Math.imul(hash ^ m, 0x01000193);
  return hash >>> 0;
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function overlaps(input: QualityInput, { compiled, lessons }: CompiledLessons, ref: RefOf): Finding {
  const { timetable } = input;
  const { occurrences, dayStart, startMinutes, endMinutes, roomStart, lessonRooms, cancelled } = compiled;
  // One list of lesson indices per room, filled day by day (in start order, as the day's
  // occurrences are) and emptied after the day's sweep.
  const perRoom: number[][] = compiled.rooms.map(() => []);
  const used: number[] = [];
  // The same lessons overlapping on several dates are one finding: found by room, size and a
  // hash of the members, then compared member by member (no key string as long as the group).
  const groups = new Map<string, OverlapRecord[]>();
  type OverlapRecord = {
    room: number;
    members: number[];
    start: number;
    end: number;
    pairs: number;
    named: [number, number][];
    first: number;
    dates: number;
  };
  const all: OverlapRecord[] = [];
  const days = dayStart.length - 1;
  for (let d = 0; d < days; d++) {
    const day = compiled.firstDay + d;
    for (let k = dayStart[d] as number, end = dayStart[d + 1] as number; k < end; k++) {
      const l = occurrences[k] as number;
      if (l < 0 || cancelled.get(l)?.has(day)) continue;
      for (let r = roomStart[l] as number; r < (roomStart[l + 1] as number); r++) {
        const room = lessonRooms[r] as number;
        const list = perRoom[room] as number[];
        // A room listed twice by one lesson is one occupation, not an overlap with itself.
        if (list[list.length - 1] === l) continue;
        if (list.length === 0) used.push(room);
        list.push(l);
      }
    }
    for (const room of used) {
      const list = perRoom[room] as number[];
      if (list.length >= 2) {
        const starts = list.map((l) => startMinutes[l] as number);
        const ends = list.map((l) => endMinutes[l] as number);
        for (const group of overlapGroups(starts, ends, MAX_PAIRS_NAMED)) {
          const members = group.members.map((m) => list[m] as number);
          const key = `${room}|${members.length}|${hashOf(members)}`;
          const candidates = groups.get(key) ?? [];
          const known = candidates.find((c) => sameMembers(c.members, members));
          if (known) known.dates++;
          else {
            const record: OverlapRecord = {
              room,
              members,
              start: group.start,
              end: group.end,
              pairs: group.pairs,
              named: group.firstPairs.map(([a, b]) => [list[a] as number, list[b] as number]),
              first: day,
              dates: 1,
            };
            candidates.push(record);
            groups.set(key, candidates);
            all.push(record);
          }
        }
      }
      list.length = 0;
    }
    used.length = 0;
  }

  const roomName = new Map(timetable.rooms.map((r) => [r.id, r.name]));
  const byStartThenId = (a: Lesson, b: Lesson) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  const items = all
    .map((group) => ({ ...group, roomId: compiled.rooms[group.room]?.id ?? '' }))
    .sort((x, y) => x.roomId.localeCompare(y.roomId) || x.first - y.first)
    .map((group): FindingItem => {
      const date = isoOfDayNumber(group.first);
      const room = `Salle ${roomName.get(group.roomId) ?? group.roomId}`;
      const more = group.dates > 1 ? ` et ${frenchCount(group.dates - 1)} autre(s) date(s)` : '';
      const shown = group.members.slice(0, MAX_LESSONS_PER_ITEM).map((l) => lessons[l] as Lesson);
      if (group.members.length === 2) {
        const [a, b] = shown.sort(byStartThenId) as [Lesson, Lesson];
        return {
          message:
            `${room} : ${a.id} (${a.start}–${a.end}) et ${b.id} (${b.start}–${b.end}) se chevauchent le ` +
            `${frenchDate(date)}${more}`,
          lessons: [ref(a, date), ref(b, date)],
          moreLessons: 0,
        };
      }
      const time = (minutes: number) =>
        `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      const named = group.named
        .map(([a, b]) => `${(lessons[a] as Lesson).id} et ${(lessons[b] as Lesson).id}`)
        .join(', ');
      return {
        message:
          `${room} : ${frenchCount(group.members.length)} cours se chevauchent le ${frenchDate(date)}${more}, ` +
          `entre ${time(group.start)} et ${time(group.end)} ` +
          `(${frenchCount(group.pairs)} paire(s) de cours${group.pairs > group.named.length ? `, dont ${named}` : ` : ${named}`})`,
        lessons: shown.map((lesson) => ref(lesson, date)),
        moreLessons: group.members.length - shown.length,
      };
    });
  return finding('chevauchement', 'Cours qui se chevauchent dans une même salle', items);
}

/** Why a lesson never takes place. */
type NeverReason = 'sans-date' | 'horaire' | 'hors-annee' | 'annule-ou-ferme';

const NEVER_EXPLAINED: Record<NeverReason, string> = {
  'sans-date':
    'aucune semaine ni date dans l’export : le logiciel les déclare sans les placer (cours en attente, option non ouverte)',
  horaire: 'leur fin n’est pas après leur début : ils n’occupent aucun instant',
  'hors-annee': 'toutes leurs dates sont hors de l’année scolaire déclarée par le fichier',
  'annule-ou-ferme':
    'toutes leurs dates sont annulées ou tombent un jour de fermeture (vacances, jour férié)',
};

/**
 * Lessons with no occurrence that the bridge would count: linear in the occurrences (one
 * calendar look-up per day, as `inHolidays`). Their reason, by lesson.
 */
function neverHeld(
  input: QualityInput,
  { compiled, lessons }: CompiledLessons,
  datesOf: DatesOf,
): Map<Lesson, NeverReason> {
  const { occurrences, dayStart, cancelled } = compiled;
  const held = new Uint8Array(lessons.length);
  const days = dayStart.length - 1;
  for (let d = 0; d < days; d++) {
    if (dayStart[d] === dayStart[d + 1]) continue;
    const day = compiled.firstDay + d;
    if (input.calendar.closureOfDay(day)) continue;
    for (let k = dayStart[d] as number, end = dayStart[d + 1] as number; k < end; k++) {
      const l = occurrences[k] as number;
      if (l >= 0 && !cancelled.get(l)?.has(day)) held[l] = 1;
    }
  }
  const compiledIndex = new Map<Lesson, number>(lessons.map((lesson, l) => [lesson, l]));
  const never = new Map<Lesson, NeverReason>();
  for (const lesson of input.timetable.lessons) {
    const l = compiledIndex.get(lesson);
    if (l !== undefined && held[l] === 1) continue;
    // Not compiled: its end is not after its start. Compiled with occurrences in the year: every
    // one is cancelled or closed; without any: no dates at all, or all out of the year.
    const reason: NeverReason =
      l === undefined
        ? 'horaire'
        : (lesson.weeks?.length ?? 0) + (lesson.dates?.length ?? 0) === 0
          ? 'sans-date'
          : hasOccurrenceInYear(input.timetable, datesOf(lesson))
            ? 'annule-ou-ferme'
            : 'hors-annee';
    never.set(lesson, reason);
  }
  return never;
}

function hasOccurrenceInYear(timetable: Timetable, dates: readonly string[]): boolean {
  const year = timetable.school_year;
  return dates.some((date) => !year || (date >= year.start && date <= year.end));
}

function neverFinding(never: Map<Lesson, NeverReason>, refs: RefsOf): Finding {
  const byReason = new Map<NeverReason, Lesson[]>();
  for (const [lesson, reason] of never) {
    const list = byReason.get(reason);
    if (list) list.push(lesson);
    else byReason.set(reason, [lesson]);
  }
  const items = (Object.keys(NEVER_EXPLAINED) as NeverReason[]).flatMap((reason) => {
    const lessons = byReason.get(reason);
    if (!lessons) return [];
    const { lessons: shown, moreLessons } = refs(lessons);
    return [
      {
        message: `${frenchCount(lessons.length)} cours : ${NEVER_EXPLAINED[reason]}.`,
        // No week shows them: listed without a link.
        lessons: shown.map(({ id, label }) => ({ id, label })),
        moreLessons,
      },
    ];
  });
  return finding(
    'jamais',
    'Cours qui n’ont jamais lieu',
    items,
    'Ils n’occupent aucune salle et ne pilotent rien ; ils ne sont pas comptés dans les constats « sans salle » et « hors grille ». Utile pour repérer un export incomplet.',
    never.size,
  );
}

/** `MATHÉMATIQUES · 2NDE 1`, the way people sort a timetable's lessons. */
function subjectAndClass(lesson: Lesson): string {
  const subject = lesson.subject?.trim() || 'Matière non précisée';
  const groups = (lesson.groups ?? []).join(', ');
  return groups === '' ? subject : `${subject} · ${groups}`;
}

/** Lessons by key, the groups ordered by size (largest first), then by key. */
function groupLessons(lessons: Iterable<Lesson>, keyOf: (lesson: Lesson) => string): [string, Lesson[]][] {
  const groups = new Map<string, Lesson[]>();
  for (const lesson of lessons) {
    const key = keyOf(lesson);
    const list = groups.get(key);
    if (list) list.push(lesson);
    else groups.set(key, [lesson]);
  }
  return [...groups.entries()].sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b, 'fr'));
}

function withoutRoom(timetable: Timetable, never: ReadonlyMap<Lesson, NeverReason>, refs: RefsOf): Finding {
  const lessons = timetable.lessons.filter((l) => l.rooms.length === 0 && !never.has(l));
  const items = groupLessons(lessons, subjectAndClass).map(([key, group]) => ({
    message: `${key} : ${frenchCount(group.length)} cours sans salle, qui ne chauffent ni n’éclairent aucune zone.`,
    ...refs(group),
  }));
  return finding('sans-salle', 'Cours sans salle', items, undefined, lessons.length);
}

const UNKNOWN_TITLE = 'Salles de l’emploi du temps inconnues de devices/';

function devicesFindings(input: QualityInput, refs: RefsOf): Finding[] {
  const { timetable, devices } = input;
  const zonesTitle = 'Zones dont aucune salle n’a cours';
  if (devices.status !== 'loaded') {
    const note =
      devices.status === 'absent'
        ? `Aucun fichier ${devices.file} : aucune salle de cet établissement n’est pilotée.`
        : `Le fichier ${devices.file} est refusé : ${devices.problems.map((p) => `${p.where} ${p.message}`).join(' ; ')}`;
    return [
      finding('salle-inconnue', UNKNOWN_TITLE, [], note),
      finding('zone-sans-cours', zonesTitle, [], note),
    ];
  }
  const { value, file, lineOf } = devices.devices;
  const { unknown, usedRooms, idOf } = unknownRooms(timetable, value.zones, file, refs);

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
  return [finding('salle-inconnue', UNKNOWN_TITLE, unknown), finding('zone-sans-cours', zonesTitle, idle)];
}

/** Rooms of the timetable that no zone claims (`salle-inconnue`), and what the zone check reuses. */
function unknownRooms(
  timetable: Timetable,
  zones: readonly { rooms: readonly string[] }[],
  file: string,
  refs: RefsOf,
) {
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
  const claimed = new Set(zones.flatMap((zone) => zone.rooms.map((name) => idOf.get(name) ?? name)));
  const nameOf = new Map(timetable.rooms.map((r) => [r.id, r.name]));
  const unknown: FindingItem[] = [...lessonsByRoom.entries()]
    .filter(([room]) => !claimed.has(room))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([room, lessons]) => ({
      message: `La salle ${nameOf.get(room) ?? room} (${lessons.length} cours) n’appartient à aucune zone de ${file} : ses cours ne pilotent rien.`,
      ...refs(lessons),
    }));
  return { unknown, usedRooms, idOf };
}

/**
 * The `salle-inconnue` finding alone (the dashboard's alert): linear in the lessons, no
 * occurrences worked out. Same items as in `assessDataQuality`.
 */
export function unknownRoomsFinding(
  timetable: Timetable,
  zones: readonly { rooms: readonly string[] }[],
  file: string,
  referenceMonday: string,
): Finding {
  const { refs } = lessonRefs(referenceMonday);
  return finding('salle-inconnue', UNKNOWN_TITLE, unknownRooms(timetable, zones, file, refs).unknown);
}

function outsideGrid(
  timetable: Timetable,
  never: ReadonlyMap<Lesson, NeverReason>,
  datesOf: DatesOf,
  refs: RefsOf,
): Finding {
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
  const outside = new Map<Lesson, string>();
  for (const lesson of timetable.lessons) {
    if (never.has(lesson)) continue;
    const weekdays = new Set(
      lesson.dates === undefined
        ? [lesson.day]
        : datesOf(lesson).map((d) => new Date(`${d}T00:00:00Z`).getUTCDay() || 7),
    );
    const reasons: string[] = [];
    const offDays = [...weekdays].filter((d) => !days.has(d));
    if (offDays.length > 0)
      reasons.push(`le ${offDays.map(weekdayName).join(', ')} n’est pas un jour de la grille`);
    if (lesson.start < opens) reasons.push(`commence à ${lesson.start}, avant ${opens}`);
    if (lesson.end > closes) reasons.push(`finit à ${lesson.end}, après ${closes}`);
    if (reasons.length > 0) outside.set(lesson, reasons.join(' ; '));
  }
  const items = groupLessons(
    outside.keys(),
    (lesson) => `${subjectAndClass(lesson)} : ${outside.get(lesson)}`,
  ).map(([key, group]) => ({ message: `${key} (${frenchCount(group.length)} cours).`, ...refs(group) }));
  return finding('hors-grille', title, items, undefined, outside.size);
}

function inHolidays(input: QualityInput, { compiled, lessons }: CompiledLessons, ref: RefOf): Finding {
  const { calendar } = input;
  const { occurrences, dayStart, cancelled } = compiled;
  const weeks = new Map<string, { closures: Set<string>; lessons: Map<Lesson, string> }>();
  const days = dayStart.length - 1;
  for (let d = 0; d < days; d++) {
    if (dayStart[d] === dayStart[d + 1]) continue;
    const day = compiled.firstDay + d;
    // One calendar look-up per day, not per occurrence.
    const closure = calendar.closureOfDay(day);
    if (!closure) continue;
    const date = isoOfDayNumber(day);
    const monday = mondayOf(date);
    for (let k = dayStart[d] as number, end = dayStart[d + 1] as number; k < end; k++) {
      const l = occurrences[k] as number;
      if (l < 0 || cancelled.get(l)?.has(day)) continue;
      let week = weeks.get(monday);
      if (!week) {
        week = { closures: new Set(), lessons: new Map() };
        weeks.set(monday, week);
      }
      week.closures.add(closure.name);
      const lesson = lessons[l] as Lesson;
      if (!week.lessons.has(lesson)) week.lessons.set(lesson, date);
    }
  }
  const items = [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([monday, week]) => {
      const found = [...week.lessons.entries()];
      return {
        message: `Semaine du ${frenchDate(monday)} (${[...week.closures].join(', ')}) : ${found.length} cours datés un jour de fermeture, non comptés comme occupation.`,
        lessons: found.slice(0, MAX_LESSONS_PER_ITEM).map(([lesson, date]) => ref(lesson, date)),
        moreLessons: Math.max(0, found.length - MAX_LESSONS_PER_ITEM),
        week: monday,
      };
    });
  return finding('vacances', 'Cours pendant les vacances ou un jour férié', items);
}
