import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifySecret } from '../../src/auth/secrets.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import {
  DRAFT_HEATING_TYPE,
  draftDevicesFile,
  PLACEHOLDER_PASSWORD_HASH,
} from '../../src/devices/draft-document.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { proposeZones, readRoomCode } from '../../src/devices/zone-proposal.js';
import { readEdt } from '../../src/formats/edt.js';
import { checkDevicesAgainstRooms } from '../../src/rules/check.js';

const rooms = (...names: string[]) => names.map((name) => ({ id: name, name }));
const zoneOf = (proposal: ReturnType<typeof proposeZones>, room: string) =>
  proposal.zones.find((z) => z.rooms.includes(room));

describe('readRoomCode: building and floor as far as the code says', () => {
  it.each([
    ['B101', 'B', 1],
    ['A012', 'A', 0],
    ['B.0.12', 'B', 0],
    ['A-RDC-03', 'A', 0],
    ['C.-1.02', 'C', -1],
    ['Bât A 104', 'A', 1],
    ['Bâtiment 2 - RDC', '2', 0],
    ['Salle 204', undefined, 2],
    ['1er étage - 12', undefined, 1],
    ['B12', 'B', undefined],
    ['S12', undefined, undefined],
    ['22', undefined, undefined],
    ['SALLE-INFO', undefined, undefined],
  ])('%s → building %s, floor %s', (name, building, floor) => {
    const reading = readRoomCode(name);
    expect(reading.building).toBe(building);
    expect(reading.floor).toBe(floor);
  });
});

describe('proposeZones', () => {
  it('groups the demo lycée by building and floor, and its special rooms by kind', () => {
    const timetable = buildDemoTimetable(Date.parse('2026-11-30T12:00:00Z'));
    const proposal = proposeZones(timetable.rooms);
    const b = zoneOf(proposal, 'B101');
    expect(b).toMatchObject({
      id: 'batiment-b-etage-1',
      category: 'classroom',
      functions: ['heating', 'lighting'],
    });
    expect(b?.rooms).toEqual(['B101', 'B102', 'B103', 'B104', 'B105', 'B106']);
    expect(zoneOf(proposal, 'C201')).toMatchObject({ id: 'batiment-c-etage-2', rooms: ['C201', 'C202'] });
    // Building C from the export, no floor in "SALLE-INFO": its building's zone, floor left open.
    expect(zoneOf(proposal, 'SALLE-INFO')).toMatchObject({ id: 'batiment-c', category: 'classroom' });
    expect(zoneOf(proposal, 'LABO-PC')).toMatchObject({
      id: 'laboratoires',
      category: 'laboratory',
      rooms: ['LABO-PC', 'LABO-SVT'],
      functions: ['heating', 'lighting', 'ventilation'],
    });
    expect(zoneOf(proposal, 'ATELIER')).toMatchObject({ id: 'ateliers', category: 'workshop' });
    expect(zoneOf(proposal, 'GYMNASE')).toMatchObject({ id: 'gymnase', category: 'gym' });
    expect(zoneOf(proposal, 'CDI')).toMatchObject({ id: 'cdi', category: 'library' });
    expect(zoneOf(proposal, 'AMPHI')).toMatchObject({ id: 'amphitheatre', category: 'auditorium' });
    expect(proposal.unplaced).toEqual([]);
    expect(proposal.zones.flatMap((z) => z.rooms).sort()).toEqual(timetable.rooms.map((r) => r.id).sort());
  });

  it('places the rooms of a real-structure EDT export (numbered rooms, CDI, gymnase)', () => {
    const bytes = readFileSync(new URL('../fixtures/edt/college-0139999Y.xml', import.meta.url));
    const { timetable } = readEdt(bytes);
    const proposal = proposeZones(timetable.rooms);
    expect(zoneOf(proposal, 'CDI')).toMatchObject({ id: 'cdi', category: 'library' });
    expect(zoneOf(proposal, 'GYMNASE')).toMatchObject({ id: 'gymnase', category: 'gym' });
    // "1", "10", "22": numbers too short to hold a floor, no building: one zone, nothing invented.
    const ordinary = zoneOf(proposal, '22');
    expect(ordinary).toMatchObject({ id: 'salles', category: 'classroom' });
    expect(ordinary?.rooms).toEqual(['1', '10', '11', '22', '34']);
    expect(ordinary?.placements.every((p) => p.building === undefined && p.floor === undefined)).toBe(true);
  });

  it('splits buildings and floors, keeps special kinds together per building, and leaves outside places to a person', () => {
    const proposal = proposeZones([
      ...rooms('A012', 'A014', 'A101', 'B.0.12', 'B.1.03', 'Labo 1 Bât A', 'Labo SVT Bât B', 'Salle EPS'),
      ...rooms('Salle de réunion', 'Self', 'Internat', 'Stade municipal', 'Piscine', 'S12'),
    ]);
    expect(zoneOf(proposal, 'A012')?.id).toBe('batiment-a-rdc');
    expect(zoneOf(proposal, 'A014')?.id).toBe('batiment-a-rdc');
    expect(zoneOf(proposal, 'A101')?.id).toBe('batiment-a-etage-1');
    expect(zoneOf(proposal, 'B.0.12')?.id).toBe('batiment-b-rdc');
    expect(zoneOf(proposal, 'B.1.03')?.id).toBe('batiment-b-etage-1');
    expect(zoneOf(proposal, 'Labo 1 Bât A')).toMatchObject({
      id: 'laboratoires-batiment-a',
      category: 'laboratory',
    });
    expect(zoneOf(proposal, 'Labo SVT Bât B')).toMatchObject({
      id: 'laboratoires-batiment-b',
      category: 'laboratory',
    });
    expect(zoneOf(proposal, 'Salle EPS')?.category).toBe('gym');
    expect(zoneOf(proposal, 'Salle de réunion')?.category).toBe('office');
    expect(zoneOf(proposal, 'Self')?.category).toBe('canteen');
    expect(zoneOf(proposal, 'Internat')?.category).toBe('boarding');
    expect(zoneOf(proposal, 'S12')?.id).toBe('salles');
    expect(proposal.unplaced.map((u) => u.room.id)).toEqual(['Piscine', 'Stade municipal']);
    expect(new Set(proposal.zones.map((z) => z.id)).size).toBe(proposal.zones.length);
  });
});

