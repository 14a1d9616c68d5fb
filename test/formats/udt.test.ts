import { readdirSync, readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { readUdt } from '../../src/formats/udt.js';

const FIXTURES = new URL('../fixtures/udt/', import.meta.url);
const FILE_NAME = '0679999E_udt.zip';

/** The §2 example parts, by file name, as written in test/fixtures/udt. */
function exampleParts(): Record<string, Uint8Array> {
  const parts: Record<string, Uint8Array> = {};
  for (const name of readdirSync(FIXTURES)) parts[name] = readFileSync(new URL(name, FIXTURES));
  return parts;
}

function zipOf(parts: Record<string, Uint8Array | string | null>): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(parts)) {
    if (content !== null) files[name] = typeof content === 'string' ? strToU8(content) : content;
  }
  return zipSync(files);
}

function example(changes: Record<string, Uint8Array | string | null> = {}): Uint8Array {
  return zipOf({ ...exampleParts(), ...changes });
}

function failure(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

/** Mondays from `first` to `last` inclusive, minus `except`: written out independently of the reader. */
function mondays(first: string, last: string, except: string[]): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 7 * 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    if (!except.includes(date)) out.push(date);
  }
  return out;
}

// Week 37 (2025-09-08) has its own UDCal_12_37; 2025-10-20 and 10-27 fall in the fermeture
// 18/10/2025–02/11/2025; fin_eleve 04/07/2026 is a Saturday, so 2026-06-29 is the last Monday.
const THEORETICAL_WEEKS = mondays('2025-09-01', '2026-06-29', ['2025-09-08', '2025-10-20', '2025-10-27']);

describe('readUdt, docs/formats.md worked example', () => {
  it('reads rooms, merged lines, the no-div line and the week-37 file', () => {
    const { timetable, warnings } = readUdt(example(), { fileName: FILE_NAME });
    expect(warnings).toEqual([]);
    expect(THEORETICAL_WEEKS).toHaveLength(41);
    expect(timetable).toEqual({
      format: 'scope-emploi-du-temps/v1',
      uai: '0679999E',
      school_year: { start: '2025-09-01', end: '2026-07-04' },
      timezone: 'Europe/Paris',
      rooms: [
        { id: 'B012', name: 'B012' },
        { id: 'LABO 1', name: 'LABO 1' },
      ],
      lessons: [
        {
          id: 'udt-00101',
          rooms: ['B012'],
          day: 1,
          start: '08:00',
          end: '09:00',
          weeks: THEORETICAL_WEEKS,
          subject: 'M1',
          teachers: ['P1'],
          groups: ['2NDE3'],
        },
        {
          id: 'udt-00401',
          rooms: ['LABO 1'],
          day: 1,
          start: '09:30',
          end: '10:00',
          weeks: THEORETICAL_WEEKS,
          subject: 'M1',
          teachers: ['P1'],
        },
        {
          id: 'udt-00101-s37',
          rooms: ['LABO 1'],
          day: 1,
          start: '08:00',
          end: '09:00',
          weeks: ['2025-09-08'],
          subject: 'M1',
          teachers: ['P1'],
          groups: ['2NDE3'],
        },
      ],
      cancellations: [],
      events: [],
      source: { format: 'udt', software: 'UnDeuxTemps' },
    });
    expect(timetableSchema.parse(timetable)).toEqual(timetable);
  });

  it('finds lower-case part names inside a folder, and never opens the pupils part', () => {
    const parts: Record<string, Uint8Array | string> = {};
    for (const [name, bytes] of Object.entries(exampleParts()))
      parts[`export 2025/${name.toLowerCase()}`] = bytes;
    parts['export 2025/udcal_21.xml'] = '<<< not even XML, and pupils are never read';
    const { timetable } = readUdt(zipOf(parts), { fileName: '/uploads/0679999e_udt.zip' });
    expect(timetable.uai).toBe('0679999E');
    expect(timetable.lessons.map((l) => [l.id, l.rooms, l.start, l.end, l.weeks?.length])).toEqual([
      ['udt-00101', ['B012'], '08:00', '09:00', 41],
      ['udt-00401', ['LABO 1'], '09:30', '10:00', 41],
      ['udt-00101-s37', ['LABO 1'], '08:00', '09:00', 1],
    ]);
  });

  it('decodes a part as its XML declaration says (ISO-8859-1)', () => {
    const latin1 = Buffer.from(
      '<?xml version="1.0" encoding="ISO-8859-1"?>\n<s><salle code="S1" nom="Salle d\'étude"/><salle code="S2" nom="LABO 1"/></s>',
      'latin1',
    );
    const { timetable } = readUdt(example({ 'UDCal_03.xml': latin1 }), { fileName: FILE_NAME });
    expect(timetable.rooms).toEqual([
      { id: "Salle d'étude", name: "Salle d'étude" },
      { id: 'LABO 1', name: 'LABO 1' },
    ]);
    expect(timetable.lessons[0]?.rooms).toEqual(["Salle d'étude"]);
  });
});

