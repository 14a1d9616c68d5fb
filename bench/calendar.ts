/**
 * Benchmark of the occupancy expansion (src/calendar): a synthetic region of 350 lycées with
 * about 2,500 lessons a week each, expanded for one week and for a whole school year, against
 * (a) a naive expansion that calls luxon for every occurrence and (b) the same timetables written
 * as weekly RRULE events and expanded with ical.js. Both baselines are timed on a sample of
 * schools and scaled to the region (said in the output). Deterministic (seeded generator).
 *
 * `npx tsx bench/calendar.ts`, or through bench/run.ts (`benchCalendar(report)`).
 */
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { addDaysIso, dayNumberOfIso, isoOfDayNumber, isoWeekdayOf } from '../src/calendar/day-number.js';
import { expandOccupancy } from '../src/calendar/expand-occupancy.js';
import { SchoolCalendar } from '../src/calendar/school-calendar.js';
import type { Occupancy, OccupancyInterval } from '../src/domain/occupancy.js';
import type { Timetable } from '../src/domain/timetable.js';

const SCHOOLS = 350;
const LESSONS_PER_WEEK = 2_500;
const ROOMS = 60;
const SHARE_WITHOUT_ROOM = 0.26; // docs/formats.md, "Real-world shape": 26% of Cours in a real EDT export
const SCHOOL_YEAR = { from: '2025-09-01', to: '2026-07-04' };
const WEEK = { from: '2026-01-12', to: '2026-01-18' };
const TIMEZONE = 'Europe/Paris';
const PLACES = ['08:00', '08:55', '10:05', '11:00', '11:55', '13:30', '14:25', '15:20', '16:30', '17:25'];

/** mulberry32: a small seeded generator, so every run expands the same region. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uaiOf(i: number): string {
  const digits = String(670_000 + i).padStart(7, '0');
  return digits + 'ABCDEFGHJKLMNPRSTUVWXYZ'.charAt(Number(digits) % 23);
}

/** Mondays of the school year whose Monday is not in a zone B holiday period. */
function schoolWeeks(calendar: SchoolCalendar): string[] {
  const weeks: string[] = [];
  for (let day = dayNumberOfIso(SCHOOL_YEAR.from); day <= dayNumberOfIso(SCHOOL_YEAR.to); day += 7) {
    if (calendar.closureOfDay(day)?.kind !== 'holiday') weeks.push(isoOfDayNumber(day));
  }
  return weeks;
}

function syntheticTimetable(school: number, weeks: string[]): Timetable {
  const next = random(school + 1);
  const rooms = Array.from({ length: ROOMS }, (_, r) => ({ id: `S${r}`, name: `Salle ${r}` }));
  const lessons = Array.from({ length: LESSONS_PER_WEEK }, (_, l) => {
    const place = Math.floor(next() * PLACES.length);
    const length = 1 + Math.floor(next() * 2);
    const endPlace = Math.min(place + length, PLACES.length);
    const end = endPlace < PLACES.length ? (PLACES[endPlace] as string) : '18:20';
    return {
      id: `L${l}`,
      rooms: next() < SHARE_WITHOUT_ROOM ? [] : [`S${Math.floor(next() * ROOMS)}`],
      day: next() < 0.04 ? 6 : 1 + Math.floor(next() * 5),
      start: PLACES[place] as string,
      end,
      // One array shared by every lesson: 875,000 copies would only measure the GC.
      weeks,
    };
  });
  // Built as the schema's output type directly: parsing is the readers' cost, not the calendar's.
  return {
    format: 'scope-emploi-du-temps/v1',
    uai: uaiOf(school),
    timezone: TIMEZONE,
    rooms,
    lessons,
    cancellations: [],
    events: [],
  };
}

// ------------------------------------------------------------------ baselines

