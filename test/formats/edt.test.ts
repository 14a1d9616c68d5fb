import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import type { Lesson } from '../../src/domain/timetable.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { readEdt } from '../../src/formats/edt.js';
import { generateSyntheticEdt } from '../fixtures/edt/synthetic.js';

const EXAMPLE_URL = new URL('../fixtures/edt/exemple-0679999E.xml', import.meta.url);
const COLLEGE_URL = new URL('../fixtures/edt/college-0139999Y.xml', import.meta.url);
const example = readFileSync(EXAMPLE_URL, 'utf8');

function read(xml: string | Uint8Array) {
  return readEdt(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml);
}

/** The example with text replacements; each `from` must occur exactly once. */
function variant(...edits: [string, string][]): string {
  let xml = example;
  for (const [from, to] of edits) {
    expect(xml.split(from).length, `"${from}" occurs once in the example`).toBe(2);
    xml = xml.replace(from, to);
  }
  return xml;
}

function problemsOf(run: () => unknown): { kind: string; problems: { code: string; where: string }[] } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    return { kind: e.kind, problems: e.problems.map((p) => ({ code: p.code, where: p.where })) };
  }
  throw new Error('expected an InputError');
}

function byId(lessons: Lesson[], id: string): Lesson {
  const lesson = lessons.find((l) => l.id === id);
  if (!lesson) throw new Error(`no lesson ${id} among ${lessons.map((l) => l.id).join(', ')}`);
  return lesson;
}

/** Local date of a lesson in a given week: Monday + (day − 1), by hand-checked calendar. */
const SEVEN_MONDAYS = [
  '2025-09-01',
  '2025-09-08',
  '2025-09-15',
  '2025-09-22',
  '2025-09-29',
  '2025-10-06',
  '2025-10-13',
];

