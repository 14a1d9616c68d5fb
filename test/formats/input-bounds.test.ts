/**
 * Issue 13's bounds on untrusted input, in the readers themselves: refused at the bound, in time
 * that depends on the bound and not on what the file claims, with the contract's codes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { readEdt } from '../../src/formats/edt.js';
import { readIcs } from '../../src/formats/ics.js';

const example = readFileSync(new URL('../fixtures/edt/exemple-0679999E.xml', import.meta.url), 'utf8');

function refusal(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

function calendar(events: string[][]): Uint8Array {
  return Buffer.from(['BEGIN:VCALENDAR', 'VERSION:2.0', ...events.flat(), 'END:VCALENDAR', ''].join('\r\n'));
}

function vevent(uid: string, ...properties: string[]): string[] {
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTART;TZID=Europe/Paris:20250901T080000',
    'DTEND;TZID=Europe/Paris:20250901T090000',
    'LOCATION:B012',
    ...properties,
    'END:VEVENT',
  ];
}

describe('XML bounds', () => {
  it('refuses 100,000 nested elements at the 65th level, at once (xml-too-deep)', () => {
    const xml = `<?xml version="1.0"?>\n<ExportEmploiDuTemps>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</ExportEmploiDuTemps>`;
    const { value: error, ms } = timed(() => refusal(() => readEdt(Buffer.from(xml))));
    expect(error.kind).toBe('invalid');
    expect(error.problems).toEqual([
      {
        code: 'xml-too-deep',
        message: 'elements nest deeper than 64 levels (entree.max_xml_depth)',
        where: 'line 2, ExportEmploiDuTemps/a/a/…/a/a',
      },
    ]);
    // Was 3.8 GB and a crash; the parse now stops within the first chunk.
    expect(ms).toBeLessThan(1000);
  });

  it('honours a configured depth and element count (xml-too-many-elements)', () => {
    const bytes = Buffer.from(example);
    expect(refusal(() => readEdt(bytes, { limits: { maxXmlDepth: 2 } })).problems[0]).toMatchObject({
      code: 'xml-too-deep',
      where: 'line 5, ExportEmploiDuTemps/GrilleHoraire/JoursOuvres',
    });
    const tooMany = refusal(() => readEdt(bytes, { limits: { maxXmlElements: 10 } }));
    expect(tooMany.problems).toEqual([
      {
        code: 'xml-too-many-elements',
        message: 'the document has more than 10 elements (entree.max_xml_elements)',
        where: expect.stringMatching(/^line \d+, \w+$/),
      },
    ]);
    // The example itself is far inside the defaults.
    expect(readEdt(bytes).warnings).toEqual([]);
  });
});

describe('UTF-8 bytes under a Latin-1 declaration', () => {
  const declared = example
    .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    .replace('Nom="LABO 1"', 'Nom="Labo été"');

  // The example's teacher "Théo" (line 10) and the room (line 12) are UTF-8.
  it('warns naming the first line (encoding-mismatch), and refuses in strict mode', () => {
    const bytes = Buffer.from(declared, 'utf8');
    const { timetable, warnings } = readEdt(bytes);
    expect(warnings).toEqual([
      {
        code: 'encoding-mismatch',
        message:
          'the file declares ISO-8859-1/Windows-1252 but holds UTF-8 byte sequences (on 2 line(s)); names such as "été" would read "Ã©tÃ©": fix the XML declaration or re-export (refused in strict mode)',
        where: 'line 10',
      },
    ]);
    // Read as declared: the warning is what tells the sender.
    expect(timetable.rooms.map((r) => r.name)).toContain('Labo Ã©tÃ©');
    const strict = refusal(() => readEdt(bytes, { strict: true }));
    expect([strict.kind, strict.problems[0]?.code, strict.problems[0]?.where]).toEqual([
      'invalid',
      'encoding-mismatch',
      'line 10',
    ]);
  });

  it('says nothing for real Latin-1 bytes', () => {
    const { timetable, warnings } = readEdt(Buffer.from(declared, 'latin1'));
    expect(warnings).toEqual([]);
    expect(timetable.rooms.map((r) => r.name)).toContain('Labo été');
  });
});

describe('ICS bounds', () => {
  it('refuses a sub-daily RRULE before expanding it, naming the event', () => {
    const error = refusal(() =>
      readIcs(calendar([vevent('cours-1'), vevent('boucle', 'RRULE:FREQ=SECONDLY')])),
    );
    expect(error.problems).toEqual([
      {
        code: 'ics-rule-too-many-occurrences',
        message: 'the RRULE repeats SECONDLY (several times a day): lesson recurrences are daily at most',
        where: 'line 14, VEVENT/RRULE (UID boucle)',
      },
    ]);
  });

  it('refuses 1,000 FREQ=SECONDLY events quickly (once a 37 s freeze)', () => {
    const events = Array.from({ length: 1000 }, (_, i) => vevent(`s${i}`, 'RRULE:FREQ=SECONDLY'));
    const { value: error, ms } = timed(() => refusal(() => readIcs(calendar(events))));
    expect(error.problems[0]?.code).toBe('ics-rule-too-many-occurrences');
    expect(ms).toBeLessThan(2000);
  });

  it('stops a rule at max_occurrences_per_rule within the window', () => {
    const rule = vevent('horaire', 'RRULE:FREQ=DAILY;BYHOUR=8,9,10');
    const error = refusal(() => readIcs(calendar([rule])));
    expect(error.problems).toEqual([
      {
        code: 'ics-rule-too-many-occurrences',
        message:
          'the RRULE yields more than 2000 occurrences within 731 days of DTSTART (entree.max_occurrences_per_rule)',
        where: 'line 8, VEVENT/RRULE (UID horaire)',
      },
    ]);
    const small = refusal(() =>
      readIcs(calendar([vevent('hebdo', 'RRULE:FREQ=WEEKLY;COUNT=30')]), {
        limits: { maxOccurrencesPerRule: 20 },
      }),
    );
    expect(small.problems[0]?.code).toBe('ics-rule-too-many-occurrences');
    expect(
      readIcs(calendar([vevent('hebdo', 'RRULE:FREQ=WEEKLY;COUNT=30')])).timetable.lessons[0]?.dates,
    ).toHaveLength(30);
  });

  it('ends a rule that can never match at the window instead of looping forever', () => {
    const { value, ms } = timed(() =>
      readIcs(calendar([vevent('jamais', 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31')])),
    );
    expect(value.warnings.map((w) => w.code)).toEqual(['ics-recurrence-truncated']);
    expect(ms).toBeLessThan(2000);
  });

  it('refuses a calendar over max_occurrences (too-many-occurrences)', () => {
    const events = Array.from({ length: 5 }, (_, i) => vevent(`e${i}`, 'RRULE:FREQ=WEEKLY;COUNT=10'));
    const error = refusal(() => readIcs(calendar(events), { limits: { maxOccurrences: 45 } }));
    expect(error.problems).toEqual([
      {
        code: 'too-many-occurrences',
        message: 'the calendar expands to more than 45 occurrences (entree.max_occurrences)',
        where: 'line 31, VEVENT (UID e4)',
      },
    ]);
  });

  it('skips each event that ends before it starts, with a warning naming it', () => {
    const backwards = (uid: string) => [
      'BEGIN:VEVENT',
      `UID:${uid}`,
      'DTSTART:20250901T090000Z',
      'DTEND:20250901T080000Z',
      'LOCATION:B012',
      'END:VEVENT',
    ];
    const { timetable, warnings } = readIcs(calendar([backwards('a'), vevent('b'), backwards('c')]));
    expect(warnings).toEqual([
      {
        code: 'ics-event-ends-before-start',
        message: 'the VEVENT (UID a) ends before it starts; skipped',
        where: 'line 6, VEVENT/DTEND',
      },
      {
        code: 'ics-event-ends-before-start',
        message: 'the VEVENT (UID c) ends before it starts; skipped',
        where: 'line 18, VEVENT/DTEND',
      },
    ]);
    expect(timetable.lessons).toHaveLength(1);
  });
});
