import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDevicesFile } from '../../src/devices/load.js';
import { checkDevicesAgainstRooms, checkRulesAgainstDevices, ruleCoverage } from '../../src/rules/check.js';
import { loadRulesFile } from '../../src/rules/rule-set.js';
import { DEFAULT_RULES_TEXT, defaultRuleSet } from './plan-fixtures.js';

const DEMO_FILE = 'devices/0670999X.yaml';
const DEMO_TEXT = readFileSync(new URL(`../../${DEMO_FILE}`, import.meta.url), 'utf8');
const demo = loadDevicesFile(DEMO_TEXT, DEMO_FILE);
/** The demo timetable's rooms (demo.md): ids equal names. */
const DEMO_ROOMS =
  'B101 B102 B103 B104 B105 B106 C201 C202 SALLE-INFO LABO-PC LABO-SVT ATELIER GYMNASE CDI AMPHI'
    .split(' ')
    .map((id) => ({ id, name: id }));
/** 1-based line of the first line equal to `line` once trimmed. */
const lineOf = (line: string): number => DEMO_TEXT.split('\n').findIndex((l) => l.trim() === line) + 1;

describe('checkDevicesAgainstRooms', () => {
  it('finds nothing wrong with the demo school', () => {
    expect(checkDevicesAgainstRooms(demo, DEMO_ROOMS)).toEqual([]);
  });

  it('matches zone rooms by timetable name as well as id', () => {
    const rooms = DEMO_ROOMS.map((r) => ({ id: `R-${r.id}`, name: r.name }));
    expect(checkDevicesAgainstRooms(demo, rooms)).toEqual([]);
  });

  it('reports unknown zone rooms, timetable rooms in no zone, and zones without rooms', () => {
    const rooms = [...DEMO_ROOMS.filter((r) => r.id !== 'CDI'), { id: 'D301', name: 'Salle D301' }];
    const edited = loadDevicesFile(DEMO_TEXT.replace('rooms: [AMPHI]', 'rooms: []'), DEMO_FILE);
    expect(checkDevicesAgainstRooms(edited, rooms)).toEqual([
      {
        code: 'room-unknown',
        message: 'room "CDI" of zone cdi is not in the timetable (neither an id nor a name)',
        where: `devices/0670999X.yaml:${lineOf('rooms: [CDI]')} (zones[6].rooms[0])`,
      },
      {
        code: 'zone-without-rooms',
        message: 'zone amphi has no rooms: no lesson can ever occupy it',
        where: `devices/0670999X.yaml:${lineOf('rooms: [AMPHI]')} (zones[7].rooms)`,
      },
      {
        code: 'room-without-zone',
        message: 'timetable room AMPHI belongs to no zone: its lessons drive nothing',
        where: `devices/0670999X.yaml:${lineOf('- id: batiment-b-est')} (zones)`,
      },
      {
        code: 'room-without-zone',
        message: 'timetable room D301 (Salle D301) belongs to no zone: its lessons drive nothing',
        where: `devices/0670999X.yaml:${lineOf('- id: batiment-b-est')} (zones)`,
      },
    ]);
  });

  it('reports a room in two zones driving the same function, not one split by function', () => {
    const lightsOnly = `  - id: eclairage-b101
    name: Éclairage B101
    gateway: gw-tilleuls
    rooms: [B101]
    functions: [lighting]
    category: classroom
`;
    const heatingToo = lightsOnly.replace(
      'functions: [lighting]',
      'functions: [heating]\n    heating_type: electric',
    );
    const split = loadDevicesFile(
      `${DEMO_TEXT.replace('functions: [heating, lighting]', 'functions: [heating]')}${lightsOnly}`,
      DEMO_FILE,
    );
    expect(checkDevicesAgainstRooms(split, DEMO_ROOMS)).toEqual([]);
    const clash = loadDevicesFile(DEMO_TEXT + heatingToo, DEMO_FILE);
    const last = DEMO_TEXT.split('\n').length + 3;
    expect(checkDevicesAgainstRooms(clash, DEMO_ROOMS)).toEqual([
      {
        code: 'room-in-two-zones',
        message: 'room B101 is in zones batiment-b-est and eclairage-b101, which both drive heating',
        where: `devices/0670999X.yaml:${last} (zones[8].rooms[0])`,
      },
    ]);
  });
});

describe('checkRulesAgainstDevices and ruleCoverage', () => {
  it('reports rule entries for unknown schools and zones, at their line', () => {
    const text = `${DEFAULT_RULES_TEXT}schools:
  "0670999X":
    zones:
      gymnase:
        heating:
          early_stop_minutes: { value: 10, basis: local decision }
      piscine:
        heating:
          early_stop_minutes: { value: 10, basis: local decision }
  "0750654D":
    heating:
      early_stop_minutes: { value: 10, basis: local decision }
`;
    const ruleSet = loadRulesFile(text, 'rules/default.yaml');
    const base = DEFAULT_RULES_TEXT.split('\n').length - 1;
    expect(checkRulesAgainstDevices(ruleSet, [demo])).toEqual([
      {
        code: 'rules-zone-unknown',
        message: 'rules for zone piscine, which devices/0670999X.yaml does not define',
        where: `rules/default.yaml:${base + 8} (schools.0670999X.zones.piscine)`,
      },
      {
        code: 'rules-school-unknown',
        message: 'rules for school 0750654D, which has no devices file',
        where: `rules/default.yaml:${base + 11} (schools.0750654D)`,
      },
    ]);
  });

  it('shows which rule decides each demo zone: gym and workshop by category, the rest by default', () => {
    const rows = ruleCoverage(defaultRuleSet, [demo]).map((r) => [
      r.zone,
      r.rules.occupied,
      r.rules.merge_gap_minutes,
    ]);
    expect(rows).toEqual([
      ['batiment-b-est', 'defaults.heating.occupied', 'defaults.heating.merge_gap_minutes'],
      ['batiment-b-ouest', 'defaults.heating.occupied', 'defaults.heating.merge_gap_minutes'],
      ['batiment-c', 'defaults.heating.occupied', 'heating_types.electric.merge_gap_minutes'],
      ['laboratoires', 'defaults.heating.occupied', 'defaults.heating.merge_gap_minutes'],
      ['atelier', 'categories.workshop.heating.occupied', 'heating_types.air.merge_gap_minutes'],
      ['gymnase', 'categories.gym.heating.occupied', 'heating_types.air.merge_gap_minutes'],
      ['cdi', 'defaults.heating.occupied', 'defaults.heating.merge_gap_minutes'],
      ['amphi', 'defaults.heating.occupied', 'heating_types.underfloor.merge_gap_minutes'],
    ]);
  });
});