describe('readEdt on the docs/formats.md worked example', () => {
  const { timetable, warnings } = read(example);

  it('reads the school, the year and the grid', () => {
    expect(warnings).toEqual([]);
    expect(timetable.uai).toBe('0679999E');
    expect(timetable.school_year).toEqual({ start: '2025-09-01', end: '2026-07-04' });
    expect(timetable.timezone).toBe('Europe/Paris');
    expect(timetable.source).toEqual({ format: 'edt', software: 'EDT' });
    expect(timetable.grid).toEqual({
      days: [1, 2, 3, 4, 5],
      places: [
        { start: '08:00', end: '08:55' },
        { start: '08:55', end: '09:50' },
        { start: '10:05', end: '11:00' },
        { start: '13:30', end: '14:25' },
      ],
    });
    expect(timetable.rooms).toEqual([
      { id: 'B012', name: 'B012' },
      { id: 'LABO 1', name: 'LABO 1' },
    ]);
  });

  it('A: B012 on Monday 08:00–09:50 in weeks 1–7, 10 and 19', () => {
    expect(byId(timetable.lessons, 'J1P0:MATHS:B012')).toEqual({
      id: 'J1P0:MATHS:B012',
      rooms: ['B012'],
      day: 1,
      start: '08:00',
      end: '09:50',
      weeks: [...SEVEN_MONDAYS, '2025-11-03', '2026-01-05'],
      subject: 'MATHEMATIQUES',
      groups: ['2NDE 3'],
    });
  });

  it('B: alternates between B012 (09-02, 09-16, 09-30, 10-14) and LABO 1 (09-09, 09-23, 10-07), 10:05–11:00', () => {
    const common = {
      day: 2,
      start: '10:05',
      end: '11:00',
      subject: 'PHYSIQUE-CHIMIE',
      teachers: ['Théo BRAVO'],
      groups: ['2NDE3 G1'],
    };
    expect(byId(timetable.lessons, 'J2P2:PH-CH:B012@B012')).toEqual({
      id: 'J2P2:PH-CH:B012@B012',
      rooms: ['B012'],
      weeks: ['2025-09-01', '2025-09-15', '2025-09-29', '2025-10-13'],
      ...common,
    });
    expect(byId(timetable.lessons, 'J2P2:PH-CH:B012@LABO 1')).toEqual({
      id: 'J2P2:PH-CH:B012@LABO 1',
      rooms: ['LABO 1'],
      weeks: ['2025-09-08', '2025-09-22', '2025-10-06'],
      ...common,
    });
  });

  it('C: 7 Wednesdays 13:30–14:25 with no room', () => {
    expect(byId(timetable.lessons, 'J3P3:EPS:-')).toEqual({
      id: 'J3P3:EPS:-',
      rooms: [],
      day: 3,
      start: '13:30',
      end: '14:25',
      weeks: SEVEN_MONDAYS,
      subject: 'E.P.S & SPORT',
      teachers: ['Théo BRAVO'],
      groups: ['2NDE 3'],
    });
  });

  it('D: 08:55–11:00 across the recess (not 10:45), cancelled on 2025-09-15', () => {
    expect(byId(timetable.lessons, 'J1P1:PH-CH:B012')).toEqual({
      id: 'J1P1:PH-CH:B012',
      rooms: ['B012'],
      day: 1,
      start: '08:55',
      end: '11:00',
      weeks: SEVEN_MONDAYS,
      subject: 'PHYSIQUE-CHIMIE',
      groups: ['2NDE3 G1'],
    });
    expect(timetable.cancellations).toEqual([{ lesson: 'J1P1:PH-CH:B012', date: '2025-09-15' }]);
  });

  it('produces exactly five lessons with unique ids, valid against the native schema', () => {
    expect(timetable.lessons.map((l) => l.id)).toEqual([
      'J1P0:MATHS:B012',
      'J2P2:PH-CH:B012@B012',
      'J2P2:PH-CH:B012@LABO 1',
      'J3P3:EPS:-',
      'J1P1:PH-CH:B012',
    ]);
    expect(timetableSchema.parse(JSON.parse(JSON.stringify(timetable)))).toEqual(timetable);
  });

  it('never reads pupils or their parents into the result', () => {
    const withPupils = variant([
      '<Eleves/>',
      `<Eleves>
  <Eleve Ident="1" Nom="ZULUPUPIL" Prenom="Yasminette" DateNaissance="2010-02-03" Sexe="Feminin" NumeroNational="0123456789X">
   <Responsable Ident="7" RespLegal="1" Nom="PARENTNAME" Prenom="Gaspardine" Adresse1="12 rue Secrète" Ville="Nulle-Part"/>
   <Classe Ident="1" DateEntree="2025-09-01" DateSortie="2026-07-04"/>
  </Eleve>
 </Eleves>`,
    ]);
    const result = read(withPupils);
    expect(result).toEqual({ timetable, warnings: [] });
    const json = JSON.stringify(result);
    for (const secret of [
      'ZULUPUPIL',
      'Yasminette',
      '2010-02-03',
      '0123456789X',
      'PARENTNAME',
      'Gaspardine',
      'Secrète',
    ]) {
      expect(json).not.toContain(secret);
    }
  });

  it('reports progress up to 1', () => {
    const seen: number[] = [];
    readEdt(Buffer.from(example), { onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= (seen[i - 1] as number)))).toBe(true);
  });
});

