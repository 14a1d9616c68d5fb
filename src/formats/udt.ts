/**
 * UDT (UnDeuxTemps, Axess) export: a zip of `UDCal_NN.xml` files, to the normalised timetable.
 * @see docs/formats.md, "UDT (UnDeuxTemps, Axess)" (parts and their attributes), "Worked examples",
 *   "Edge cases every reader handles"
 *
 * Parts read (found by file name, any case, in any folder of the zip; root element names vary, so
 * only the names of the data elements are matched):
 * - `UDCal_24` school year: `debut_eleve`, `fin_eleve` (dd/MM/yyyy, as text or attribute),
 *   `fermeture @debut @fin` closures. `UDCal_00` `init @premiere_semaine_ISO`. `semaines.xml`
 *   `semaine @num`: the published ISO weeks.
 * - `UDCal_03` rooms, `UDCal_05` subjects (optional, for labels), `UDCal_07` half-sequences,
 *   `UDCal_11` grid cells, `UDCal_12` the theoretical lines, `UDCal_12_NN` the lines of ISO week NN.
 * - Pupils (`UDCal_21`) and people (`UDCal_04`) are never opened.
 *
 * Choices that the sources leave open, decided here:
 * - The theoretical timetable applies to every week of the pupils' year; a week that has its own
 *   published `UDCal_12_NN` (NN listed in semaines.xml) takes that file's lines instead, for that
 *   week only. A `UDCal_12_NN` whose week is not published is ignored with a warning.
 * - A date is a school day when it lies in [debut_eleve, fin_eleve] and in no `fermeture`; weeks
 *   are dropped per lesson by the date the lesson falls on, so a one-day closure only removes the
 *   lessons of that day.
 * - ISO week NN belongs to the first calendar year of the school year when NN ≥ the first week
 *   (`premiere_semaine_ISO`, else the ISO week of debut_eleve), to the next one otherwise; a week
 *   53 in a 52-week year is refused with a warning.
 * - Lines of one group (div, mat, prof, rgpmt, gpe, salle) on the same day and site merge into one
 *   lesson when their half-sequences touch (08:00–08:30 + 08:30–09:00 → 08:00–09:00) or overlap.
 *   Lines on either side of a recess stay two lessons: half-sequence codes can run on across the
 *   lunch break, and bridging short gaps is the energy rules' decision, not the reader's.
 * - Lines with an empty `div` are kept (entcore drops them; they are real bookings of a room).
 * - Room id = trimmed `nom` (as for EDT); a `salle` code missing from UDCal_03 is kept as a room
 *   named by its code, with a warning. Lesson id = `udt-<first line code>`, plus `-s<NN>` for the
 *   lines of week NN, plus `#2`… if a code repeats.
 */
import { DateTime } from 'luxon';
import { addDays, mondayOf } from '../domain/dates.js';
import { InputError, type Problem } from '../domain/problems.js';
import { inputLimits, type ReaderOptions, type ReadResult, type TimetableReader } from '../domain/reader.js';
import { type Lesson, type Room, TIMETABLE_FORMAT, type Timetable } from '../domain/timetable.js';
import { normaliseUai } from '../domain/uai.js';
import { readXml, type XmlElement, type XmlGuards, xmlGuards } from './xml.js';
import { readZipEntries } from './zip.js';

/** A part of the export: its name inside the zip and its bytes. */
interface Part {
  name: string;
  bytes: Uint8Array;
  /** Bounds and the warnings list of this read (`readUdt` sets them on every part). */
  guards?: XmlGuards;
}

interface HalfSequence {
  start: string;
  end: string;
}

interface Cell {
  day: number;
  site: string;
  halfSequence: string;
}

interface Line {
  code: string;
  cell: string;
  div: string;
  mat: string;
  prof: string;
  salle: string;
  rgpmt: string;
  gpe: string;
  where: string;
}

/** A line placed in time, ready to merge with its neighbours. */
interface PlacedLine extends Line {
  day: number;
  site: string;
  start: string;
  end: string;
}

