/**
 * `scope-energie comfort` through the CLI (test/helpers/cli.ts): the demo lycée imported into a
 * real SQLite store, one Monday of reports for `batiment-b-est` written into its telemetry, the
 * report computed offline with figures worked out by hand below, and the same JSON as
 * `GET /api/comfort` given the same store and plan.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AuthEnv, requireAuth } from '../../src/auth/middleware.js';
import { localDaysRange } from '../../src/bridge/planning.js';
import { comfortCommand } from '../../src/cli/comfort.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { loadOfflineSchool, planOffline } from '../../src/cli/offline-school.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { systemClock } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/store.js';
import type { TelemetrySample } from '../../src/store/telemetry-repository.js';
import { DEFAULT_COMFORT_SETTINGS } from '../../src/telemetry/comfort.js';
import { comfortRoutes } from '../../src/telemetry/comfort-routes.js';
import { cli, REPO_CONFIG, REPO_ROOT, tempWorkDir } from '../helpers/cli.js';
import { makeClients } from '../helpers/clients.js';

const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2026-01-12T${hhmm}:00.000Z`);

/** Every 5 minutes over `[from, to)` (UTC, Monday 12 January 2026), one value. */
function reports(from: string, to: string, measured: number): TelemetrySample[] {
  const out: TelemetrySample[] = [];
  for (let ts = at(from); ts < at(to); ts += 5 * MIN)
    out.push({
      uai: DEMO_UAI,
      zone: 'batiment-b-est',
      function: 'heating',
      ts,
      receivedAt: ts,
      measured_c: measured,
      mode: 'comfort',
      setpoint_c: 19,
      applied_rev: 1,
      source: 'bridge',
      flag: null,
    });
  return out;
}