describe('readEdt on newer and odd shapes', () => {
  it('ignores unknown elements, attributes, comments and whitespace, and uses a Cours Numero as id', () => {
    const xml = variant(
      [
        '<Cours Jour="3" NumeroPlaceDebut="3" NombrePlaces="1"><!-- C -->',
        '<Cours Numero="4711" Annuel="1" Jour="3" NumeroPlaceDebut="3" NombrePlaces="1" SemainesInclusion="254"><!-- C -->\n   <Etiquette Ident="3" Semaines="254"/><Materiel Ident="9" Semaines="254"> <!-- projecteur --> </Materiel>',
      ],
      [
        '<Eleves/>',
        '<Eleves/><Mef Ident="1" Libelle="2NDE GT"/><Absence Ident="1"><Periode Debut="x"/></Absence>',
      ],
      [
        '<Salle Ident="2" Nom="LABO 1"/>',
        '<Salle Ident="2" Nom=" LABO 1 " Capacite="24">\n  <!-- a comment -->\n  </Salle>',
      ],
    );
    const { timetable, warnings } = read(xml);
    expect(warnings).toEqual([]);
    expect(timetable.rooms).toEqual([
      { id: 'B012', name: 'B012' },
      { id: 'LABO 1', name: 'LABO 1' },
    ]);
    expect(byId(timetable.lessons, 'cours-4711')).toMatchObject({ rooms: [], day: 3, weeks: SEVEN_MONDAYS });
  });

  it('warns about a range past the last place and cuts it at the last place end', () => {
    const xml = variant([
      '<Cours Jour="3" NumeroPlaceDebut="3" NombrePlaces="1"><!-- C -->',
      '<Cours Jour="3" NumeroPlaceDebut="2" NombrePlaces="3"><!-- C -->',
    ]);
    const { timetable, warnings } = read(xml);
    expect(warnings.map((w) => ({ code: w.code, where: w.where }))).toEqual([
      { code: 'place-out-of-grid', where: 'line 19, Cours' },
    ]);
    expect(byId(timetable.lessons, 'J3P2:EPS:-')).toMatchObject({ start: '10:05', end: '14:25' });
  });

  it('gives rooms with the same name distinct, deterministic ids and warns', () => {
    const xml = variant(['<Salle Ident="2" Nom="LABO 1"/>', '<Salle Ident="2" Nom="B012"/>']);
    const { timetable, warnings } = read(xml);
    expect(timetable.rooms).toEqual([
      { id: 'B012', name: 'B012' },
      { id: 'B012 (2)', name: 'B012' },
    ]);
    expect(warnings.map((w) => ({ code: w.code, where: w.where }))).toEqual([
      { code: 'room-duplicate-name', where: 'line 12, Salles/Salle' },
    ]);
    expect(byId(timetable.lessons, 'J2P2:PH-CH:B012@B012 (2)').weeks).toEqual([
      '2025-09-08',
      '2025-09-22',
      '2025-10-06',
    ]);
  });

  it('joins rooms that share the same weeks into one lesson and numbers repeated content keys', () => {
    const xml = variant([
      '<Salle Ident="1" Semaines="525566"/></Cours>',
      '<Salle Ident="1" Semaines="525566"/><Salle Ident="2" Semaines="525566"/></Cours>\n  <Cours Jour="1" NumeroPlaceDebut="0" NombrePlaces="2"><Matiere Ident="1"/><Salle Ident="1" Semaines="2"/></Cours>',
    ]);
    const { timetable } = read(xml);
    expect(byId(timetable.lessons, 'J1P0:MATHS:B012')).toMatchObject({ rooms: ['B012', 'LABO 1'] });
    expect(byId(timetable.lessons, 'J1P0:MATHS:B012#2')).toMatchObject({
      rooms: ['B012'],
      weeks: ['2025-09-01'],
    });
  });

  it('takes a Salle without Semaines as busy whenever the Cours meets, with a warning', () => {
    const xml = variant(['<Salle Ident="1" Semaines="525566"/></Cours>', '<Salle Ident="1"/></Cours>']);
    const { timetable, warnings } = read(xml);
    expect(warnings.map((w) => ({ code: w.code, where: w.where }))).toEqual([
      { code: 'edt-missing-weeks', where: 'line 16, Cours/Salle' },
    ]);
    expect(byId(timetable.lessons, 'J1P0:MATHS:B012')).toMatchObject({
      rooms: ['B012'],
      weeks: [...SEVEN_MONDAYS, '2025-11-03', '2026-01-05'],
    });
  });

  it('upper-cases the root UAI and leaves its check to the ingest pipeline', () => {
    expect(read(variant(['UAI="0679999E"', 'UAI=" 0679999e "'])).timetable.uai).toBe('0679999E');
    expect(read(variant(['UAI="0679999E"', 'UAI="0679999A"'])).timetable.uai).toBe('0679999A');
  });

  it('anchors weeks on the Monday when DatePremierJourSemaine1 is not a Monday, with a warning', () => {
    const xml = variant(['DatePremierJourSemaine1="2025-09-01"', 'DatePremierJourSemaine1="2025-09-03"']);
    const { timetable, warnings } = read(xml);
    expect(warnings.map((w) => ({ code: w.code, where: w.where }))).toEqual([
      { code: 'edt-week1-not-monday', where: 'line 3, AnneeScolaire' },
    ]);
    expect(byId(timetable.lessons, 'J3P3:EPS:-').weeks).toEqual(SEVEN_MONDAYS);
  });

  it('dates bit 63, the highest week of an unsignedLong', () => {
    // 2^63 = 9223372036854775808: week 63 starts 2025-09-01 + 62 weeks = 2026-11-09.
    const xml = variant([
      '<Salle Ident="1" Semaines="254"/></Cours>',
      '<Salle Ident="1" Semaines="9223372036854775808"/></Cours>',
    ]);
    const { timetable } = read(xml);
    expect(byId(timetable.lessons, 'J1P1:PH-CH:B012@B012').weeks).toEqual(['2026-11-09']);
    expect(byId(timetable.lessons, 'J1P1:PH-CH:B012@sans-salle').weeks).toEqual(SEVEN_MONDAYS);
    expect(timetable.cancellations).toEqual([{ lesson: 'J1P1:PH-CH:B012@sans-salle', date: '2025-09-15' }]);
  });

  it('decodes a Windows-1252 file without a declaration (é, œ, ’)', () => {
    const text = variant(
      ['<?xml version="1.0" encoding="UTF-8"?>\n', ''],
      ['Libelle="MATHEMATIQUES"', 'Libelle="MATHÉMATIQUES œuvre d’été"'],
    );
    // Windows-1252 bytes: é = E9 and É = C9 as in latin1, œ = 9C, ’ = 92.
    const fixed = Buffer.from(text.replace('\u0153', '\x9c').replace('\u2019', '\x92'), 'latin1');
    expect(fixed.includes(0xe9)).toBe(true);
    const { timetable } = read(fixed);
    expect(byId(timetable.lessons, 'J1P0:MATHS:B012').subject).toBe('MATHÉMATIQUES œuvre d’été');
  });
});

