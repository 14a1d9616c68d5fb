import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CalendarSource, IMPORTED_HOLIDAYS_FILE } from '../../src/site/calendars.js';

describe('CalendarSource', () => {
  it('merges holidays imported by `calendar import` over the shipped ones, and its fingerprint follows', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'scope-energie-cal-'));
    const shipped = new CalendarSource({ zone: 'B', dataDir });
    // 2027-2028 is not shipped (not published): 25 Oct 2027 is a school day…
    expect(shipped.forSchool('0670999X').closure('2027-10-25')).toBeNull();
    writeFileSync(
      join(dataDir, IMPORTED_HOLIDAYS_FILE),
      JSON.stringify([
        {
          zone: 'B',
          schoolYear: '2027-2028',
          name: 'Vacances de la Toussaint',
          start: '2027-10-23',
          end: '2027-11-08',
        },
      ]),
    );
    const imported = new CalendarSource({ zone: 'B', dataDir });
    // … until the dataset says otherwise.
    expect(imported.forSchool('0670999X').closure('2027-10-25')).toEqual({
      kind: 'holiday',
      name: 'Vacances de la Toussaint',
    });
    expect(imported.fingerprint).not.toBe(shipped.fingerprint);
    // SORTIE and VUE ask by timezone: the same calendar.
    expect(imported.calendarOf('0670999X', 'Europe/Paris').closure('2027-10-25')?.kind).toBe('holiday');
  });

  it("applies a devices file's département override (Alsace-Moselle holidays for a school outside 57/67/68)", () => {
    const source = new CalendarSource({
      zone: 'B',
      periods: [],
      departementOf: (uai) => (uai === '0511234P' ? '57' : undefined),
    });
    // Good Friday 2027 is 26 March.
    expect(source.calendarOf('0511234P', 'Europe/Paris').closure('2027-03-26')?.kind).toBe('public-holiday');
    expect(source.calendarOf('0510001Z', 'Europe/Paris').closure('2027-03-26')).toBeNull();
  });
});