describe('scope-energie comfort', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(cwd, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(cwd, 'rules'), { recursive: true });
    writeFileSync(
      join(cwd, 'demo.json'),
      JSON.stringify(buildDemoTimetable(Date.parse('2026-01-12T08:00:00Z'))),
    );
    expect((await cli(['import', 'demo.json', '--uai', DEMO_UAI], { cwd })).code).toBe(0);
    const store = await openStore({ dataDir: join(cwd, 'data') });
    try {
      await store.telemetry.writeBatch([
        ...reports('06:00', '10:00', 17.5),
        ...reports('10:00', '13:00', 19.5),
        ...reports('13:00', '14:00', 20.5),
        // No report 14:00–15:00: the 13:55 one holds until 14:10, then the zone is unmeasured.
        ...reports('15:00', '17:00', 18.5),
      ]);
    } finally {
      await store.close();
    }
  });

  const day = ['--uai', DEMO_UAI, '--from', '2026-01-12', '--to', '2026-01-12'];

  it('--json --zone: the figures of a Monday worked out by hand', async () => {
    const result = await cli(['comfort', ...day, '--zone', 'batiment-b-est', '--json'], { cwd });
    expect([result.code, result.stderr]).toEqual([0, '']);
    // Occupied (SORTIE occupancy of B101–B103, joined): 07:00–08:55, 09:10–11:05, 12:30–14:25,
    // 14:40–16:30 = 455 min; target 19 °C (classroom, R241-26).
    //   17.5 °C 06:00–10:00: occupied 115 + 50 = 165 min, cold (< 18)
    //   19.5 °C 10:00–13:00: occupied 65 + 30 = 95 min
    //   20.5 °C 13:00–14:10: occupied 70 min, overheated (> 20)
    //   unmeasured 14:10–14:25 and 14:40–15:00: 15 + 20 = 35 min
    //   18.5 °C 15:00–17:10: occupied 90 min
    // Starts: 07:00 (first) and 12:30 (85 min after 11:05); 09:10 and 14:40 follow 15-minute breaks.
    // Mean over the measured time (occupied or not): (240 × 17.5 + 180 × 19.5 + 70 × 20.5 + 130 × 18.5) / 620.
    expect(JSON.parse(result.stdout)).toEqual({
      uai: DEMO_UAI,
      name: 'Lycée des Tilleuls (démonstration)',
      from: '2026-01-12',
      to: '2026-01-12',
      timezone: 'Europe/Paris',
      function: 'heating',
      definitions: {
        hold_minutes: 15,
        cold_tolerance_c: 1,
        overheat_tolerance_c: 1,
        overheat_cap_c: 19,
        start_after_unoccupied_minutes: 30,
      },
      computed_until: '2026-01-12T23:00:00.000Z',
      aggregated_until: null,
      zones: [
        {
          zone: 'batiment-b-est',
          name: 'Bâtiment B, salles B101 à B103',
          occupied_minutes: 455,
          measured_minutes: 420,
          cold_minutes: 165,
          overheated_minutes: 70,
          unmeasured_minutes: 35,
          starts: 2,
          cold_starts: 1,
          min_c: 17.5,
          mean_c: 18.63,
          max_c: 20.5,
          occupancy_starts: [
            { at: '2026-01-12T07:00:00.000Z', target_c: 19, measured_c: 17.5, cold: true },
            { at: '2026-01-12T12:30:00.000Z', target_c: 19, measured_c: 19.5, cold: false },
          ],
        },
      ],
    });
  });

  it('is the JSON of GET /api/comfort for the same store and plan', async () => {
    const cliBody = JSON.parse((await cli(['comfort', ...day, '--json'], { cwd })).stdout);
    expect(cliBody.zones.map((z: { zone: string }) => z.zone)).toEqual([
      'batiment-b-est',
      'batiment-b-ouest',
      'batiment-c',
      'laboratoires',
      'atelier',
      'gymnase',
      'cdi',
      'amphi',
    ]);
    const io = {
      stdout: process.stdout,
      stderr: process.stderr,
      cwd,
      env: { SCOPE_ENERGIE_CONFIG: REPO_CONFIG, SCOPE_ENERGIE_DATA: join(cwd, 'data') },
    };
    const school = loadOfflineSchool(parseCommandArgs(comfortCommand, day), io);
    const clients = makeClients([{ id: 'auditor', role: 'auditor', uais: [DEMO_UAI] }]);
    const store = await openStore({ dataDir: join(cwd, 'data') });
    try {
      const app = new Hono<AuthEnv>();
      app.use('*', requireAuth(clients.authenticator));
      app.route(
        '/',
        comfortRoutes({
          repository: store.telemetry,
          planFor: async (_uai, date, days) => ({
            plan: await planOffline(school, localDaysRange(date, days, school.timezone)),
          }),
          devicesOf: (uai) => school.site.devices.get(uai),
          settings: DEFAULT_COMFORT_SETTINGS,
          clock: systemClock,
        }),
      );
      const res = await app.request(`/api/comfort?uai=${DEMO_UAI}&from=2026-01-12&to=2026-01-12`, {
        headers: clients.bearer('auditor'),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(cliBody);
    } finally {
      await store.close();
    }
  });

  it('prints a table for people', async () => {
    const result = await cli(['comfort', ...day, '--zone', 'batiment-b-est'], { cwd });
    expect(result.code).toBe(0);
    const line = result.stdout.split('\n').find((l) => l.startsWith('batiment-b-est'));
    expect(line?.split(/\s+/)).toEqual([
      'batiment-b-est',
      '455.00',
      '420.00',
      '165.00',
      '70.00',
      '35.00',
      '2',
      '1',
      '17.5',
      '18.6',
      '20.5',
    ]);
  });

  it('names the option that is wrong (exit 2)', async () => {
    const bad = async (argv: string[]) => {
      const r = await cli(['comfort', ...argv, '--json'], { cwd });
      return [r.code, JSON.parse(r.stdout).errors.map((e: { where: string }) => e.where)];
    };
    expect(await bad(['--uai', DEMO_UAI, '--from', '2026-01-12', '--to', '2026-13-01'])).toEqual([
      2,
      ['--to'],
    ]);
    expect(await bad(['--uai', DEMO_UAI, '--to', '2026-01-12'])).toEqual([2, ['--from']]);
    expect(await bad([...day.slice(0, 2), '--from', '2026-01-12', '--to', '2026-01-11'])).toEqual([
      2,
      ['--to'],
    ]);
    expect(await bad([...day, '--zone', 'nowhere'])).toEqual([2, ['--zone']]);
    const empty = tempWorkDir();
    cpSync(join(REPO_ROOT, 'devices'), join(empty, 'devices'), { recursive: true });
    cpSync(join(REPO_ROOT, 'rules'), join(empty, 'rules'), { recursive: true });
    const none = await cli(['comfort', ...day, '--json'], { cwd: empty });
    expect([none.code, JSON.parse(none.stdout).errors[0].code]).toEqual([2, 'no-store']);
  });
});
