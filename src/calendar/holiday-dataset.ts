/**
 * Reads the official school-holiday dataset `fr-en-calendrier-scolaire` (data.education.gouv.fr)
 * as the files it is exported in, for `scope-energie calendar import FILE`:
 * - CSV, `;`-separated, with a header naming description;population;start_date;end_date;
 *   location;zones;annee_scolaire (any order; only description, start_date, end_date and zones
 *   are required);
 * - JSON: the explore API export (an array of records), a records answer (`{results: […]}`) or
 *   the older `{records: [{fields}]}` shape;
 * - ICS: the per-zone calendar (`Zone-B.ics`), one VEVENT per period with all-day DTSTART and
 *   DTEND and a SUMMARY such as "Vacances de la Toussaint - Zone B" or "… - Zones A/B/C".
 * Pure: bytes in, periods out; bad files raise InputError naming the file and the line or path.
 */
import { DateTime } from 'luxon';
import { InputError } from '../domain/problems.js';
import { decodeText } from '../formats/encoding.js';
import { dayNumberOf, dayNumberOfIso, isoOfDayNumber } from './day-number.js';
import { type HolidayPeriod, isSchoolZone, type SchoolZone } from './holiday-period.js';

/** The dataset serialises Paris midnights in UTC; dates are taken in this zone (docs/calendar.md, "Holidays"). */
const DATASET_TIMEZONE = 'Europe/Paris';

interface RawRecord {
  description: string;
  population: string;
  start: string;
  end: string;
  zones: string;
  schoolYear: string;
  /** For error messages: `line 4` or `$[3]`. */
  where: string;
}

export function parseHolidayDataset(bytes: Uint8Array, fileName: string): HolidayPeriod[] {
  const { text } = decodeText(bytes);
  const body = text.replace(/^\uFEFF/, '');
  const head = body.trimStart();
  let records: RawRecord[];
  if (head.startsWith('BEGIN:VCALENDAR')) records = readIcs(body, fileName);
  else if (head.startsWith('[') || head.startsWith('{')) records = readJson(body, fileName);
  else if (/^[^\r\n]*;[^\r\n]*start_date/i.test(head)) records = readCsv(body, fileName);
  else
    throw InputError.of(
      'holiday-file-unsupported',
      'expected the fr-en-calendrier-scolaire dataset as CSV (;-separated, with a header), JSON or ICS',
      fileName,
      'unsupported',
    );
  const periods = normalise(records);
  if (periods.length === 0)
    throw InputError.of(
      'holiday-file-empty',
      'the file holds no pupils’ holiday period of zone A, B or C',
      fileName,
    );
  return periods;
}

// ---------------------------------------------------------------- CSV

function splitCsvLine(line: string, where: () => string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ';') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw InputError.of('holiday-csv-quote', 'a quoted field is not closed', where(), 'malformed');
  fields.push(field);
  return fields;
}

function readCsv(text: string, fileName: string): RawRecord[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '', () => `${fileName} line 1`).map((h) => h.trim().toLowerCase());
  const column = (name: string, required: boolean): number => {
    const at = header.indexOf(name);
    if (at < 0 && required)
      throw InputError.of(
        'holiday-csv-column',
        `the header has no "${name}" column (found: ${header.join(', ')})`,
        `${fileName} line 1`,
        'malformed',
      );
    return at;
  };
  const cols = {
    description: column('description', true),
    population: column('population', false),
    start: column('start_date', true),
    end: column('end_date', true),
    zones: column('zones', true),
    schoolYear: column('annee_scolaire', false),
  };
  const records: RawRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const where = `${fileName} line ${i + 1}`;
    const fields = splitCsvLine(line, () => where);
    if (fields.length < header.length)
      throw InputError.of(
        'holiday-csv-fields',
        `expected ${header.length} fields separated by ";", found ${fields.length}`,
        where,
        'malformed',
      );
    const at = (index: number) => (index >= 0 ? (fields[index] ?? '').trim() : '');
    records.push({
      description: at(cols.description),
      population: at(cols.population),
      start: at(cols.start),
      end: at(cols.end),
      zones: at(cols.zones),
      schoolYear: at(cols.schoolYear),
      where,
    });
  }
  return records;
}

// ---------------------------------------------------------------- JSON