interface SchoolYear {
  start: string;
  end: string;
  closures: { start: string; end: string }[];
}

const PART_NAME = /^(?:udcal_(\d{2})(?:_(\d{1,2}))?|semaines)\.xml$/i;
const UAI_IN_NAME = /(?<!\d)(\d{7}[A-Za-z])/;
const PLACEHOLDER_SUBJECT = '***';

export const readUdt: TimetableReader = (bytes: Uint8Array, options: ReaderOptions = {}): ReadResult => {
  const uai = uaiOf(options);
  const limits = inputLimits(options);
  const parts = indexParts(
    readZipEntries(bytes, { maxEntries: limits.maxZipEntries, maxTotalBytes: limits.maxUncompressedBytes }),
  );
  const warnings: Problem[] = [];
  for (const part of parts.values()) part.guards = xmlGuards(options, warnings, part.name);

  const year = readSchoolYear(required(parts, 'udcal_24.xml'));
  const firstWeek = readFirstWeek(parts.get('udcal_00.xml'), warnings);
  const published = readPublishedWeeks(parts.get('semaines.xml'));
  const roomsByCode = readRooms(required(parts, 'udcal_03.xml'), warnings);
  const subjects = readSubjects(parts.get('udcal_05.xml'));
  const halfSequences = readHalfSequences(required(parts, 'udcal_07.xml'), warnings);
  const cells = readCells(required(parts, 'udcal_11.xml'));
  const theoretical = readLines(required(parts, 'udcal_12.xml'));

  // Week files first: the weeks they cover are taken out of the theoretical timetable.
  const weekFiles: { week: number; monday: string; lines: Line[] }[] = [];
  for (const [key, part] of parts) {
    const match = /^udcal_12_(\d{1,2})\.xml$/.exec(key);
    if (!match) continue;
    const week = Number(match[1]);
    if (published === null || !published.has(week)) {
      warnings.push({
        code: 'udt-week-unpublished',
        message: `ISO week ${week} is not listed in semaines.xml; its lines are ignored`,
        where: part.name,
      });
      continue;
    }
    const monday = mondayOfIsoWeek(week, firstWeek ?? isoWeekOf(year.start), year.start);
    if (!monday) {
      warnings.push({
        code: 'udt-week-invalid',
        message: `ISO week ${week} does not exist in the school year starting ${year.start}; its lines are ignored`,
        where: part.name,
      });
      continue;
    }
    weekFiles.push({ week, monday, lines: readLines(part) });
  }
  weekFiles.sort((a, b) => a.week - b.week);

  const builder = new LessonBuilder(roomsByCode, subjects, cells, halfSequences, warnings);
  const replaced = new Set(weekFiles.map((w) => w.monday));
  const allMondays: string[] = [];
  for (let monday = mondayOf(year.start); monday <= year.end; monday = addDays(monday, 7)) {
    allMondays.push(monday);
  }
  builder.add(theoretical, '', (day) =>
    allMondays.filter((m) => !replaced.has(m) && isSchoolDay(year, addDays(m, day - 1))),
  );
  for (const file of weekFiles) {
    builder.add(file.lines, `-s${file.week}`, (day) =>
      isSchoolDay(year, addDays(file.monday, day - 1)) ? [file.monday] : [],
    );
  }

  const timetable: Timetable = {
    format: TIMETABLE_FORMAT,
    uai,
    school_year: { start: year.start, end: year.end },
    timezone: 'Europe/Paris',
    rooms: builder.rooms(),
    lessons: builder.lessons,
    cancellations: [],
    events: [],
    source: { format: 'udt', software: 'UnDeuxTemps' },
  };
  return { timetable, warnings };
};

