import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDevicesFile } from '../../src/devices/load.js';
import { MAPPING_CSV_COLUMNS, mappingCsv, readMappingCsv, withZones } from '../../src/devices/mapping-csv.js';
import { isInputError } from '../../src/domain/problems.js';

const DEMO_FILE = 'devices/0670999X.yaml';
const DEMO = readFileSync(new URL('../../devices/0670999X.yaml', import.meta.url), 'utf8');
const GATEWAYS = { gateways: ['gw-tilleuls'] };

/** The demo file plus every optional zone field, adapter options of each type, and a zone with no room. */
const RICH = DEMO.replace(
  '    loss_coefficient_w_per_k: 160',
  `    loss_coefficient_w_per_k: 160.5
    time_constant_h: 6.25
    preheat_minutes: 45
    topic: amphi-nord
    adapter: zigbee2mqtt
    adapter_options: { device: "fp-amphi; nord", base_topic: "z2m", heating_value_frost: "frost", retain: true, qos: 1 }
  - id: reserve
    name: "Réserve \\"matériel\\""
    gateway: gw-tilleuls
    rooms: []
    functions: [heating]
    category: storage
    heating_type: electric`,
);

function problemsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isInputError(error)) return error.problems;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('mapping CSV', () => {
  it('writes a BOM, ";" and CRLF, one row per room, then the rooms no zone claims', () => {
    const csv = mappingCsv(loadDevicesFile(DEMO, DEMO_FILE).value, [
      { id: 'B101', name: 'B101' },
      { id: 'S-NEW', name: 'Salle neuve' },
    ]);
    const lines = csv.split('\r\n');
    expect(csv.startsWith('\uFEFFroom;zone;zone_name;')).toBe(true);
    expect(lines[0]).toBe(`\uFEFF${MAPPING_CSV_COLUMNS.join(';')}`);
    expect(lines[1]).toBe(
      'B101;batiment-b-est;Bâtiment B, salles B101 à B103;gw-tilleuls;heating,lighting;classroom;hydronic;;;;;180;;',
    );
    expect(lines.at(-2)).toBe('S-NEW;;;;;;;;;;;;;');
    expect(lines.at(-1)).toBe('');
  });

  it('round-trips losslessly: same zones, and the same text when nothing changed', () => {
    for (const text of [DEMO, RICH]) {
      const loaded = loadDevicesFile(text, DEMO_FILE);
      const csv = mappingCsv(loaded.value, [{ id: 'S-NEW', name: 'S-NEW' }]);
      const zones = readMappingCsv(csv, 'mapping.csv', GATEWAYS);
      expect(zones).toEqual(loaded.value.zones);
      expect(withZones(text, DEMO_FILE, zones)).toBe(text);
    }
  });

  it('reads what a spreadsheet writes back: no BOM, LF, columns moved, decimal comma, empty repeated cells', () => {
    const csv = [
      'zone;room;zone_name;gateway;functions;category;heating_type;adapter;device;adapter_options;topic;loss_coefficient_w_per_k;time_constant_h;preheat_minutes',
      'batiment-b;B101;Bâtiment B;gw-tilleuls;heating, lighting;classroom;hydronic;;fp-b1;;;180,5;;',
      'batiment-b;B102;;;;;;;;;;;;',
      'batiment-b;"B103";;;;;;;;;;;;',
      '',
    ].join('\n');
    const [zone] = readMappingCsv(csv, 'mapping.csv', GATEWAYS);
    expect(zone).toEqual({
      id: 'batiment-b',
      name: 'Bâtiment B',
      gateway: 'gw-tilleuls',
      rooms: ['B101', 'B102', 'B103'],
      functions: ['heating', 'lighting'],
      category: 'classroom',
      heating_type: 'hydronic',
      loss_coefficient_w_per_k: 180.5,
      adapter_options: { device: 'fp-b1' },
    });
  });

  it('names every bad line and column, and changes nothing', () => {
    const csv = mappingCsv(loadDevicesFile(DEMO, DEMO_FILE).value)
      .replace(
        'B102;batiment-b-est;Bâtiment B, salles B101 à B103;gw-tilleuls;heating,lighting;classroom',
        'B102;batiment-b-est;Bâtiment B, salles B101 à B103;gw-tilleuls;heating,lighting;laboratory',
      )
      .replace(
        'C201;batiment-c;Bâtiment C (chauffage électrique);gw-inconnu',
        'C201;batiment-c;Bâtiment C (chauffage électrique);gw-inconnu',
      )
      .replace(
        'GYMNASE;gymnase;Gymnase;gw-tilleuls;heating,lighting,ventilation;gym;air;;;;;400',
        'GYMNASE;gymnase;Gymnase;gw-tilleuls;heating,lighting,ventilation;gymnase;air;;;;;quatre-cents',
      )
      .replace(
        'CDI;cdi;CDI;gw-tilleuls;heating,lighting;library;hydronic;;;;;90',
        'CDI;cdi;CDI;gw-tilleuls;heating,lighting;library;hydronic;;;{device:1};;90',
      )
      .replace('AMPHI;amphi;', 'B101;amphi;');
    const lines = csv.split('\r\n');
    const lineOf = (room: string) => lines.findIndex((l) => l.startsWith(`${room};`)) + 1;
    const problems = problemsOf(() =>
      readMappingCsv(csv, 'mapping.csv', { gateways: ['gw-tilleuls'], rooms: DEMO_ROOMS }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'zone-row-mismatch',
          where: `mapping.csv:${lineOf('B102')}:6 (category)`,
        }),
        expect.objectContaining({
          code: 'csv-number',
          where: `mapping.csv:${lineOf('GYMNASE')}:12 (loss_coefficient_w_per_k)`,
        }),
        expect.objectContaining({
          code: 'csv-adapter-options',
          where: `mapping.csv:${lineOf('CDI')}:10 (adapter_options)`,
        }),
        expect.objectContaining({
          code: 'room-in-two-zones',
          where: `mapping.csv:${lines.findIndex((l) => l.startsWith('B101;amphi;')) + 1}:1 (room)`,
        }),
      ]),
    );
    expect(problems.find((p) => p.code === 'csv-number')?.message).toBe(
      'loss_coefficient_w_per_k "quatre-cents" is not a number',
    );
  });

  it('names an unknown gateway, a bad category, an unknown room, a short row and a bad header', () => {
    const header = MAPPING_CSV_COLUMNS.join(';');
    const csv = [
      header,
      'B101;b;Bâtiment B;gw-x;heating;classroom;hydronic;;;;;;;',
      'Z999;c;C;gw-tilleuls;heating;salle;hydronic;;;;;;;',
      'B102;d;D;gw-tilleuls',
    ].join('\r\n');
    const problems = problemsOf(() =>
      readMappingCsv(csv, 'm.csv', { gateways: ['gw-tilleuls'], rooms: DEMO_ROOMS }),
    );
    expect(problems.map((p) => [p.code, p.where])).toEqual([
      ['csv-field-count', 'm.csv:4'],
      ['room-unknown', 'm.csv:3:1 (room)'],
      ['gateway-undefined', 'm.csv:2:4 (gateway)'],
      ['zone-invalid', 'm.csv:3:6 (category)'],
    ]);
    const headerProblems = problemsOf(() => readMappingCsv('room;zone;salle\r\n', 'm.csv', GATEWAYS));
    expect(headerProblems[0]).toMatchObject({ code: 'csv-column-unknown', where: 'm.csv:1:3' });
    expect(headerProblems.filter((p) => p.code === 'csv-column-missing')).toHaveLength(
      MAPPING_CSV_COLUMNS.length - 2,
    );
    expect(problemsOf(() => readMappingCsv(`${header}\r\n"B101;b`, 'm.csv', GATEWAYS))[0]).toMatchObject({
      code: 'csv-malformed',
    });
  });

  it('keeps the comments of unchanged zones and adds new zones in the schema order', () => {
    const zones = readMappingCsv(mappingCsv(loadDevicesFile(DEMO, DEMO_FILE).value), 'm.csv', GATEWAYS);
    const changed = zones.map((z) => (z.id === 'cdi' ? { ...z, loss_coefficient_w_per_k: 95 } : z));
    changed.push({
      id: 'foyer',
      name: 'Foyer',
      gateway: 'gw-tilleuls',
      rooms: ['B101'],
      functions: ['lighting'],
      category: 'office',
    });
    const text = withZones(DEMO, DEMO_FILE, changed);
    expect(text).toContain('  # B101–B103 also have Saturday-morning lessons');
    expect(text).toContain('    loss_coefficient_w_per_k: 95\n');
    expect(text).toMatch(
      /- id: foyer\n {4}name: Foyer\n {4}gateway: gw-tilleuls\n {4}rooms: \[B101\]\n {4}functions: \[lighting\]\n {4}category: office\n$/,
    );
    expect(loadDevicesFile(text, DEMO_FILE).value.zones).toEqual(changed);
  });
});

const DEMO_ROOMS = loadDevicesFile(DEMO, DEMO_FILE).value.zones.flatMap((z) =>
  z.rooms.map((id) => ({ id, name: id })),
);