describe('readEdt refuses bad input', () => {
  it('malformed XML: xml-malformed with line and column', () => {
    const xml = variant(['<Salle Ident="2" Nom="LABO 1"/>', '<Salle Ident="2" Nom="LABO 1">']);
    expect(problemsOf(() => read(xml))).toEqual({
      kind: 'malformed',
      problems: [{ code: 'xml-malformed', where: 'line 12, column 77' }],
    });
  });

  it('a DOCTYPE with an entity: xml-doctype', () => {
    const xml = variant([
      '<?xml version="1.0" encoding="UTF-8"?>\n',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY lol "lol">]>\n',
    ]);
    expect(problemsOf(() => read(xml))).toEqual({
      kind: 'malformed',
      problems: [{ code: 'xml-doctype', where: 'line 2' }],
    });
  });

  it('another root: edt-not-export', () => {
    expect(problemsOf(() => read('<?xml version="1.0"?>\n<EDT_STS><PARAMETRES/></EDT_STS>'))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'edt-not-export', where: 'line 2, EDT_STS' }],
    });
  });

  it('no AnneeScolaire: edt-missing-year at the first Cours', () => {
    const xml = variant([
      ' <AnneeScolaire DateDebut="2025-09-01" DateFin="2026-07-04" DatePremierJourSemaine1="2025-09-01"/>\n',
      '',
    ]);
    expect(problemsOf(() => read(xml))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'edt-missing-year', where: 'line 14, Cours' }],
    });
  });

  it('no AnneeScolaire and no Cours: edt-missing-year at the root', () => {
    const xml =
      '<ExportEmploiDuTemps xmlns="http://www.index-education.com/exportemploidutemps" UAI="0679999E">\n</ExportEmploiDuTemps>';
    expect(problemsOf(() => read(xml)).problems).toEqual([
      { code: 'edt-missing-year', where: 'line 1, ExportEmploiDuTemps' },
    ]);
  });

  it('no DatePremierJourSemaine1: edt-missing-year at AnneeScolaire', () => {
    const xml = variant([' DatePremierJourSemaine1="2025-09-01"', '']);
    expect(problemsOf(() => read(xml)).problems).toEqual([
      { code: 'edt-missing-year', where: 'line 3, AnneeScolaire' },
    ]);
  });

  it('a Salle that Salles does not declare: room-undeclared', () => {
    const xml = variant(['<Salle Ident="2" Semaines="84"/>', '<Salle Ident="99" Semaines="84"/>']);
    expect(problemsOf(() => read(xml))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'room-undeclared', where: 'line 18, Cours/Salle' }],
    });
  });

  it('a Matiere that Matieres does not declare: subject-undeclared', () => {
    const xml = variant(['<Matiere Ident="3"/>', '<Matiere Ident="33"/>']);
    expect(problemsOf(() => read(xml)).problems).toEqual([
      { code: 'subject-undeclared', where: 'line 20, Cours/Matiere' },
    ]);
  });

  it('a start place the grid does not have: place-not-in-grid', () => {
    const xml = variant(['NumeroPlaceDebut="3" NombrePlaces="1"', 'NumeroPlaceDebut="7" NombrePlaces="1"']);
    expect(problemsOf(() => read(xml)).problems).toEqual([
      { code: 'place-not-in-grid', where: 'line 19, Cours' },
    ]);
  });

  it.each([
    ['non-numeric', '12a'],
    ['negative', '-2'],
    ['over 64 bits', '18446744073709551616'],
  ])('a %s week mask: edt-bad-mask', (_label, mask) => {
    const xml = variant([
      '<Groupe Ident="1" Semaines="254"/><Salle Ident="1" Semaines="254"/>',
      `<Groupe Ident="1" Semaines="${mask}"/><Salle Ident="1" Semaines="254"/>`,
    ]);
    expect(problemsOf(() => read(xml)).problems).toEqual([
      { code: 'edt-bad-mask', where: 'line 22, Cours/Groupe' },
    ]);
  });

  it('accepts the largest unsignedLong mask', () => {
    const xml = variant([
      '<Groupe Ident="1" Semaines="254"/><Salle Ident="1" Semaines="254"/>',
      '<Groupe Ident="1" Semaines="18446744073709551615"/><Salle Ident="1" Semaines="254"/>',
    ]);
    const { timetable, warnings } = read(xml);
    expect(warnings.map((w) => w.code)).toEqual(['edt-mask-bit0']);
    expect(byId(timetable.lessons, 'J1P1:PH-CH:B012@sans-salle').weeks).toHaveLength(63 - 7);
  });

  it('a bad SemainesAnnulation: edt-bad-mask at the Cours', () => {
    const xml = variant(['SemainesAnnulation="8"', 'SemainesAnnulation="huit"']);
    expect(problemsOf(() => read(xml)).problems).toEqual([{ code: 'edt-bad-mask', where: 'line 21, Cours' }]);
  });

  it('invalid UTF-8 declared as UTF-8: encoding-invalid', () => {
    const bytes = Buffer.from(variant(['Libelle="MATHEMATIQUES"', 'Libelle="MATH#MATIQUES"']), 'utf8');
    bytes[bytes.indexOf('#')] = 0xc9; // a lone Windows-1252 É: not UTF-8
    expect(problemsOf(() => read(bytes))).toEqual({
      kind: 'malformed',
      problems: [{ code: 'encoding-invalid', where: 'line 9, column 57' }],
    });
  });
});