describe('draftDevicesFile', () => {
  it('writes a commented file that loads, covers every room, and marks the placeholders TODO', () => {
    const timetable = buildDemoTimetable(Date.parse('2026-11-30T12:00:00Z'));
    const draft = draftDevicesFile({
      school: { uai: '0670999X', name: 'Lycée des Tilleuls', timezone: 'Europe/Paris' },
      rooms: timetable.rooms,
      version: 3,
    });
    const loaded = loadDevicesFile(draft.text, 'devices/0670999X.yaml');
    expect(checkDevicesAgainstRooms(loaded, timetable.rooms)).toEqual([]);
    expect(loaded.value.gateways).toEqual([
      {
        id: 'gw-0670999x',
        username: 'gw-0670999x',
        password_hash: PLACEHOLDER_PASSWORD_HASH,
        adapter: 'native',
      },
    ]);
    expect(verifySecret('', PLACEHOLDER_PASSWORD_HASH)).toBe(false);
    expect(loaded.value.zones.every((z) => z.heating_type === DRAFT_HEATING_TYPE)).toBe(true);
    expect(draft.text).toContain('# TODO placeholder: replace with `scope-energie gateway credentials`');
    expect(draft.text).toContain(
      '  # Laboratoires: recognised by name as a laboratory (rule category laboratory).',
    );
    expect(draft.text).toContain(
      '- B101 # building B from the export; code "B101": building B, first digit 1 of the number is the floor',
    );
    expect(draft.text).toContain('With the placeholders above, this file passes `scope-energie check`.');
  });

  it('lists the rooms left for a person in comments and says why check reports them', () => {
    const input = rooms('B101', 'Stade');
    const draft = draftDevicesFile({ school: { uai: '0670999X', timezone: 'Europe/Paris' }, rooms: input });
    const loaded = loadDevicesFile(draft.text, 'devices/0670999X.yaml');
    expect(checkDevicesAgainstRooms(loaded, input).map((p) => p.code)).toEqual(['room-without-zone']);
    expect(draft.text).toContain(
      '# - Stade: "STADE" in the name: a place outside the buildings or not the school\'s',
    );
    expect(draft.text).toContain('reports the 1 room(s) listed at the end as room-without-zone');
    expect(draft.text).toContain('name: 0670999X # TODO: the school name');
  });
});
