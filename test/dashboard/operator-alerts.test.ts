/**
 * Operator alerts of issue 20: a timetable whose school year is over on a school day, and holiday
 * data running out within 60 days, shown on the dashboard (French) and cleared by a new import.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calendarAlerts, schoolAlerts } from '../../src/dashboard/alerts.js';
import type { DashboardDeps } from '../../src/dashboard/deps.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { ManualClock } from '../../src/domain/clock.js';
import { type Timetable, timetableSchema } from '../../src/domain/timetable.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { REPO_ROOT } from '../helpers/cli.js';

const UAI = '0670999X';
const devices = loadDevicesFile(
  readFileSync(`${REPO_ROOT}/devices/${UAI}.yaml`, 'utf8'),
  'devices/0670999X.yaml',
);

/** The dashboard's view of one school, with every other source quiet (synced, gateways online). */
function depsFor(
  clock: ManualClock,
  calendars: CalendarSource,
  timetable: () => Timetable | null,
): DashboardDeps {
  const quiet: Partial<DashboardDeps> = {
    clock,
    calendars,
    syncStatus: (uai) => ({
      uai,
      state: 'ok',
      stale: false,
      fallback: false,
      version: 1,
      range: null,
      fetched_at: null,
      last_success_at: null,
      age_hours: 0,
      last_error: null,
    }),
    gateways: () => [],
    timetable: async () => timetable(),
  };
  return quiet as DashboardDeps;
}

describe('operator alerts', () => {
  it('a school whose timetable year is over shows it on a school day, and a new import clears it', async () => {
    // Monday 7 September 2026, 09:00 in Strasbourg: the 2026-2027 year has begun.
    const clock = new ManualClock(Date.parse('2026-09-07T07:00:00Z'));
    const calendars = new CalendarSource({ zone: 'B', dataDir: REPO_ROOT });
    // Last year's timetable, still the current version.
    const old = timetableSchema.parse(buildDemoTimetable(Date.parse('2026-01-12T07:00:00Z')));
    expect((old.school_year?.end ?? '') < '2026-09-07').toBe(true);
    let current: Timetable = old;
    const deps = depsFor(clock, calendars, () => current);

    const codes = async () => (await schoolAlerts(deps, devices)).map((a) => a.code);
    const alerts = await schoolAlerts(deps, devices);
    expect(alerts.find((a) => a.code === 'annee-scolaire-terminee')?.message).toBe(
      `L’emploi du temps couvre l’année scolaire du ${fr(old.school_year!.start)} au ${fr(old.school_year!.end)}, terminée : un jour de classe, toutes les zones restent hors gel. Importez l’emploi du temps de la nouvelle année.`,
    );

    // The new year's export is imported: the alert goes.
    current = timetableSchema.parse(buildDemoTimetable(clock.now()));
    expect((current.school_year?.start ?? '') <= '2026-09-07').toBe(true);
    expect(await codes()).not.toContain('annee-scolaire-terminee');
  });

  it('says nothing about the year on a holiday or a weekend', () => {
    const calendar = new CalendarSource({ zone: 'B', dataDir: REPO_ROOT }).forSchool(UAI, {});
    const year = { start: '2025-09-01', end: '2026-07-04' };
    // Saturday 5 September 2026, and a Monday of the summer holidays.
    expect(calendarAlerts({ school_year: year }, calendar, '2026-09-05').map((a) => a.code)).not.toContain(
      'annee-scolaire-terminee',
    );
    expect(calendarAlerts({ school_year: year }, calendar, '2026-07-20').map((a) => a.code)).not.toContain(
      'annee-scolaire-terminee',
    );
    expect(calendarAlerts({ school_year: year }, calendar, '2026-09-07').map((a) => a.code)).toContain(
      'annee-scolaire-terminee',
    );
    expect(
      calendarAlerts({ school_year: { start: '2026-09-08', end: '2027-07-03' } }, calendar, '2026-09-07').map(
        (a) => a.code,
      ),
    ).toContain('annee-scolaire-non-commencee');
  });

  it('warns when the holiday data ends within 60 days, and names the last known day', () => {
    const periods = [
      {
        zone: 'B' as const,
        name: 'Vacances de Noël',
        schoolYear: '2025-2026',
        start: '2025-12-20',
        end: '2026-01-05',
      },
    ];
    const calendar = { periods, closure: () => null };
    expect(calendarAlerts(null, calendar, '2025-11-01')).toEqual([]);
    expect(calendarAlerts(null, calendar, '2025-12-10')).toEqual([
      {
        code: 'vacances-inconnues',
        message:
          'Données de vacances scolaires connues jusqu’au 05/01/2026 seulement (moins de 60 jours) : importez le calendrier.',
      },
    ]);
    expect(calendarAlerts(null, { periods: [], closure: () => null }, '2025-12-10')[0]?.code).toBe(
      'vacances-inconnues',
    );
  });
});

function fr(iso: string): string {
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
}
