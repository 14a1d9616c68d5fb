/**
 * iCalendar (RFC 5545) feeds, such as Pronote's `Edt.ics` and `exportSalles.ics`, to the
 * normalised timetable. ical.js parses the text and expands RRULEs; every date-time is turned
 * into an instant here, from its own zone (UTC `Z`, `TZID`, or floating = the school's), then into
 * the school's local date and wall-clock time with luxon, so DST is handled by the tz database.
 * @see docs/formats.md, "ICS feeds", "Worked examples" and "Edge cases every reader handles" (DST)
 *
 * Choices that the sources leave open, decided here:
 * - Occurrences with the same weekday, start, end and rooms are one lesson with several `dates`
 *   (a compact timetable); their subjects, teachers and groups are merged. Lesson id =
 *   `ics-<day>-<start>-<end>-<rooms joined by + or sans-salle>`, stable across exports.
 * - Seconds are rounded outwards (start down, end up to the minute): the room is booked meanwhile.
 * - An occurrence that ends on a later local day (across midnight, or several days) cannot be a
 *   lesson (wall-clock times within a day): it becomes a one-off `events` entry with its exact
 *   instants, or is dropped with `ics-event-no-room` when it has no room (events need one).
 * - RRULEs are expanded over two years from DTSTART (two school years), with
 *   `ics-recurrence-truncated` when the rule goes on. Within that window one rule may yield at
 *   most `entree.max_occurrences_per_rule` occurrences, and the whole file
 *   `entree.max_occurrences`: past either, the import is refused at once (422
 *   `ics-rule-too-many-occurrences`, `too-many-occurrences`). Sub-daily rules (SECONDLY, MINUTELY,
 *   HOURLY) are refused before any expansion: lessons do not recur within a day, and 1,000 such
 *   events once froze the service for 37 s. ical.js's iterator is stopped as soon as a candidate
 *   passes the window, even one its filters reject, so an impossible rule
 *   (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31`) costs two years of days, not forever. EXDATE removes an
 *   occurrence by instant (UTC, TZID or floating), or, in the all-day form `VALUE=DATE` that some
 *   producers write for timed events, every occurrence on that local date.
 * - A RECURRENCE-ID override replaces its occurrence; STATUS:CANCELLED on an override removes the
 *   occurrence, on a master the whole series (and its overrides). An override whose occurrence
 *   is not found (or whose master is absent) is kept as a standalone occurrence.
 * - An event that ends before it starts is skipped with `ics-event-ends-before-start` naming it.
 * - All-day events (`DTSTART;VALUE=DATE`) are holidays or notes, not room bookings: skipped, with
 *   one `ics-all-day-ignored` warning that counts them.
 * - Room = LOCATION (one name, trimmed), else the DESCRIPTION line `Salle(s) : A, B` (Pronote's
 *   "Clé : valeur" lines); subject = `Matière`, else SUMMARY; teachers = `Professeur(s)`;
 *   groups = `Groupe(s)` and `Classe(s)`.
 * - UAI: a valid UAI found in X-WR-CALNAME / X-WR-CALDESC / X-WR-RELCALID, else the caller's.
 *   School time zone: X-WR-TIMEZONE when it is an IANA zone, else Europe/Paris.
 */
import ICAL from 'ical.js';
import { DateTime, IANAZone } from 'luxon';
import { InputError, type Problem } from '../domain/problems.js';
import {
  type InputLimits,
  inputLimits,
  type ReaderOptions,
  type ReadResult,
  type TimetableReader,
} from '../domain/reader.js';
import {
  type Lesson,
  type OneOffEvent,
  type Room,
  TIMETABLE_FORMAT,
  type Timetable,
} from '../domain/timetable.js';
import { isValidUai, normaliseUai } from '../domain/uai.js';
import { decodeText } from './encoding.js';

type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalProperty = InstanceType<typeof ICAL.Property>;
type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalRecur = InstanceType<typeof ICAL.Recur>;

