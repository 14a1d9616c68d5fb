/**
 * Operator alerts of issue 20: a timetable whose school year is over on a school day, and holiday
 * data running out within 60 days, shown on the dashboard (French) and cleared by a new import.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import { createMetrics } from '../../src/app/metrics.js';
import { calendarAlerts, schoolAlerts, zoneRoomAlerts } from '../../src/dashboard/alerts.js';
import { CalendarAlertGauge } from '../../src/dashboard/calendar-alert-gauge.js';
import type { DashboardDeps } from '../../src/dashboard/deps.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { ManualClock } from '../../src/domain/clock.js';
import { type Timetable, timetableSchema } from '../../src/domain/timetable.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { makeClients } from '../helpers/clients.js';
import { storeBackends } from '../store/backends.js';
import { importInput } from '../store/synthetic-timetable.js';

const [sqlite] = await storeBackends();

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
  afterEach(async () => {
    await sqlite?.cleanup();
  });

  it('/metrics shows a school whose year is over, with no import since the rentrée, until a new import', async () => {
    // Monday 7 September 2026, 09:00 in Strasbourg: the rentrée was on 1 September.
    const clock = new ManualClock(Date.parse('2026-09-07T07:00:00Z'));
    const calendars = new CalendarSource({ zone: 'B', dataDir: REPO_ROOT });
    const store = await (sqlite as NonNullable<typeof sqlite>).open();
    // Last year's timetable, imported in January 2026 and still the current version.
    const old = timetableSchema.parse(buildDemoTimetable(Date.parse('2026-01-12T07:00:00Z')));
    await store.timetables.importVersion(importInput(old, { at: Date.parse('2026-01-12T07:00:00Z') }));
    const gauge = new CalendarAlertGauge({
      deps: {
        clock,
        calendars,
        timetable: async (uai) => (await store.timetables.current(uai))?.timetable ?? null,
        timetableImportedAt: async (uai) => (await store.timetables.currentMeta(uai))?.importedAt ?? null,
      },
      schools: () => [devices],
    });
    const metrics = createMetrics();
    metrics.setSources({ schoolAlerts: () => gauge.values() });
    const { authenticator, bearer } = makeClients([{ id: 'auditor', role: 'auditor', uais: ['*'] }]);
    const app = createHttpApp({
      authenticator,
      metrics,
      entree: { store, clock, bodyLimitBytes: 1024, strictJson: false },
    });
    const scrape = async () => {
      const response = await app.request('/metrics', { headers: bearer('auditor') });
      expect(response.status).toBe(200);
      const text = await response.text();
      return [...text.matchAll(/^scope_energie_school_alert\{(.*)\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    };

    // Before the first refresh, nothing is claimed.
    expect(await scrape()).toEqual([]);
    await gauge.refresh();
    expect(await scrape()).toEqual([
      `uai="${UAI}",kind="annee-scolaire-terminee" 1`,
      `uai="${UAI}",kind="annee-scolaire-non-commencee" 0`,
      `uai="${UAI}",kind="vacances-inconnues" 0`,
      `uai="${UAI}",kind="pas-d-import-depuis-la-rentree" 1`,
      `uai="${UAI}",kind="salles-de-zone-absentes" 0`,
    ]);

    // The new year's timetable is imported that morning: both alerts clear.
    await store.timetables.importVersion(
      importInput(timetableSchema.parse(buildDemoTimetable(clock.now())), { at: clock.now() }),
    );
    await gauge.refresh();
    expect(await scrape()).toEqual([
      `uai="${UAI}",kind="annee-scolaire-terminee" 0`,
      `uai="${UAI}",kind="annee-scolaire-non-commencee" 0`,
      `uai="${UAI}",kind="vacances-inconnues" 0`,
      `uai="${UAI}",kind="pas-d-import-depuis-la-rentree" 0`,
      `uai="${UAI}",kind="salles-de-zone-absentes" 0`,
    ]);
  });

  it('zone rooms absent from the timetable: on the dashboard and /metrics, cleared by an import that has them', async () => {
    // Tuesday 1 December 2026, 10:00 in Strasbourg: a school day of the demo's year.
    const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
    const calendars = new CalendarSource({ zone: 'B', dataDir: REPO_ROOT });
    const store = await (sqlite as NonNullable<typeof sqlite>).open();
    const full = timetableSchema.parse(buildDemoTimetable(clock.now()));
    // This export does not know the computer room nor the workshop yet.
    const missing = new Set(['SALLE-INFO', 'ATELIER']);
    const partial = {
      ...full,
      rooms: full.rooms.filter((r) => !missing.has(r.id)),
      lessons: full.lessons.filter((l) => !l.rooms.some((r) => missing.has(r))),
    };
    await store.timetables.importVersion(importInput(partial, { at: clock.now() }));
    const current = async () => (await store.timetables.current(UAI))?.timetable ?? null;
    const deps = { ...depsFor(clock, calendars, () => null), timetable: current };
    const gauge = new CalendarAlertGauge({ deps, schools: () => [devices] });
    const metrics = createMetrics();
    metrics.setSources({ schoolAlerts: () => gauge.values() });
    const { authenticator, bearer } = makeClients([{ id: 'auditor', role: 'auditor', uais: ['*'] }]);
    const app = createHttpApp({
      authenticator,
      metrics,
      entree: { store, clock, bodyLimitBytes: 1024, strictJson: false },
    });
    const roomAlert = async () => {
      const text = await (await app.request('/metrics', { headers: bearer('auditor') })).text();
      return /^scope_energie_school_alert\{uai="0670999X",kind="salles-de-zone-absentes"\} (\d)$/m.exec(
        text,
      )?.[1];
    };

    await gauge.refresh();
    expect(await roomAlert()).toBe('1');
    const zones = devices.value.zones;
    const info = zones.find((z) => z.rooms.includes('SALLE-INFO'));
    const workshop = zones.find((z) => z.rooms.includes('ATELIER'));
    expect((await schoolAlerts(deps, devices)).filter((a) => a.code === 'salles-de-zone-absentes')).toEqual([
      {
        code: 'salles-de-zone-absentes',
        message: `Zone ${info?.id} (${info?.name}) : salle absente de l’emploi du temps : SALLE-INFO. Aucun cours ne les occupera. Corrigez devices/ ou importez un emploi du temps qui les contient.`,
      },
      {
        code: 'salles-de-zone-absentes',
        message: `Zone ${workshop?.id} (${workshop?.name}) : salle absente de l’emploi du temps : ATELIER. Aucun cours ne peut occuper cette zone : elle reste en mode réduit ou hors gel. Corrigez devices/ ou importez un emploi du temps qui les contient.`,
      },
    ]);

    // The complete export is imported: the alert clears on both.
    await store.timetables.importVersion(importInput(full, { at: clock.now() }));
    await gauge.refresh();
    expect(await roomAlert()).toBe('0');
    expect((await schoolAlerts(deps, devices)).map((a) => a.code)).not.toContain('salles-de-zone-absentes');
  });

  it('zone rooms are matched by timetable id or name, one alert per zone listing every missing room', () => {
    const rooms = [
      { id: 'R1', name: 'B101' },
      { id: 'R2', name: 'R2' },
    ];
    const zones = [
      { id: 'a', rooms: ['B101', 'R2'] },
      { id: 'b', name: 'Labos', rooms: ['R1', 'X', 'Y'] },
    ];
    expect(zoneRoomAlerts(rooms, zones)).toEqual([
      {
        code: 'salles-de-zone-absentes',
        message:
          'Zone b (Labos) : salles absentes de l’emploi du temps : X, Y. Aucun cours ne les occupera. Corrigez devices/ ou importez un emploi du temps qui les contient.',
      },
    ]);
  });

  it('no import since the rentrée: only a version from before the summer, on a school day', () => {
    const calendar = new CalendarSource({ zone: 'B', dataDir: REPO_ROOT }).forSchool(UAI, {});
    // 2026-2027 zone B: classes end Saturday 4 July 2026, the rentrée is Tuesday 1 September.
    const year = { start: '2026-09-01', end: '2027-07-03' };
    const codes = (importedOn: string, today: string) =>
      calendarAlerts({ school_year: year }, calendar, today, importedOn).map((a) => a.code);
    expect(codes('2026-06-15', '2026-09-07')).toContain('pas-d-import-depuis-la-rentree');
    expect(calendarAlerts({ school_year: year }, calendar, '2026-09-07', '2026-06-15')).toContainEqual({
      code: 'pas-d-import-depuis-la-rentree',
      message:
        'Emploi du temps importé le 15/06/2026, avant les vacances d’été (rentrée le 01/09/2026) : aucun import depuis la rentrée. Importez l’emploi du temps de cette année.',
    });
    // Imported in late August for the new year: not an alert.
    expect(codes('2026-08-27', '2026-09-07')).not.toContain('pas-d-import-depuis-la-rentree');
    // A Saturday, and the summer holidays themselves: no school day, no alert.
    expect(codes('2026-06-15', '2026-09-05')).not.toContain('pas-d-import-depuis-la-rentree');
    expect(codes('2026-06-15', '2026-08-17')).not.toContain('pas-d-import-depuis-la-rentree');
  });

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
