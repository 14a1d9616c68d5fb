/**
 * docs/formats.md, "Worked examples", end to end: each worked example goes through the ingestion pipeline (format
 * detection, reader, checks, UAI) and the calendar expansion with the real zone B calendar of
 * the Strasbourg school 0679999E, and must give exactly the expected rooms, dates and UTC instants.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { expandOccupancy, SchoolCalendar, toOccupancyBody } from '../../../src/calendar/index.js';
import { parseImport } from '../../../src/scope/entree/ingest.js';

const UAI = '0679999E';
const fixture = (path: string) => new URL(`../../fixtures/${path}`, import.meta.url);
const calendar = SchoolCalendar.forSchool({ uai: UAI });

function occupancyOf(bytes: Uint8Array, from: string, to: string, fileName?: string) {
  const parsed = parseImport({ bytes, uai: UAI, ...(fileName ? { fileName } : {}) });
  const occupancy = expandOccupancy(parsed.timetable, 1, UAI, calendar, { from, to });
  const body = toOccupancyBody(occupancy);
  const byRoom = Object.fromEntries(
    body.rooms.map((r) => [r.name, r.intervals.map((i) => `${i.start}/${i.end}`)]),
  );
  return { parsed, occupancy, byRoom };
}

describe('EDT clear export (docs/formats.md, "Worked examples")', () => {
  const xml = readFileSync(fixture('edt/exemple-0679999E.xml'));
  const { parsed, occupancy, byRoom } = occupancyOf(xml, '2025-09-01', '2026-01-11');

  it('is recognised as EDT and keeps the file UAI', () => {
    expect(parsed.format).toBe('edt');
    expect(parsed.uai).toBe(UAI);
  });

  it('gives B012 A ∪ D on Mondays (08:00–11:00 on 09-01, D cancelled in week 3), B on its Tuesdays', () => {
    const b012 = byRoom['B012']!;
    // A + D overlap into 08:00–11:00 local = 06:00Z–09:00Z while summer time lasts.
    expect(b012).toContain('2025-09-01T06:00:00Z/2025-09-01T09:00:00Z');
    // Week 3: D is cancelled (SemainesAnnulation), only A remains, 08:00–09:50.
    expect(b012).toContain('2025-09-15T06:00:00Z/2025-09-15T07:50:00Z');
    // After the October switch: A at 08:00 local = 07:00Z (D's weeks end in week 7).
    expect(b012).toContain('2025-11-03T07:00:00Z/2025-11-03T08:50:00Z');
    // Bit 19 = school week 19 = ISO week 2 of 2026.
    expect(b012).toContain('2026-01-05T07:00:00Z/2026-01-05T08:50:00Z');
    // B in B012 on weeks 1, 3, 5, 7: 10:05–11:00.
    for (const d of ['2025-09-02', '2025-09-16', '2025-09-30', '2025-10-14']) {
      expect(b012).toContain(`${d}T08:05:00Z/${d}T09:00:00Z`);
    }
  });

  it('gives LABO 1 the other B Tuesdays and nothing in the Toussaint weeks', () => {
    expect(byRoom['LABO 1']).toEqual([
      '2025-09-09T08:05:00Z/2025-09-09T09:00:00Z',
      '2025-09-23T08:05:00Z/2025-09-23T09:00:00Z',
      '2025-10-07T08:05:00Z/2025-10-07T09:00:00Z',
    ]);
    const all = Object.values(byRoom).flat();
    expect(all.filter((i) => i >= '2025-10-18' && i < '2025-11-03')).toEqual([]);
  });

  it('counts C (7 Wednesdays without a room) as unassigned, never in a room', () => {
    expect(occupancy.unassigned).toBe(7);
  });

  it('is refused with the UAI 0679999A (wrong check letter)', () => {
    const wrong = Buffer.from(xml.toString('utf8').replace('UAI="0679999E"', 'UAI="0679999A"'));
    expect(() => parseImport({ bytes: wrong })).toThrow(/wrong check letter/);
  });
});

describe('UDT zip (docs/formats.md, "Worked examples")', () => {
  const parts = Object.fromEntries(
    readdirSync(fixture('udt/')).map((name) => [name, readFileSync(fixture(`udt/${name}`))]),
  );
  const zip = zipSync(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, new Uint8Array(v)])));

  it('takes the UAI from the file name and gives the expected rooms and instants', () => {
    const parsed = parseImport({ bytes: zip, fileName: `${UAI}_udt.zip` });
    expect(parsed.format).toBe('udt');
    expect(parsed.uai).toBe(UAI);
    const occupancy = expandOccupancy(parsed.timetable, 1, UAI, calendar, {
      from: '2025-09-01',
      to: '2025-09-08',
    });
    const byRoom = Object.fromEntries(
      toOccupancyBody(occupancy).rooms.map((r) => [r.name, r.intervals.map((i) => `${i.start}/${i.end}`)]),
    );
    // Two merged lines 08:00–09:00 in B012; the line without a class in LABO 1 09:30–10:00.
    expect(byRoom['B012']).toEqual(['2025-09-01T06:00:00Z/2025-09-01T07:00:00Z']);
    // Week 37: UDCal_12_37 (the first two lines, now in LABO 1) replaces the theoretical lines.
    expect(byRoom['LABO 1']).toEqual([
      '2025-09-01T07:30:00Z/2025-09-01T08:00:00Z',
      '2025-09-08T06:00:00Z/2025-09-08T07:00:00Z',
    ]);
  });
});

describe('STS-web upward file (docs/formats.md, "Worked examples")', () => {
  it('gives B012 on 09-01 and 09-15 (09-17 read as its Monday), the Thursday lesson 13:50–14:20 without room', () => {
    const bytes = readFileSync(fixture('sts/emp_sts_0679999E_2025.xml'));
    const { parsed, occupancy, byRoom } = occupancyOf(bytes, '2025-09-01', '2025-09-30');
    expect(parsed.format).toBe('sts');
    expect(byRoom['B012']).toEqual([
      '2025-09-01T06:00:00Z/2025-09-01T07:50:00Z',
      '2025-09-15T06:00:00Z/2025-09-15T07:50:00Z',
    ]);
    expect(occupancy.unassigned).toBe(2);
    const thursday = parsed.timetable.lessons.find((l) => l.day === 4);
    expect([thursday?.start, thursday?.end, thursday?.rooms]).toEqual(['13:50', '14:20', []]);
  });
});

describe('ICS (docs/formats.md, "Worked examples")', () => {
  it('reads 08:05Z as 10:05 local in LABO 1 before and after the switch, ignores all-day events', () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//test//EN',
      'BEGIN:VEVENT',
      'UID:a',
      'DTSTART:20251013T080500Z',
      'DTEND:20251013T090000Z',
      'SUMMARY:PHYSIQUE-CHIMIE',
      'DESCRIPTION:Matière : PHYSIQUE-CHIMIE\\nSalle(s) : LABO 1',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:b',
      'DTSTART:20251103T090500Z',
      'DTEND:20251103T100000Z',
      'DESCRIPTION:Salle(s) : LABO 1',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:c',
      'DTSTART;VALUE=DATE:20251018',
      'DTEND;VALUE=DATE:20251103',
      'SUMMARY:Vacances de la Toussaint',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    const { parsed, byRoom } = occupancyOf(strToU8(ics), '2025-10-01', '2025-11-30');
    expect(parsed.format).toBe('ics');
    expect(parsed.timetable.lessons.every((l) => l.start === '10:05' && l.end === '11:00')).toBe(true);
    expect(byRoom['LABO 1']).toEqual([
      '2025-10-13T08:05:00Z/2025-10-13T09:00:00Z',
      '2025-11-03T09:05:00Z/2025-11-03T10:00:00Z',
    ]);
  });
});

describe('a real-world-shaped EDT export (docs/formats.md, "Real-world shape")', () => {
  const bytes = readFileSync(fixture('edt/college-0139999Y.xml'));
  it('imports and expands to occupancy with no interval on a Sunday and none past the grid', () => {
    const parsed = parseImport({ bytes });
    expect(parsed.uai).toBe('0139999Y');
    expect(parsed.counts.rooms).toBe(7);
    const occupancy = expandOccupancy(
      parsed.timetable,
      1,
      parsed.uai,
      SchoolCalendar.forSchool({ uai: parsed.uai }),
      {
        from: '2013-09-02',
        to: '2014-07-06',
      },
    );
    const intervals = occupancy.rooms.flatMap((r) => r.intervals);
    // Room 1 on 33 Mondays (36 weeks minus 2013-09-02, before DateDebut, and the public holidays
    // 2013-11-11 and 2014-06-09), 22 once, 34 on 14 Thursdays, 10 and GYMNASE on 36 Fridays each,
    // 11 on 18 Wednesdays and one Thursday, CDI on 36 Tuesdays.
    expect(intervals.length).toBe(33 + 1 + 14 + 36 + 36 + 19 + 36);
    const paris = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    for (const i of intervals) {
      const start = paris.format(i.start);
      const end = paris.format(i.end);
      expect(start.startsWith('Sun') || start.startsWith('Sat'), start).toBe(false);
      expect(start.slice(-5) >= '08:00' && end.slice(-5) <= '18:00', `${start}–${end}`).toBe(true);
    }
    // DateDebut is Tuesday 2013-09-03: nothing on Monday 2013-09-02.
    expect(intervals.filter((i) => i.start < Date.parse('2013-09-03T00:00:00Z'))).toEqual([]);
  });
});