const DEFAULT_TIMEZONE = 'Europe/Paris';
/** RRULEs are expanded this many days from DTSTART: two school years. */
const EXPANSION_WINDOW_DAYS = 731;
const SUB_DAILY = new Set(['SECONDLY', 'MINUTELY', 'HOURLY']);

/** Thrown inside ical.js's iterator when a candidate passes the expansion window. */
class WindowPassed extends Error {}
/** Outlook writes Windows zone names in TZID; the ones a French school meets. */
const WINDOWS_ZONES: Record<string, string> = {
  'romance standard time': 'Europe/Paris',
  'w. europe standard time': 'Europe/Berlin',
  'central europe standard time': 'Europe/Budapest',
  'gmt standard time': 'Europe/London',
  utc: 'UTC',
};
const UAI_PROPERTIES = ['x-wr-calname', 'x-wr-caldesc', 'x-wr-relcalid'];

/** Where each VEVENT and its properties start, from the pre-scan (ical.js keeps no lines). */
interface EventLines {
  line: number;
  /** First line and raw value of each property name. */
  properties: Map<string, { line: number; value: string }>;
}

/** An unfolded content line and the physical line it starts on. */
interface ContentLine {
  text: string;
  line: number;
}

/** One occurrence, as instants (epoch ms). */
interface Occurrence {
  start: number;
  end: number;
  details: Details;
  /** The VEVENT it comes from, for warnings. */
  where: string;
}

interface Details {
  rooms: string[];
  subject: string | undefined;
  teachers: string[];
  groups: string[];
  label: string | undefined;
}

interface LessonDraft {
  day: number;
  start: string;
  end: string;
  rooms: string[];
  dates: Set<string>;
  subjects: Set<string>;
  teachers: Set<string>;
  groups: Set<string>;
}

/** An instant from a wall-clock time in the zone a property names. */
type Resolver = (time: IcalTime) => number;

export const readIcs: TimetableReader = (bytes: Uint8Array, options: ReaderOptions = {}): ReadResult => {
  const { text } = decodeText(bytes);
  const { events: eventLines, lines } = scan(text);
  const calendars = parseCalendars(text, lines);
  const reader = new IcsReader(calendars, eventLines, inputLimits(options));
  return reader.read(options);
};

/**
 * Checks the content-line structure with line numbers (ical.js reports none): unfolded lines are
 * `NAME[;params]:value`, BEGIN/END nest, the first component is a VCALENDAR.
 */
function scan(text: string): { events: EventLines[]; lines: ContentLine[] } {
  const physical = text.split(/\r\n|\n|\r/);
  const logical: ContentLine[] = [];
  physical.forEach((content, index) => {
    const last = logical.at(-1);
    if ((content.startsWith(' ') || content.startsWith('\t')) && last) {
      last.text += content.slice(1);
    } else if (content.trim() !== '') {
      logical.push({ text: content, line: index + 1 });
    }
  });
  const first = logical[0];
  if (!first || !/^BEGIN:VCALENDAR\s*$/i.test(first.text)) {
    throw InputError.of(
      'ics-no-vcalendar',
      'an iCalendar file starts with BEGIN:VCALENDAR',
      `line ${first?.line ?? 1}`,
      'malformed',
    );
  }
  const events: EventLines[] = [];
  const stack: { name: string; line: number }[] = [];
  let current: EventLines | undefined;
  for (const { text: content, line } of logical) {
    const name = /^([A-Za-z0-9-]+)[;:]/.exec(content)?.[1]?.toUpperCase();
    if (!name || !content.includes(':')) {
      throw InputError.of(
        'ics-malformed',
        `"${content.slice(0, 40)}" is not a content line NAME:value`,
        `line ${line}`,
        'malformed',
      );
    }
    const value = content
      .slice(content.indexOf(':') + 1)
      .trim()
      .toUpperCase();
    if (name === 'BEGIN') {
      if (stack.length === 0 && value !== 'VCALENDAR') {
        throw InputError.of(
          'ics-no-vcalendar',
          `BEGIN:${value} outside any VCALENDAR`,
          `line ${line}`,
          'malformed',
        );
      }
      // Only VEVENTs directly under a VCALENDAR, the ones ical.js lists, in the same order.
      const parent = stack.at(-1)?.name;
      stack.push({ name: value, line });
      if (value === 'VEVENT' && parent === 'VCALENDAR') {
        current = { line, properties: new Map() };
        events.push(current);
      }
    } else if (name === 'END') {
      const open = stack.pop();
      if (open?.name !== value) {
        throw InputError.of(
          'ics-malformed',
          open ? `END:${value} closes BEGIN:${open.name} of line ${open.line}` : `END:${value} without BEGIN`,
          `line ${line}`,
          'malformed',
        );
      }
      if (value === 'VEVENT') current = undefined;
    } else if (current && stack.at(-1)?.name === 'VEVENT' && !current.properties.has(name)) {
      current.properties.set(name, { line, value: content.slice(content.indexOf(':') + 1) });
    }
  }
  const unclosed = stack.at(-1);
  if (unclosed) {
    throw InputError.of(
      'ics-malformed',
      `BEGIN:${unclosed.name} is never closed (truncated file?)`,
      `line ${unclosed.line}`,
      'malformed',
    );
  }
  return { events, lines: logical };
}

