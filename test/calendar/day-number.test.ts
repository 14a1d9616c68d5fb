import { describe, expect, it } from 'vitest';
import {
  addDaysIso,
  dayNumberOfIso,
  isoOfDayNumber,
  isoWeekdayOf,
  minutesOfWallTime,
} from '../../src/calendar/day-number.js';

describe('day numbers', () => {
  it('agree with Date.UTC for every day from 1999 to 2031', () => {
    for (let ms = Date.UTC(1999, 0, 1); ms <= Date.UTC(2031, 11, 31); ms += 86_400_000) {
      const iso = new Date(ms).toISOString().slice(0, 10);
      const day = dayNumberOfIso(iso);
      expect(day).toBe(ms / 86_400_000);
      expect(isoOfDayNumber(day)).toBe(iso);
      expect(isoWeekdayOf(day)).toBe(((new Date(ms).getUTCDay() + 6) % 7) + 1);
    }
  });

  it('refuses what is not a real date', () => {
    for (const bad of ['2025-02-29', '2025-13-01', '2025-1-01', '20250101', '2025-04-31', 'abcd-ef-gh'])
      expect(dayNumberOfIso(bad)).toBeNaN();
    expect(dayNumberOfIso('2028-02-29')).toBe(Date.UTC(2028, 1, 29) / 86_400_000);
  });

  it('reads wall-clock times and adds days across months and years', () => {
    expect(minutesOfWallTime('08:55')).toBe(535);
    expect(minutesOfWallTime('23:59')).toBe(1439);
    expect(minutesOfWallTime('24:00')).toBeNaN();
    expect(minutesOfWallTime('8:55')).toBeNaN();
    expect(addDaysIso('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDaysIso('2028-03-01', -1)).toBe('2028-02-29');
  });
});
