/**
 * STS-web upward file (`emp_sts_<UAI>_<year>.xml`, root `EDT_STS`), written by EDT and UDT for the
 * "remontée des services", to the normalised timetable. Every lycée produces it, dated and with
 * rooms: the vendor-neutral fallback. Its DTD is not public; the structure below is the one that
 * third-party readers agree on.
 * @see docs/formats.md, "STS-web upward file" (structure and pitfalls), "Worked examples",
 *   "Edge cases every reader handles"
 *
 * Read: `PARAMETRES/UAJ` (text, or `@CODE` as in the downward file), `ALTERNANCES/ALTERNANCE@CODE/
 * SEMAINES/DATE_DEBUT_SEMAINE`, and `(DIVISIONS/DIVISION|GROUPES/GROUPE)@CODE/SERVICES/
 * SERVICE@CODE_MATIERE/ENSEIGNANTS/ENSEIGNANT@ID/COURS_RATTACHES/COURS`. INDIVIDUS (names) are
 * never read.
 *
 * Choices that the sources leave open, decided here:
 * - `HEURE_DEBUT` and `DUREE` are HHMM clock values added as durations (13:50 + 00:30 = 14:20;
 *   adding the integers 1350 + 30 gives the "1380" of the CRLR reader). A course that would run
 *   past 23:59 is refused.
 * - A week date that is not a Monday is moved to its Monday (`sts-week-not-monday` warning).
 * - The same course appears once per teacher and per division/group that shares it: identical
 *   (day, start, end, room, weeks) are one lesson whose groups, teachers and subjects are merged.
 * - Room id = trimmed `CODE_SALLE` (rooms are declared by use only); no `CODE_SALLE` = no room.
 * - Lesson id = `sts-<day>-<start>-<end>-<room or sans-salle>-<alternance codes>`: stable across
 *   exports as long as the course does not move.
 */
import { addDays, mondayOf } from '../domain/dates.js';
import { InputError, type Problem } from '../domain/problems.js';
import type { ReaderOptions, ReadResult, TimetableReader } from '../domain/reader.js';
import { type Lesson, type Room, TIMETABLE_FORMAT, type Timetable } from '../domain/timetable.js';
import { normaliseUai } from '../domain/uai.js';
import { readXml, type XmlElement, xmlGuards } from './xml.js';

const ROOT = 'EDT_STS';
const DOWNWARD_ROOT = 'STS_EDT';
const COURS_FIELDS = ['CODE_ALTERNANCE', 'JOUR', 'HEURE_DEBUT', 'DUREE', 'CODE_SALLE'] as const;
type CoursField = (typeof COURS_FIELDS)[number];
const MINUTES_PER_DAY = 24 * 60;

interface Field {
  text: string;
  line: number;
}

interface RawCours {
  line: number;
  fields: Partial<Record<CoursField, Field>>;
  group: string | undefined;
  subject: string | undefined;
  teacher: string | undefined;
}

interface Alternance {
  mondays: Set<string>;
  line: number;
}

/** A lesson being merged from several COURS. */
interface Occupancy {
  day: number;
  start: string;
  end: string;
  room: string | undefined;
  weeks: string[];
  alternances: Set<string>;
  subjects: Set<string>;
  teachers: Set<string>;
  groups: Set<string>;
}