describe('readUdt, UAI', () => {
  it('takes the UAI from the caller when the file name has none', () => {
    const { timetable } = readUdt(example(), { fileName: 'export-udt.zip', expectedUai: '0679999e' });
    expect(timetable.uai).toBe('0679999E');
  });

  it('prefers the file name over the caller (the pipeline compares them)', () => {
    const { timetable } = readUdt(example(), { fileName: 'udt_0671234X.zip', expectedUai: '0679999E' });
    expect(timetable.uai).toBe('0671234X');
  });

  it('refuses a zip without any UAI', () => {
    const error = failure(() => readUdt(example(), { fileName: 'export-20250901.zip' }));
    expect(error.kind).toBe('invalid');
    expect(error.problems).toEqual([
      {
        code: 'uai-missing',
        message: 'a UDT zip holds no UAI: name the file after it (0679999E_udt.zip) or give the UAI',
        where: 'export-20250901.zip',
      },
    ]);
  });
});

describe('readUdt, weeks', () => {
  it('maps ISO weeks after New Year to the next year, and ignores unpublished week files', () => {
    const { timetable, warnings } = readUdt(
      example({
        'semaines.xml': '<semaines><semaine num="36"/><semaine num="2"/></semaines>',
        'UDCal_12_37.xml': null,
        'UDCal_12_02.xml': readFileSync(new URL('UDCal_12_37.xml', FIXTURES)),
        'UDCal_12_38.xml': readFileSync(new URL('UDCal_12_37.xml', FIXTURES)),
      }),
      { fileName: FILE_NAME },
    );
    expect(warnings).toEqual([
      {
        code: 'udt-week-unpublished',
        message: 'ISO week 38 is not listed in semaines.xml; its lines are ignored',
        where: 'UDCal_12_38.xml',
      },
    ]);
    const week2 = timetable.lessons.find((l) => l.id === 'udt-00101-s2');
    expect(week2?.weeks).toEqual(['2026-01-05']);
    expect(week2?.rooms).toEqual(['LABO 1']);
    const theoretical = timetable.lessons.find((l) => l.id === 'udt-00101');
    expect(theoretical?.weeks).toEqual(
      mondays('2025-09-01', '2026-06-29', ['2025-10-20', '2025-10-27', '2026-01-05']),
    );
  });

  it('handles ISO week 53 of 2026, and refuses week 53 in a 52-week year', () => {
    const year2026 =
      '<c><debut_eleve>01/09/2026</debut_eleve><fin_eleve>03/07/2027</fin_eleve><fermeture debut="19/12/2026" fin="03/01/2027"/></c>';
    const { timetable } = readUdt(
      example({
        'UDCal_24.xml': year2026,
        'semaines.xml': '<semaines><semaine num="53"/></semaines>',
        'UDCal_12_37.xml': null,
        'UDCal_12_53.xml': readFileSync(new URL('UDCal_12_37.xml', FIXTURES)),
      }),
      { fileName: FILE_NAME },
    );
    // ISO 2026-W53 starts on Monday 2026-12-28, inside the Christmas fermeture: no date survives.
    expect(timetable.lessons.map((l) => l.id)).toEqual(['udt-00101', 'udt-00401']);
    expect(timetable.lessons[0]?.weeks).toEqual(
      // debut_eleve is Tuesday 2026-09-01, so Monday 2026-08-31 is before the year.
      mondays('2026-08-31', '2027-06-28', ['2026-08-31', '2026-12-21', '2026-12-28']),
    );

    const open = readUdt(
      example({
        'UDCal_24.xml': '<c><debut_eleve>01/09/2026</debut_eleve><fin_eleve>03/07/2027</fin_eleve></c>',
        'semaines.xml': '<semaines><semaine num="53"/></semaines>',
        'UDCal_12_37.xml': null,
        'UDCal_12_53.xml': readFileSync(new URL('UDCal_12_37.xml', FIXTURES)),
      }),
      { fileName: FILE_NAME },
    );
    expect(open.timetable.lessons.find((l) => l.id === 'udt-00101-s53')?.weeks).toEqual(['2026-12-28']);

    const wrong = readUdt(
      example({
        'semaines.xml': '<semaines><semaine num="53"/></semaines>',
        'UDCal_12_37.xml': null,
        'UDCal_12_53.xml': readFileSync(new URL('UDCal_12_37.xml', FIXTURES)),
      }),
      { fileName: FILE_NAME },
    );
    expect(wrong.warnings).toEqual([
      {
        code: 'udt-week-invalid',
        message: 'ISO week 53 does not exist in the school year starting 2025-09-01; its lines are ignored',
        where: 'UDCal_12_53.xml',
      },
    ]);
  });

  it('drops only the dates a one-day fermeture covers', () => {
    const year =
      '<c><debut_eleve>01/09/2025</debut_eleve><fin_eleve>04/07/2026</fin_eleve><fermeture debut="10/11/2025" fin="10/11/2025"/></c>';
    const { timetable } = readUdt(example({ 'UDCal_24.xml': year }), { fileName: FILE_NAME });
    expect(timetable.lessons[0]?.weeks).toEqual(
      mondays('2025-09-01', '2026-06-29', ['2025-09-08', '2025-11-10']),
    );
  });
});