/** The zip carries no UAI: the file name does (`0679999E_udt.zip`), else the caller's. */
function uaiOf(options: ReaderOptions): string {
  const fromName = options.fileName ? UAI_IN_NAME.exec(baseName(options.fileName))?.[1] : undefined;
  const uai = fromName ?? options.expectedUai;
  if (!uai) {
    throw InputError.of(
      'uai-missing',
      'a UDT zip holds no UAI: name the file after it (0679999E_udt.zip) or give the UAI',
      options.fileName ?? 'file name',
    );
  }
  return normaliseUai(uai);
}

function indexParts(entries: Map<string, Uint8Array>): Map<string, Part> {
  const parts = new Map<string, Part>();
  for (const [name, bytes] of entries) {
    const key = baseName(name).toLowerCase();
    if (!PART_NAME.test(key)) continue;
    const other = parts.get(key);
    if (other) {
      throw InputError.of(
        'udt-duplicate-part',
        `the zip holds ${baseName(name)} twice (${other.name} and ${name})`,
        name,
      );
    }
    parts.set(key, { name, bytes });
  }
  return parts;
}

function required(parts: Map<string, Part>, key: string): Part {
  const part = parts.get(key);
  if (!part) {
    throw InputError.of(
      'udt-part-missing',
      `the zip has no ${key.replace('udcal', 'UDCal')}: not a complete UDT export`,
      key.replace('udcal', 'UDCal'),
    );
  }
  return part;
}

/** Streams one part, prefixing every location with the part's name. */
function readPart(
  part: Part,
  handlers: {
    open?: (e: XmlElement, where: string) => void;
    close?: (e: XmlElement, text: string, where: string) => void;
  },
): void {
  const at = (e: XmlElement) => `${part.name}, line ${e.line}, ${e.name}`;
  try {
    readXml(
      part.bytes,
      {
        ...(handlers.open ? { open: (e: XmlElement) => handlers.open?.(e, at(e)) } : {}),
        ...(handlers.close
          ? { close: (e: XmlElement, text: string) => handlers.close?.(e, text, at(e)) }
          : {}),
      },
      part.guards ? { guards: part.guards } : {},
    );
  } catch (error) {
    if (!(error instanceof InputError) || error.problems.some((p) => p.where.startsWith(part.name)))
      throw error;
    throw new InputError(
      error.problems.map((p) => ({ ...p, where: `${part.name}, ${p.where}` })),
      error.kind,
    );
  }
}

function readSchoolYear(part: Part): SchoolYear {
  let start: string | undefined;
  let end: string | undefined;
  const closures: SchoolYear['closures'] = [];
  readPart(part, {
    open(e, where) {
      if (e.name === 'fermeture') {
        const from = parseDate(e.attributes['debut'], 'debut', where);
        const to = parseDate(e.attributes['fin'], 'fin', where);
        if (to < from)
          throw InputError.of('udt-bad-date', `fermeture ends (${to}) before it starts (${from})`, where);
        closures.push({ start: from, end: to });
      }
      if (e.attributes['debut_eleve'] !== undefined)
        start = parseDate(e.attributes['debut_eleve'], 'debut_eleve', where);
      if (e.attributes['fin_eleve'] !== undefined)
        end = parseDate(e.attributes['fin_eleve'], 'fin_eleve', where);
    },
    close(e, text, where) {
      if (e.name === 'debut_eleve') start = parseDate(text, 'debut_eleve', where);
      if (e.name === 'fin_eleve') end = parseDate(text, 'fin_eleve', where);
    },
  });
  if (!start || !end) {
    throw InputError.of(
      'udt-year-missing',
      `${baseName(part.name)} gives no ${start ? 'fin_eleve' : 'debut_eleve'}: the school year is unknown`,
      part.name,
    );
  }
  if (end < start) {
    throw InputError.of('udt-bad-date', `fin_eleve ${end} comes before debut_eleve ${start}`, part.name);
  }
  return { start, end, closures };
}