function readJson(text: string, fileName: string): RawRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw InputError.of('holiday-json-syntax', (error as Error).message, fileName, 'malformed');
  }
  let list: unknown[];
  let path: string;
  if (Array.isArray(data)) [list, path] = [data, '$'];
  else if (isObject(data) && Array.isArray(data.results)) [list, path] = [data.results, '$.results'];
  else if (isObject(data) && Array.isArray(data.records)) [list, path] = [data.records, '$.records'];
  else
    throw InputError.of(
      'holiday-json-shape',
      'expected an array of records, {results: [...]} or {records: [...]}',
      `${fileName} $`,
    );
  return list.map((item, i) => {
    const where = `${fileName} ${path}[${i}]`;
    // The older API nests each record's values under `fields`.
    const record = isObject(item) && isObject(item.fields) ? item.fields : item;
    if (!isObject(record)) throw InputError.of('holiday-json-record', 'a record must be an object', where);
    const text = (key: string, required: boolean): string => {
      const value = record[key];
      if (typeof value === 'string') return value.trim();
      if (value === undefined || value === null) {
        if (required) throw InputError.of('holiday-json-field', `"${key}" is missing`, `${where}.${key}`);
        return '';
      }
      throw InputError.of('holiday-json-field', `"${key}" must be a string`, `${where}.${key}`);
    };
    return {
      description: text('description', true),
      population: text('population', false),
      start: text('start_date', true),
      end: text('end_date', true),
      zones: text('zones', true),
      schoolYear: text('annee_scolaire', false),
      where,
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------- ICS

function readIcs(text: string, fileName: string): RawRecord[] {
  // Unfold continuation lines (RFC 5545 §3.1) while remembering each logical line's first line.
  const physical = text.split(/\r?\n/);
  const lines: Array<{ text: string; line: number }> = [];
  physical.forEach((raw, i) => {
    const last = lines[lines.length - 1];
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && last) last.text += raw.slice(1);
    else lines.push({ text: raw, line: i + 1 });
  });
  const fromFile = /Zone[-_ ]?([ABC])\b/i.exec(fileName)?.[1]?.toUpperCase() ?? '';
  const records: RawRecord[] = [];
  let event: { props: Map<string, string>; line: number } | null = null;
  for (const { text: line, line: number } of lines) {
    if (line === 'BEGIN:VEVENT') {
      event = { props: new Map(), line: number };
      continue;
    }
    if (line === 'END:VEVENT' && event) {
      const where = `${fileName} line ${event.line}`;
      const summary = unescapeIcs(event.props.get('SUMMARY') ?? '');
      const start = event.props.get('DTSTART');
      const end = event.props.get('DTEND') ?? start;
      if (!start || !end)
        throw InputError.of('holiday-ics-dates', 'a VEVENT needs DTSTART (and DTEND)', where, 'malformed');
      // "Vacances de la Toussaint - Zones A/B/C": the zones after the last " - ".
      const dash = summary.lastIndexOf(' - ');
      const zonesText = dash >= 0 ? summary.slice(dash + 3) : unescapeIcs(event.props.get('LOCATION') ?? '');
      const zones = /^Zones? [ABC]/.test(zonesText) ? zonesText : fromFile ? `Zone ${fromFile}` : zonesText;
      records.push({
        description: dash >= 0 ? summary.slice(0, dash).trim() : summary.trim(),
        population: /enseignants/i.test(summary) ? 'Enseignants' : '-',
        start: icsDate(start, `${where}, DTSTART`),
        end: icsDate(end, `${where}, DTEND`),
        zones,
        schoolYear: '',
        where,
      });
      event = null;
      continue;
    }
    if (!event) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = (line.slice(0, colon).split(';')[0] ?? '').toUpperCase();
    event.props.set(name, line.slice(colon + 1).trim());
  }
  return records;
}

function icsDate(value: string, where: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(value);
  if (!match)
    throw InputError.of('holiday-ics-date', `"${value}" is not an iCalendar date`, where, 'malformed');
  const [, y, m, d] = match;
  return `${y}-${m}-${d}`;
}

function unescapeIcs(text: string): string {
  return text.replace(/\\([,;\\nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? ' ' : c));
}

// ---------------------------------------------------------------- normalisation

/** Europe/Paris local date of a dataset date: `2026-10-16T22:00:00+00:00` → `2026-10-17`. */
function localDate(value: string, where: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(dayNumberOfIso(value))) return value;
  const instant = DateTime.fromISO(value, { setZone: true });
  if (!instant.isValid || !/[T ]\d{2}:\d{2}/.test(value))
    throw InputError.of('holiday-date', `"${value}" is neither a date nor an ISO instant`, where);
  // An instant without offset is already local wall-clock time.
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const local = hasOffset ? instant.setZone(DATASET_TIMEZONE) : instant;
  return local.toISODate() ?? '';
}

function zonesOf(text: string): SchoolZone[] {
  const match = /^Zones? ([ABC](?:\s*[/,]\s*[ABC])*)$/i.exec(text.trim());
  if (!match?.[1]) return [];
  return match[1]
    .split(/[/,]/)
    .map((z) => z.trim().toUpperCase())
    .filter(isSchoolZone);
}

function schoolYearOf(record: RawRecord, start: string): string {
  const given = /^(\d{4})-(\d{4})$/.exec(record.schoolYear);
  if (given && Number(given[2]) === Number(given[1]) + 1) return record.schoolYear;
  // A school year runs from September to the next summer; a period starting before August
  // belongs to the year that began the September before.
  const year = Number(start.slice(0, 4));
  return Number(start.slice(5, 7)) >= 8 ? `${year}-${year + 1}` : `${year - 1}-${year}`;
}

const SUMMER = "Vacances d'Été";

function normalise(records: RawRecord[]): HolidayPeriod[] {
  const periods = new Map<string, HolidayPeriod>();
  const summerMarkers: HolidayPeriod[] = [];
  for (const record of records) {
    // Teachers-only rows ("Enseignants": summer appears twice, prérentrée) do not close classes.
    if (/enseignants/i.test(record.population) || /enseignants/i.test(record.description)) continue;
    const description = record.description;
    const isMarker = /^D[ée]but des vacances d'[ée]t[ée]/i.test(description);
    if (!isMarker && !/^(vacances|pont)/i.test(description)) continue; // e.g. "Rentrée scolaire des élèves"
    const zones = zonesOf(record.zones);
    if (zones.length === 0) continue; // Corse and overseas: not in the A/B/C calendar
    const start = localDate(record.start, `${record.where} start_date`);
    const end = localDate(record.end, `${record.where} end_date`);
    let startDay = dayNumberOfIso(start);
    let endDay = dayNumberOfIso(end);
    if (endDay < startDay)
      throw InputError.of(
        'holiday-period-reversed',
        `end_date ${end} is before start_date ${start}`,
        `${record.where} end_date`,
      );
    const schoolYear = schoolYearOf(record, start);
    let name = description;
    if (isMarker) {
      // Only the start of the summer is known: closed until 31 August, since the rentrée is
      // "au plus tôt le 1er septembre" (national calendar rule since 2015).
      name = SUMMER;
      endDay = dayNumberOf(Number(start.slice(0, 4)), 9, 1);
    } else if (startDay === endDay) {
      // The dataset gives some one-day bridges (2026-2027 Pont de l'Ascension) as the same date
      // twice: that date is the day without classes.
      startDay -= 1;
      endDay += 1;
    }
    for (const zone of zones) {
      const period: HolidayPeriod = {
        zone,
        schoolYear,
        name,
        start: isoOfDayNumber(startDay),
        end: isoOfDayNumber(endDay),
      };
      if (isMarker) summerMarkers.push(period);
      else periods.set(`${zone}|${schoolYear}|${name}|${period.start}|${period.end}`, period);
    }
  }
  // A marker only stands in for a summer row the file does not have.
  for (const marker of summerMarkers) {
    const known = [...periods.values()].some(
      (p) => p.zone === marker.zone && p.schoolYear === marker.schoolYear && p.name === SUMMER,
    );
    if (!known) periods.set(`${marker.zone}|${marker.schoolYear}|${SUMMER}|marker`, marker);
  }
  return [...periods.values()].sort(
    (a, b) => a.zone.localeCompare(b.zone) || a.start.localeCompare(b.start) || a.end.localeCompare(b.end),
  );
}
