import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifySecret } from '../../src/auth/secrets.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { devicesJsonSchema } from '../../src/devices/schema.js';
import { InputError } from '../../src/domain/problems.js';

const DEMO_FILE = 'devices/0670999X.yaml';
const DEMO_TEXT = readFileSync(new URL(`../../${DEMO_FILE}`, import.meta.url), 'utf8');
const HASH = 'scrypt$16384$8$1$obW5g1k0lAIrmBU9XnF7iw==$7X+3a6eWlKzP6EV73ZMa4wQOBnK/reGSHsYH4ntfiS0=';

/** 15 lines. */
const MINIMAL = `school:
  uai: "0670999X"
  name: Test
gateways:
  - id: gw-test
    username: gw-test
    password_hash: "${HASH}"
zones:
  - id: salles-b
    name: Salles B
    gateway: gw-test
    rooms: [B101, B102]
    functions: [heating, lighting]
    category: classroom
    heating_type: hydronic
`;

function problemsOf(text: string, file = DEMO_FILE): InputError['problems'] {
  try {
    loadDevicesFile(text, file);
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('devices/0670999X.yaml (demo school)', () => {
  const demo = loadDevicesFile(DEMO_TEXT, DEMO_FILE);

  it('groups exactly the 15 demo rooms, each in one zone', () => {
    const rooms = demo.value.zones.flatMap((z) => z.rooms);
    expect(rooms.sort()).toEqual(
      [
        'AMPHI',
        'ATELIER',
        'B101',
        'B102',
        'B103',
        'B104',
        'B105',
        'B106',
        'C201',
        'C202',
        'CDI',
        'GYMNASE',
        'LABO-PC',
        'LABO-SVT',
        'SALLE-INFO',
      ].sort(),
    );
    expect(new Set(rooms).size).toBe(15);
    expect(demo.value.school).toEqual({
      uai: '0670999X',
      name: 'Lycée des Tilleuls (démonstration)',
      timezone: 'Europe/Paris',
    });
  });

  it('has one native gateway whose hash matches the documented demo password', () => {
    expect(demo.value.gateways.map((g) => [g.id, g.username, g.adapter])).toEqual([
      ['gw-tilleuls', 'gw-tilleuls', 'native'],
    ]);
    expect(verifySecret('demo-gateway-password', demo.value.gateways[0]?.password_hash ?? '')).toBe(true);
    expect(verifySecret('wrong', demo.value.gateways[0]?.password_hash ?? '')).toBe(false);
  });

  it('puts building C on electric heating and the gym and workshop in their categories', () => {
    const byId = Object.fromEntries(demo.value.zones.map((z) => [z.id, [z.category, z.heating_type]]));
    expect(byId).toEqual({
      'batiment-b-est': ['classroom', 'hydronic'],
      'batiment-b-ouest': ['classroom', 'hydronic'],
      'batiment-c': ['classroom', 'electric'],
      laboratoires: ['laboratory', 'hydronic'],
      atelier: ['workshop', 'air'],
      gymnase: ['gym', 'air'],
      cdi: ['library', 'hydronic'],
      amphi: ['auditorium', 'underfloor'],
    });
    expect(demo.lineOf(['zones', 2, 'heating_type'])).toBe(
      DEMO_TEXT.split('\n').indexOf('    heating_type: electric') + 1,
    );
  });
});

describe('loadDevicesFile errors', () => {
  it('refuses a clear-text password, naming the line, without echoing it', () => {
    const problems = problemsOf(MINIMAL.replace(`"${HASH}"`, 'hunter2-secret'));
    expect(problems).toEqual([
      {
        code: 'invalid-format',
        message:
          'expected a scrypt hash (scrypt$N$r$p$salt$hash); clear-text passwords are refused: store only the hash',
        where: 'devices/0670999X.yaml:7:20 (gateways[0].password_hash)',
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('refuses a sha256 token hash for a gateway password (scrypt only)', () => {
    const problems = problemsOf(MINIMAL.replace(`"${HASH}"`, `sha256$${'a'.repeat(64)}`));
    expect(problems.map((p) => p.where)).toEqual(['devices/0670999X.yaml:7:20 (gateways[0].password_hash)']);
  });

  it('refuses an unknown category', () => {
    expect(problemsOf(MINIMAL.replace('category: classroom', 'category: gymnase'))).toEqual([
      {
        code: 'invalid-value',
        message:
          'Invalid option: expected one of "classroom"|"laboratory"|"workshop"|"gym"|"office"|"circulation"|"boarding"|"library"|"auditorium"|"canteen"|"storage"',
        where: 'devices/0670999X.yaml:14:15 (zones[0].category)',
      },
    ]);
  });

  it('refuses a zone on an undefined gateway', () => {
    expect(problemsOf(MINIMAL.replace('gateway: gw-test', 'gateway: gw-ailleurs'))).toEqual([
      {
        code: 'invalid-custom',
        message: 'unknown gateway "gw-ailleurs"; defined: gw-test',
        where: 'devices/0670999X.yaml:11:14 (zones[0].gateway)',
      },
    ]);
  });

  it('refuses a zone id that is not topic-safe, and heating without heating_type', () => {
    const text = MINIMAL.replace('id: salles-b', 'id: "Salles B/1"').replace(
      '    heating_type: hydronic\n',
      '',
    );
    expect(problemsOf(text).map((p) => [p.code, p.where])).toEqual([
      ['invalid-format', 'devices/0670999X.yaml:9:9 (zones[0].id)'],
      ['invalid-custom', 'devices/0670999X.yaml:9:5 (zones[0].heating_type)'],
    ]);
  });

  it('refuses a wrong type and a duplicate zone id', () => {
    const zoneBlock = MINIMAL.slice(MINIMAL.indexOf('  - id: salles-b'));
    const text = MINIMAL.replace('rooms: [B101, B102]', 'rooms: B101') + zoneBlock;
    expect(problemsOf(text).map((p) => [p.code, p.where])).toEqual([
      ['invalid-type', 'devices/0670999X.yaml:12:12 (zones[0].rooms)'],
    ]);
    expect(problemsOf(MINIMAL + zoneBlock).map((p) => [p.code, p.message, p.where])).toEqual([
      ['invalid-custom', 'duplicate zone id "salles-b"', 'devices/0670999X.yaml:16:9 (zones[1].id)'],
    ]);
  });

  it('refuses a bad UAI and a UAI that differs from the file name', () => {
    expect(problemsOf(MINIMAL.replace('"0670999X"', '"0670999A"'), 'devices/x.yaml')).toEqual([
      {
        code: 'invalid-custom',
        message: 'UAI 0670999A has a wrong check letter: expected 0670999X',
        where: 'devices/x.yaml:2:8 (school.uai)',
      },
    ]);
    expect(problemsOf(MINIMAL, 'devices/0750654D.yaml')).toEqual([
      {
        code: 'devices-uai-mismatch',
        message: 'school.uai 0670999X does not match the file name (0750654D)',
        where: 'devices/0750654D.yaml:2 (school.uai)',
      },
    ]);
  });

  it('accepts a rotated credential, and refuses one whose previous login keeps the same username', () => {
    const previous = (username: string, until = '2026-12-10T08:00:00Z') =>
      MINIMAL.replace(
        '    password_hash: "' + HASH + '"\n',
        () =>
          `    password_hash: "${HASH}"\n    previous:\n      username: ${username}\n      password_hash: "${HASH}"\n      valid_until: "${until}"\n`,
      );
    expect(loadDevicesFile(previous('gw-test.r1'), DEMO_FILE).value.gateways[0]?.previous).toEqual({
      username: 'gw-test.r1',
      password_hash: HASH,
      valid_until: '2026-12-10T08:00:00Z',
    });
    expect(problemsOf(previous('gw-test'))).toEqual([
      {
        code: 'invalid-custom',
        message:
          'the replaced credential needs its own username: a broker holds one password per user (gateway credentials --rotate picks one)',
        where: 'devices/0670999X.yaml:9:17 (gateways[0].previous.username)',
      },
    ]);
    expect(problemsOf(previous('gw-old', '2026-12-10 08:00'))[0]).toMatchObject({
      where: 'devices/0670999X.yaml:11:20 (gateways[0].previous.valid_until)',
    });
  });

  it('exports a JSON Schema whose zone categories are the closed list', () => {
    const schema = devicesJsonSchema() as {
      properties: { zones: { items: { properties: { category: { enum: string[] } } } } };
    };
    expect(schema.properties.zones.items.properties.category.enum).toContain('gym');
    expect(schema.properties.zones.items.properties.category.enum).toHaveLength(11);
  });
});
