import { describe, expect, it } from 'vitest';
import { parseHolidayDataset } from '../../src/calendar/holiday-dataset.js';
import {
  type HolidayPeriod,
  mergeHolidayPeriods,
  shippedHolidayPeriods,
} from '../../src/calendar/holiday-period.js';
import { isInputError, type Problem } from '../../src/domain/problems.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function problemsOf(text: string, fileName: string): Problem[] | null {
  try {
    parseHolidayDataset(bytes(text), fileName);
  } catch (error) {
    if (isInputError(error)) return error.problems;
    throw error;
  }
  return null;
}

// Rows in the shape data.education.gouv.fr exports (UTC stamps of Paris midnights, one row per
// académie, teachers' rows, Corse, a one-day bridge given twice, a summer-start marker).
const CSV = [
  '\uFEFFdescription;population;start_date;end_date;location;zones;annee_scolaire',
  'Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;Strasbourg;Zone B;2026-2027',
  'Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;Nancy-Metz;Zone B;2026-2027',
  "Vacances d'Hiver;-;2027-02-19T23:00:00+00:00;2027-03-07T23:00:00+00:00;Reims;Zone B;2026-2027",
  "Vacances d'Hiver;-;2027-02-12T23:00:00+00:00;2027-02-28T23:00:00+00:00;Lyon;Zone A;2026-2027",
  "Pont de l'Ascension;-;2027-05-06T22:00:00+00:00;2027-05-06T22:00:00+00:00;Reims;Zone B;2026-2027",
  'Vacances de la Toussaint;Enseignants;2026-10-15T22:00:00+00:00;2026-11-02T23:00:00+00:00;Reims;Zone B;2026-2027',
  'Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Corse;Corse;2026-2027',
  "Début des Vacances d'Été;-;2027-07-02T22:00:00+00:00;2027-07-02T22:00:00+00:00;Reims;Zone B;2026-2027",
  '"Vacances de Printemps";"-";"2027-04-16T22:00:00+00:00";"2027-05-02T22:00:00+00:00";"Lille";"Zone B";"2026-2027"',
].join('\r\n');

describe('parseHolidayDataset', () => {
  it('reads the CSV export: Paris dates, teachers/Corse dropped, one-day bridge, summer marker', () => {
    expect(parseHolidayDataset(bytes(CSV), 'fr-en-calendrier-scolaire.csv')).toEqual<HolidayPeriod[]>([
      {
        zone: 'A',
        schoolYear: '2026-2027',
        name: "Vacances d'Hiver",
        start: '2027-02-13',
        end: '2027-03-01',
      },
      {
        zone: 'B',
        schoolYear: '2026-2027',
        name: 'Vacances de la Toussaint',
        start: '2026-10-17',
        end: '2026-11-02',
      },
      {
        zone: 'B',
        schoolYear: '2026-2027',
        name: "Vacances d'Hiver",
        start: '2027-02-20',
        end: '2027-03-08',
      },
      {
        zone: 'B',
        schoolYear: '2026-2027',
        name: 'Vacances de Printemps',
        start: '2027-04-17',
        end: '2027-05-03',
      },
      // Given as 2027-05-07 twice: closes that Friday.
      {
        zone: 'B',
        schoolYear: '2026-2027',
        name: "Pont de l'Ascension",
        start: '2027-05-06',
        end: '2027-05-08',
      },
      // Only the start is known: closed to 31 August.
      { zone: 'B', schoolYear: '2026-2027', name: "Vacances d'Été", start: '2027-07-03', end: '2027-09-01' },
    ]);
  });

  it('reads the JSON export (array), the records answer and offsets other than UTC', () => {
    const record = {
      description: "Vacances d'Été",
      population: 'Élèves',
      start_date: '2026-07-04T00:00:00+02:00',
      end_date: '2026-09-01T00:00:00+02:00',
      location: 'Strasbourg',
      zones: 'Zone B',
      annee_scolaire: '2025-2026',
    };
    const teachers = { ...record, population: 'Enseignants', end_date: '2026-08-31T00:00:00+02:00' };
    const expected = [
      { zone: 'B', schoolYear: '2025-2026', name: "Vacances d'Été", start: '2026-07-04', end: '2026-09-01' },
    ];
    expect(parseHolidayDataset(bytes(JSON.stringify([record, teachers])), 'export.json')).toEqual(expected);
    expect(
      parseHolidayDataset(bytes(JSON.stringify({ total_count: 2, results: [teachers, record] })), 'r.json'),
    ).toEqual(expected);
    expect(parseHolidayDataset(bytes(JSON.stringify({ records: [{ fields: record }] })), 'v1.json')).toEqual(
      expected,
    );
  });

  it('reads the zone ICS, including "Zones A/B/C" events and folded lines', () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20261017',
      'DTEND;VALUE=DATE:20261102',
      'SUMMARY:Vacances de la Toussaint - Zones A/B/C',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20270220',
      'DTEND;VALUE=DATE:20270308',
      "SUMMARY:Vacances d'Hiver - Zo",
      ' ne B',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20270831',
      'DTEND;VALUE=DATE:20270903',
      "SUMMARY:Vacances d'Été(prérentrée Enseignants)",
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const periods = parseHolidayDataset(bytes(ics), 'Zone-B.ics');
    expect(periods.map((p) => `${p.zone} ${p.schoolYear} ${p.name} ${p.start}→${p.end}`)).toEqual([
      'A 2026-2027 Vacances de la Toussaint 2026-10-17→2026-11-02',
      'B 2026-2027 Vacances de la Toussaint 2026-10-17→2026-11-02',
      "B 2026-2027 Vacances d'Hiver 2027-02-20→2027-03-08",
      'C 2026-2027 Vacances de la Toussaint 2026-10-17→2026-11-02',
    ]);
  });

  it('refuses bad files with where', () => {
    expect(problemsOf('hello world', 'notes.txt')).toEqual([
      {
        code: 'holiday-file-unsupported',
        message:
          'expected the fr-en-calendrier-scolaire dataset as CSV (;-separated, with a header), JSON or ICS',
        where: 'notes.txt',
      },
    ]);
    expect(problemsOf('description;start_date;end_date\nx;2026-01-01;2026-01-02', 'a.csv')).toEqual([
      {
        code: 'holiday-csv-column',
        message: 'the header has no "zones" column (found: description, start_date, end_date)',
        where: 'a.csv line 1',
      },
    ]);
    expect(
      problemsOf('description;start_date;end_date;zones\nVacances;2026-01-01;2026-01-05', 'b.csv'),
    ).toEqual([
      {
        code: 'holiday-csv-fields',
        message: 'expected 4 fields separated by ";", found 3',
        where: 'b.csv line 2',
      },
    ]);
    expect(
      problemsOf('description;start_date;end_date;zones\n\nVacances;2026-01-09;2026-01-05;Zone B', 'c.csv'),
    ).toEqual([
      {
        code: 'holiday-period-reversed',
        message: 'end_date 2026-01-05 is before start_date 2026-01-09',
        where: 'c.csv line 3 end_date',
      },
    ]);
    expect(
      problemsOf('description;start_date;end_date;zones\nVacances;demain;2026-01-05;Zone B', 'd.csv'),
    ).toEqual([
      {
        code: 'holiday-date',
        message: '"demain" is neither a date nor an ISO instant',
        where: 'd.csv line 2 start_date',
      },
    ]);
    expect(problemsOf('[{"description": "Vacances", "zones": "Zone B", "start_date": 3}]', 'e.json')).toEqual(
      [
        {
          code: 'holiday-json-field',
          message: '"start_date" must be a string',
          where: 'e.json $[0].start_date',
        },
      ],
    );
    expect(problemsOf('{"results": [', 'f.json')?.[0]).toMatchObject({
      code: 'holiday-json-syntax',
      where: 'f.json',
    });
    expect(
      problemsOf('description;start_date;end_date;zones\nVacances;2026-01-01;2026-01-05;Corse', 'g.csv'),
    ).toEqual([
      {
        code: 'holiday-file-empty',
        message: 'the file holds no pupils’ holiday period of zone A, B or C',
        where: 'g.csv',
      },
    ]);
    expect(
      problemsOf('BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nSUMMARY:x - Zone B\nEND:VEVENT', 'h.ics'),
    ).toEqual([
      {
        code: 'holiday-ics-date',
        message: '"tomorrow" is not an iCalendar date',
        where: 'h.ics line 2, DTSTART',
      },
    ]);
  });
});

