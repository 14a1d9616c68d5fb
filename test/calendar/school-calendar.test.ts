import { describe, expect, it } from 'vitest';
import { shippedHolidayPeriods } from '../../src/calendar/holiday-period.js';
import { SchoolCalendar } from '../../src/calendar/school-calendar.js';

describe('SchoolCalendar (zone B, shipped periods)', () => {
  const strasbourg = SchoolCalendar.forSchool({ uai: '0670999X' });
  const reims = SchoolCalendar.forSchool({ uai: '0511234P' });

  it('reports closures with their kind and name, and open days as null', () => {
    expect(reims.closure('2025-10-18')).toBeNull(); // pupils leave after classes
    expect(reims.closure('2025-10-19')).toEqual({ kind: 'holiday', name: 'Vacances de la Toussaint' });
    expect(reims.closure('2025-11-01')).toEqual({ kind: 'public-holiday', name: 'Toussaint' });
    expect(reims.closure('2025-11-02')).toEqual({ kind: 'holiday', name: 'Vacances de la Toussaint' });
    expect(reims.closure('2025-11-03')).toBeNull(); // return day
    expect(reims.closure('2026-05-15')).toEqual({ kind: 'holiday', name: "Pont de l'Ascension" });
    expect(reims.closure('2027-05-07')).toEqual({ kind: 'holiday', name: "Pont de l'Ascension" });
    expect(reims.closure('2027-05-10')).toBeNull();
    expect(reims.closure('2026-04-03')).toBeNull();
    expect(strasbourg.closure('2026-04-03')).toEqual({ kind: 'public-holiday', name: 'Vendredi saint' });
  });

  it('lists closed dates of a range', () => {
    // Saturday 14 Feb is the leaving day (classes until noon), Monday 2 March the return.
    expect(reims.closedDates('2026-02-13', '2026-03-03')).toEqual([
      ...['15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28'].map((d) => ({
        date: `2026-02-${d}`,
        kind: 'holiday',
        name: "Vacances d'Hiver",
      })),
      { date: '2026-03-01', kind: 'holiday', name: "Vacances d'Hiver" },
    ]);
    expect(reims.closedDates('2026-05-01', '2026-05-31').map((c) => `${c.date} ${c.name}`)).toEqual([
      '2026-05-01 Fête du travail',
      '2026-05-08 Victoire 1945',
      '2026-05-14 Ascension',
      "2026-05-15 Pont de l'Ascension",
      "2026-05-16 Pont de l'Ascension",
      "2026-05-17 Pont de l'Ascension",
      '2026-05-25 Lundi de Pentecôte',
    ]);
  });

  it('honours the département override and the zone', () => {
    const moselleFiledElsewhere = SchoolCalendar.forSchool({ uai: '0511234P', departementOverride: '57' });
    expect(moselleFiledElsewhere.departement).toBe('57');
    expect(moselleFiledElsewhere.closure('2026-12-26')).toEqual({
      kind: 'public-holiday',
      name: 'Saint Étienne',
    });
    const zoneA = new SchoolCalendar({ zone: 'A', periods: shippedHolidayPeriods(), departement: '69' });
    expect(zoneA.closure('2026-02-09')).toEqual({ kind: 'holiday', name: "Vacances d'Hiver" });
    expect(reims.closure('2026-02-09')).toBeNull();
  });

  it('knows the school year bounds from the summers around it', () => {
    expect(reims.schoolYearBounds('2025-2026')).toEqual({
      schoolYear: '2025-2026',
      firstDay: '2025-09-01',
      lastDay: '2026-07-04',
    });
    expect(reims.schoolYearBounds('2024-2025')).toEqual({
      schoolYear: '2024-2025',
      firstDay: null,
      lastDay: '2025-07-05',
    });
  });
});
