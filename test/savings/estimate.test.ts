/**
 * The savings estimate against figures computed by hand from the stated inputs (issue 7: "Savings
 * figures are reproducible from the stated inputs in a test with a hand-computed case").
 */
import { describe, expect, it } from 'vitest';
import { SchoolCalendar } from '../../src/calendar/index.js';
import { InputError } from '../../src/domain/problems.js';
import type { Segment } from '../../src/rules/segment.js';
import { DEFAULT_BASELINE } from '../../src/savings/baseline.js';
import { estimateSavings, type SavingsZoneInput } from '../../src/savings/estimate.js';

const at = (iso: string) => Date.parse(iso);

/** A calendar with no school holidays (public holidays of the Bas-Rhin still apply). */
const openCalendar = new SchoolCalendar({ zone: 'B', periods: [], departement: '67' });
/** Closed on Wednesday 2026-01-14 only: pupils leave after classes on the 13th, return on the 15th. */
const oneHolidayCalendar = new SchoolCalendar({
  zone: 'B',
  departement: '67',
  periods: [
    { zone: 'B', schoolYear: '2025-2026', name: 'Vacances de test', start: '2026-01-13', end: '2026-01-15' },
  ],
});

function heating(from: string, to: string, mode: Segment['mode'], setpoint_c?: number): Segment {
  return {
    from: at(from),
    to: at(to),
    function: 'heating',
    mode,
    ...(setpoint_c === undefined ? {} : { setpoint_c }),
    reason: { kind: 'occupied', rule: 'test', basis: 'test' },
  };
}

const classroom = (segments: Segment[], h: number | undefined = 200): SavingsZoneInput => ({
  zone: {
    id: 'salle',
    name: 'Salle',
    functions: ['heating', 'lighting'],
    ...(h === undefined ? {} : { loss_coefficient_w_per_k: h }),
  },
  segments,
});

