import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { timelineTicks } from '../../src/dashboard/timeline-svg.js';
import { wallClock } from '../../src/dashboard/wall-clock.js';

// Zones with DST at 02:00 (Paris), at midnight (Santiago), by 30 min (Lord Howe), and a
// quarter-hour offset (Kathmandu): the cached quarter-hour offsets must read as luxon does.
const ZONES = ['Europe/Paris', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];

describe('wallClock', () => {
  it.each(ZONES)('agrees with luxon every 7 minutes of 2026 in %s', (zone) => {
    const from = Date.UTC(2026, 0, 1);
    const to = Date.UTC(2027, 0, 1);
    let mismatches = 0;
    for (let at = from; at < to; at += 7 * 60_000) {
      const expected = DateTime.fromMillis(at, { zone });
      const got = wallClock(at, zone);
      if (
        got.year !== expected.year ||
        got.month !== expected.month ||
        got.day !== expected.day ||
        got.hour !== expected.hour ||
        got.minute !== expected.minute ||
        got.weekday !== expected.weekday
      )
        mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('timelineTicks across DST (Europe/Paris)', () => {
  it('ticks every real hour of the autumn switch day: 25 ticks, 02:00 twice', () => {
    const from = DateTime.fromISO('2026-10-25T00:00', { zone: 'Europe/Paris' }).toMillis();
    const to = DateTime.fromISO('2026-10-26T00:00', { zone: 'Europe/Paris' }).toMillis();
    const ticks = timelineTicks({ kind: 'day', range: { from, to }, timezone: 'Europe/Paris' });
    expect(ticks).toHaveLength(25);
    expect(ticks.map((t) => t.label).filter(Boolean)).toEqual([
      '0 h',
      '3 h',
      '6 h',
      '9 h',
      '12 h',
      '15 h',
      '18 h',
      '21 h',
    ]);
    expect(new Date(ticks[2]!.at).toISOString()).toBe('2026-10-25T00:00:00.000Z');
    expect(new Date(ticks[3]!.at).toISOString()).toBe('2026-10-25T01:00:00.000Z');
  });

  it('has 23 hour ticks on the spring switch day and one midnight per day of a week', () => {
    const from = DateTime.fromISO('2026-03-29T00:00', { zone: 'Europe/Paris' }).toMillis();
    const to = DateTime.fromISO('2026-03-30T00:00', { zone: 'Europe/Paris' }).toMillis();
    expect(timelineTicks({ kind: 'day', range: { from, to }, timezone: 'Europe/Paris' })).toHaveLength(23);
    const monday = DateTime.fromISO('2026-03-23T00:00', { zone: 'Europe/Paris' });
    const week = timelineTicks({
      kind: 'week',
      range: { from: monday.toMillis(), to: monday.plus({ days: 7 }).toMillis() },
      timezone: 'Europe/Paris',
    });
    expect(week.map((t) => new Date(t.at).toISOString())).toEqual([
      '2026-03-22T23:00:00.000Z',
      '2026-03-23T23:00:00.000Z',
      '2026-03-24T23:00:00.000Z',
      '2026-03-25T23:00:00.000Z',
      '2026-03-26T23:00:00.000Z',
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(week[6]!.label).toBe('dim. 29/03');
    expect(week[7]!.label).toBeUndefined();
  });
});
