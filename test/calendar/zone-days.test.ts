/**
 * Wall-clock → UTC across daylight-saving time, checked against the EU rule (summer time from
 * the last Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC; Directive
 * 2000/84/EC) rather than against luxon through the same path.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { dayNumberOfIso } from '../../src/calendar/day-number.js';
import { expandOccupancy } from '../../src/calendar/expand-occupancy.js';
import { exactInstant, ianaZone, ZoneDays, zoneDays } from '../../src/calendar/zone-days.js';
import { everyDate, lastSunday, publicHolidaysOnly, timetable, utc } from './helpers.js';

const PARIS = 'Europe/Paris';
const ALL_DAYS = everyDate('2025-01-01', '2028-12-31');

function isSummerTimeAt0800(date: string): boolean {
  const year = Number(date.slice(0, 4));
  // At 08:00 local the switch of that Sunday (02:00/03:00 local) has already happened.
  return date >= lastSunday(year, 3) && date < lastSunday(year, 10);
}

describe('ZoneDays (Europe/Paris, 2025–2028)', () => {
  const first = dayNumberOfIso('2025-01-01');
  const days = new ZoneDays(PARIS, first, dayNumberOfIso('2028-12-31'));

  it('flags exactly the last Sundays of March and October as switch days', () => {
    const switchDays = ALL_DAYS.filter((_, i) => !days.isUniform(i));
    expect(switchDays).toEqual([
      '2025-03-30',
      '2025-10-26',
      '2026-03-29',
      '2026-10-25',
      '2027-03-28',
      '2027-10-31',
      '2028-03-26',
      '2028-10-29',
    ]);
    expect(switchDays).toEqual(
      [2025, 2026, 2027, 2028].flatMap((y) => [lastSunday(y, 3), lastSunday(y, 10)]),
    );
  });

  it('puts local 08:00 at 06:00Z in summer time and 07:00Z in winter time, every day', () => {
    ALL_DAYS.forEach((date, i) => {
      const hour = isSummerTimeAt0800(date) ? 6 : 7;
      expect(days.instant(i, 8 * 60), date).toBe(utc(`${date}T0${hour}:00:00Z`));
    });
  });

  it('equals luxon per occurrence for every day, outside the switch hour', () => {
    const minutes = [0, 59, 90, 4 * 60, 8 * 60, 12 * 60 + 34, 17 * 60 + 5, 23 * 60 + 59];
    ALL_DAYS.forEach((date, i) => {
      const [year, month, day] = date.split('-').map(Number) as [number, number, number];
      for (const m of minutes) {
        // 02:00–02:59 is tested against the documented rule below, where luxon guesses.
        if (!days.isUniform(i) && m >= 120 && m < 180) continue;
        const luxon = DateTime.fromObject(
          { year, month, day, hour: Math.floor(m / 60), minute: m % 60 },
          { zone: PARIS },
        ).toMillis();
        expect(days.instant(i, m), `${date} minute ${m}`).toBe(luxon);
      }
    });
  });

  it('bounds the range by the local midnights', () => {
    const january = new ZoneDays(PARIS, dayNumberOfIso('2026-01-01'), dayNumberOfIso('2026-01-31'));
    expect(january.startMs).toBe(utc('2025-12-31T23:00:00Z'));
    expect(january.endMs).toBe(utc('2026-01-31T23:00:00Z'));
    const summer = new ZoneDays(PARIS, dayNumberOfIso('2026-03-29'), dayNumberOfIso('2026-10-24'));
    expect(summer.startMs).toBe(utc('2026-03-28T23:00:00Z'));
    expect(summer.endMs).toBe(utc('2026-10-24T22:00:00Z'));
  });

  it('shares one table per (zone, range)', () => {
    const a = zoneDays(PARIS, 20_000, 20_006);
    expect(zoneDays(PARIS, 20_000, 20_006)).toBe(a);
    expect(zoneDays('America/Cayenne', 20_000, 20_006)).not.toBe(a);
    expect(() => zoneDays('Mars/Olympus', 20_000, 20_006)).toThrow('unknown time zone: Mars/Olympus');
  });
});

describe('times that do not exist or exist twice (documented rule)', () => {
  const zone = ianaZone(PARIS);
  const wall = (date: string, hhmm: string) => utc(`${date}T${hhmm}:00Z`); // local time read as UTC

  it('moves a spring-gap time forward by the gap', () => {
    expect(exactInstant(zone, wall('2026-03-29', '01:59'))).toBe(utc('2026-03-29T00:59:00Z'));
    expect(exactInstant(zone, wall('2026-03-29', '02:00'))).toBe(utc('2026-03-29T01:00:00Z')); // = 03:00 CEST
    expect(exactInstant(zone, wall('2026-03-29', '02:30'))).toBe(utc('2026-03-29T01:30:00Z')); // = 03:30 CEST
    expect(exactInstant(zone, wall('2026-03-29', '03:00'))).toBe(utc('2026-03-29T01:00:00Z'));
  });

  it('takes the earlier instant of an autumn-overlap time', () => {
    expect(exactInstant(zone, wall('2025-10-26', '01:59'))).toBe(utc('2025-10-25T23:59:00Z'));
    expect(exactInstant(zone, wall('2025-10-26', '02:00'))).toBe(utc('2025-10-26T00:00:00Z')); // first, CEST
    expect(exactInstant(zone, wall('2025-10-26', '02:30'))).toBe(utc('2025-10-26T00:30:00Z'));
    expect(exactInstant(zone, wall('2025-10-26', '03:00'))).toBe(utc('2025-10-26T02:00:00Z')); // CET
  });

  it('gives intervals across the switch their real duration and drops those that become empty', () => {
    const lesson = (id: string, room: string, date: string, start: string, end: string) => ({
      id,
      rooms: [room],
      day: 7,
      start,
      end,
      dates: [date],
    });
    const rooms = [
      'gap-inside',
      'gap-across',
      'gap-start',
      'gap-empty',
      'overlap-inside',
      'overlap-across',
    ].map((id) => ({
      id,
      name: id,
    }));
    const tt = timetable({
      rooms,
      lessons: [
        lesson('L1', 'gap-inside', '2026-03-29', '02:10', '02:50'),
        lesson('L2', 'gap-across', '2026-03-29', '01:30', '02:30'),
        lesson('L3', 'gap-start', '2026-03-29', '02:15', '04:00'),
        // 02:30 → 03:30 CEST and 03:30 CEST: nothing left.
        lesson('L6', 'gap-empty', '2026-03-29', '02:30', '03:30'),
        lesson('L4', 'overlap-inside', '2025-10-26', '02:10', '02:50'),
        lesson('L5', 'overlap-across', '2025-10-26', '01:30', '03:30'),
      ],
    });
    const at = (from: string, to: string) =>
      expandOccupancy(tt, 1, '0511234P', publicHolidaysOnly(), { from, to }).rooms.map((r) =>
        r.intervals.map((i) => [new Date(i.start).toISOString(), new Date(i.end).toISOString()]),
      );
    expect(at('2025-10-26', '2026-03-29')).toEqual([
      [['2026-03-29T01:10:00.000Z', '2026-03-29T01:50:00.000Z']], // both ends moved: 03:10–03:50 CEST
      [['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']], // 01:30 CET – 03:30 CEST
      [['2026-03-29T01:15:00.000Z', '2026-03-29T02:00:00.000Z']], // 03:15 CEST – 04:00 CEST
      [],
      [['2025-10-26T00:10:00.000Z', '2025-10-26T00:50:00.000Z']], // the first 02:10–02:50 (CEST)
      [['2025-10-25T23:30:00.000Z', '2025-10-26T02:30:00.000Z']], // 01:30 CEST – 03:30 CET: 3 h
    ]);
  });
});

describe('the four switch days 2025–2027: a lesson every hour, nothing lost or doubled', () => {
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const hh = (h: number) => String(h).padStart(2, '0');

  /** Expected start instants from the EU rule: offset +2 before 01:00Z on a spring day, etc. */
  function expectedStarts(date: string, spring: boolean): string[] {
    const previous = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    return hours.map((h) => {
      if (spring) {
        // 00:00, 01:00 CET (+1); 02:00 does not exist → 03:00 CEST; then CEST (+2).
        if (h === 0) return `${previous}T23:00:00Z`;
        if (h === 1) return `${date}T00:00:00Z`;
        if (h === 2) return `${date}T01:00:00Z`;
        return `${date}T${hh(h - 2)}:00:00Z`;
      }
      // 00:00, 01:00 CEST (+2); 02:00 exists twice → the first (CEST); from 03:00 CET (+1).
      if (h <= 1) return `${previous}T${hh(h + 22)}:00:00Z`;
      if (h === 2) return `${date}T00:00:00Z`;
      return `${date}T${hh(h - 1)}:00:00Z`;
    });
  }

  for (const [date, spring] of [
    ['2025-10-26', false],
    ['2026-03-29', true],
    ['2026-10-25', false],
    ['2027-03-28', true],
  ] as const) {
    it(`${date}: 24 lessons, 24 intervals at the expected instants`, () => {
      const tt = timetable({
        rooms: hours.map((h) => ({ id: `R${h}`, name: `Salle ${h}` })),
        lessons: hours.map((h) => ({
          id: `L${h}`,
          rooms: [`R${h}`],
          day: 7,
          start: `${hh(h)}:00`,
          end: `${hh(h)}:30`,
          dates: [date],
        })),
      });
      const occupancy = expandOccupancy(tt, 1, '0511234P', publicHolidaysOnly(), { from: date, to: date });
      const intervals = occupancy.rooms.flatMap((r) => r.intervals);
      expect(intervals).toHaveLength(24);
      expect(intervals.map((i) => new Date(i.start).toISOString().replace('.000', ''))).toEqual(
        expectedStarts(date, spring),
      );
      expect(intervals.every((i) => i.end - i.start === 30 * 60_000)).toBe(true);
    });
  }
});
