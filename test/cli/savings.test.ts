/**
 * `scope-energie savings` in-process: the demo lycée imported through `scope-energie import` into a
 * real SQLite store, then estimated offline. The command is run through its own module until the
 * lead registers it in src/cli.ts (`cli(['savings', …])` then runs the same code).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { savingsCommand } from '../../src/cli/savings.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { InputError } from '../../src/domain/problems.js';
import { cli, REPO_CONFIG, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('scope-energie savings', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
    writeFileSync(
      join(cwd, 'demo.json'),
      JSON.stringify(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z'))),
    );
    const imported = await cli(['import', 'demo.json', '--uai', DEMO_UAI], { cwd });
    expect(imported.code).toBe(0);
  });

  const run = async (argv: string[]) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await savingsCommand.run(parseCommandArgs(savingsCommand, argv), {
      stdout,
      stderr,
      cwd,
      env: { SCOPE_ENERGIE_CONFIG: REPO_CONFIG, SCOPE_ENERGIE_DATA: join(cwd, 'data') },
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  };
  const week = ['--uai', DEMO_UAI, '--from', '2026-01-12', '--to', '2026-01-18'];

  it('--json prints the API body, planned from the stored timetable', async () => {
    const result = await run([...week, '--json']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({
      uai: DEMO_UAI,
      estimate: true,
      fallback: false,
      timetable_versions: [1],
      period: { from: '2026-01-11T23:00:00.000Z', to: '2026-01-18T23:00:00.000Z', hours: 168 },
    });
    // Baseline by hand (Strasbourg January normal 1.9 °C): 60 h × 17.1 + 108 h × 14.1 = 2548.8 K·h
    // per zone; the workshop and the gym, whose rules heat them to 14 °C, against a 14 °C programme
    // (issue 21): 168 h × 12.1 = 2032.8 K·h. H: 880 W/K of 19 °C zones, 620 of 14 °C ones:
    // 880 × 2.5488 + 620 × 2.0328 = 2242.944 + 1260.336 = 3503.28 kWh.
    const own = (z: { zone: string }) => z.zone === 'atelier' || z.zone === 'gymnase';
    for (const z of body.zones as Array<{
      zone: string;
      degree_hours: { baseline: number };
      baseline_comfort_c?: number;
    }>) {
      expect([z.zone, z.degree_hours.baseline, z.baseline_comfort_c]).toEqual(
        own(z) ? [z.zone, 2032.8, 14] : [z.zone, 2548.8, undefined],
      );
    }
    expect(body.totals.kwh_baseline).toBeCloseTo(3503.28, 3);
    expect(body.totals.saving_kwh).toBeGreaterThan(0);
    for (const zone of body.zones) {
      const hours = Object.values(zone.heated_hours as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(hours).toBeCloseTo(168, 6);
    }
  });

  it('takes a configured baseline', async () => {
    // Comfort 20 °C 07:00–17:00 Monday–Saturday: 6 × 10 = 60 h at 18.1 K + 108 h at 14.1 K
    // = 1086 + 1522.8 = 2608.8 K·h.
    const result = await run([
      ...week,
      '--json',
      '--baseline-days',
      '1,2,3,4,5,6',
      '--baseline-start',
      '07:00',
      '--baseline-end',
      '17:00',
      '--baseline-comfort',
      '20',
      '--baseline-holiday',
      'none',
    ]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.inputs.baseline).toEqual({
      days: [1, 2, 3, 4, 5, 6],
      start: '07:00',
      end: '17:00',
      comfort_c: 20,
      setback_c: 16,
      holiday_c: null,
      description:
        'comfort 20 °C 07:00–17:00 on Mon, Tue, Wed, Thu, Fri, Sat outside holidays; 16 °C otherwise',
    });
    expect(body.zones[0].degree_hours.baseline).toBe(2608.8);
  });

  it('prints a table labelled as an estimate', async () => {
    const result = await run(week);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`${DEMO_UAI}  Lycée des Tilleuls (démonstration)`);
    expect(lines[1]).toBe(
      'ESTIMATE of heating savings, 2026-01-12 to 2026-01-18 (Europe/Paris), plan vs baseline',
    );
    expect(lines[3]).toBe(
      'outdoor: Météo-France monthly normals 1991–2020 of Strasbourg-Entzheim (approximate)',
    );
    // cdi: H = 90 W/K, baseline 90 × 2.5488 = 229.392 kWh → "229.4".
    expect(lines.find((l) => l.startsWith('cdi '))).toMatch(/^cdi\s+90\s+\d+\.\d\s+229\.4\s+/);
    expect(lines.find((l) => l.startsWith('total '))).toMatch(
      /^total\s+\d+\.\d\s+3503\.3\s+\d+\.\d\s+\d+\.\d %$/,
    );
  });

  it('refuses bad options with the option named', async () => {
    const expectProblem = async (
      argv: string[],
      problem: { code: string; message: string; where: string },
    ) => {
      const error = await run(argv).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems).toEqual([problem]);
    };
    await expectProblem([...week, '--baseline-start', '25:00'], {
      code: 'bad-baseline',
      message: 'a local time HH:MM',
      where: '--baseline-start',
    });
    await expectProblem([...week, '--baseline-comfort', 'warm'], {
      code: 'bad-number',
      message: '--baseline-comfort must be a number of °C, not "warm"',
      where: '--baseline-comfort',
    });
    await expectProblem(['--uai', DEMO_UAI, '--from', '2026-01-12'], {
      code: 'option-missing',
      message: '--to is required (a date YYYY-MM-DD)',
      where: '--to',
    });
    await expectProblem([...week, '--station', 'lyon'], {
      code: 'bad-station',
      message: 'unknown station "lyon"; shipped: strasbourg, nancy, reims',
      where: '--station',
    });
  });
});
