/**
 * `scope-energie meters import` and `scope-energie savings --measured` in-process on a real
 * SQLite store: the three CSV shapes, errors by line and column with nothing stored, idempotent
 * re-imports, and measured savings from the imported readings (or the missing data named).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDaysIso } from '../../src/calendar/index.js';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { monthlyNormals } from '../../src/savings/outdoor.js';
import { cli, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

describe('scope-energie meters import and savings --measured', () => {
  let cwd: string;
  const run = (argv: string[]) => cli(argv, { cwd });
  const file = (name: string, text: string) => {
    writeFileSync(join(cwd, name), text);
    return name;
  };

  beforeAll(() => {
    cwd = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
  });

  it('imports an Enedis export (Wh, PT30M mean power, preamble) and a GRDF export, French decimals', async () => {
    const enedis = file(
      'enedis.csv',
      [
        'Identifiant PRM;Date de début;Date de fin',
        '19125759625988;2026-01-05;2026-01-06',
        '',
        'Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;Etape métier;Unité;Horodate;Valeur;Nature;Pas',
        '19125759625988;2026-01-05 00:00:00;2026-01-06 00:00:00;PA;CONS;BRUT;W;2026-01-05 00:30:00;2000;B;PT30M',
        '19125759625988;2026-01-05 00:00:00;2026-01-06 00:00:00;PA;CONS;BRUT;W;2026-01-05 01:00:00;3000;B;PT30M',
        '19125759625988;2026-01-05 00:00:00;2026-01-06 00:00:00;EA;CONS;BRUT;Wh;2026-01-06 00:00:00;45 500;B;P1D',
      ].join('\r\n'),
    );
    const result = await run(['meters', 'import', enedis, '--uai', DEMO_UAI, '--meter', 'elec', '--json']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(JSON.parse(result.stdout)).toEqual({
      uai: DEMO_UAI,
      file: 'enedis.csv',
      shape: 'enedis',
      meters: ['elec'],
      readings: 3,
      inserted: 3,
      duplicates: 0,
    });
    const grdf = file(
      'grdf.csv',
      [
        'N° PCE;Date de relevé;Volume consommé (m3);Energie consommée (kWh);Coefficient de conversion',
        'GI000001;06/01/2026;40,2;452,13;11,247',
      ].join('\n'),
    );
    const gas = await run(['meters', 'import', grdf, '--uai', DEMO_UAI, '--meter', 'gaz', '--json']);
    expect(JSON.parse(gas.stdout)).toMatchObject({ shape: 'grdf', inserted: 1 });
    const again = await run(['meters', 'import', grdf, '--uai', DEMO_UAI, '--meter', 'gaz', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, duplicates: 1 });
  });

  it('names the line and column of each bad cell and stores nothing', async () => {
    const bad = file(
      'bad.csv',
      ['ts;index_kwh', '2026-01-05 00:00;100', '2026-01-06 00:00;12a', '06/13/2026;130'].join('\n'),
    );
    const result = await run(['meters', 'import', bad, '--uai', DEMO_UAI, '--meter', 'eau-chaude', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).errors).toEqual([
      { code: 'bad-number', message: '"12a" is not a number', where: 'bad.csv line 3, column "index_kwh"' },
      {
        code: 'bad-date',
        message: '"06/13/2026" is not a date (ISO 8601, YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)',
        where: 'bad.csv line 4, column "ts"',
      },
    ]);
    const conflict = file(
      'conflict.csv',
      ['ts;index_kwh', '2026-01-04 00:00;90', '2026-01-05 00:00;101'].join('\n'),
    );
    await run([
      'meters',
      'import',
      file('first.csv', 'ts;index_kwh\n2026-01-05 00:00;100\n'),
      '--uai',
      DEMO_UAI,
      '--meter',
      'eau-chaude',
    ]);
    const refused = await run([
      'meters',
      'import',
      conflict,
      '--uai',
      DEMO_UAI,
      '--meter',
      'eau-chaude',
      '--json',
    ]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).errors[0]).toMatchObject({
      code: 'meter-reading-conflict',
      where: 'conflict.csv line 3',
    });
    const missing = await run(['meters', 'import', conflict, '--uai', DEMO_UAI]);
    expect(missing.stderr).toContain('--meter');
  });

  it('fits measured savings from an imported year, and names missing data when there is too little', async () => {
    // Daily index at local midnight: 300 kWh + 12 kWh per degree-day of the Strasbourg normals,
    // 20 % less from 1 September 2025; ± 20 kWh alternating.
    const normals = monthlyNormals('strasbourg');
    const rows = ['meter;ts;index_kwh'];
    let index = 10_000;
    for (let i = 0; i <= 365 + 61; i++) {
      const date = addDaysIso('2024-09-01', i);
      rows.push(
        `chaufferie;${DateTime.fromISO(date, { zone: 'Europe/Paris' }).toISO()};${index.toFixed(3).replace('.', ',')}`,
      );
      const hdd = Math.max(0, 18 - (normals[Number(date.slice(5, 7)) - 1] as number));
      index += (date >= '2025-09-01' ? 0.8 : 1) * (300 + 12 * hdd) + (i % 2 === 0 ? 20 : -20);
    }
    const imported = await run(['meters', 'import', file('year.csv', rows.join('\n')), '--uai', DEMO_UAI]);
    expect([imported.code, imported.stderr]).toEqual([0, '']);
    const measured = await run([
      'savings',
      '--measured',
      '--uai',
      DEMO_UAI,
      '--meter',
      'chaufferie',
      '--baseline-from',
      '2024-09-01',
      '--baseline-to',
      '2025-08-31',
      '--from',
      '2025-09-01',
      '--to',
      '2025-10-31',
      '--json',
    ]);
    expect([measured.code, measured.stderr]).toEqual([0, '']);
    const body = JSON.parse(measured.stdout);
    expect(body.ok).toBe(true);
    expect(body.model.coefficients.kwh_per_degree_day.value).toBeCloseTo(12, 1);
    expect(body.savings.percent).toBeCloseTo(20, 0);
    expect(body.estimate.available).toBe(true);
    const text = await run([
      'savings',
      '--measured',
      '--uai',
      DEMO_UAI,
      '--meter',
      'chaufferie',
      '--baseline-from',
      '2024-09-01',
      '--baseline-to',
      '2025-08-31',
      '--from',
      '2025-09-01',
      '--to',
      '2025-10-31',
    ]);
    expect(text.stdout).toMatch(/ASHRAE Guideline 14: (met|NOT met)/);
    const short = await run([
      'savings',
      '--measured',
      '--uai',
      DEMO_UAI,
      '--meter',
      'chaufferie',
      '--baseline-from',
      '2024-06-01',
      '--baseline-to',
      '2024-08-31',
      '--from',
      '2025-09-01',
      '--to',
      '2025-10-31',
    ]);
    expect(short.code).toBe(1);
    expect(short.stdout).toBe('');
    expect(short.stderr).toContain('baseline meter-readings: 92 of 92 baseline days have no metered energy');
  });
});