function readFirstWeek(part: Part | undefined, warnings: Problem[]): number | null {
  if (!part) return null;
  let week: number | null = null;
  readPart(part, {
    open(e, where) {
      const text = e.name === 'init' ? e.attributes['premiere_semaine_ISO'] : undefined;
      if (text === undefined) return;
      const value = Number(text.trim());
      if (Number.isInteger(value) && value >= 1 && value <= 53) {
        week = value;
      } else {
        warnings.push({
          code: 'udt-bad-week',
          message: `premiere_semaine_ISO "${text}" is not an ISO week; the week of debut_eleve is used`,
          where,
        });
      }
    },
  });
  return week;
}

/** Published ISO weeks, or null when the zip has no semaines.xml. */
function readPublishedWeeks(part: Part | undefined): Set<number> | null {
  if (!part) return null;
  const weeks = new Set<number>();
  readPart(part, {
    open(e, where) {
      if (e.name !== 'semaine') return;
      const value = Number(e.attributes['num']?.trim());
      if (!Number.isInteger(value) || value < 1 || value > 53) {
        throw InputError.of(
          'udt-bad-week',
          `semaine num "${e.attributes['num'] ?? ''}" is not an ISO week`,
          where,
        );
      }
      weeks.add(value);
    },
  });
  return weeks;
}

function readRooms(part: Part, warnings: Problem[]): Map<string, Room> {
  const byCode = new Map<string, Room>();
  const lineById = new Map<string, string>();
  readPart(part, {
    open(e, where) {
      if (e.name !== 'salle') return;
      const code = e.attributes['code']?.trim() ?? '';
      if (!code) {
        warnings.push({
          code: 'room-no-code',
          message: 'a salle without code cannot be referenced; skipped',
          where,
        });
        return;
      }
      let name = e.attributes['nom']?.trim() ?? '';
      if (!name) {
        name = code;
        warnings.push({
          code: 'room-no-name',
          message: `salle ${code} has no nom; it is named "${code}"`,
          where,
        });
      }
      let id = name;
      const first = lineById.get(name);
      if (first !== undefined) {
        let n = 2;
        while (lineById.has(`${name} (${n})`)) n++;
        id = `${name} (${n})`;
        warnings.push({
          code: 'room-duplicate-name',
          message: `two rooms are named "${name}" (${first} and here); this one gets the id "${id}"`,
          where,
        });
      }
      lineById.set(id, `line ${e.line}`);
      byCode.set(code, { id, name });
    },
  });
  return byCode;
}

function readSubjects(part: Part | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  if (!part) return labels;
  readPart(part, {
    open(e) {
      const code = e.attributes['code']?.trim();
      const label = e.attributes['libelle']?.trim();
      if (e.name === 'mat' && code && label) labels.set(code, label);
    },
  });
  return labels;
}

function readHalfSequences(part: Part, warnings: Problem[]): Map<string, HalfSequence> {
  const byKey = new Map<string, HalfSequence>();
  readPart(part, {
    open(e, where) {
      if (e.name !== 'demi_seq') return;
      const a = e.attributes;
      const key = cellKey(a['code_jour'], a['code'], a['code_site']);
      const startText = a['hre_deb']?.trim() ?? '';
      const endText = a['hre_fin']?.trim() ?? '';
      if (!startText || !endText) {
        warnings.push({
          code: 'udt-half-sequence-empty',
          message: `demi_seq ${a['code'] ?? ''} of day ${a['code_jour'] ?? ''} has no ${startText ? 'hre_fin' : 'hre_deb'}; skipped`,
          where,
        });
        return;
      }
      const start = parseClock(startText, 'hre_deb', where);
      const end = parseClock(endText, 'hre_fin', where);
      if (end <= start) {
        throw InputError.of('udt-bad-time', `demi_seq ends at ${end}, not after its start ${start}`, where);
      }
      byKey.set(key, { start, end });
    },
  });
  return byKey;
}

