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
    expect(stored.startsWith('gzip:')).toBe(true);
    expect(decodeDocument(stored)).toEqual(JSON.parse(JSON.stringify(timetable)));
    expect(stored.length).toBeLessThan(JSON.stringify(timetable).length / 10);
  });

  it('round-trips a document without lessons, and still reads plain JSON rows', () => {
    const empty = timetableSchema.parse({ uai: '0670999X', rooms: [], lessons: [] });
    expect(decodeDocument(encodeDocument(empty))).toEqual(JSON.parse(JSON.stringify(empty)));
    expect(decodeDocument(JSON.stringify(empty))).toEqual(JSON.parse(JSON.stringify(empty)));
  });
});
