import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { cli, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

/** A work dir with the shipped rules and an empty devices/ (the drafts land there). */
function site(): string {
  const cwd = tempWorkDir();
  mkdirSync(join(cwd, 'devices'));
  cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
  mkdirSync(join(cwd, 'config'));
  return cwd;
}

async function importDemo(cwd: string): Promise<void> {
  writeFileSync(join(cwd, 'demo.json'), JSON.stringify(buildDemoTimetable(Date.now())));
  expect((await cli(['import', 'demo.json'], { cwd })).code).toBe(0);
}

describe('scope-energie devices draft', () => {
  it('drafts the demo lycée from its stored rooms; the draft passes check as written', async () => {
    const cwd = site();
    await importDemo(cwd);
    const run = await cli(['devices', 'draft', '--uai', '0670999X', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ uai: '0670999X', file: 'devices/0670999X.yaml', left_for_a_person: [] });
    const byRoom = (room: string) =>
      (summary.zones as { id: string; category: string; rooms: string[] }[]).find((z) =>
        z.rooms.includes(room),
      );
    expect(byRoom('B104')).toEqual({
      id: 'batiment-b-etage-1',
      category: 'classroom',
      rooms: ['B101', 'B102', 'B103', 'B104', 'B105', 'B106'],
    });
    expect(byRoom('GYMNASE')).toMatchObject({ id: 'gymnase', category: 'gym' });
    expect(byRoom('LABO-SVT')).toMatchObject({ id: 'laboratoires', category: 'laboratory' });

    const check = await cli(['check', '--json'], { cwd });
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, errors: [] });
    expect(check.code).toBe(0);

    // Never over a file a person may have edited.
    const again = await cli(['devices', 'draft', '--uai', '0670999X'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('error file-exists: devices/0670999X.yaml exists; give --force');
  });

  it('drafts the real-structure EDT collège and passes check on a school day of its year', async () => {
    const cwd = site();
    cpSync(join(REPO_ROOT, 'test/fixtures/edt/college-0139999Y.xml'), join(cwd, 'college.xml'));
    expect((await cli(['import', 'college.xml'], { cwd })).code).toBe(0);
    const run = await cli(['devices', 'draft', '--uai', '0139999Y'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'drafted devices/0139999Y.yaml: 7 room(s) in 3 zone(s) from timetable version 1; review it and resolve each TODO\n',
    );
    const text = readFileSync(join(cwd, 'devices/0139999Y.yaml'), 'utf8');
    expect(text).toContain('  - id: cdi\n    name: CDI\n');
    expect(text).toContain('  - id: gymnase\n');
    expect(text).toContain('      - "22" # no building or floor in the name\n');
    const check = await cli(['check', '--today', '2014-01-13', '--json'], { cwd });
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, errors: [] });
  });

  it('says what to do without a stored timetable, and writes nothing', async () => {
    const cwd = site();
    const run = await cli(['devices', 'draft', '--uai', '0670999X'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error timetable-missing: no stored timetable for 0670999X');
    expect(existsSync(join(cwd, 'devices/0670999X.yaml'))).toBe(false);
  });
});

describe('scope-energie devices export / import', () => {
  it('round-trips the shipped demo file unchanged, and refuses a bad CSV naming line and column', async () => {
    const cwd = site();
    cpSync(join(REPO_ROOT, 'devices/0670999X.yaml'), join(cwd, 'devices/0670999X.yaml'));
    await importDemo(cwd);
    const before = readFileSync(join(cwd, 'devices/0670999X.yaml'), 'utf8');
    const exported = await cli(
      ['devices', 'export', '--uai', '0670999X', '--format', 'csv', '--out', 'map.csv'],
      {
        cwd,
      },
    );
    expect(exported.code).toBe(0);
    const csv = readFileSync(join(cwd, 'map.csv'), 'utf8');
    expect(csv.split('\r\n')).toHaveLength(1 + 15 + 1);

    const same = await cli(['devices', 'import', 'map.csv', '--uai', '0670999X', '--format', 'csv'], { cwd });
    expect(same.stdout).toBe('unchanged: devices/0670999X.yaml (8 zone(s), 15 room(s) mapped)\n');
    expect(readFileSync(join(cwd, 'devices/0670999X.yaml'), 'utf8')).toBe(before);

    const lines = csv.split('\r\n');
    const gym = lines.findIndex((l) => l.startsWith('GYMNASE;'));
    lines[gym] = lines[gym]!.replace(';400;', ';4OO;');
    writeFileSync(join(cwd, 'bad.csv'), lines.join('\r\n'));
    const bad = await cli(['devices', 'import', 'bad.csv', '--uai', '0670999X'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `error csv-number: loss_coefficient_w_per_k "4OO" is not a number\n  at bad.csv:${gym + 1}:12 (loss_coefficient_w_per_k)\n`,
    );
    expect(readFileSync(join(cwd, 'devices/0670999X.yaml'), 'utf8')).toBe(before);

    // A room moved by the integrator: only that zone's rooms are rewritten.
    lines[gym] = lines[gym]!.replace(';4OO;', ';400;');
    const moved = lines.map((l) =>
      l.startsWith('SALLE-INFO;batiment-c;') ? l.replace('SALLE-INFO;batiment-c;', 'SALLE-INFO;;') : l,
    );
    writeFileSync(
      join(cwd, 'moved.csv'),
      moved.map((l) => (l.startsWith('SALLE-INFO;;') ? 'SALLE-INFO;;;;;;;;;;;;;' : l)).join('\r\n'),
    );
    const changed = await cli(['devices', 'import', 'moved.csv', '--uai', '0670999X'], { cwd });
    expect(changed.stdout).toBe(
      'updated: devices/0670999X.yaml (8 zone(s), 14 room(s) mapped, 1 timetable room(s) in no zone)\n',
    );
    const after = readFileSync(join(cwd, 'devices/0670999X.yaml'), 'utf8');
    expect(after).toBe(before.replace('rooms: [C201, C202, SALLE-INFO]', 'rooms: [C201, C202]'));
  });
});
