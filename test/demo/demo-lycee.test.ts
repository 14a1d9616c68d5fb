import { describe, expect, it } from 'vitest';
import { SchoolCalendar } from '../../src/calendar/index.js';
import { buildDemoTimetable, DEMO_UAI, demoSchoolYear } from '../../src/demo/demo-lycee.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { checkTimetable } from '../../src/domain/timetable-checks.js';
import { isValidUai } from '../../src/domain/uai.js';

describe('the demo lycée', () => {
  const now = Date.parse('2026-11-28T10:00:00Z');
  const timetable = timetableSchema.parse(buildDemoTimetable(now));

  it('is a valid fictional school of 15 rooms in Strasbourg (Alsace-Moselle) for the current school year', () => {
    expect(isValidUai(DEMO_UAI)).toBe(true);
    expect(DEMO_UAI.startsWith('067')).toBe(true);
    expect(timetable.rooms).toHaveLength(15);
    expect(demoSchoolYear(now)).toEqual({
      start: '2026-09-01',
      end: '2027-07-04',
      firstMonday: '2026-08-31',
      lastMonday: '2027-06-28',
    });
    expect(demoSchoolYear(Date.parse('2027-03-01T00:00:00Z')).start).toBe('2026-09-01');
    expect(checkTimetable(timetable).errors).toEqual([]);
  });

  it('has a realistic week: free Wednesday afternoon, Saturday morning in B101–B103, one lesson without room', () => {
    const wednesdayAfternoon = timetable.lessons.filter((l) => l.day === 3 && l.start >= '13:00');
    expect(wednesdayAfternoon).toEqual([]);
    const saturday = new Set(timetable.lessons.filter((l) => l.day === 6).flatMap((l) => l.rooms));
    expect([...saturday].sort()).toEqual(['B101', 'B102', 'B103']);
    expect(timetable.lessons.filter((l) => l.rooms.length === 0)).toHaveLength(1);
  });

  it('leaves out the weeks the zone B holidays close entirely, like EDT exports', () => {
    const calendar = SchoolCalendar.forSchool({ uai: DEMO_UAI });
    const weeks = timetable.lessons[0]?.weeks ?? [];
    expect(weeks).not.toContain('2026-10-19'); // Toussaint 2026: 17 Oct → 2 Nov
    expect(weeks).not.toContain('2026-10-26');
    expect(weeks).toContain('2026-11-02'); // return day
    expect(weeks).toContain('2026-08-31'); // rentrée on Tuesday 1 Sept: the week is kept
    for (const monday of weeks) {
      const open = [0, 1, 2, 3, 4].some((d) => {
        const date = new Date(Date.parse(`${monday}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10);
        return calendar.closure(date)?.kind !== 'holiday';
      });
      expect(open, monday).toBe(true);
    }
  });
});