function mergeIntervals(raw: Array<[number, number]>): OccupancyInterval[] {
  raw.sort((a, b) => a[0] - b[0]);
  const merged: OccupancyInterval[] = [];
  for (const [start, end] of raw) {
    const last = merged[merged.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else merged.push({ start, end });
  }
  return merged;
}

/** (a) luxon for every occurrence: the straightforward way the calendar must not be written. */
function naiveExpand(timetable: Timetable, calendar: SchoolCalendar, range: typeof WEEK): number {
  const perRoom = new Map<string, Array<[number, number]>>(timetable.rooms.map((r) => [r.id, []]));
  let unassigned = 0;
  for (const lesson of timetable.lessons) {
    const [sh, sm] = lesson.start.split(':').map(Number) as [number, number];
    const [eh, em] = lesson.end.split(':').map(Number) as [number, number];
    for (const week of lesson.weeks ?? []) {
      const date = DateTime.fromISO(week, { zone: timetable.timezone }).plus({ days: lesson.day - 1 });
      const iso = date.toISODate() as string;
      if (iso < range.from || iso > range.to || calendar.closure(iso)) continue;
      const start = date.set({ hour: sh, minute: sm }).toMillis();
      const end = date.set({ hour: eh, minute: em }).toMillis();
      if (lesson.rooms.length === 0) unassigned++;
      for (const room of lesson.rooms) perRoom.get(room)?.push([start, end]);
    }
  }
  let count = unassigned;
  for (const raw of perRoom.values()) count += mergeIntervals(raw).length;
  return count;
}

const VTIMEZONE_PARIS = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
].join('\r\n');

const compact = (date: string) => date.replaceAll('-', '');

/** The same timetable as weekly RRULE events (holiday weeks as EXDATE), as a feed would carry it. */
function asIcs(timetable: Timetable, allMondays: string[]): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//scope-energie//bench//FR', VTIMEZONE_PARIS];
  for (const lesson of timetable.lessons) {
    const weeks = new Set(lesson.weeks);
    const first = addDaysIso(allMondays[0] as string, lesson.day - 1);
    const hhmm = (t: string) => `${t.replace(':', '')}00`;
    lines.push(
      'BEGIN:VEVENT',
      `UID:${lesson.id}@bench`,
      `DTSTART;TZID=Europe/Paris:${compact(first)}T${hhmm(lesson.start)}`,
      `DTEND;TZID=Europe/Paris:${compact(first)}T${hhmm(lesson.end)}`,
      `RRULE:FREQ=WEEKLY;UNTIL=${compact(SCHOOL_YEAR.to)}T235959Z`,
      `LOCATION:${lesson.rooms.join(',')}`,
    );
    const excluded = allMondays.filter((m) => !weeks.has(m));
    if (excluded.length > 0)
      lines.push(
        `EXDATE;TZID=Europe/Paris:${excluded.map((m) => `${compact(addDaysIso(m, lesson.day - 1))}T${hhmm(lesson.start)}`).join(',')}`,
      );
    lines.push('END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return lines.join('\r\n');
}

/** (b) ical.js expansion of the RRULE feed (parse excluded: timed separately). */
function icalExpand(
  root: InstanceType<typeof ICAL.Component>,
  calendar: SchoolCalendar,
  range: typeof WEEK,
): number {
  const rangeStart = DateTime.fromISO(range.from, { zone: TIMEZONE }).toMillis();
  const rangeEnd = DateTime.fromISO(range.to, { zone: TIMEZONE }).plus({ days: 1 }).toMillis();
  const perRoom = new Map<string, Array<[number, number]>>();
  let unassigned = 0;
  for (const vevent of root.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(vevent);
    const duration = event.duration.toSeconds() * 1000;
    const rooms = String(vevent.getFirstPropertyValue('location') ?? '')
      .split(',')
      .filter((r) => r !== '');
    const iterator = event.iterator();
    for (let next = iterator.next(); next; next = iterator.next()) {
      const start = next.toUnixTime() * 1000;
      if (start >= rangeEnd) break;
      if (start < rangeStart) continue;
      const date = `${next.year}-${String(next.month).padStart(2, '0')}-${String(next.day).padStart(2, '0')}`;
      if (calendar.closure(date)) continue;
      if (rooms.length === 0) unassigned++;
      for (const room of rooms) {
        const list = perRoom.get(room) ?? [];
        list.push([start, start + duration]);
        perRoom.set(room, list);
      }
    }
  }
  let count = unassigned;
  for (const raw of perRoom.values()) count += mergeIntervals(raw).length;
  return count;
}

// ------------------------------------------------------------------ timing

interface Timed<T> {
  /** CPU time of this process (user + system): what the code costs, whatever else runs. */
  cpu: number;
  /** Wall-clock time (inflated when the machine is shared). */
  wall: number;
  result: T;
}

function time<T>(run: () => T): Timed<T> {
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = run();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (cpu.user + cpu.system) / 1000, wall, result };
}