describe('readUdt, bad input', () => {
  it('skips an empty half-sequence with a warning, and the lines that sit in it', () => {
    const sequences =
      '<d><demi_seq code_jour="1" code="1" code_site="1" hre_deb="08h00" hre_fin="08h30"/>\n' +
      '<demi_seq code_jour="1" code="2" code_site="1" hre_deb="08h30" hre_fin="09h00"/>\n' +
      '<demi_seq code_jour="1" code="4" code_site="1" hre_deb="" hre_fin=""/></d>';
    const { timetable, warnings } = readUdt(example({ 'UDCal_07.xml': sequences }), { fileName: FILE_NAME });
    expect(warnings).toEqual([
      {
        code: 'udt-half-sequence-empty',
        message: 'demi_seq 4 of day 1 has no hre_deb; skipped',
        where: 'UDCal_07.xml, line 3, demi_seq',
      },
      {
        code: 'udt-half-sequence-unknown',
        message: 'ligfiche 00401 sits in fiche 004, whose half-sequence has no times in UDCal_07; skipped',
        where: 'UDCal_12.xml, line 1, ligfiche',
      },
    ]);
    expect(timetable.lessons.map((l) => l.id)).toEqual(['udt-00101', 'udt-00101-s37']);
  });

  it('refuses a time like 25h00', () => {
    const sequences =
      '<d>\n<demi_seq code_jour="1" code="1" code_site="1" hre_deb="25h00" hre_fin="25h30"/></d>';
    const error = failure(() => readUdt(example({ 'UDCal_07.xml': sequences }), { fileName: FILE_NAME }));
    expect(error.kind).toBe('invalid');
    expect(error.problems).toEqual([
      {
        code: 'udt-bad-time',
        message: 'hre_deb "25h00" is not a time like 08h00',
        where: 'UDCal_07.xml, line 2, demi_seq',
      },
    ]);
  });

  it('reports malformed XML with the part name and line', () => {
    const lines = '<l>\n<ligfiche code="00101" fic="001" div="2NDE3"\n mat="M1" prof=P1 salle="S1"/></l>';
    const error = failure(() => readUdt(example({ 'UDCal_12.xml': lines }), { fileName: FILE_NAME }));
    expect(error.kind).toBe('malformed');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.code).toBe('xml-malformed');
    expect(error.problems[0]?.where).toBe('UDCal_12.xml, line 3, column 16');
  });

  it('refuses a DOCTYPE inside a part', () => {
    const year = '<!DOCTYPE c [<!ENTITY x "y">]>\n<c><debut_eleve>01/09/2025</debut_eleve></c>';
    const error = failure(() => readUdt(example({ 'UDCal_24.xml': year }), { fileName: FILE_NAME }));
    expect(error.problems[0]?.code).toBe('xml-doctype');
    expect(error.problems[0]?.where).toBe('UDCal_24.xml, line 1');
  });

  it('names a missing required part', () => {
    const error = failure(() => readUdt(example({ 'UDCal_12.xml': null }), { fileName: FILE_NAME }));
    expect(error.problems).toEqual([
      {
        code: 'udt-part-missing',
        message: 'the zip has no UDCal_12.xml: not a complete UDT export',
        where: 'UDCal_12.xml',
      },
    ]);
  });

  it('refuses a school year without debut_eleve, and a bad date', () => {
    const missing = failure(() =>
      readUdt(example({ 'UDCal_24.xml': '<c><fin_eleve>04/07/2026</fin_eleve></c>' }), {
        fileName: FILE_NAME,
      }),
    );
    expect(missing.problems).toEqual([
      {
        code: 'udt-year-missing',
        message: 'UDCal_24.xml gives no debut_eleve: the school year is unknown',
        where: 'UDCal_24.xml',
      },
    ]);
    const bad = failure(() =>
      readUdt(example({ 'UDCal_24.xml': '<c>\n<debut_eleve>31/02/2025</debut_eleve></c>' }), {
        fileName: FILE_NAME,
      }),
    );
    expect(bad.problems).toEqual([
      {
        code: 'udt-bad-date',
        message: 'debut_eleve "31/02/2025" is not a date dd/MM/yyyy',
        where: 'UDCal_24.xml, line 2, debut_eleve',
      },
    ]);
  });

  it('warns about a line whose cell or room is not declared', () => {
    const lines =
      '<l><ligfiche code="00101" fic="001" div="2NDE3" mat="***" prof="P1" salle="S9" rgpmt="0" gpe="G1"/>\n' +
      '<ligfiche code="00901" fic="009" div="2NDE3" mat="M1" prof="P1" salle="S1" rgpmt="0" gpe=""/></l>';
    const { timetable, warnings } = readUdt(example({ 'UDCal_12.xml': lines }), { fileName: FILE_NAME });
    expect(warnings).toEqual([
      {
        code: 'udt-cell-unknown',
        message: 'ligfiche 00901 points at fiche "009", which UDCal_11 does not declare; skipped',
        where: 'UDCal_12.xml, line 2, ligfiche',
      },
      {
        code: 'room-undeclared',
        message: 'salle "S9" is not declared in UDCal_03; it is kept as a room named "S9"',
        where: 'UDCal_12.xml, line 1, ligfiche',
      },
    ]);
    const lesson = timetable.lessons.find((l) => l.id === 'udt-00101');
    // `***` is UDT's placeholder subject: no subject at all.
    expect(lesson).toEqual({
      id: 'udt-00101',
      rooms: ['S9'],
      day: 1,
      start: '08:00',
      end: '08:30',
      weeks: THEORETICAL_WEEKS,
      teachers: ['P1'],
      groups: ['2NDE3', '2NDE3 Gr G1'],
    });
    expect(timetable.rooms.at(-1)).toEqual({ id: 'S9', name: 'S9' });
  });

  it('passes zip refusals through (zip-slip, truncated archive)', () => {
    const truncated = example().subarray(0, 200);
    const error = failure(() => readUdt(truncated, { fileName: FILE_NAME }));
    expect(error.kind).toBe('malformed');
    expect(error.problems[0]?.code).toBe('zip-malformed');
  });
});
