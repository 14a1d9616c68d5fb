import { describe, expect, it } from 'vitest';
import { easterSunday } from '../../src/calendar/easter.js';
import { departementOfSchool, isAlsaceMoselle, publicHolidays } from '../../src/calendar/public-holidays.js';
import { isValidUai } from '../../src/domain/uai.js';

describe('easterSunday', () => {
  it('matches the published dates 2025–2029 (docs/calendar.md, "Holidays")', () => {
    expect([2025, 2026, 2027, 2028, 2029].map(easterSunday)).toEqual([
      '2025-04-20',
      '2026-04-05',
      '2027-03-28',
      '2028-04-16',
      '2029-04-01',
    ]);
  });

  it('handles the extreme dates of the Gregorian computus', () => {
    expect(easterSunday(1818)).toBe('1818-03-22'); // earliest possible
    expect(easterSunday(2038)).toBe('2038-04-25'); // latest possible
    expect(easterSunday(2000)).toBe('2000-04-23');
  });
});

describe('publicHolidays', () => {
  it('lists the 11 national days of L3133-1 for 2026, in date order', () => {
    expect(publicHolidays(2026, { alsaceMoselle: false })).toEqual([
      { date: '2026-01-01', name: "Jour de l'an" },
      { date: '2026-04-06', name: 'Lundi de Pâques' },
      { date: '2026-05-01', name: 'Fête du travail' },
      { date: '2026-05-08', name: 'Victoire 1945' },
      { date: '2026-05-14', name: 'Ascension' },
      { date: '2026-05-25', name: 'Lundi de Pentecôte' },
      { date: '2026-07-14', name: 'Fête nationale' },
      { date: '2026-08-15', name: 'Assomption' },
      { date: '2026-11-01', name: 'Toussaint' },
      { date: '2026-11-11', name: 'Armistice 1918' },
      { date: '2026-12-25', name: 'Noël' },
    ]);
  });

  it('derives the Easter holidays for 2025–2029', () => {
    const derived = (year: number) =>
      publicHolidays(year, { alsaceMoselle: true })
        .filter((h) =>
          ['Vendredi saint', 'Lundi de Pâques', 'Ascension', 'Lundi de Pentecôte'].includes(h.name),
        )
        .map((h) => h.date);
    expect(derived(2025)).toEqual(['2025-04-18', '2025-04-21', '2025-05-29', '2025-06-09']);
    expect(derived(2026)).toEqual(['2026-04-03', '2026-04-06', '2026-05-14', '2026-05-25']);
    expect(derived(2027)).toEqual(['2027-03-26', '2027-03-29', '2027-05-06', '2027-05-17']);
    expect(derived(2028)).toEqual(['2028-04-14', '2028-04-17', '2028-05-25', '2028-06-05']);
    expect(derived(2029)).toEqual(['2029-03-30', '2029-04-02', '2029-05-10', '2029-05-21']);
  });

  it('adds Good Friday and 26 December in Alsace-Moselle only', () => {
    const alsace = publicHolidays(2027, { alsaceMoselle: true });
    expect(alsace).toHaveLength(13);
    expect(alsace).toContainEqual({ date: '2027-03-26', name: 'Vendredi saint' });
    expect(alsace).toContainEqual({ date: '2027-12-26', name: 'Saint Étienne' });
    const elsewhere = publicHolidays(2027, { alsaceMoselle: false }).map((h) => h.date);
    expect(elsewhere).toHaveLength(11);
    expect(elsewhere).not.toContain('2027-03-26');
    expect(elsewhere).not.toContain('2027-12-26');
  });

  it('keeps one entry when Ascension falls on 1 May (2008)', () => {
    const may = publicHolidays(2008, { alsaceMoselle: false }).filter((h) => h.date.startsWith('2008-05'));
    expect(may).toEqual([
      { date: '2008-05-01', name: 'Fête du travail' },
      { date: '2008-05-08', name: 'Victoire 1945' },
      { date: '2008-05-12', name: 'Lundi de Pentecôte' },
    ]);
  });
});

describe('Alsace-Moselle', () => {
  it('is 57, 67 and 68 only', () => {
    expect(['57', '67', '68'].map(isAlsaceMoselle)).toEqual([true, true, true]);
    expect(['54', '51', '88', '2A', '971'].map(isAlsaceMoselle)).toEqual([false, false, false, false, false]);
  });

  it('takes the département from the UAI unless overridden', () => {
    expect(isValidUai('0670999X')).toBe(true);
    expect(isValidUai('0511234P')).toBe(true);
    expect(departementOfSchool('0670999X')).toBe('67');
    expect(departementOfSchool('0511234P')).toBe('51');
    expect(departementOfSchool('0511234P', '57')).toBe('57');
  });
});
