import { describe, expect, it } from 'vitest';
import type { RoomOccupancy } from '../../src/domain/occupancy.js';
import { zoneOccupancy } from '../../src/rules/zone-occupancy.js';
import { t } from './plan-fixtures.js';

const room = (id: string, name: string, intervals: [string, string, string][]): RoomOccupancy => ({
  room: id,
  name,
  intervals: intervals.map(([start, end, lesson]) => ({ start: t(start), end: t(end), source: [lesson] })),
});

describe('zoneOccupancy', () => {
  it('unites the rooms of the zone (by id or name), joining overlapping and touching intervals', () => {
    const rooms = [
      room('R1', 'B101', [
        ['2026-01-13T07:00:00Z', '2026-01-13T08:00:00Z', 'L1'],
        ['2026-01-13T10:00:00Z', '2026-01-13T11:00:00Z', 'L4'],
      ]),
      room('B102', 'Salle 102', [
        ['2026-01-13T07:30:00Z', '2026-01-13T09:00:00Z', 'L2'],
        ['2026-01-13T09:00:00Z', '2026-01-13T09:30:00Z', 'L3'],
      ]),
      room('GYM', 'GYMNASE', [['2026-01-13T12:00:00Z', '2026-01-13T13:00:00Z', 'L9']]),
    ];
    expect(zoneOccupancy(rooms, { rooms: ['B101', 'B102'] })).toEqual([
      { start: t('2026-01-13T07:00:00Z'), end: t('2026-01-13T09:30:00Z'), source: ['L1', 'L2', 'L3'] },
      { start: t('2026-01-13T10:00:00Z'), end: t('2026-01-13T11:00:00Z'), source: ['L4'] },
    ]);
  });

  it('is empty for a zone whose rooms have no lessons', () => {
    expect(zoneOccupancy([room('B103', 'B103', [])], { rooms: ['B103', 'B104'] })).toEqual([]);
  });
});
