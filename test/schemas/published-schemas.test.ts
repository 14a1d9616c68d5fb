import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { publishedSchemas } from '../../src/schemas/published-schemas.js';

describe('published JSON Schemas', () => {
  it.each(Object.keys(publishedSchemas()))(
    'docs/schemas/%s is up to date (run `npm run schemas`)',
    (name) => {
      const committed = JSON.parse(
        readFileSync(new URL(`../../docs/schemas/${name}`, import.meta.url), 'utf8'),
      );
      expect(committed).toEqual(publishedSchemas()[name]);
    },
  );

  it('describes the native timetable: lessons need rooms, day, start, end', () => {
    const schema = publishedSchemas()['scope-emploi-du-temps-v1.json'] as {
      properties: {
        lessons: { items: { required: string[]; properties: Record<string, { pattern?: string }> } };
      };
    };
    expect(schema.properties.lessons.items.required).toEqual(
      expect.arrayContaining(['id', 'rooms', 'day', 'start', 'end']),
    );
    expect(schema.properties.lessons.items.properties['start']?.pattern).toBe('^([01]\\d|2[0-3]):[0-5]\\d$');
  });
});
