/**
 * `scope-energie simulate` in-process: the demo lycée imported into a real SQLite store, then one
 * week of January simulated with the fixed and the learned preheat (docs/optimum-start.md).
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { cli, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

describe('scope-energie simulate', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
    mkdirSync(join(cwd, 'config'));
    writeFileSync(
      join(cwd, 'demo.json'),
      JSON.stringify(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z'))),
    );
    const imported = await cli(['import', 'demo.json', '--uai', DEMO_UAI], { cwd });
    expect(imported.code).toBe(0);
  });

  const args = ['simulate', '--uai', DEMO_UAI, '--from', '2026-01-12', '--to', '2026-01-18', '--json'];

  it('prints per zone the energy, cold starts, cold minutes and mean arrival, the same for the same seed', async () => {
    const fixed = await cli([...args, '--strategy', 'fixed', '--preheat-minutes', '60'], { cwd });
    expect([fixed.code, fixed.stderr]).toEqual([0, '']);
    const body = JSON.parse(fixed.stdout);
    expect(body).toMatchObject({
      uai: DEMO_UAI,
      from: '2026-01-12',
      to: '2026-01-18',
      strategy: 'fixed',
      preheat_minutes: 60,
      seed: 17,
      outdoor: { station: 'strasbourg', daily_amplitude_k: 3 },
    });
    expect(body.zones.length).toBeGreaterThan(0);
    for (const zone of body.zones) {
      expect(Object.keys(zone).sort()).toEqual([
        'after_learning',
        'cold_starts',
        'heating_kwh',
        'mean_arrival_c',
        'occupied_cold_minutes',
        'starts',
        'zone',
      ]);
      expect(zone.heating_kwh).toBeGreaterThan(0);
    }
    const again = await cli([...args, '--strategy', 'fixed', '--preheat-minutes', '60'], { cwd });
    expect(again.stdout).toBe(fixed.stdout);

    const learned = await cli([...args, '--strategy', 'learned'], { cwd });
    expect([learned.code, learned.stderr]).toEqual([0, '']);
    const zones = JSON.parse(learned.stdout).zones as Array<{ zone: string; learned: { starts: number } }>;
    // Six school days: every heated zone has learned its first starts.
    expect(zones.every((z) => z.learned.starts >= 1)).toBe(true);

    const stop = await cli([...args, '--strategy', 'learned', '--optimum-stop'], { cwd });
    expect([stop.code, stop.stderr]).toEqual([0, '']);
    const stopped = JSON.parse(stop.stdout);
    expect(stopped.optimum_stop).toBe(true);
    for (const zone of stopped.zones) {
      expect(zone.optimum_stop).toEqual({ stops: expect.any(Number), minutes: expect.any(Number) });
    }
    const text = await cli(
      [...args.filter((a) => a !== '--json'), '--strategy', 'learned', '--optimum-stop'],
      {
        cwd,
      },
    );
    expect(text.stdout).toContain('strategy learned + optimum stop');
    expect(text.stdout).toMatch(/stops \d+ \(\d+ min\)/);
  });

  it('refuses --optimum-stop without the learned strategy', async () => {
    const bad = await cli([...args, '--strategy', 'fixed', '--optimum-stop'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toContain('--optimum-stop needs --strategy learned');
  });

  it('refuses a bad strategy or range with exit code 2', async () => {
    const bad = await cli([...args, '--strategy', 'smart'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toContain('--strategy must be fixed or learned');
    const range = await cli(
      ['simulate', '--uai', DEMO_UAI, '--from', '2026-01-18', '--to', '2026-01-12', '--strategy', 'fixed'],
      {
        cwd,
      },
    );
    expect(range.code).toBe(2);
  });
});