export const readSts: TimetableReader = (bytes: Uint8Array, options: ReaderOptions = {}): ReadResult => {
  const warnings: Problem[] = [];
  let uai: string | undefined;
  const alternances = new Map<string, Alternance>();
  const cours: RawCours[] = [];
  let alternance: string | undefined;
  let group: string | undefined;
  let subject: string | undefined;
  let teacher: string | undefined;
  let open: RawCours | undefined;

  readXml(
    bytes,
    {
      open(e) {
        if (e.path.length === 0) checkRoot(e);
        switch (e.name) {
          case 'UAJ':
            if (e.path.includes('PARAMETRES') && e.attributes['CODE']?.trim()) uai = e.attributes['CODE'];
            break;
          case 'ALTERNANCE':
            alternance = requiredAttribute(e, 'CODE');
            if (alternances.has(alternance)) {
              throw InputError.of(
                'sts-duplicate-alternance',
                `ALTERNANCE ${alternance} is declared twice`,
                `line ${e.line}, ALTERNANCE`,
              );
            }
            alternances.set(alternance, { mondays: new Set(), line: e.line });
            break;
          case 'DIVISION':
          case 'GROUPE':
            if (e.path.includes('STRUCTURE')) group = requiredAttribute(e, 'CODE');
            break;
          case 'SERVICE':
            subject = e.attributes['CODE_MATIERE']?.trim() || undefined;
            break;
          case 'ENSEIGNANT':
            teacher = e.attributes['ID']?.trim() || undefined;
            break;
          case 'COURS':
            open = { line: e.line, fields: {}, group, subject, teacher };
            break;
        }
      },
      close(e, text) {
        if (open && isCoursField(e.name) && e.path.at(-1) === 'COURS') {
          open.fields[e.name] = { text: text.trim(), line: e.line };
          return;
        }
        switch (e.name) {
          case 'UAJ':
            if (e.path.includes('PARAMETRES') && text.trim()) uai = text;
            break;
          case 'DATE_DEBUT_SEMAINE':
            if (alternance !== undefined) addWeek(alternances.get(alternance), text, e, warnings);
            break;
          case 'ALTERNANCE':
            alternance = undefined;
            break;
          case 'DIVISION':
          case 'GROUPE':
            group = undefined;
            break;
          case 'SERVICE':
            subject = undefined;
            break;
          case 'ENSEIGNANT':
            teacher = undefined;
            break;
          case 'COURS':
            if (open) cours.push(open);
            open = undefined;
            break;
        }
      },
    },
    { guards: xmlGuards(options, warnings) },
  );

  if (!uai) {
    throw InputError.of(
      'uai-missing',
      'the file has no PARAMETRES/UAJ: the school is unknown',
      'PARAMETRES/UAJ',
    );
  }

  const byKey = new Map<string, Occupancy>();
  for (const raw of cours) {
    const occupancy = resolve(raw, alternances, warnings);
    if (!occupancy) continue;
    const key = [
      occupancy.day,
      occupancy.start,
      occupancy.end,
      occupancy.room ?? '',
      occupancy.weeks.join(','),
    ].join('|');
    const same = byKey.get(key);
    if (!same) {
      byKey.set(key, occupancy);
      continue;
    }
    for (const a of occupancy.alternances) same.alternances.add(a);
    for (const s of occupancy.subjects) same.subjects.add(s);
    for (const t of occupancy.teachers) same.teachers.add(t);
    for (const g of occupancy.groups) same.groups.add(g);
  }

  const rooms = new Map<string, Room>();
  const lessons: Lesson[] = [];
  for (const o of byKey.values()) {
    if (o.room && !rooms.has(o.room)) rooms.set(o.room, { id: o.room, name: o.room });
    const lesson: Lesson = {
      id: `sts-${o.day}-${o.start}-${o.end}-${o.room ?? 'sans-salle'}-${[...o.alternances].sort().join('+')}`,
      rooms: o.room ? [o.room] : [],
      day: o.day,
      start: o.start,
      end: o.end,
      weeks: o.weeks,
    };
    if (o.subjects.size > 0) lesson.subject = [...o.subjects].join(' / ');
    if (o.teachers.size > 0) lesson.teachers = [...o.teachers];
    if (o.groups.size > 0) lesson.groups = [...o.groups];
    lessons.push(lesson);
  }

  const timetable: Timetable = {
    format: TIMETABLE_FORMAT,
    uai: normaliseUai(uai),
    timezone: 'Europe/Paris',
    rooms: [...rooms.values()],
    lessons,
    cancellations: [],
    events: [],
    source: { format: 'sts', software: 'STS-web (EDT_STS)' },
  };
  return { timetable, warnings };
};

function checkRoot(e: XmlElement): void {
  if (e.name === ROOT) return;
  if (e.name === DOWNWARD_ROOT) {
    throw InputError.of(
      'sts-downward-file',
      'this is the downward STS file (STS_EDT, sts_emp_…): it holds no times or rooms; send the upward EDT_STS file (emp_sts_…)',
      `line ${e.line}, ${e.name}`,
      'unsupported',
    );
  }
  throw InputError.of(
    'sts-root-unknown',
    `the root element is ${e.name}, not ${ROOT}: not an STS-web upward file`,
    `line ${e.line}, ${e.name}`,
    'unsupported',
  );
}

function requiredAttribute(e: XmlElement, name: string): string {
  const value = e.attributes[name]?.trim();
  if (!value) {
    throw InputError.of(
      'sts-missing-code',
      `${e.name} needs a ${name} attribute`,
      `line ${e.line}, ${e.name}`,
    );
  }
  return value;
}

