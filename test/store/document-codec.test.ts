import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { timetableSchema } from '../../src/domain/timetable.js';
import { decodeDocument, encodeDocument } from '../../src/store/document-codec.js';

describe('document codec', () => {
  const timetable = timetableSchema.parse({
    uai: '0670999X',
    name: 'Lycée « Tilleuls » – été',
    rooms: [{ id: 'B101', name: 'B101' }],
    lessons: Array.from({ length: 4_321 }, (_, i) => ({
      id: `L${i}`,
      rooms: i % 3 === 0 ? [] : ['B101'],
      day: 1 + (i % 5),
      start: '08:00',
      end: '09:00',
      weeks: ['2026-09-07', '2026-09-14'],
      subject: i % 2 ? 'FRANÇAIS' : undefined,
    })),
  });

  it('round-trips a document across several gzip members, accents included', () => {
    const stored = encodeDocument(timetable);
    expect(stored.startsWith('gzip-weeks:')).toBe(true);
    expect(decodeDocument(stored)).toEqual(JSON.parse(JSON.stringify(timetable)));
    expect(stored.length).toBeLessThan(JSON.stringify(timetable).length / 10);
  });

  it('keeps each distinct week list once, whether lessons share the list or only its dates', () => {
    const shared = ['2026-09-07', '2026-09-14'];
    const doc = timetableSchema.parse({
      uai: '0670999X',
      rooms: [],
      lessons: [
        { id: 'a', rooms: [], day: 1, start: '08:00', end: '09:00', weeks: shared },
        { id: 'b', rooms: [], day: 2, start: '08:00', end: '09:00', weeks: [...shared] },
        { id: 'c', rooms: [], day: 3, start: '08:00', end: '09:00', weeks: ['2026-09-21'] },
        { id: 'd', rooms: [], day: 4, start: '08:00', end: '09:00', dates: ['2026-09-10'] },
      ],
    });
    const stored = encodeDocument(doc);
    const json = gunzipSync(Buffer.from(stored.slice('gzip-weeks:'.length), 'base64')).toString('utf8');
    expect(JSON.parse(json).weeks).toEqual([shared, ['2026-09-21']]);
    const decoded = decodeDocument(stored);
    expect(decoded).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(Object.keys(decoded.lessons[0] ?? {})).toEqual(
      Object.keys(JSON.parse(JSON.stringify(doc.lessons[0]))),
    );
  });

  it('still reads rows written by the earlier gzip codec', () => {
    const member = (text: string) => gzipSync(text, { level: 1 });
    const plain = JSON.stringify(timetable);
    const cut = plain.indexOf('"lessons":[') + '"lessons":['.length;
    const stored = `gzip:${Buffer.concat([member(plain.slice(0, cut)), member(plain.slice(cut))]).toString('base64')}`;
    expect(decodeDocument(stored)).toEqual(JSON.parse(plain));
  });

  it('round-trips a document without lessons, and still reads plain JSON rows', () => {
    const empty = timetableSchema.parse({ uai: '0670999X', rooms: [], lessons: [] });
    expect(decodeDocument(encodeDocument(empty))).toEqual(JSON.parse(JSON.stringify(empty)));
    expect(decodeDocument(JSON.stringify(empty))).toEqual(JSON.parse(JSON.stringify(empty)));
  });
});
