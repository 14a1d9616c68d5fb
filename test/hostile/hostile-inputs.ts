/**
 * Hostile inputs of issue 13, generated in code (nothing big is committed): each generator says
 * what the issue measured with it on the main branch of the time.
 */
import { readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import { DateTime } from 'luxon';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import type { TimetableInput } from '../../src/domain/timetable.js';

const EDT_FIXTURE = new URL('../fixtures/edt/exemple-0679999E.xml', import.meta.url);
const EXPORT_OPEN = `<?xml version="1.0" encoding="UTF-8"?>\n<ExportEmploiDuTemps xmlns="http://www.index-education.com/exportemploidutemps" Version="1.1" UAI="${DEMO_UAI}">\n`;

/**
 * An EDT export whose body is `depth` nested elements (`<a><a>…</a></a>`): 100,000 of them are
 * 0.7 MB and exhausted the heap (~3.8 GB) and crashed the service; 30,000 (212 KB) were
 * imported after 27 s and 3.7 GB.
 */
export function nestedEdt(depth: number): string {
  return `${EXPORT_OPEN}${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}\n</ExportEmploiDuTemps>\n`;
}

/**
 * An ICS with `events` events each repeating every second, without end
 * (`RRULE:FREQ=SECONDLY`): 1,000 (192 KB) froze everything for 37 s, 5,000 (1 MB) for 3.5 min.
 */
export function secondlyIcs(events: number): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//scope-energie//hostile suite//FR'];
  for (let i = 0; i < events; i++) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:hostile-secondly-${i}`,
      'DTSTAMP:20260901T120000Z',
      'DTSTART:20261005T060000Z',
      'DTEND:20261005T065500Z',
      'RRULE:FREQ=SECONDLY',
      'SUMMARY:MATHEMATIQUES',
      'DESCRIPTION:Salle(s) : B101',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

/**
 * An ICS whose every event ends before it starts: on the main branch of the time it replaced a
 * school's whole timetable by an empty one (201 and a warning).
 */
export function endsBeforeStartIcs(events = 5): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//scope-energie//hostile suite//FR'];
  for (let i = 0; i < events; i++) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:hostile-backwards-${i}`,
      'DTSTAMP:20260901T120000Z',
      `DTSTART:202610${String(5 + i).padStart(2, '0')}T100000Z`,
      `DTEND:202610${String(5 + i).padStart(2, '0')}T080000Z`,
      'SUMMARY:MATHEMATIQUES',
      'DESCRIPTION:Salle(s) : B101',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

/** Monday of the current week in the demo school's zone, and that date (YYYY-MM-DD). */
export function currentMonday(now = Date.now()): string {
  return DateTime.fromMillis(now, { zone: 'Europe/Paris' }).startOf('week').toISODate()!;
}

/**
 * The demo timetable plus `count` lessons in one room at one slot on this week's Monday (one
 * date each, so that even 100,000 of them stay under the occurrence bound of an import). With
 * 2,000, every VUE or dashboard view froze the server ~15 s (2.6 GB); with 100,000, 60 s and a
 * 500 "Map maximum size exceeded".
 */
export function overlappingLessons(count: number, now = Date.now()): TimetableInput {
  const demo = buildDemoTimetable(now);
  const monday = currentMonday(now);
  for (let i = 0; i < count; i++) {
    demo.lessons.push({
      id: `hostile-overlap-${i}`,
      rooms: ['B101'],
      day: 1,
      start: '08:00',
      end: '09:00',
      dates: [monday],
    });
  }
  return demo;
}

/**
 * The demo timetable with `count` unknown keys at its root: 200,000 of them stored 200,001
 * warnings, and the import answer and every later `GET …/versions` were 23 MB.
 */
export function unknownKeysJson(count: number, now = Date.now()): string {
  const text = JSON.stringify(buildDemoTimetable(now));
  const extra: string[] = [];
  for (let i = 0; i < count; i++) extra.push(`"hostile_unknown_${i}":${i}`);
  return `${text.slice(0, -1)},${extra.join(',')}}`;
}

/** The demo timetable with a room whose name is markup (it is shown in VUE) and a lesson in it this week. */
export function hostileRoomNameTimetable(name: string, now = Date.now()): TimetableInput {
  const demo = buildDemoTimetable(now);
  demo.rooms.push({ id: 'HOSTILE-ROOM', name });
  demo.lessons.push({
    id: 'hostile-room-lesson',
    rooms: ['HOSTILE-ROOM'],
    day: 1,
    start: '10:00',
    end: '11:00',
    dates: [currentMonday(now)],
  });
  return demo;
}

/** the EDT worked example of docs/formats.md, moved to the demo school. */
function edtExample(): string {
  return readFileSync(EDT_FIXTURE, 'utf8').replace('UAI="0679999E"', `UAI="${DEMO_UAI}"`);
}

/**
 * The EDT example declared ISO-8859-1 but holding UTF-8 bytes ("Salle été" in UTF-8 is stored
 * as "Salle Ã©tÃ©" when read as Latin-1), with the line of the first such bytes.
 */
export function utf8DeclaredLatin1Edt(): { bytes: Uint8Array; line: number } {
  const text = edtExample()
    .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    .replace('Nom="B012"', 'Nom="Salle été"');
  const line = text.split('\n').findIndex((l) => [...l].some((ch) => ch.charCodeAt(0) > 0x7f)) + 1;
  return { bytes: new TextEncoder().encode(text), line };
}

/** Billion laughs: ten levels of ten references, 10^9 "lol" if expanded. */
export function billionLaughsEdt(): string {
  const entities = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i <= 9; i++) {
    entities.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  }
  return edtExample()
    .replace(
      '<?xml version="1.0" encoding="UTF-8"?>\n',
      `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ExportEmploiDuTemps [${entities.join('')}]>\n`,
    )
    .replace('Nom="B012"', 'Nom="&lol9;"');
}

/** XXE: an external entity naming a local file. */
export function xxeEdt(): string {
  return edtExample()
    .replace(
      '<?xml version="1.0" encoding="UTF-8"?>\n',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ExportEmploiDuTemps [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    )
    .replace('Nom="B012"', 'Nom="&xxe;"');
}

export function malformedEdt(): string {
  return edtExample().replace('<Salle Ident="2" Nom="LABO 1"/>', '<Salle Ident="2" Nom="LABO 1">');
}

/** The EDT example with another school's UAI inside. */
export function foreignUaiEdt(uai: string): string {
  return edtExample().replace(`UAI="${DEMO_UAI}"`, `UAI="${uai}"`);
}

/** 10 MB of zeros in one UDT part: ~10 kB compressed, a ratio near 1,000 (test/formats/zip.test.ts). */
export function zipBombUdt(): Uint8Array {
  return zipSync({ 'UDCal_12.xml': new Uint8Array(10 * 1024 * 1024) }, { level: 9 });
}

/** A UDT archive with an entry named `name` (".." or absolute), by renaming a same-length placeholder. */
export function zipSlipUdt(name: string): Uint8Array {
  const placeholder = 'p'.repeat(name.length);
  const zip = new Uint8Array(zipSync({ [placeholder]: strToU8('<c/>') }));
  const needle = Buffer.from(placeholder, 'latin1');
  const text = Buffer.from(zip);
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    zip.set(Buffer.from(name, 'latin1'), at);
  }
  return zip;
}