describe('estimateSavings', () => {
  it('reproduces the hand-computed case: one zone, H = 200 W/K, 5 °C outside, one Tuesday', () => {
    // Tuesday 2026-01-13 in Europe/Paris (UTC+1): local midnight to midnight = 23:00Z to 23:00Z.
    // Plan: eco 16 °C 00:00–08:00, comfort 19 °C 08:00–12:00, eco 16 °C 12:00–24:00.
    //   degree-hours = 4 h × (19 − 5) + 20 h × (16 − 5) = 56 + 220 = 276 K·h
    //   kWh = 200 W/K × 276 K·h / 1000 = 55.2 kWh
    // Baseline: comfort 19 °C 06:00–18:00, setback 16 °C the other 12 h.
    //   degree-hours = 12 × 14 + 12 × 11 = 168 + 132 = 300 K·h → 200 × 300 / 1000 = 60 kWh
    // Saving = 60 − 55.2 = 4.8 kWh = 8 % of 60.
    const result = estimateSavings({
      period: { from: at('2026-01-12T23:00:00Z'), to: at('2026-01-13T23:00:00Z') },
      zones: [
        classroom([
          heating('2026-01-12T23:00:00Z', '2026-01-13T07:00:00Z', 'eco', 16),
          heating('2026-01-13T07:00:00Z', '2026-01-13T11:00:00Z', 'comfort', 19),
          heating('2026-01-13T11:00:00Z', '2026-01-13T23:00:00Z', 'eco', 16),
        ]),
      ],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(result.estimate).toBe(true);
    expect(result.period).toEqual({
      from: '2026-01-12T23:00:00.000Z',
      to: '2026-01-13T23:00:00.000Z',
      hours: 24,
    });
    expect(result.zones).toEqual([
      {
        zone: 'salle',
        name: 'Salle',
        loss_coefficient_w_per_k: 200,
        heated_hours: { comfort: 4, comfort_1: 0, comfort_2: 0, eco: 20, frost: 0, off: 0 },
        baseline_heated_hours: { comfort: 12, setback: 12, holiday: 0 },
        degree_hours: { plan: 276, baseline: 300 },
        kwh: { plan: 55.2, baseline: 60 },
        saving_kwh: 4.8,
        saving_percent: 8,
      },
    ]);
    expect(result.totals).toEqual({
      kwh_plan: 55.2,
      kwh_baseline: 60,
      saving_kwh: 4.8,
      saving_percent: 8,
      zones_estimated: 1,
      zones_excluded: 0,
    });
    expect(result.inputs.outdoor).toEqual({ kind: 'constant', c: 5 });
    expect(result.inputs.baseline.description).toBe(
      'comfort 19 °C 06:00–18:00 on Mon, Tue, Wed, Thu, Fri outside holidays; 16 °C otherwise; 8 °C on closed days',
    );
    expect(result.method).toContain('upper bound');
  });

  it('splits a segment that changes inside an hour exactly (preheat at 07:15)', () => {
    // Eco 16 °C 00:00–07:15 (7.25 h), comfort 19 °C 07:15–24:00 (16.75 h), 5 °C outside:
    // 7.25 × 11 + 16.75 × 14 = 79.75 + 234.5 = 314.25 K·h → × 0.2 kW/K = 62.85 kWh.
    const result = estimateSavings({
      period: { from: at('2026-01-12T23:00:00Z'), to: at('2026-01-13T23:00:00Z') },
      zones: [
        classroom([
          heating('2026-01-12T23:00:00Z', '2026-01-13T06:15:00Z', 'eco', 16),
          heating('2026-01-13T06:15:00Z', '2026-01-13T23:00:00Z', 'comfort', 19),
        ]),
      ],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(result.zones[0]?.heated_hours).toEqual({
      comfort: 16.75,
      comfort_1: 0,
      comfort_2: 0,
      eco: 7.25,
      frost: 0,
      off: 0,
    });
    expect(result.zones[0]?.degree_hours.plan).toBe(314.25);
    expect(result.zones[0]?.kwh).toEqual({ plan: 62.85, baseline: 60 });
    expect(result.zones[0]?.saving_kwh).toBe(-2.85);
  });

  it('puts the baseline at its holiday setpoint on closed days and its setback on weekends', () => {
    // Monday 2026-01-12 00:00 to Monday 2026-01-19 00:00 local (168 h), 5 °C outside, H = 100 W/K.
    // Baseline: Mon, Tue, Thu, Fri: 12 h comfort 19 °C + 12 h setback 16 °C; Wednesday (holiday)
    // 24 h at 8 °C; Saturday and Sunday 48 h at 16 °C. Comfort 48 h, setback 96 h, holiday 24 h:
    //   48 × 14 + 96 × 11 + 24 × 3 = 672 + 1056 + 72 = 1800 K·h → 100 × 1800 / 1000 = 180 kWh.
    // Plan: frost 8 °C all week: 168 × 3 = 504 K·h → 50.4 kWh; saving 129.6 kWh = 72 %.
    const period = { from: at('2026-01-11T23:00:00Z'), to: at('2026-01-18T23:00:00Z') };
    const zones = [classroom([heating('2026-01-11T23:00:00Z', '2026-01-18T23:00:00Z', 'frost', 8)], 100)];
    const withHoliday = estimateSavings({
      period,
      zones,
      baseline: DEFAULT_BASELINE,
      calendar: oneHolidayCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(withHoliday.zones[0]).toMatchObject({
      heated_hours: { comfort: 0, eco: 0, frost: 168, off: 0 },
      baseline_heated_hours: { comfort: 48, setback: 96, holiday: 24 },
      degree_hours: { plan: 504, baseline: 1800 },
      kwh: { plan: 50.4, baseline: 180 },
      saving_kwh: 129.6,
      saving_percent: 72,
    });
    // holiday_c null: the closed Wednesday stays at the 16 °C setback all day:
    //   48 × 14 + 120 × 11 = 672 + 1320 = 1992 K·h → 199.2 kWh.
    const setbackOnHolidays = estimateSavings({
      period,
      zones,
      baseline: { ...DEFAULT_BASELINE, holiday_c: null },
      calendar: oneHolidayCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(setbackOnHolidays.zones[0]).toMatchObject({
      baseline_heated_hours: { comfort: 48, setback: 120, holiday: 0 },
      degree_hours: { baseline: 1992 },
      kwh: { baseline: 199.2 },
    });
    // A configured programme: comfort 20 °C 07:00–17:00 on Monday–Saturday, setback 15 °C.
    //   Mon, Tue, Thu, Fri, Sat: 5 × 10 h comfort = 50 h; Wednesday 24 h at 8 °C; setback 94 h.
    //   50 × 15 + 94 × 10 + 24 × 3 = 750 + 940 + 72 = 1762 K·h → 176.2 kWh.
    const configured = estimateSavings({
      period,
      zones,
      baseline: {
        days: [1, 2, 3, 4, 5, 6],
        start: '07:00',
        end: '17:00',
        comfort_c: 20,
        setback_c: 15,
        holiday_c: 8,
      },
      calendar: oneHolidayCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(configured.zones[0]).toMatchObject({
      baseline_heated_hours: { comfort: 50, setback: 94, holiday: 24 },
      degree_hours: { baseline: 1762 },
      kwh: { baseline: 176.2 },
    });
  });

  it('treats a public holiday (Bas-Rhin: 26 December) as a closed day', () => {
    // Friday 2025-12-26, local day 2025-12-25T23:00Z–2025-12-26T23:00Z: 24 h at 8 °C, 5 °C outside:
    // 24 × 3 = 72 K·h (a normal Friday would give 300).
    const result = estimateSavings({
      period: { from: at('2025-12-25T23:00:00Z'), to: at('2025-12-26T23:00:00Z') },
      zones: [classroom([])],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    expect(result.zones[0]?.baseline_heated_hours).toEqual({ comfort: 0, setback: 0, holiday: 24 });
    expect(result.zones[0]?.degree_hours.baseline).toBe(72);
  });

  it('uses the monthly normals of the local month, over a 23-hour DST day, and claims nothing for uncovered hours', () => {
    // Sunday 2026-03-29, Europe/Paris springs forward: local day = 2026-03-28T23:00Z–2026-03-29T22:00Z = 23 h.
    // Strasbourg March normal 6.6 °C (data/outdoor-normals.json); Sunday: baseline setback 16 °C all day:
    //   23 × (16 − 6.6) = 23 × 9.4 = 216.2 K·h. The plan has no segments: every hour is
    //   `uncovered` and counted at the baseline setpoint, so the saving is 0.
    const result = estimateSavings({
      period: { from: at('2026-03-28T23:00:00Z'), to: at('2026-03-29T22:00:00Z') },
      zones: [classroom([])],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'monthly-normals', station: 'strasbourg' },
    });
    expect(result.period.hours).toBe(23);
    expect(result.zones[0]).toMatchObject({
      heated_hours: { comfort: 0, eco: 0, frost: 0, off: 0, uncovered: 23 },
      baseline_heated_hours: { comfort: 0, setback: 23, holiday: 0 },
      degree_hours: { plan: 216.2, baseline: 216.2 },
      kwh: { plan: 43.24, baseline: 43.24 },
      saving_kwh: 0,
      saving_percent: 0,
    });
    expect(result.inputs.outdoor).toMatchObject({
      kind: 'monthly-normals',
      station: 'strasbourg',
      station_name: 'Strasbourg-Entzheim',
    });
  });

  it('reads an hourly series hour by hour and counts no heat when it is warmer outside than the setpoint', () => {
    // Two hours of Tuesday 2026-01-13 10:00–12:00 local (comfort in the baseline, comfort 19 °C in
    // the plan) at 21 °C then 9 °C outside: max(0, 19 − 21) + max(0, 19 − 9) = 0 + 10 = 10 K·h.
    const result = estimateSavings({
      period: { from: at('2026-01-13T09:00:00Z'), to: at('2026-01-13T11:00:00Z') },
      zones: [classroom([heating('2026-01-13T09:00:00Z', '2026-01-13T11:00:00Z', 'comfort', 19)])],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'hourly', start: at('2026-01-13T09:00:00Z'), values: [21, 9] },
    });
    expect(result.zones[0]?.degree_hours).toEqual({ plan: 10, baseline: 10 });
    const short = () =>
      estimateSavings({
        period: { from: at('2026-01-13T09:00:00Z'), to: at('2026-01-13T12:00:00Z') },
        zones: [],
        baseline: DEFAULT_BASELINE,
        calendar: openCalendar,
        outdoor: { kind: 'hourly', start: at('2026-01-13T09:00:00Z'), values: [21, 9] },
      });
    expect(short).toThrowError(InputError);
    expect(short).toThrowError(
      expect.objectContaining({
        problems: [
          {
            code: 'outdoor-short',
            message:
              'the hourly series covers 2026-01-13T09:00:00.000Z–2026-01-13T11:00:00.000Z, not the whole period',
            where: 'outdoor.values',
          },
        ],
      }),
    );
  });

  it('lists a zone without loss coefficient with the reason, keeps it out of the kWh totals, and skips unheated zones', () => {
    const segments = [heating('2026-01-12T23:00:00Z', '2026-01-13T23:00:00Z', 'eco', 16)];
    const result = estimateSavings({
      period: { from: at('2026-01-12T23:00:00Z'), to: at('2026-01-13T23:00:00Z') },
      zones: [
        classroom(segments, 200),
        { zone: { id: 'couloir', name: 'Couloir', functions: ['heating'] }, segments },
        {
          zone: { id: 'eclairage', name: 'Éclairage', functions: ['lighting'], loss_coefficient_w_per_k: 50 },
          segments: [],
        },
      ],
      baseline: DEFAULT_BASELINE,
      calendar: openCalendar,
      outdoor: { kind: 'constant', c: 5 },
    });
    // Eco 16 °C all day: 24 × 11 = 264 K·h → 52.8 kWh for H = 200; baseline 60 kWh (first test).
    expect(result.zones.map((z) => z.zone)).toEqual(['salle', 'couloir']);
    expect(result.zones[1]).toEqual({
      zone: 'couloir',
      name: 'Couloir',
      loss_coefficient_w_per_k: null,
      heated_hours: { comfort: 0, comfort_1: 0, comfort_2: 0, eco: 24, frost: 0, off: 0 },
      baseline_heated_hours: { comfort: 12, setback: 12, holiday: 0 },
      degree_hours: { plan: 264, baseline: 300 },
      kwh: null,
      saving_kwh: null,
      saving_percent: null,
      excluded_reason: 'no loss_coefficient_w_per_k in devices/: kWh cannot be estimated',
    });
    expect(result.totals).toEqual({
      kwh_plan: 52.8,
      kwh_baseline: 60,
      saving_kwh: 7.2,
      saving_percent: 12,
      zones_estimated: 1,
      zones_excluded: 1,
    });
    expect(result.inputs.zones).toEqual([
      { zone: 'salle', loss_coefficient_w_per_k: 200 },
      { zone: 'couloir', loss_coefficient_w_per_k: null },
    ]);
  });
});