describe('shipped periods and merging', () => {
  it('ships zone B 2024-2025 to 2026-2027 as published, 2027-2028 only on request', () => {
    const zoneB = shippedHolidayPeriods().filter((p) => p.zone === 'B');
    expect(new Set(zoneB.map((p) => p.schoolYear))).toEqual(new Set(['2024-2025', '2025-2026', '2026-2027']));
    expect(zoneB.filter((p) => p.schoolYear === '2025-2026')).toEqual([
      {
        zone: 'B',
        schoolYear: '2025-2026',
        name: 'Vacances de la Toussaint',
        start: '2025-10-18',
        end: '2025-11-03',
      },
      {
        zone: 'B',
        schoolYear: '2025-2026',
        name: 'Vacances de Noël',
        start: '2025-12-20',
        end: '2026-01-05',
      },
      {
        zone: 'B',
        schoolYear: '2025-2026',
        name: "Vacances d'Hiver",
        start: '2026-02-14',
        end: '2026-03-02',
      },
      {
        zone: 'B',
        schoolYear: '2025-2026',
        name: 'Vacances de Printemps',
        start: '2026-04-11',
        end: '2026-04-27',
      },
      {
        zone: 'B',
        schoolYear: '2025-2026',
        name: "Pont de l'Ascension",
        start: '2026-05-14',
        end: '2026-05-18',
      },
      { zone: 'B', schoolYear: '2025-2026', name: "Vacances d'Été", start: '2026-07-04', end: '2026-09-01' },
    ]);
    const provisional = shippedHolidayPeriods({ includeProvisional: true }).filter((p) => p.provisional);
    expect(provisional.every((p) => p.schoolYear === '2027-2028')).toBe(true);
    expect(provisional).toHaveLength(9);
  });

  it('lets an imported file replace a (school year, zone) and keeps the rest', () => {
    const shipped = shippedHolidayPeriods();
    const imported = parseHolidayDataset(bytes(CSV), 'import.csv');
    const merged = mergeHolidayPeriods(shipped, imported);
    const b2627 = merged.filter((p) => p.zone === 'B' && p.schoolYear === '2026-2027');
    expect(b2627.map((p) => p.name)).toEqual([
      'Vacances de la Toussaint',
      "Vacances d'Hiver",
      'Vacances de Printemps',
      "Pont de l'Ascension",
      "Vacances d'Été",
    ]); // the import has no Noël row for B: the import wins for the whole year
    expect(merged.filter((p) => p.zone === 'B' && p.schoolYear === '2025-2026')).toHaveLength(6);
    const a2627 = merged.filter((p) => p.zone === 'A' && p.schoolYear === '2026-2027');
    expect(a2627).toEqual([
      {
        zone: 'A',
        schoolYear: '2026-2027',
        name: "Vacances d'Hiver",
        start: '2027-02-13',
        end: '2027-03-01',
      },
    ]);
    expect(merged.filter((p) => p.zone === 'C' && p.schoolYear === '2026-2027')).toHaveLength(6);
  });
});