function readCells(part: Part): Map<string, Cell> {
  const byCode = new Map<string, Cell>();
  readPart(part, {
    open(e, where) {
      if (e.name !== 'fiche') return;
      const a = e.attributes;
      const code = a['code']?.trim() ?? '';
      const day = Number(a['jour']?.trim());
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        throw InputError.of(
          'udt-bad-day',
          `fiche jour must be 1 (Monday) to 7, not "${a['jour'] ?? ''}"`,
          where,
        );
      }
      const halfSequence = cellKey(a['jour'], a['demi_seq'], a['site']);
      byCode.set(code, { day, site: normaliseCode(a['site']), halfSequence });
    },
  });
  return byCode;
}

function readLines(part: Part): Line[] {
  const lines: Line[] = [];
  readPart(part, {
    open(e, where) {
      if (e.name !== 'ligfiche') return;
      const value = (name: string) => e.attributes[name]?.trim() ?? '';
      lines.push({
        code: value('code'),
        cell: value('fic'),
        div: value('div'),
        mat: value('mat'),
        prof: value('prof'),
        salle: value('salle'),
        rgpmt: value('rgpmt'),
        gpe: value('gpe'),
        where,
      });
    },
  });
  return lines;
}

/** Turns lines into merged lessons; collects the rooms they use. */
class LessonBuilder {
  readonly lessons: Lesson[] = [];
  private readonly usedIds = new Set<string>();
  private readonly unknownRooms = new Map<string, Room>();

  constructor(
    private readonly roomsByCode: Map<string, Room>,
    private readonly subjects: Map<string, string>,
    private readonly cells: Map<string, Cell>,
    private readonly halfSequences: Map<string, HalfSequence>,
    private readonly warnings: Problem[],
  ) {}

  add(lines: Line[], idSuffix: string, weeksOf: (day: number) => string[]): void {
    const groups = new Map<string, PlacedLine[]>();
    for (const line of lines) {
      const placed = this.place(line);
      if (!placed) continue;
      const key = [
        line.div,
        line.mat,
        line.prof,
        line.rgpmt,
        line.gpe,
        line.salle,
        placed.day,
        placed.site,
      ].join('\u0001');
      const group = groups.get(key);
      if (group) group.push(placed);
      else groups.set(key, [placed]);
    }
    for (const group of groups.values()) {
      group.sort((a, b) => a.start.localeCompare(b.start) || a.code.localeCompare(b.code));
      let run: PlacedLine[] = [];
      for (const line of group) {
        const last = run.at(-1);
        if (last && !follows(last, line)) {
          this.emit(run, idSuffix, weeksOf);
          run = [];
        }
        run.push(line);
      }
      if (run.length > 0) this.emit(run, idSuffix, weeksOf);
    }
  }

  rooms(): Room[] {
    return [...this.roomsByCode.values(), ...this.unknownRooms.values()];
  }

  private place(line: Line): PlacedLine | null {
    const cell = this.cells.get(line.cell);
    if (!cell) {
      this.warnings.push({
        code: 'udt-cell-unknown',
        message: `ligfiche ${line.code} points at fiche "${line.cell}", which UDCal_11 does not declare; skipped`,
        where: line.where,
      });
      return null;
    }
    const sequence = this.halfSequences.get(cell.halfSequence);
    if (!sequence) {
      this.warnings.push({
        code: 'udt-half-sequence-unknown',
        message: `ligfiche ${line.code} sits in fiche ${line.cell}, whose half-sequence has no times in UDCal_07; skipped`,
        where: line.where,
      });
      return null;
    }
    return { ...line, day: cell.day, site: cell.site, start: sequence.start, end: sequence.end };
  }

  private emit(run: PlacedLine[], idSuffix: string, weeksOf: (day: number) => string[]): void {
    const first = run[0];
    if (!first) return;
    const weeks = weeksOf(first.day);
    if (weeks.length === 0) return;
    // HH:MM strings sort as times.
    const end =
      run
        .map((line) => line.end)
        .sort()
        .at(-1) ?? first.end;
    const lesson: Lesson = {
      id: this.uniqueId(`udt-${first.code || first.cell}${idSuffix}`),
      rooms: first.salle ? [this.roomId(first.salle, first.where)] : [],
      day: first.day,
      start: first.start,
      end,
      weeks,
    };
    if (first.mat && first.mat !== PLACEHOLDER_SUBJECT)
      lesson.subject = this.subjects.get(first.mat) ?? first.mat;
    if (first.prof) lesson.teachers = [first.prof];
    const groups = [
      ...(first.div ? [first.div] : []),
      ...(first.gpe ? [first.div ? `${first.div} Gr ${first.gpe}` : first.gpe] : []),
      ...(first.rgpmt && first.rgpmt !== '0' ? [`regroupement ${first.rgpmt}`] : []),
    ];
    if (groups.length > 0) lesson.groups = groups;
    this.lessons.push(lesson);
  }