function isCoursField(name: string): name is CoursField {
  return (COURS_FIELDS as readonly string[]).includes(name);
}

function addWeek(alternance: Alternance | undefined, text: string, e: XmlElement, warnings: Problem[]): void {
  if (!alternance) return;
  const where = `line ${e.line}, ALTERNANCE/SEMAINES/DATE_DEBUT_SEMAINE`;
  const date = text.trim();
  if (!isIsoDate(date)) {
    throw InputError.of('sts-bad-date', `DATE_DEBUT_SEMAINE "${date}" is not a date yyyy-mm-dd`, where);
  }
  const monday = mondayOf(date);
  if (monday !== date) {
    warnings.push({
      code: 'sts-week-not-monday',
      message: `week date ${date} is not a Monday; the week of Monday ${monday} is used`,
      where,
    });
  }
  alternance.mondays.add(monday);
}

function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  // Round-trip through a UTC date: 2025-02-30 comes back as 2025-03-02 and is refused.
  return addDays(text, 0) === text;
}

function resolve(raw: RawCours, alternances: Map<string, Alternance>, warnings: Problem[]): Occupancy | null {
  const field = (name: CoursField, required: boolean): Field | undefined => {
    const value = raw.fields[name];
    if (required && !value?.text) {
      throw InputError.of('sts-cours-incomplete', `COURS has no ${name}`, `line ${raw.line}, COURS`);
    }
    return value?.text ? value : undefined;
  };
  const alternanceField = field('CODE_ALTERNANCE', true) as Field;
  const dayField = field('JOUR', true) as Field;
  const startField = field('HEURE_DEBUT', true) as Field;
  const durationField = field('DUREE', true) as Field;
  const room = field('CODE_SALLE', false)?.text;

  const alternance = alternances.get(alternanceField.text);
  if (!alternance) {
    throw InputError.of(
      'sts-alternance-unknown',
      `CODE_ALTERNANCE "${alternanceField.text}" is not declared under ALTERNANCES`,
      `line ${alternanceField.line}, COURS/CODE_ALTERNANCE`,
    );
  }
  const day = Number(dayField.text);
  if (!/^\d$/.test(dayField.text) || day < 1 || day > 7) {
    throw InputError.of(
      'sts-bad-day',
      `JOUR must be 1 (lundi) to 7, not "${dayField.text}"`,
      `line ${dayField.line}, COURS/JOUR`,
    );
  }
  const start = clockMinutes(startField, 'HEURE_DEBUT', 23);
  const duration = clockMinutes(durationField, 'DUREE', 99);
  if (duration === 0) {
    throw InputError.of(
      'sts-bad-time',
      'DUREE is 0000: a course must last',
      `line ${durationField.line}, COURS/DUREE`,
    );
  }
  const end = start + duration;
  if (end >= MINUTES_PER_DAY) {
    throw InputError.of(
      'sts-bad-time',
      `HEURE_DEBUT ${startField.text} + DUREE ${durationField.text} runs past midnight`,
      `line ${durationField.line}, COURS/DUREE`,
    );
  }
  if (alternance.mondays.size === 0) {
    warnings.push({
      code: 'sts-alternance-empty',
      message: `ALTERNANCE ${alternanceField.text} lists no week: this COURS never meets and is skipped`,
      where: `line ${raw.line}, COURS`,
    });
    return null;
  }
  return {
    day,
    start: formatMinutes(start),
    end: formatMinutes(end),
    room,
    weeks: [...alternance.mondays].sort(),
    alternances: new Set([alternanceField.text]),
    subjects: new Set(raw.subject ? [raw.subject] : []),
    teachers: new Set(raw.teacher ? [raw.teacher] : []),
    groups: new Set(raw.group ? [raw.group] : []),
  };
}

/** `HHMM` (or `HH:MM`) → minutes since 00:00; hours up to `maxHours`, minutes up to 59. */
function clockMinutes(field: Field, name: string, maxHours: number): number {
  const match = /^(\d{1,2}):?(\d{2})$/.exec(field.text);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > maxHours || minutes > 59) {
    throw InputError.of(
      'sts-bad-time',
      `${name} "${field.text}" is not a time HHMM (hours 00–${maxHours}, minutes 00–59)`,
      `line ${field.line}, COURS/${name}`,
    );
  }
  return hours * 60 + minutes;
}

function formatMinutes(total: number): string {
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}