describe('readEdt on a real-world-shaped export (test/fixtures/edt/college-0139999Y.xml)', () => {
  // An invented collège with the features of a real 2013-2014 EDT export (docs/formats.md,
  // "Real-world shape"): a 20-place grid of 30-minute places, comments and whitespace inside
  // otherwise empty items, Cours without a room or without any week, one-week masks, a
  // DatePremierJourSemaine1 (Monday) before DateDebut (Tuesday).
  const load = () => readEdt(readFileSync(COLLEGE_URL));

  it('reads its 12 Cours, 7 rooms and 20-place grid', () => {
    const { timetable, warnings } = load();
    expect(timetable.lessons).toHaveLength(12); // no Cours alternates rooms in this file
    expect(timetable.rooms.map((r) => r.id)).toEqual(['1', '10', '11', '22', '34', 'CDI', 'GYMNASE']);
    expect(timetable.uai).toBe('0139999Y');
    expect(timetable.school_year).toEqual({ start: '2013-09-03', end: '2014-08-31' });
    expect(timetable.grid?.places).toHaveLength(20);
    expect(timetable.grid?.places[0]).toEqual({ start: '08:00', end: '08:30' });
    expect(timetable.grid?.places[19]).toEqual({ start: '17:30', end: '18:00' });
    expect(timetable.cancellations).toEqual([]);
    expect(warnings).toEqual([
      {
        code: 'cours-no-weeks',
        message: '2 Cours carry no week in any item (lines 100, 163); kept with no weeks, they never occur',
        where: 'line 100, Cours',
      },
    ]);
  });

  it('dates weeks from DatePremierJourSemaine1 2013-09-02, bits 1–44 only, none in the 2013 holidays', () => {
    const { timetable } = load();
    const weeks = new Set(timetable.lessons.flatMap((l) => l.weeks ?? []));
    const sorted = [...weeks].sort();
    expect(sorted[0]).toBe('2013-09-02'); // bit 1
    expect(sorted.at(-1)).toBe('2014-06-30'); // bit 44 = 2013-09-02 + 43 weeks
    for (const week of sorted) {
      expect(new Date(`${week}T00:00:00Z`).getUTCDay(), week).toBe(1);
    }
    // Bits 8–9 (Toussaint) and 17–18 (Christmas).
    for (const holiday of ['2013-10-21', '2013-10-28', '2013-12-23', '2013-12-30']) {
      expect(weeks.has(holiday), holiday).toBe(false);
    }
    expect(weeks.size).toBe(36);
  });

  it('keeps 4 Cours without a room (2 of them meet in no week)', () => {
    const { timetable } = load();
    const roomless = timetable.lessons.filter((l) => l.rooms.length === 0);
    expect(roomless.map((l) => l.id)).toEqual([
      'J1P6:ATRAV:-',
      'J3P6:AGL1:-',
      'J2P4:HIGEO:-',
      'J1P10:VICLA:-',
    ]);
    expect(roomless.filter((l) => l.weeks?.length === 0).map((l) => l.id)).toEqual([
      'J1P6:ATRAV:-',
      'J1P10:VICLA:-',
    ]);
  });

  it('keeps every lesson inside the grid, up to its last place (17:00–18:00)', () => {
    const { timetable } = load();
    for (const lesson of timetable.lessons) {
      expect(lesson.start >= '08:00' && lesson.end <= '18:00' && lesson.start < lesson.end, lesson.id).toBe(
        true,
      );
    }
    expect(byId(timetable.lessons, 'J5P18:EPS:GYMNASE')).toMatchObject({ start: '17:00', end: '18:00' });
  });

  it('reads line 115: Thursday 14:30–15:30 in room 34 on weeks [2,4,6,10,12,14,16,20,22,28,30,38,40,42]', () => {
    expect(byId(load().timetable.lessons, 'J4P13:ATRAV:34')).toEqual({
      id: 'J4P13:ATRAV:34',
      rooms: ['34'],
      day: 4,
      start: '14:30',
      end: '15:30',
      weeks: [
        '2013-09-09',
        '2013-09-23',
        '2013-10-07',
        '2013-11-04',
        '2013-11-18',
        '2013-12-02',
        '2013-12-16',
        '2014-01-13',
        '2014-01-27',
        '2014-03-10',
        '2014-03-24',
        '2014-05-19',
        '2014-06-02',
        '2014-06-16',
      ],
      subject: 'ACCOMP.TRAVAIL PERSO',
      teachers: ['E. ENSEIGNANT 3'],
      groups: ['6C'],
    });
  });

  it('reads line 103: a one-week mask, Tuesday 2013-09-03 08:00–09:00 in room 22', () => {
    expect(byId(load().timetable.lessons, 'J2P0:ATRAV:22')).toEqual({
      id: 'J2P0:ATRAV:22',
      rooms: ['22'],
      day: 2,
      start: '08:00',
      end: '09:00',
      weeks: ['2013-09-02'],
      subject: 'ACCOMP.TRAVAIL PERSO',
      teachers: ['E. ENSEIGNANT 2'],
      groups: ['6A'],
    });
    // The other one-week mask: bit 44 only.
    expect(byId(load().timetable.lessons, 'J4P0:SVT:11').weeks).toEqual(['2014-06-30']);
  });

  it('reads line 179: items holding only whitespace, odd weeks, 08:00–10:00 in room 11', () => {
    const lesson = byId(load().timetable.lessons, 'J3P0:TECHN:11');
    expect(lesson).toMatchObject({
      rooms: ['11'],
      day: 3,
      start: '08:00',
      end: '10:00',
      subject: 'TECHNOLOGIE',
    });
    expect(lesson.weeks).toHaveLength(18);
    expect(lesson.weeks?.slice(0, 3)).toEqual(['2013-09-02', '2013-09-16', '2013-09-30']);
  });

  it('reads line 127: a Wednesday 11:00–12:00 English lesson with no room on 29 weeks', () => {
    const lesson = byId(load().timetable.lessons, 'J3P6:AGL1:-');
    expect(lesson).toMatchObject({
      rooms: [],
      day: 3,
      start: '11:00',
      end: '12:00',
      subject: 'ANGLAIS LV1',
    });
    expect(lesson.groups).toEqual(['GROUPE 29']);
    // Domaine : [1..2,6..7,10..16,19..23,28..31,36..44]
    expect(lesson.weeks).toEqual([
      '2013-09-02',
      '2013-09-09',
      '2013-10-07',
      '2013-10-14',
      '2013-11-04',
      '2013-11-11',
      '2013-11-18',
      '2013-11-25',
      '2013-12-02',
      '2013-12-09',
      '2013-12-16',
      '2014-01-06',
      '2014-01-13',
      '2014-01-20',
      '2014-01-27',
      '2014-02-03',
      '2014-03-10',
      '2014-03-17',
      '2014-03-24',
      '2014-03-31',
      '2014-05-05',
      '2014-05-12',
      '2014-05-19',
      '2014-05-26',
      '2014-06-02',
      '2014-06-09',
      '2014-06-16',
      '2014-06-23',
      '2014-06-30',
    ]);
  });
});

