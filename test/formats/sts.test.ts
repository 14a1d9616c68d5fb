import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { readSts } from '../../src/formats/sts.js';

const FIXTURES = new URL('../fixtures/sts/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

function failure(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

/** A minimal upward file around `cours` (one COURS per line, starting on line 5). */
function file(
  cours: string[],
  alternances = '<ALTERNANCE CODE="H"><SEMAINES><DATE_DEBUT_SEMAINE>2025-09-01</DATE_DEBUT_SEMAINE></SEMAINES></ALTERNANCE>',
): Uint8Array {
  return Buffer.from(
    [
      '<?xml version="1.0" encoding="ISO-8859-1"?>',
      '<EDT_STS><PARAMETRES><UAJ>0679999E</UAJ></PARAMETRES><DONNEES>',
      `<ALTERNANCES>${alternances}</ALTERNANCES>`,
      '<STRUCTURE><DIVISIONS><DIVISION CODE="2NDE3"><SERVICES><SERVICE CODE_MATIERE="061300"><ENSEIGNANTS><ENSEIGNANT ID="900001"><COURS_RATTACHES>',
      ...cours,
      '</COURS_RATTACHES></ENSEIGNANT></ENSEIGNANTS></SERVICE></SERVICES></DIVISION></DIVISIONS></STRUCTURE></DONNEES></EDT_STS>',
    ].join('\n'),
    'latin1',
  );
}

const cours = (alternance: string, day: string, start: string, duration: string, room = '') =>
  `<COURS><CODE_ALTERNANCE>${alternance}</CODE_ALTERNANCE><JOUR>${day}</JOUR><HEURE_DEBUT>${start}</HEURE_DEBUT><DUREE>${duration}</DUREE>${room ? `<CODE_SALLE>${room}</CODE_SALLE>` : ''}</COURS>`;

describe('readSts, docs/formats.md worked example', () => {
  it('reads B012 08:00–09:50 on two Mondays and the Thursday 13:50–14:20 without room', () => {
    const { timetable, warnings } = readSts(fixture('emp_sts_0679999E_2025.xml'));
    expect(warnings).toEqual([
      {
        code: 'sts-week-not-monday',
        message: 'week date 2025-09-17 is not a Monday; the week of Monday 2025-09-15 is used',
        where: 'line 3, ALTERNANCE/SEMAINES/DATE_DEBUT_SEMAINE',
      },
    ]);
    expect(timetable).toEqual({
      format: 'scope-emploi-du-temps/v1',
      uai: '0679999E',
      timezone: 'Europe/Paris',
      rooms: [{ id: 'B012', name: 'B012' }],
      lessons: [
        {
          id: 'sts-1-08:00-09:50-B012-Q1',
          rooms: ['B012'],
          day: 1,
          start: '08:00',
          end: '09:50',
          weeks: ['2025-09-01', '2025-09-15'],
          subject: '061300',
          teachers: ['900001'],
          groups: ['2NDE3'],
        },
        {
          id: 'sts-4-13:50-14:20-sans-salle-Q1',
          rooms: [],
          day: 4,
          start: '13:50',
          end: '14:20',
          weeks: ['2025-09-01', '2025-09-15'],
          subject: '061300',
          teachers: ['900001'],
          groups: ['2NDE3'],
        },
      ],
      cancellations: [],
      events: [],
      source: { format: 'sts', software: 'STS-web (EDT_STS)' },
    });
    expect(timetableSchema.parse(timetable)).toEqual(timetable);
  });

  it('decodes ISO-8859-1 accents and merges a course shared by teachers and groups into one lesson', () => {
    const bytes = fixture('emp_sts_0679999E_2025_partage.xml');
    expect(bytes.includes(Buffer.from('é', 'utf8'))).toBe(false);
    const { timetable, warnings } = readSts(bytes);
    expect(warnings).toEqual([]);
    expect(timetable.uai).toBe('0679999E');
    expect(timetable.rooms).toEqual([{ id: "Salle d'étude Ø", name: "Salle d'étude Ø" }]);
    expect(timetable.lessons).toEqual([
      {
        id: "sts-2-10:05-12:00-Salle d'étude Ø-H",
        rooms: ["Salle d'étude Ø"],
        day: 2,
        start: '10:05',
        end: '12:00',
        weeks: ['2025-09-01', '2025-09-08'],
        subject: '061300 / 070800',
        teachers: ['900001', '900002', '900003'],
        groups: ['1ÈRE STI2D', 'TECHNO G1'],
      },
    ]);
  });
});

describe('readSts, times', () => {
  it('adds HHMM as a duration across the hour (0955 + 0110 = 11:05)', () => {
    const { timetable } = readSts(file([cours('H', '5', '0955', '0110', 'C101')]));
    expect(timetable.lessons.map((l) => [l.day, l.start, l.end])).toEqual([[5, '09:55', '11:05']]);
  });

  it.each([
    [
      '2500',
      '0100',
      'HEURE_DEBUT "2500" is not a time HHMM (hours 00–23, minutes 00–59)',
      'COURS/HEURE_DEBUT',
    ],
    [
      '0875',
      '0100',
      'HEURE_DEBUT "0875" is not a time HHMM (hours 00–23, minutes 00–59)',
      'COURS/HEURE_DEBUT',
    ],
    ['0800', '1h00', 'DUREE "1h00" is not a time HHMM (hours 00–99, minutes 00–59)', 'COURS/DUREE'],
    ['0800', '0000', 'DUREE is 0000: a course must last', 'COURS/DUREE'],
    ['2300', '0130', 'HEURE_DEBUT 2300 + DUREE 0130 runs past midnight', 'COURS/DUREE'],
  ])('refuses HEURE_DEBUT %s with DUREE %s', (start, duration, message, element) => {
    const error = failure(() => readSts(file([cours('H', '1', start, duration)])));
    expect(error.kind).toBe('invalid');
    expect(error.problems).toEqual([{ code: 'sts-bad-time', message, where: `line 5, ${element}` }]);
  });
});

describe('readSts, bad input', () => {
  it('refuses an unknown alternance with the line of its code', () => {
    const error = failure(() =>
      readSts(file([cours('H', '1', '0800', '0100'), cours('Q2', '1', '0900', '0100')])),
    );
    expect(error.problems).toEqual([
      {
        code: 'sts-alternance-unknown',
        message: 'CODE_ALTERNANCE "Q2" is not declared under ALTERNANCES',
        where: 'line 6, COURS/CODE_ALTERNANCE',
      },
    ]);
  });

  it('refuses a day outside 1..7 and a COURS without JOUR', () => {
    const day = failure(() => readSts(file([cours('H', '8', '0800', '0100')])));
    expect(day.problems).toEqual([
      { code: 'sts-bad-day', message: 'JOUR must be 1 (lundi) to 7, not "8"', where: 'line 5, COURS/JOUR' },
    ]);
    const incomplete = failure(() =>
      readSts(
        file([
          '<COURS><CODE_ALTERNANCE>H</CODE_ALTERNANCE><HEURE_DEBUT>0800</HEURE_DEBUT><DUREE>0100</DUREE></COURS>',
        ]),
      ),
    );
    expect(incomplete.problems).toEqual([
      { code: 'sts-cours-incomplete', message: 'COURS has no JOUR', where: 'line 5, COURS' },
    ]);
  });

  it('refuses a week date that is not a date', () => {
    const error = failure(() =>
      readSts(
        file(
          [cours('H', '1', '0800', '0100')],
          '<ALTERNANCE CODE="H"><SEMAINES><DATE_DEBUT_SEMAINE>2025-02-30</DATE_DEBUT_SEMAINE></SEMAINES></ALTERNANCE>',
        ),
      ),
    );
    expect(error.problems).toEqual([
      {
        code: 'sts-bad-date',
        message: 'DATE_DEBUT_SEMAINE "2025-02-30" is not a date yyyy-mm-dd',
        where: 'line 3, ALTERNANCE/SEMAINES/DATE_DEBUT_SEMAINE',
      },
    ]);
  });

  it('reports malformed XML with its line', () => {
    const bytes = Buffer.from(
      '<?xml version="1.0" encoding="ISO-8859-1"?>\n<EDT_STS><PARAMETRES><UAJ>0679999E</UAJ>\n</DONNEES></EDT_STS>',
      'latin1',
    );
    const error = failure(() => readSts(bytes));
    expect(error.kind).toBe('malformed');
    expect(error.problems[0]?.code).toBe('xml-malformed');
    expect(error.problems[0]?.where).toBe('line 3, column 10');
  });

  it('refuses the downward file and other roots', () => {
    const downward = failure(() =>
      readSts(Buffer.from('<STS_EDT><PARAMETRES><UAJ CODE="0679999E"/></PARAMETRES></STS_EDT>')),
    );
    expect(downward.kind).toBe('unsupported');
    expect(downward.problems[0]?.code).toBe('sts-downward-file');
    expect(downward.problems[0]?.where).toBe('line 1, STS_EDT');
    const other = failure(() => readSts(Buffer.from('<ExportEmploiDuTemps/>')));
    expect(other.problems).toEqual([
      {
        code: 'sts-root-unknown',
        message: 'the root element is ExportEmploiDuTemps, not EDT_STS: not an STS-web upward file',
        where: 'line 1, ExportEmploiDuTemps',
      },
    ]);
  });

  it('refuses a file without UAJ', () => {
    const error = failure(() => readSts(Buffer.from('<EDT_STS><PARAMETRES/><DONNEES/></EDT_STS>')));
    expect(error.problems).toEqual([
      {
        code: 'uai-missing',
        message: 'the file has no PARAMETRES/UAJ: the school is unknown',
        where: 'PARAMETRES/UAJ',
      },
    ]);
  });
});