function intervalsAndUnassigned(occupancy: Occupancy): number {
  return occupancy.rooms.reduce((n, r) => n + r.intervals.length, 0) + occupancy.unassigned;
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);

const both = (t: Timed<unknown>) => `${ms(t.cpu)} CPU (${ms(t.wall)} wall)`;

export async function benchCalendar(report: (line: string) => void): Promise<void> {
  const calendars = Array.from({ length: SCHOOLS }, (_, i) => SchoolCalendar.forSchool({ uai: uaiOf(i) }));
  const weeks = schoolWeeks(calendars[0] as SchoolCalendar);
  const allMondays: string[] = [];
  for (let day = dayNumberOfIso(SCHOOL_YEAR.from); day <= dayNumberOfIso(SCHOOL_YEAR.to); day += 7)
    if (isoWeekdayOf(day) === 1) allMondays.push(isoOfDayNumber(day));
  const timetables = Array.from({ length: SCHOOLS }, (_, i) => syntheticTimetable(i, weeks));
  report(
    `calendar: synthetic region ${SCHOOLS} schools × ${LESSONS_PER_WEEK} lessons/week × ${weeks.length} school weeks, ${ROOMS} rooms each; times are CPU of this process (wall in brackets)`,
  );

  const expandRegion = (range: typeof WEEK) =>
    timetables.reduce(
      (n, tt, i) =>
        n + intervalsAndUnassigned(expandOccupancy(tt, 1, uaiOf(i), calendars[i] as SchoolCalendar, range)),
      0,
    );

  // Cold: the first expansion of a stored version compiles it (day numbers, room indices).
  const weekCold = time(() => expandRegion(WEEK));
  const weekWarm = time(() => expandRegion(WEEK));
  const year = time(() => expandRegion(SCHOOL_YEAR));
  report(
    `calendar: region week ${both(weekWarm)}, goal < 100 ms; first expansion incl. compile ${both(weekCold)}`,
  );
  report(`calendar: region school year ${both(year)} (${year.result} intervals + unassigned), goal < 3 s`);

  // Baselines on one school for the school year, scaled to the region (×350).
  const sampleSchool = 0;
  const tt0 = timetables[sampleSchool] as Timetable;
  const cal0 = calendars[sampleSchool] as SchoolCalendar;
  const ours0 = intervalsAndUnassigned(expandOccupancy(tt0, 1, uaiOf(sampleSchool), cal0, SCHOOL_YEAR));

  const naive = time(() => naiveExpand(tt0, cal0, SCHOOL_YEAR));
  const naiveRegion = naive.cpu * SCHOOLS;
  report(
    `calendar: (a) luxon per occurrence: 1 school × school year ${both(naive)} → region ≈ ${ms(naiveRegion)} CPU (sample scaled ×${SCHOOLS}); ours ${(naiveRegion / year.cpu).toFixed(0)}× faster (goal ≥ 100×); same interval and unassigned counts: ${naive.result === ours0 ? 'yes' : `NO (${naive.result} vs ${ours0})`}`,
  );

  const feed = asIcs(tt0, allMondays);
  const parsed = time(() => new ICAL.Component(ICAL.parse(feed)));
  const vtimezone = parsed.result.getFirstSubcomponent('vtimezone');
  if (vtimezone) ICAL.TimezoneService.register(vtimezone);
  const ical = time(() => icalExpand(parsed.result, cal0, SCHOOL_YEAR));
  const icalRegion = ical.cpu * SCHOOLS;
  report(
    `calendar: (b) ical.js RRULE: 1 school × school year ${both(ical)} (+ parse ${ms(parsed.cpu)}) → region ≈ ${ms(icalRegion)} CPU (sample scaled ×${SCHOOLS}); ours ${(icalRegion / year.cpu).toFixed(0)}× faster (goal ≥ 10×); same interval and unassigned counts: ${ical.result === ours0 ? 'yes' : `NO (${ical.result} vs ${ours0})`}`,
  );
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchCalendar((line) => console.log(line));
