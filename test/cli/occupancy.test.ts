import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempWorkDir } from '../helpers/cli.js';

const timetable = {
  uai: '0670999X',
  school_year: { start: '2027-09-01', end: '2028-07-01' },
  rooms: [
    { id: 'B101', name: 'B101' },
    { id: 'B102', name: 'B102' },
  ],
  lessons: [
    // Mondays 08:00–10:00 local; the October 2027 switch is on the 31st.
    {
      id: 'L',
      rooms: ['B101'],
      day: 1,
      start: '08:00',
      end: '10:00',
      weeks: ['2027-10-18', '2027-10-25', '2027-11-08'],
    },
  ],
};

describe('scope-energie occupancy and calendar import', () => {
  it('prints the SORTIE body in UTC, and honours holidays imported from the official dataset', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 't.json'), JSON.stringify(timetable));
    expect((await cli(['import', 't.json'], { cwd })).code).toBe(0);

    // 2027-2028 is not shipped (not yet published): every week is open.
    const before = await cli(
      ['occupancy', '--uai', '0670999X', '--from', '2027-10-18', '--to', '2027-11-14', '--json'],
      { cwd },
    );
    expect(before.code).toBe(0);
    const body = JSON.parse(before.stdout);
    expect(body).toMatchObject({
      uai: '0670999X',
      version: 1,
      timezone: 'Europe/Paris',
      from: '2027-10-18',
      to: '2027-11-14',
    });
    expect(body.rooms).toEqual([
      {
        room: 'B101',
        name: 'B101',
        intervals: [
          { start: '2027-10-18T06:00:00Z', end: '2027-10-18T08:00:00Z' },
          { start: '2027-10-25T06:00:00Z', end: '2027-10-25T08:00:00Z' },
          { start: '2027-11-08T07:00:00Z', end: '2027-11-08T09:00:00Z' },
        ],
      },
      { room: 'B102', name: 'B102', intervals: [] },
    ]);

    // Toussaint 2027 for zone B, as the dataset's CSV export writes it (Paris midnight in UTC).
    writeFileSync(
      join(cwd, 'calendrier.csv'),
      [
        'description;population;start_date;end_date;location;zones;annee_scolaire',
        'Vacances de la Toussaint;-;2027-10-22T22:00:00+00:00;2027-11-07T23:00:00+00:00;Strasbourg;Zone B;2027-2028',
        'Vacances de la Toussaint;Enseignants;2027-10-21T22:00:00+00:00;2027-11-08T23:00:00+00:00;Strasbourg;Zone B;2027-2028',
      ].join('\n'),
    );
    const imported = await cli(['calendar', 'import', 'calendrier.csv', '--json'], { cwd });
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 1, years: ['2027-2028 zone B'] });

    const after = await cli(
      ['occupancy', '--uai', '0670999X', '--from', '2027-10-18', '--to', '2027-11-14', '--json'],
      { cwd },
    );
    // Pupils leave after classes on Saturday 23 Oct and return on Monday 8 Nov: 25 Oct is closed.
    expect(JSON.parse(after.stdout).rooms[0].intervals).toEqual([
      { start: '2027-10-18T06:00:00Z', end: '2027-10-18T08:00:00Z' },
      { start: '2027-11-08T07:00:00Z', end: '2027-11-08T09:00:00Z' },
    ]);

    const human = await cli(
      ['occupancy', '--uai', '0670999X', '--from', '2027-10-18', '--to', '2027-10-18'],
      { cwd },
    );
    expect(human.stdout).toContain('2027-10-18T06:00:00Z → 2027-10-18T08:00:00Z');
    expect(human.stdout).toContain('08:00');
  });

  it('exits 2 on a malformed dataset and on a bad range, 1 for a school without timetable', async () => {
    const cwd = tempWorkDir();
    writeFileSync(join(cwd, 'bad.csv'), 'hello;world\n1;2\n');
    const bad = await cli(['calendar', 'import', 'bad.csv', '--json'], { cwd });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).errors[0].where).toContain('bad.csv');
    const none = await cli(['occupancy', '--uai', '0670999X', '--from', '2027-10-18', '--to', '2027-10-19'], {
      cwd,
    });
    expect(none.code).toBe(1);
    writeFileSync(join(cwd, 't.json'), JSON.stringify(timetable));
    await cli(['import', 't.json'], { cwd });
    const reversed = await cli(
      ['occupancy', '--uai', '0670999X', '--from', '2027-10-19', '--to', '2027-10-18', '--json'],
      { cwd },
    );
    expect(reversed.code).toBe(2);
    expect(JSON.parse(reversed.stdout).errors[0].where).toBe('to');
    const far = await cli(
      ['occupancy', '--uai', '0670999X', '--from', '0000-01-01', '--to', '9999-12-31', '--json'],
      { cwd },
    );
    expect(far.code).toBe(2);
    expect(JSON.parse(far.stdout).errors[0]).toEqual({
      code: 'date-out-of-range',
      message: '0000-01-01 is outside the supported dates 2000-01-01 to 2099-12-31',
      where: '--from',
    });
  });
});