function parseCalendars(text: string, lines: ContentLine[]): IcalComponent[] {
  // ical.js returns `any` for jCal; the pre-scan has already checked its shape.
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw InputError.of(
      'ics-malformed',
      `the iCalendar text cannot be parsed: ${message}`,
      lineOfParseError(lines),
      'malformed',
    );
  }
  const roots = (Array.isArray(jcal) && Array.isArray(jcal[0]) ? jcal : [jcal]) as unknown[][];
  return roots.map((root) => new ICAL.Component(root));
}

/** ical.js names no line: parse the content lines one by one to find the first it refuses. */
function lineOfParseError(lines: ContentLine[]): string {
  for (const { text, line } of lines) {
    if (/^(BEGIN|END):/i.test(text)) continue;
    try {
      ICAL.parse.property(text);
    } catch {
      return `line ${line}`;
    }
  }
  return 'document';
}

class IcsReader {
  private readonly warnings: Problem[] = [];
  private readonly zone: string;
  private readonly warnedZones = new Set<string>();
  private readonly timezones = new Map<string, IcalComponent>();
  /** Occurrences expanded so far, against `limits.maxOccurrences`. */
  private occurrenceCount = 0;

  constructor(
    private readonly calendars: IcalComponent[],
    private readonly eventLines: EventLines[],
    private readonly limits: InputLimits,
  ) {
    const declared = this.calendarProperty('x-wr-timezone')?.trim();
    this.zone = declared && IANAZone.isValidZone(declared) ? declared : DEFAULT_TIMEZONE;
    for (const calendar of calendars) {
      for (const vtimezone of calendar.getAllSubcomponents('vtimezone')) {
        const tzid = String(vtimezone.getFirstPropertyValue('tzid') ?? '');
        if (tzid) this.timezones.set(tzid, vtimezone);
      }
    }
  }