  private roomId(code: string, where: string): string {
    const known = this.roomsByCode.get(code) ?? this.unknownRooms.get(code);
    if (known) return known.id;
    const room: Room = { id: code, name: code };
    this.unknownRooms.set(code, room);
    this.warnings.push({
      code: 'room-undeclared',
      message: `salle "${code}" is not declared in UDCal_03; it is kept as a room named "${code}"`,
      where,
    });
    return room.id;
  }

  private uniqueId(base: string): string {
    let id = base;
    for (let n = 2; this.usedIds.has(id); n++) id = `${base}#${n}`;
    this.usedIds.add(id);
    return id;
  }
}

/** Half-sequences that touch or overlap (`next` starts no later than `previous` ends). */
function follows(previous: PlacedLine, next: PlacedLine): boolean {
  return next.start <= previous.end;
}

function isSchoolDay(year: SchoolYear, date: string): boolean {
  if (date < year.start || date > year.end) return false;
  return !year.closures.some((c) => date >= c.start && date <= c.end);
}

function isoWeekOf(date: string): number {
  return DateTime.fromISO(date, { zone: 'utc' }).weekNumber;
}

/**
 * Monday of ISO week `week` in the school year starting `yearStart`: weeks from `firstWeek` on
 * are in the ISO year of the start, earlier ones in the next (docs/formats.md, "Edge cases every reader handles", 5). Null when that
 * ISO year has no such week (53 in a 52-week year).
 */
function mondayOfIsoWeek(week: number, firstWeek: number, yearStart: string): string | null {
  const startYear = DateTime.fromISO(yearStart, { zone: 'utc' }).weekYear;
  const weekYear = week >= firstWeek ? startYear : startYear + 1;
  const monday = DateTime.fromObject({ weekYear, weekNumber: week, weekday: 1 }, { zone: 'utc' });
  if (!monday.isValid || monday.weekNumber !== week) return null;
  return monday.toISODate();
}

/** `dd/MM/yyyy` → `yyyy-MM-dd`. */
function parseDate(text: string | undefined, field: string, where: string): string {
  const match = text === undefined ? null : /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
  const date = match
    ? DateTime.fromObject(
        { year: Number(match[3]), month: Number(match[2]), day: Number(match[1]) },
        { zone: 'utc' },
      )
    : null;
  if (!date?.isValid) {
    throw InputError.of('udt-bad-date', `${field} "${text ?? ''}" is not a date dd/MM/yyyy`, where);
  }
  return date.toISODate() as string;
}

/** `08h00` (also `8h00`, `08:00`) → `08:00`. */
function parseClock(text: string, field: string, where: string): string {
  const match = /^(\d{1,2})\s*[hH:]\s*(\d{2})$/.exec(text);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 23 || minutes > 59) {
    throw InputError.of('udt-bad-time', `${field} "${text}" is not a time like 08h00`, where);
  }
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

/** Codes are numbers written with or without leading zeros (`1`, `01`): compare them as numbers. */
function normaliseCode(text: string | undefined): string {
  const value = text?.trim() ?? '';
  return /^\d+$/.test(value) ? String(Number(value)) : value;
}

function cellKey(
  day: string | undefined,
  halfSequence: string | undefined,
  site: string | undefined,
): string {
  return [normaliseCode(day), normaliseCode(halfSequence), normaliseCode(site)].join('|');
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