describe('generateSyntheticEdt (benchmark input) read by readEdt', () => {
  const xml = generateSyntheticEdt({ lessons: 3000, rooms: 150, seed: 7 });

  it('is deterministic for a seed', () => {
    expect(generateSyntheticEdt({ lessons: 3000, rooms: 150, seed: 7 })).toBe(xml);
    expect(generateSyntheticEdt({ lessons: 3000, rooms: 150, seed: 8 })).not.toBe(xml);
  });

  it('reads as 3,000 Cours in 150 rooms, without pupils, every lesson inside the grid', () => {
    const { timetable, warnings } = read(xml);
    expect(warnings).toEqual([]);
    expect(timetable.rooms).toHaveLength(150);
    expect(new Set(timetable.lessons.map((l) => l.id.split('@')[0])).size).toBe(3000);
    expect(new Set(timetable.lessons.map((l) => l.id)).size).toBe(timetable.lessons.length);
    const json = JSON.stringify(timetable);
    for (const pupil of ['ELEVE ', 'RESPONSABLE ', 'Fictif', 'Imaginaire', '2009-01-01']) {
      expect(json).not.toContain(pupil);
    }
    const roomIds = new Set(timetable.rooms.map((r) => r.id));
    for (const lesson of timetable.lessons) {
      expect(lesson.start >= '08:00' && lesson.end <= '17:40' && lesson.start < lesson.end, lesson.id).toBe(
        true,
      );
      expect(
        lesson.rooms.every((r) => roomIds.has(r)),
        lesson.id,
      ).toBe(true);
    }
    expect(timetableSchema.safeParse(timetable).success).toBe(true);
  });

  it('dates every cancellation on the lesson day of one of its weeks', () => {
    const { timetable } = read(xml);
    expect(timetable.cancellations.length).toBeGreaterThan(0);
    const lessons = new Map(timetable.lessons.map((l) => [l.id, l]));
    for (const { lesson: id, date } of timetable.cancellations) {
      const lesson = lessons.get(id);
      expect(lesson, id).toBeDefined();
      const monday = new Date(Date.parse(`${date}T00:00:00Z`) - ((lesson?.day ?? 1) - 1) * 86_400_000);
      expect(lesson?.weeks, `${id} ${date}`).toContain(monday.toISOString().slice(0, 10));
    }
  });
});