  read(options: ReaderOptions): ReadResult {
    const events = this.calendars.flatMap((c) => c.getAllSubcomponents('vevent'));
    const masters = new Map<string, { event: IcalComponent; lines: EventLines }[]>();
    const overrides: { event: IcalComponent; lines: EventLines; uid: string }[] = [];
    let allDay = 0;
    events.forEach((event, index) => {
      const lines = this.eventLines[index] ?? { line: 0, properties: new Map() };
      const uid = String(event.getFirstPropertyValue('uid') ?? `#${index}`);
      const start = this.property(event, 'dtstart', lines);
      if ((guard(lines, 'DTSTART', () => start.getFirstValue()) as IcalTime).isDate) {
        allDay++;
        return;
      }
      if (event.hasProperty('recurrence-id')) overrides.push({ event, lines, uid });
      else masters.set(uid, [...(masters.get(uid) ?? []), { event, lines }]);
    });

    const occurrences: Occurrence[] = [];
    const overridesByUid = new Map<string, typeof overrides>();
    for (const o of overrides) overridesByUid.set(o.uid, [...(overridesByUid.get(o.uid) ?? []), o]);
    for (const [uid, series] of masters) {
      for (const { event, lines } of series) {
        if (isCancelled(event)) {
          overridesByUid.delete(uid);
          continue;
        }
        const expanded = this.expand(event, lines);
        this.occurrenceCount += expanded.size;
        if (this.occurrenceCount > this.limits.maxOccurrences) {
          throw InputError.of(
            'too-many-occurrences',
            `the calendar expands to more than ${this.limits.maxOccurrences} occurrences (entree.max_occurrences)`,
            `${at(lines, 'VEVENT')}${uidText(event)}`,
            'invalid',
          );
        }
        for (const override of overridesByUid.get(uid) ?? []) {
          if (this.replaceOccurrence(expanded, override.event, override.lines)) {
            overridesByUid.set(
              uid,
              (overridesByUid.get(uid) ?? []).filter((o) => o !== override),
            );
          }
        }
        occurrences.push(...expanded.values());
      }
    }
    // Overrides whose occurrence was not found: they still happen, on their own dates.
    for (const remaining of overridesByUid.values()) {
      for (const override of remaining) {
        if (isCancelled(override.event)) continue;
        const single = this.single(override.event, override.lines);
        if (single) occurrences.push(single);
      }
    }
    if (allDay > 0) {
      this.warnings.push({
        code: 'ics-all-day-ignored',
        message: `${allDay} all-day event(s) ignored (holidays and notes do not book rooms)`,
        where: 'VCALENDAR',
      });
    }
    return { timetable: this.timetable(occurrences, options), warnings: this.warnings };
  }

  // ——— occurrences ———

  /** Every occurrence of a master event, by start instant. */
  private expand(event: IcalComponent, lines: EventLines): Map<number, Occurrence> {
    const startProperty = this.property(event, 'dtstart', lines);
    const start = guard(lines, 'DTSTART', () => startProperty.getFirstValue()) as IcalTime;
    const resolve = this.resolver(startProperty, lines);
    const duration = this.duration(event, lines, resolve(start));
    const details = describe(event);
    const starts = new Map<number, IcalTime>();
    if (duration === null) return new Map();

    starts.set(resolve(start), start);
    const rule = guard(lines, 'RRULE', () => event.getFirstPropertyValue('rrule')) as IcalRecur | null;
    if (rule) this.expandRule(rule, start, startProperty, lines, resolve, starts, uidText(event));
    for (const rdate of event.getAllProperties('rdate')) {
      const resolveRdate = this.resolver(rdate, lines);
      for (const value of guard(lines, 'RDATE', () => rdate.getValues())) {
        if (value instanceof ICAL.Time && !value.isDate) starts.set(resolveRdate(value), value);
      }
    }

    for (const exdate of event.getAllProperties('exdate')) {
      const resolveExdate = this.resolver(exdate, lines);
      for (const value of guard(lines, 'EXDATE', () => exdate.getValues())) {
        if (!(value instanceof ICAL.Time)) continue;
        if (value.isDate) {
          const date = value.toString();
          for (const instant of starts.keys()) if (this.localDate(instant) === date) starts.delete(instant);
        } else {
          starts.delete(resolveExdate(value));
        }
      }
    }
    const occurrences = new Map<number, Occurrence>();
    const where = at(lines, 'VEVENT');
    for (const instant of starts.keys()) {
      occurrences.set(instant, { start: instant, end: instant + duration, details, where });
    }
    return occurrences;
  }

