/**
 * EDT (Index Education) clear export, `ExportEmploiDuTemps`, to the normalised timetable.
 * One streaming pass (saxes through readXml): declarations are kept as small maps, each `Cours`
 * becomes lessons as soon as it closes, and nothing under `Eleves` is ever read.
 * @see docs/formats.md, "EDT (Index Education): clear export" (structure, dating, real-world shape),
 *   "Worked examples", "Edge cases every reader handles"
 *
 * Choices that the sources leave open, decided here:
 * - Room id = the trimmed `Nom`: `Ident` is unique only within one file and changes between
 *   exports, while users map rooms in `devices/{uai}.yaml` by something they can read. Two rooms
 *   with the same name: the first keeps the name, the next ones get ` (2)`, ` (3)`… in
 *   declaration order, with a `room-duplicate-name` warning.
 * - Lesson id: `cours-<Ident|Numero>` when a newer export numbers its Cours, otherwise the content
 *   key `J<Jour>P<NumeroPlaceDebut>:<Matiere Code>:<first room name or ->`, plus `#2`, `#3`… for
 *   repeats in file order. A Cours split by room-week sets yields `<key>@<room names joined by +>`
 *   and `<key>@sans-salle` for its room-less weeks; an unsplit Cours keeps `<key>`.
 * - `DatePremierJourSemaine1` that is not a Monday: week k is anchored on the Monday of that week
 *   (a warning says so), because `weeks` holds Monday dates and `Jour` 1 is Monday.
 * - A Cours whose items carry no week at all (100 of 704 in the real 2013 export) stays as a lesson
 *   with `weeks: []`: it is in the source, never occurs, and one warning counts them.
 * - Cancelled weeks (`SemainesAnnulation`) stay in `weeks` and are listed in `cancellations`, so the
 *   view can show them and the calendar subtracts them.
 */
import { InputError, type Problem } from '../domain/problems.js';
import type { ReaderOptions, ReadResult, TimetableReader } from '../domain/reader.js';
import {
  type Cancellation,
  type DayGrid,
  type Lesson,
  type Room,
  TIMETABLE_FORMAT,
  type Timetable,
} from '../domain/timetable.js';
import { normaliseUai } from '../domain/uai.js';
import { readXml, type XmlElement, xmlGuards } from './xml.js';

const ROOT = 'ExportEmploiDuTemps';
const DAY_MS = 86_400_000;
/** Weeks are bits 1..63 of an unsignedLong (docs/formats.md, "EDT … Dating"; bit 0 is never used). */
const MAX_WEEK_BIT = 63;
const MAX_UNSIGNED_LONG = (1n << 64n) - 1n;
/** The one empty list of names that lessons share (shared(): nothing mutates it). */
const NO_NAMES: string[] = [];

/** A 64-bit week mask as two unsigned 32-bit halves: unions stay on plain numbers. */
interface Mask {
  hi: number;
  lo: number;
}

interface Place {
  numero: number;
  start: string;
  end: string;
}

interface Declared {
  name: string;
  line: number;
}

/** The Cours being read: resolved names and per-room masks, nothing else. */
interface OpenCours {
  line: number;
  day: number;
  firstPlace: number;
  placeCount: number;
  sourceId: string | undefined;
  cancelled: Mask | undefined;
  subject: string | undefined;
  subjectKey: string | undefined;
  teachers: string[];
  groups: string[];
  /** Room id → union of its Salle items' masks, in first-appearance order. */
  rooms: Map<string, Mask>;
  /** Rooms of Salle items without `Semaines` (required by the XSD): busy whenever the Cours meets. */
  roomsAllWeeks: Set<string>;
  union: Mask;
}

export const readEdt: TimetableReader = (bytes: Uint8Array, options: ReaderOptions = {}): ReadResult => {
  const reader = new EdtReader();
  const encodingWarnings: Problem[] = [];
  readXml(
    bytes,
    { open: (e) => reader.open(e), close: (e, text) => reader.close(e, text) },
    {
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      guards: xmlGuards(options, encodingWarnings),
    },
  );
  const result = reader.finish();
  // readXml counts decoded characters against bytes, which stays under 1 with multi-byte text.
  options.onProgress?.(1);
  return { ...result, warnings: [...encodingWarnings, ...result.warnings] };
};