  private expandRule(
    rule: IcalRecur,
    start: IcalTime,
    startProperty: IcalProperty,
    lines: EventLines,
    resolve: Resolver,
    starts: Map<number, IcalTime>,
    uid: string,
  ): void {
    const where = `${at(lines, 'RRULE')}${uid}`;
    if (SUB_DAILY.has(rule.freq)) {
      throw InputError.of(
        'ics-rule-too-many-occurrences',
        `the RRULE repeats ${rule.freq} (several times a day): lesson recurrences are daily at most`,
        where,
        'invalid',
      );
    }
    const bounded = rule.clone();
    // A UTC UNTIL is compared with wall-clock occurrences by ical.js: move it to the event's zone.
    if (
      bounded.until &&
      !bounded.until.isDate &&
      bounded.until.zone?.tzid === 'UTC' &&
      !isUtc(startProperty)
    ) {
      const wall = DateTime.fromMillis(bounded.until.toUnixTime() * 1000, {
        zone: this.zoneOf(startProperty),
      });
      bounded.until = ICAL.Time.fromData({
        year: wall.year,
        month: wall.month,
        day: wall.day,
        hour: wall.hour,
        minute: wall.minute,
        second: wall.second,
        isDate: false,
      });
    }
    const windowEnd = start.clone();
    windowEnd.adjust(EXPANSION_WINDOW_DAYS, 0, 0, 0);
    // ical.js validates the rule's parts here (e.g. BYMONTHDAY in a WEEKLY rule) with plain errors.
    const iterator = guard(lines, 'RRULE', () => bounded.iterator(start)) as ReturnType<
      IcalRecur['iterator']
    > & {
      last: IcalTime;
      check_contracting_rules(): boolean;
    };
    // ical.js loops inside next() until a candidate passes its filters, with no end for daily and
    // weekly rules that can never match: every candidate is checked here first (instance property
    // over the prototype's method), and the walk ends once one is past the window.
    const checkRules = iterator.check_contracting_rules;
    iterator.check_contracting_rules = function checkWithinWindow() {
      if (iterator.last.compare(windowEnd) > 0) throw new WindowPassed();
      return checkRules.call(iterator);
    };
    const max = this.limits.maxOccurrencesPerRule;
    let count = 0;
    const step = () => guard(lines, 'RRULE', () => iterator.next());
    try {
      for (let next = step(); next; next = step()) {
        if (next.compare(windowEnd) > 0) throw new WindowPassed();
        if (++count > max) {
          throw InputError.of(
            'ics-rule-too-many-occurrences',
            `the RRULE yields more than ${max} occurrences within ${EXPANSION_WINDOW_DAYS} days of DTSTART (entree.max_occurrences_per_rule)`,
            where,
            'invalid',
          );
        }
        starts.set(resolve(next), next);
      }
    } catch (error) {
      if (!(error instanceof WindowPassed)) throw error;
      this.warnings.push({
        code: 'ics-recurrence-truncated',
        message: `the RRULE is expanded up to ${windowEnd.toString().slice(0, 10)} (${EXPANSION_WINDOW_DAYS} days after DTSTART); later occurrences are not kept`,
        where,
      });
    }
  }

  /** Applies an override to the expanded series; false when its occurrence is not there. */
  private replaceOccurrence(
    series: Map<number, Occurrence>,
    override: IcalComponent,
    lines: EventLines,
  ): boolean {
    const idProperty = this.property(override, 'recurrence-id', lines);
    const id = guard(lines, 'RECURRENCE-ID', () => idProperty.getFirstValue()) as IcalTime;
    let matched: number | undefined;
    if (id.isDate) {
      const date = id.toString();
      matched = [...series.keys()].find((instant) => this.localDate(instant) === date);
    } else {
      const instant = this.resolver(idProperty, lines)(id);
      matched = series.has(instant) ? instant : undefined;
    }
    if (matched === undefined) return false;
    series.delete(matched);
    if (!isCancelled(override)) {
      const single = this.single(override, lines);
      if (single) series.set(single.start, single);
    }
    return true;
  }

  private single(event: IcalComponent, lines: EventLines): Occurrence | null {
    const startProperty = this.property(event, 'dtstart', lines);
    const value = guard(lines, 'DTSTART', () => startProperty.getFirstValue()) as IcalTime;
    const start = this.resolver(startProperty, lines)(value);
    const duration = this.duration(event, lines, start);
    if (duration === null) return null;
    return { start, end: start + duration, details: describe(event), where: at(lines, 'VEVENT') };
  }

  /** Exact duration in ms from DTEND or DURATION; null (with a warning) when there is none. */
  private duration(event: IcalComponent, lines: EventLines, start: number): number | null {
    const endProperty = event.getFirstProperty('dtend');
    let duration: number | null = null;
    if (endProperty) {
      const end = guard(lines, 'DTEND', () => endProperty.getFirstValue()) as IcalTime;
      duration = this.resolver(endProperty, lines)(end) - start;
    } else {
      const value = guard(lines, 'DURATION', () => event.getFirstPropertyValue('duration'));
      if (value instanceof ICAL.Duration) duration = value.toSeconds() * 1000;
    }
    if (duration !== null && duration < 0) {
      this.warnings.push({
        code: 'ics-event-ends-before-start',
        message: `the VEVENT${uidText(event)} ends before it starts; skipped`,
        where: at(lines, endProperty ? 'DTEND' : 'DURATION'),
      });
      return null;
    }
    if (duration === null || duration === 0) {
      this.warnings.push({
        code: 'ics-event-empty',
        message:
          duration === null
            ? 'the VEVENT has neither DTEND nor DURATION: it books no time and is skipped'
            : 'the VEVENT ends when it starts: it books no time and is skipped',
        where: at(lines, endProperty ? 'DTEND' : 'VEVENT'),
      });
      return null;
    }
    return duration;
  }

  // ——— zones ———

  private property(event: IcalComponent, name: string, lines: EventLines): IcalProperty {
    const property = event.getFirstProperty(name);
    if (!property) {
      throw InputError.of(
        'ics-event-incomplete',
        `the VEVENT has no ${name.toUpperCase()}`,
        at(lines, 'VEVENT'),
      );
    }
    const label = name.toUpperCase();
    const value = guard(lines, label, () => property.getFirstValue());
    if (!(value instanceof ICAL.Time) || !isValidTime(value)) {
      throw InputError.of(
        'ics-bad-date',
        `${label} "${lines.properties.get(label)?.value ?? ''}" is not a date or date-time`,
        at(lines, label),
        'malformed',
      );
    }
    return property;
  }