class EdtReader {
  private readonly warnings: Problem[] = [];
  private rootSeen = false;
  private rootLine = 1;
  private uai: string | undefined;
  private schoolYear: { start: string; end: string } | undefined;
  /** Monday of school week k at index k (index 0 unused). */
  private mondays: string[] | undefined;
  private gridSeen = false;
  private readonly gridDays: number[] = [];
  private readonly places: Place[] = [];
  private placeByNumero = new Map<number, number>();

  private readonly subjects = new Map<string, { label: string | undefined; key: string; line: number }>();
  private readonly teachers = new Map<string, Declared>();
  private readonly classes = new Map<string, Declared>();
  /** PartieDeClasse Ident → the name of the Classe that declares it (the XSD gives parts no name). */
  private readonly classParts = new Map<string, Declared>();
  private readonly groups = new Map<string, Declared>();
  /** Salle Ident → room id. */
  private readonly roomIds = new Map<string, string>();
  private readonly rooms: Room[] = [];
  private readonly roomLineByName = new Map<string, number>();
  private currentClassName: string | undefined;

  private readonly lessons: Lesson[] = [];
  private readonly cancellations: Cancellation[] = [];
  private readonly usedLessonKeys = new Map<string, number>();
  private cours: OpenCours | undefined;
  private readonly weekLessLines: number[] = [];

  private readonly maskCache = new Map<string, Mask>();
  /** Lists of names (rooms, teachers, groups) by their names joined with NUL: see shared(). */
  private readonly lists = new Map<string, string[]>();
  /** Mask halves (hi, then lo) → Monday dates: no key string per lookup. */
  private readonly weeksCache = new Map<number, Map<number, string[]>>();

  open(e: XmlElement): void {
    const depth = e.path.length;
    if (depth === 0) {
      if (e.name !== ROOT) {
        throw InputError.of(
          'edt-not-export',
          `the root element is <${e.name}>, not <${ROOT}>: this is not an EDT clear export`,
          `line ${e.line}, ${e.name}`,
        );
      }
      this.rootSeen = true;
      this.rootLine = e.line;
      const uai = e.attributes['UAI'];
      if (uai?.trim()) this.uai = normaliseUai(uai);
      return;
    }
    const section = e.path[1];
    // Pupils and their parents are personal data with no use here: not a single attribute is read.
    if (section === 'Eleves' || (depth === 1 && e.name === 'Eleves')) return;
    if (depth === 1) {
      if (e.name === 'AnneeScolaire') this.readYear(e);
      else if (e.name === 'GrilleHoraire') this.gridSeen = true;
      return;
    }
    if (depth === 2) {
      this.openDeclaration(section, e);
      return;
    }
    if (section === 'GrilleHoraire') {
      if (depth === 3 && e.name === 'Place' && e.path[2] === 'PlacesParJour') this.readPlace(e);
      return;
    }
    if (section === 'Cours' && depth === 3 && this.cours) {
      this.readCoursItem(this.cours, e);
      return;
    }
    if (section === 'Classes' && depth === 3 && e.name === 'PartieDeClasse' && this.currentClassName) {
      const ident = e.attributes['Ident']?.trim();
      if (ident && !this.classParts.has(ident)) {
        this.classParts.set(ident, { name: this.currentClassName, line: e.line });
      }
    }
  }