  /** The IANA zone a property's values are in: UTC, its TZID, or the school's (floating). */
  private zoneOf(property: IcalProperty): string {
    if (isUtc(property)) return 'UTC';
    const tzid = property.getFirstParameter('tzid');
    if (!tzid) return this.zone;
    const name = tzid.replace(/^\//, '');
    if (IANAZone.isValidZone(name)) return name;
    return WINDOWS_ZONES[name.toLowerCase()] ?? '';
  }

  private resolver(property: IcalProperty, lines: EventLines): Resolver {
    const zone = this.zoneOf(property);
    const checked = (time: IcalTime): IcalTime => {
      if (!isValidTime(time)) {
        throw InputError.of(
          'ics-bad-date',
          `${property.name.toUpperCase()} holds a value that is not a date-time`,
          at(lines, property.name.toUpperCase()),
          'malformed',
        );
      }
      return time;
    };
    const inZone = (name: string): Resolver => {
      return (time) => {
        const t = checked(time);
        return DateTime.fromObject(
          { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
          { zone: name },
        ).toMillis();
      };
    };
    if (zone) return inZone(zone);
    // A custom TZID: use its VTIMEZONE when the file has one, else the school's zone.
    const tzid = property.getFirstParameter('tzid');
    const vtimezone = this.timezones.get(tzid);
    if (vtimezone) {
      const timezone = new ICAL.Timezone(vtimezone);
      return (time) => {
        const t = checked(time);
        const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
        return wall - timezone.utcOffset(t) * 1000;
      };
    }
    if (!this.warnedZones.has(tzid)) {
      this.warnedZones.add(tzid);
      this.warnings.push({
        code: 'ics-timezone-unknown',
        message: `TZID "${tzid}" is neither an IANA zone nor defined by a VTIMEZONE; ${this.zone} is assumed`,
        where: at(lines, property.name.toUpperCase()),
      });
    }
    return inZone(this.zone);
  }

  private localDate(instant: number): string {
    return DateTime.fromMillis(instant, { zone: this.zone }).toISODate() as string;
  }

  private calendarProperty(name: string): string | undefined {
    for (const calendar of this.calendars) {
      const value = calendar.getFirstPropertyValue(name);
      if (typeof value === 'string') return value;
    }
    return undefined;
  }

  // ——— output ———

  private timetable(occurrences: Occurrence[], options: ReaderOptions): Timetable {
    occurrences.sort((a, b) => a.start - b.start || a.end - b.end);
    const rooms = new Map<string, Room>();
    const addRooms = (names: string[]) => {
      for (const name of names) if (!rooms.has(name)) rooms.set(name, { id: name, name });
    };
    const drafts = new Map<string, LessonDraft>();
    const events: OneOffEvent[] = [];
    for (const occurrence of occurrences) {
      const start = DateTime.fromMillis(occurrence.start, { zone: this.zone }).startOf('minute');
      const exactEnd = DateTime.fromMillis(occurrence.end, { zone: this.zone });
      const end = exactEnd.startOf('minute').equals(exactEnd)
        ? exactEnd
        : exactEnd.startOf('minute').plus({ minutes: 1 });
      const { rooms: roomNames, subject, teachers, groups, label } = occurrence.details;
      if (end.toISODate() !== start.toISODate()) {
        if (roomNames.length === 0) {
          this.warnings.push({
            code: 'ics-event-no-room',
            message: `an event from ${start.toISO()} to ${end.toISO()} spans midnight and has no room; skipped`,
            where: occurrence.where,
          });
          continue;
        }
        addRooms(roomNames);
        const event: OneOffEvent = {
          rooms: roomNames,
          start: new Date(occurrence.start).toISOString(),
          end: new Date(occurrence.end).toISOString(),
        };
        if (label) event.label = label;
        events.push(event);
        continue;
      }
      addRooms(roomNames);
      const day = start.weekday;
      const from = start.toFormat('HH:mm');
      const to = end.toFormat('HH:mm');
      const key = [day, from, to, ...roomNames].join('|');
      let draft = drafts.get(key);
      if (!draft) {
        draft = {
          day,
          start: from,
          end: to,
          rooms: roomNames,
          dates: new Set(),
          subjects: new Set(),
          teachers: new Set(),
          groups: new Set(),
        };
        drafts.set(key, draft);
      }
      draft.dates.add(start.toISODate() as string);
      if (subject) draft.subjects.add(subject);
      for (const t of teachers) draft.teachers.add(t);
      for (const g of groups) draft.groups.add(g);
    }

    const lessons = [...drafts.values()].map((d): Lesson => {
      const lesson: Lesson = {
        id: `ics-${d.day}-${d.start}-${d.end}-${d.rooms.join('+') || 'sans-salle'}`,
        rooms: d.rooms,
        day: d.day,
        start: d.start,
        end: d.end,
        dates: [...d.dates].sort(),
      };
      if (d.subjects.size > 0) lesson.subject = [...d.subjects].join(' / ');
      if (d.teachers.size > 0) lesson.teachers = [...d.teachers];
      if (d.groups.size > 0) lesson.groups = [...d.groups];
      return lesson;
    });
    lessons.sort((a, b) => a.day - b.day || a.start.localeCompare(b.start) || a.id.localeCompare(b.id));

    const uai = this.uaiInFile() ?? options.expectedUai;
    const timetable: Timetable = {
      format: TIMETABLE_FORMAT,
      timezone: this.zone,
      rooms: [...rooms.values()],
      lessons,
      cancellations: [],
      events,
      source: { format: 'ics', ...this.software() },
    };
    if (uai) timetable.uai = normaliseUai(uai);
    return timetable;
  }

  private uaiInFile(): string | undefined {
    for (const name of UAI_PROPERTIES) {
      const value = this.calendarProperty(name);
      for (const match of value?.matchAll(/(?<![0-9A-Za-z])(\d{7}[A-Za-z])(?![0-9A-Za-z])/g) ?? []) {
        if (match[1] && isValidUai(match[1])) return match[1];
      }
    }
    return undefined;
  }

  private software(): { software?: string } {
    const prodid = this.calendarProperty('prodid')?.trim();
    return prodid ? { software: prodid } : {};
  }
}

/** Room, subject, teachers and groups of an event, from LOCATION and Pronote's DESCRIPTION lines. */
function describe(event: IcalComponent): Details {
  const fields = new Map<string, string[]>();
  const description = event.getFirstPropertyValue('description');
  if (typeof description === 'string') {
    for (const line of description.split(/\r?\n/)) {
      const match = /^\s*([^:]+?)\s*:\s*(.*)$/.exec(line);
      if (!match?.[1] || match[2] === undefined) continue;
      const values = match[2]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length > 0) fields.set(fieldKey(match[1]), values);
    }
  }
  const location = event.getFirstPropertyValue('location');
  const summary = event.getFirstPropertyValue('summary');
  const locationText = typeof location === 'string' ? location.trim() : '';
  const summaryText = typeof summary === 'string' ? summary.trim() : '';
  return {
    rooms: locationText ? [locationText] : [...new Set(fields.get('salle') ?? [])],
    subject: fields.get('matiere')?.join(', ') ?? (summaryText || undefined),
    teachers: [...(fields.get('professeur') ?? []), ...(fields.get('enseignant') ?? [])],
    groups: [...(fields.get('groupe') ?? []), ...(fields.get('classe') ?? [])],
    label: summaryText || undefined,
  };
}

/** `Salle(s)`, `Salles`, `Matière` → `salle`, `salle`, `matiere`. */
function fieldKey(key: string): string {
  return key
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\(s\)$/, '')
    .replace(/s$/, '')
    .trim();
}

function isCancelled(event: IcalComponent): boolean {
  const status = event.getFirstPropertyValue('status');
  return typeof status === 'string' && status.trim().toUpperCase() === 'CANCELLED';
}

function isUtc(property: IcalProperty): boolean {
  try {
    const value = property.getFirstValue();
    return value instanceof ICAL.Time && value.zone?.tzid === 'UTC';
  } catch {
    return false; // an unreadable value is reported, with its line, where it is read
  }
}

function isValidTime(time: IcalTime): boolean {
  const parts = [time.year, time.month, time.day, time.hour, time.minute, time.second];
  if (!parts.every(Number.isInteger)) return false;
  return DateTime.fromObject(
    {
      year: time.year,
      month: time.month,
      day: time.day,
      hour: time.hour,
      minute: time.minute,
      second: time.second,
    },
    { zone: 'UTC' },
  ).isValid;
}

/** Reads a value with ical.js, which throws plain errors on values it cannot parse. */
function guard<T>(lines: EventLines, name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputError || error instanceof WindowPassed) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const raw = lines.properties.get(name)?.value ?? '';
    const [code, message] =
      name === 'RRULE'
        ? ['ics-bad-rrule', `RRULE "${raw}" cannot be read (${reason})`]
        : name === 'DURATION'
          ? ['ics-bad-duration', `DURATION "${raw}" is not a duration`]
          : ['ics-bad-date', `${name} "${raw}" is not a date or date-time`];
    throw InputError.of(code, message, at(lines, name), 'malformed');
  }
}

function at(lines: EventLines, name: string): string {
  const line = name === 'VEVENT' ? lines.line : (lines.properties.get(name)?.line ?? lines.line);
  return name === 'VEVENT' ? `line ${line}, VEVENT` : `line ${line}, VEVENT/${name}`;
}

/** ` (UID x)` for messages and locations, or nothing when the event has no UID. */
function uidText(event: IcalComponent): string {
  const uid = event.getFirstPropertyValue('uid');
  return typeof uid === 'string' && uid.trim() !== '' ? ` (UID ${uid.trim().slice(0, 200)})` : '';
}