  close(e: XmlElement, text: string): void {
    const depth = e.path.length;
    if (depth === 3 && e.name === 'Jour' && e.path[1] === 'GrilleHoraire' && e.path[2] === 'JoursOuvres') {
      const day = Number(text.trim());
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        throw InputError.of(
          'edt-bad-grid',
          `a working day must be 1 (Monday) to 7, not "${text.trim()}"`,
          `line ${e.line}, JoursOuvres/Jour`,
        );
      }
      if (!this.gridDays.includes(day)) this.gridDays.push(day);
      return;
    }
    if (depth === 2 && e.path[1] === 'Classes' && e.name === 'Classe') {
      this.currentClassName = undefined;
      return;
    }
    if (depth === 2 && e.path[1] === 'Cours' && e.name === 'Cours' && this.cours) {
      this.emitCours(this.cours);
      this.cours = undefined;
    }
  }

  finish(): ReadResult {
    if (!this.rootSeen) {
      throw InputError.of('edt-not-export', `the document has no <${ROOT}> root`, 'line 1');
    }
    if (!this.schoolYear || !this.mondays) throw missingYear(`line ${this.rootLine}, ${ROOT}`);
    if (this.weekLessLines.length > 0) {
      const lines = this.weekLessLines;
      const shown = lines.slice(0, 5).join(', ') + (lines.length > 5 ? ', …' : '');
      this.warnings.push({
        code: 'cours-no-weeks',
        message: `${lines.length} Cours carry no week in any item (lines ${shown}); kept with no weeks, they never occur`,
        where: `line ${lines[0]}, Cours`,
      });
    }
    const grid: DayGrid | undefined = this.gridSeen
      ? {
          days: [...this.gridDays].sort((a, b) => a - b),
          places: this.sortedPlaces().map((p) => ({ start: p.start, end: p.end })),
        }
      : undefined;
    const timetable: Timetable = {
      format: TIMETABLE_FORMAT,
      ...(this.uai ? { uai: this.uai } : {}),
      school_year: this.schoolYear,
      timezone: 'Europe/Paris',
      ...(grid ? { grid } : {}),
      rooms: this.rooms,
      lessons: this.lessons,
      cancellations: this.cancellations,
      events: [],
      source: { format: 'edt', software: 'EDT' },
    };
    return { timetable, warnings: this.warnings };
  }

  // ——— year and grid ———

  private readYear(e: XmlElement): void {
    const where = `line ${e.line}, AnneeScolaire`;
    const start = parseDate(e.attributes['DateDebut'], 'DateDebut', where);
    const end = parseDate(e.attributes['DateFin'], 'DateFin', where);
    let week1 = parseDate(e.attributes['DatePremierJourSemaine1'], 'DatePremierJourSemaine1', where);
    const weekday = isoWeekday(week1);
    if (weekday !== 1) {
      const monday = addDays(week1, 1 - weekday);
      this.warnings.push({
        code: 'edt-week1-not-monday',
        message: `DatePremierJourSemaine1 ${week1} is not a Monday; school weeks are anchored on Monday ${monday}`,
        where,
      });
      week1 = monday;
    }
    if (end < start) {
      throw InputError.of('edt-bad-year', `DateFin ${end} is before DateDebut ${start}`, where);
    }
    this.schoolYear = { start, end };
    const mondays: string[] = [''];
    for (let k = 1; k <= MAX_WEEK_BIT; k++) mondays.push(addDays(week1, (k - 1) * 7));
    this.mondays = mondays;
  }

  private readPlace(e: XmlElement): void {
    const where = `line ${e.line}, PlacesParJour/Place`;
    const numero = Number(e.attributes['Numero']);
    if (!Number.isInteger(numero) || numero < 0) {
      throw InputError.of('edt-bad-grid', `Place needs a Numero ≥ 0, not "${e.attributes['Numero']}"`, where);
    }
    if (this.placeByNumero.has(numero)) {
      throw InputError.of('edt-bad-grid', `Place Numero ${numero} is declared twice`, where);
    }
    const start = parseClock(e.attributes['LibelleHeureDebut'], 'LibelleHeureDebut', where);
    const end = parseClock(e.attributes['LibelleHeureFin'], 'LibelleHeureFin', where);
    this.places.push({ numero, start, end });
    this.placeByNumero.set(numero, this.places.length - 1);
  }

  private sortedPlaces(): Place[] {
    return [...this.places].sort((a, b) => a.numero - b.numero);
  }

  // ——— declarations ———

  private openDeclaration(section: string | undefined, e: XmlElement): void {
    const ident = e.attributes['Ident']?.trim();
    switch (`${section}/${e.name}`) {
      case 'Matieres/Matiere': {
        if (!ident || this.subjects.has(ident)) {
          this.duplicateIdent(e, ident);
          return;
        }
        const label =
          (e.attributes['Libelle'] ?? '').trim() || (e.attributes['Code'] ?? '').trim() || undefined;
        const key = (e.attributes['Code'] ?? '').trim() || `matiere-${ident}`;
        this.subjects.set(ident, { label, key, line: e.line });
        return;
      }
      case 'Professeurs/Professeur': {
        if (!ident || this.teachers.has(ident)) {
          this.duplicateIdent(e, ident);
          return;
        }
        const name = `${(e.attributes['Prenom'] ?? '').trim()} ${(e.attributes['Nom'] ?? '').trim()}`.trim();
        this.teachers.set(ident, { name: name || `professeur-${ident}`, line: e.line });
        return;
      }
      case 'Classes/Classe': {
        if (!ident || this.classes.has(ident)) {
          this.duplicateIdent(e, ident);
          return;
        }
        const name = (e.attributes['Nom'] ?? '').trim() || `classe-${ident}`;
        this.classes.set(ident, { name, line: e.line });
        this.currentClassName = name;
        return;
      }
      case 'Groupes/Groupe': {
        if (!ident || this.groups.has(ident)) {
          this.duplicateIdent(e, ident);
          return;
        }
        this.groups.set(ident, {
          name: (e.attributes['Nom'] ?? '').trim() || `groupe-${ident}`,
          line: e.line,
        });
        return;
      }
      case 'Salles/Salle':
        this.declareRoom(e, ident);
        return;
      case 'Cours/Cours':
        this.cours = this.openCours(e);
        return;
      default:
        return;
    }
  }

  private duplicateIdent(e: XmlElement, ident: string | undefined): void {
    this.warnings.push({
      code: 'edt-duplicate-ident',
      message: ident
        ? `${e.name} Ident ${ident} is declared twice; the first declaration is used`
        : `${e.name} has no Ident and cannot be referenced; ignored`,
      where: `line ${e.line}, ${e.path[1]}/${e.name}`,
    });
  }

  private declareRoom(e: XmlElement, ident: string | undefined): void {
    if (!ident || this.roomIds.has(ident)) {
      this.duplicateIdent(e, ident);
      return;
    }
    const where = `line ${e.line}, Salles/Salle`;
    let name = (e.attributes['Nom'] ?? '').trim();
    if (!name) {
      name = `salle-${ident}`;
      this.warnings.push({
        code: 'room-no-name',
        message: `Salle Ident ${ident} has no Nom; it is named "${name}"`,
        where,
      });
    }
    let id = name;
    const firstLine = this.roomLineByName.get(name);
    if (firstLine !== undefined) {
      let n = 2;
      while (this.roomLineByName.has(`${name} (${n})`)) n++;
      id = `${name} (${n})`;
      this.warnings.push({
        code: 'room-duplicate-name',
        message: `two rooms are named "${name}" (lines ${firstLine} and ${e.line}); this one gets the id "${id}"`,
        where,
      });
    }
    this.roomLineByName.set(id, e.line);
    this.roomIds.set(ident, id);
    this.rooms.push({ id, name });
  }

  // ——— Cours ———

  private openCours(e: XmlElement): OpenCours {
    if (!this.mondays) throw missingYear(at(e));
    if (!this.gridSeen || this.places.length === 0) {
      throw InputError.of('edt-missing-grid', 'a Cours comes before any GrilleHoraire place', at(e));
    }
    const day = Number(e.attributes['Jour']);
    const firstPlace = Number(e.attributes['NumeroPlaceDebut']);
    const placeCount = Number(e.attributes['NombrePlaces']);
    if (!Number.isInteger(day) || day < 1 || day > 7) {
      throw InputError.of(
        'edt-bad-cours',
        `Jour must be 1 (Monday) to 7, not "${e.attributes['Jour']}"`,
        at(e),
      );
    }
    if (!Number.isInteger(firstPlace) || !this.placeByNumero.has(firstPlace)) {
      throw InputError.of(
        'place-not-in-grid',
        `NumeroPlaceDebut "${e.attributes['NumeroPlaceDebut']}" is not a place of the GrilleHoraire`,
        at(e),
      );
    }
    if (!Number.isInteger(placeCount) || placeCount < 1) {
      throw InputError.of(
        'edt-bad-cours',
        `NombrePlaces must be a whole number ≥ 1, not "${e.attributes['NombrePlaces']}"`,
        at(e),
      );
    }
    if (!this.gridDays.includes(day) && this.gridDays.length > 0) {
      this.warnings.push({
        code: 'day-not-in-grid',
        message: `Jour ${day} is not a working day of the GrilleHoraire; the Cours is kept`,
        where: at(e),
      });
    }
    const cancelledText = e.attributes['SemainesAnnulation'];
    const cancelled = cancelledText === undefined ? undefined : this.mask(cancelledText, e);
    const sourceId = (e.attributes['Ident'] ?? e.attributes['Numero'])?.trim() || undefined;
    return {
      line: e.line,
      day,
      firstPlace,
      placeCount,
      sourceId,
      cancelled,
      subject: undefined,
      subjectKey: undefined,
      teachers: [],
      groups: [],
      rooms: new Map(),
      roomsAllWeeks: new Set(),
      union: { hi: 0, lo: 0 },
    };
  }

  private readCoursItem(cours: OpenCours, e: XmlElement): void {
    const ident = identOf(e);
    if (e.name === 'Matiere') {
      const subject = this.subjects.get(ident);
      if (!subject) {
        throw InputError.of(
          'subject-undeclared',
          `Matiere Ident "${ident}" is not declared under Matieres`,
          at(e),
        );
      }
      cours.subject ??= subject.label;
      cours.subjectKey ??= subject.key;
      return;
    }
    const weeksText = e.attributes['Semaines'];
    // Items without weeks (Matiere above, or unknown newer elements) do not make the Cours meet.
    const mask = weeksText === undefined ? undefined : this.mask(weeksText, e);
    if (mask) {
      cours.union.hi = (cours.union.hi | mask.hi) >>> 0;
      cours.union.lo = (cours.union.lo | mask.lo) >>> 0;
    }
    switch (e.name) {
      case 'Salle': {
        const id = this.roomIds.get(ident);
        if (id === undefined) {
          throw InputError.of(
            'room-undeclared',
            `Salle Ident "${ident}" is not declared under Salles`,
            at(e),
          );
        }
        if (!mask) {
          cours.roomsAllWeeks.add(id);
          this.warnings.push({
            code: 'edt-missing-weeks',
            message: `this Salle has no Semaines; the room is taken as busy in every week the Cours meets`,
            where: at(e),
          });
        }
        const known = cours.rooms.get(id);
        const m = mask ?? { hi: 0, lo: 0 };
        if (known) cours.rooms.set(id, { hi: (known.hi | m.hi) >>> 0, lo: (known.lo | m.lo) >>> 0 });
        else cours.rooms.set(id, m);
        return;
      }
      case 'Professeur':
        this.addName(cours.teachers, this.teachers.get(ident), e, ident);
        return;
      case 'Classe':
        this.addName(cours.groups, this.classes.get(ident), e, ident);
        return;
      case 'PartieDeClasse':
        this.addName(cours.groups, this.classParts.get(ident), e, ident);
        return;
      case 'Groupe':
        this.addName(cours.groups, this.groups.get(ident), e, ident);
        return;
      default:
        return;
    }
  }

  private addName(list: string[], declared: Declared | undefined, e: XmlElement, ident: string): void {
    if (!declared) {
      this.warnings.push({
        code: 'resource-undeclared',
        message: `${e.name} Ident "${ident}" is not declared; it is left out of the lesson`,
        where: `line ${e.line}, Cours/${e.name}`,
      });
      return;
    }
    if (!list.includes(declared.name)) list.push(declared.name);
  }

  private emitCours(cours: OpenCours): void {
    const { start, end } = this.timesOf(cours);
    const firstRoom = cours.rooms.keys().next().value;
    const key = this.uniqueKey(
      cours.sourceId !== undefined
        ? `cours-${cours.sourceId}`
        : `J${cours.day}P${cours.firstPlace}:${cours.subjectKey ?? '-'}:${firstRoom ?? '-'}`,
    );

    // One part per distinct room-week set: a room is busy only in its own Salle item's weeks.
    // Parts are found by a scan (a Cours has a few rooms), masks compared as numbers.
    const parts: { mask: Mask; rooms: string[] }[] = [];
    let roomedHi = 0;
    let roomedLo = 0;
    for (const [room, own] of cours.rooms) {
      const mask = cours.roomsAllWeeks.has(room) ? cours.union : own;
      roomedHi |= mask.hi;
      roomedLo |= mask.lo;
      if (mask.hi === 0 && mask.lo === 0) continue;
      const part = parts.find((p) => p.mask.hi === mask.hi && p.mask.lo === mask.lo);
      if (part) part.rooms.push(room);
      else parts.push({ mask, rooms: [room] });
    }
    const roomless: Mask = {
      hi: (cours.union.hi & ~roomedHi) >>> 0,
      lo: (cours.union.lo & ~roomedLo) >>> 0,
    };
    if (roomless.hi !== 0 || roomless.lo !== 0) parts.push({ mask: roomless, rooms: [] });
    if (parts.length === 0) {
      this.weekLessLines.push(cours.line);
      parts.push({ mask: { hi: 0, lo: 0 }, rooms: [...cours.rooms.keys()] });
    }

    for (const part of parts) {
      const id =
        parts.length === 1 ? key : `${key}@${part.rooms.length > 0 ? part.rooms.join('+') : 'sans-salle'}`;
      const lesson: Lesson = {
        id,
        rooms: this.shared(part.rooms),
        day: cours.day,
        start,
        end,
        weeks: this.weeksOf(part.mask),
      };
      if (cours.subject !== undefined) lesson.subject = cours.subject;
      if (cours.teachers.length > 0) lesson.teachers = this.shared(cours.teachers);
      if (cours.groups.length > 0) lesson.groups = this.shared(cours.groups);
      this.lessons.push(lesson);
      if (cours.cancelled) this.cancel(id, cours.day, part.mask, cours.cancelled);
    }
  }

  /**
   * One array per distinct list of names: a teacher's or a class's list recurs in many lessons,
   * and an array grown by `push` holds room for 17 names (V8's first growth), so sharing exact-size
   * lists is most of the memory of a 100k-lesson timetable (docs/performance.md, "ENTRÉE import").
   * Nothing mutates a timetable's lists once read.
   */
  private shared(list: string[]): string[] {
    if (list.length === 0) return NO_NAMES;
    const key = list.length === 1 ? (list[0] as string) : list.join('\u0000');
    const known = this.lists.get(key);
    if (known && known.length === list.length) return known;
    const copy = list.slice();
    this.lists.set(key, copy);
    return copy;
  }

  private timesOf(cours: OpenCours): { start: string; end: string } {
    const first = this.places[this.placeByNumero.get(cours.firstPlace) as number] as Place;
    const lastNumero = cours.firstPlace + cours.placeCount - 1;
    const lastIndex = this.placeByNumero.get(lastNumero);
    let last: Place;
    if (lastIndex !== undefined) {
      last = this.places[lastIndex] as Place;
    } else {
      const gridLast = this.lastPlace();
      if (lastNumero < gridLast.numero) {
        throw InputError.of(
          'place-not-in-grid',
          `the Cours ends on place ${lastNumero}, which the GrilleHoraire does not declare`,
          `line ${cours.line}, Cours`,
        );
      }
      last = gridLast;
      this.warnings.push({
        code: 'place-out-of-grid',
        message: `the Cours runs to place ${lastNumero}, past the last place ${gridLast.numero}; it is cut at ${gridLast.end}`,
        where: `line ${cours.line}, Cours`,
      });
    }
    if (last.end <= first.start) {
      throw InputError.of(
        'edt-bad-grid',
        `the Cours would end at ${last.end}, not after its start ${first.start}: check the GrilleHoraire labels`,
        `line ${cours.line}, Cours`,
      );
    }
    return { start: first.start, end: last.end };
  }

  private lastPlace(): Place {
    let last = this.places[0] as Place;
    for (const p of this.places) if (p.numero > last.numero) last = p;
    return last;
  }

  private cancel(lesson: string, day: number, weeks: Mask, cancelled: Mask): void {
    const hi = (weeks.hi & cancelled.hi) >>> 0;
    const lo = (weeks.lo & cancelled.lo) >>> 0;
    if (hi === 0 && lo === 0) return;
    for (const monday of this.weeksOf({ hi, lo })) {
      this.cancellations.push({ lesson, date: addDays(monday, day - 1) });
    }
  }

  private uniqueKey(base: string): string {
    const seen = this.usedLessonKeys.get(base);
    if (seen === undefined) {
      this.usedLessonKeys.set(base, 1);
      return base;
    }
    let n = seen + 1;
    while (this.usedLessonKeys.has(`${base}#${n}`)) n++;
    this.usedLessonKeys.set(base, n);
    const key = `${base}#${n}`;
    this.usedLessonKeys.set(key, 1);
    return key;
  }

  // ——— week masks (cached: real files repeat a few dozen distinct masks thousands of times) ———

  /** `e` is the element carrying the mask: a Cours (SemainesAnnulation) or one of its items. */
  private mask(text: string, e: XmlElement): Mask {
    const cached = this.maskCache.get(text);
    if (cached) return cached;
    const where = at(e);
    const digits = text.trim();
    if (!/^\d{1,20}$/.test(digits)) {
      throw InputError.of(
        'edt-bad-mask',
        `a week mask must be an unsigned 64-bit integer, not "${text}"`,
        where,
      );
    }
    const value = BigInt(digits);
    if (value > MAX_UNSIGNED_LONG) {
      throw InputError.of('edt-bad-mask', `the week mask ${digits} does not fit in 64 bits`, where);
    }
    if (value & 1n) {
      this.warnings.push({
        code: 'edt-mask-bit0',
        message: `the week mask ${digits} sets bit 0, which is no school week; that bit is ignored`,
        where,
      });
    }
    const mask: Mask = { hi: Number(value >> 32n) >>> 0, lo: (Number(value & 0xffffffffn) & ~1) >>> 0 };
    this.maskCache.set(text, mask);
    return mask;
  }

  /** Monday dates of the mask's weeks. The array is shared between lessons with the same weeks. */
  private weeksOf(mask: Mask): string[] {
    let byLo = this.weeksCache.get(mask.hi);
    if (!byLo) {
      byLo = new Map();
      this.weeksCache.set(mask.hi, byLo);
    }
    const cached = byLo.get(mask.lo);
    if (cached) return cached;
    const mondays = this.mondays as string[];
    const weeks: string[] = [];
    for (let k = 1; k <= MAX_WEEK_BIT; k++) {
      const set = k < 32 ? (mask.lo >>> k) & 1 : (mask.hi >>> (k - 32)) & 1;
      if (set) weeks.push(mondays[k] as string);
    }
    byLo.set(mask.lo, weeks);
    return weeks;
  }
}

/**
 * `line N, Cours` or `line N, Cours/Salle`: built only when a problem is reported, since the Cours
 * handlers run for every item of a 100k-Cours export.
 */
function at(e: XmlElement): string {
  return e.path.length === 2 ? `line ${e.line}, Cours` : `line ${e.line}, Cours/${e.name}`;
}

function identOf(e: XmlElement): string {
  const ident = e.attributes['Ident'];
  return ident === undefined ? '' : ident.length > 0 && ident.trim() !== ident ? ident.trim() : ident;
}

function missingYear(where: string): InputError {
  return InputError.of(
    'edt-missing-year',
    'the export has no AnneeScolaire with DatePremierJourSemaine1, so its week masks cannot be dated',
    where,
  );
}

/** xs:date, optionally with a time zone suffix (ignored: these are calendar dates). */
function parseDate(text: string | undefined, attribute: string, where: string): string {
  if (text === undefined) {
    throw InputError.of('edt-missing-year', `AnneeScolaire has no ${attribute}`, where);
  }
  const date = /^\s*(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?\s*$/.exec(text)?.[1];
  if (!date || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw InputError.of('edt-bad-year', `${attribute} "${text}" is not a date YYYY-MM-DD`, where);
  }
  return date;
}

/** `08:00:00` (xs:time) or `08:00` → `08:00`. */
function parseClock(text: string | undefined, attribute: string, where: string): string {
  const match =
    text === undefined ? null : /^\s*([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?\s*$/.exec(text);
  if (!match) {
    throw InputError.of('edt-bad-grid', `${attribute} "${text ?? ''}" is not a time HH:MM:SS`, where);
  }
  return `${match[1]}:${match[2]}`;
}

/** Calendar arithmetic on UTC midnights: no time zone is involved, so days are exactly 24 h. */
function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function isoWeekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}
