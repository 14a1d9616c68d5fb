/**
 * One case per row of docs/rules.md's heating defaults, with exact UTC instants. Winter dates are
 * Paris = UTC+1 (08:00 local = 07:00Z); from 2026-03-29 Paris = UTC+2.
 */
import { describe, expect, it } from 'vitest';
import type { ZoneFunction } from '../../src/devices/schema.js';
import type { OccupancyInterval } from '../../src/domain/occupancy.js';
import type { Override } from '../../src/rules/overrides.js';
import { shadowedOverrides } from '../../src/rules/overrides.js';
import { nextChangeAfter, type PlanInput, planZone } from '../../src/rules/planner.js';
import type { PlanMode, Segment, SegmentReason } from '../../src/rules/segment.js';
import { B, occ, rulesFor, t, zone } from './plan-fixtures.js';

function seg(
  fn: ZoneFunction,
  from: string,
  to: string,
  mode: PlanMode,
  setpoint_c: number | undefined,
  reason: SegmentReason,
): Segment {
  const s: Segment = { from: t(from), to: t(to), function: fn, mode, reason };
  if (setpoint_c !== undefined) s.setpoint_c = setpoint_c;
  return s;
}
const heat = (from: string, to: string, mode: PlanMode, sp: number, reason: SegmentReason) =>
  seg('heating', from, to, mode, sp, reason);

/** Monday–Friday 08:00–17:30 local (07:00Z–16:30Z), Wednesday until 12:00 local, in the week of `monday`. */
function schoolWeek(monday: string, options: { saturdayUntil?: string } = {}): OccupancyInterval[] {
  const out: OccupancyInterval[] = [];
  const base = t(`${monday}T00:00:00Z`);
  const day = 86_400_000;
  for (let d = 0; d < 5; d++) {
    const date = new Date(base + d * day).toISOString().slice(0, 10);
    out.push(occ(`${date}T07:00:00Z`, d === 2 ? `${date}T11:00:00Z` : `${date}T16:30:00Z`));
  }
  if (options.saturdayUntil) {
    const saturday = new Date(base + 5 * day).toISOString().slice(0, 10);
    out.push(occ(`${saturday}T07:00:00Z`, `${saturday}T${options.saturdayUntil}:00Z`));
  }
  return out;
}
const twoWeeks = [...schoolWeek('2026-01-05'), ...schoolWeek('2026-01-12'), ...schoolWeek('2026-01-19')];
const TUESDAY = { from: t('2026-01-13T00:00:00Z'), to: t('2026-01-14T00:00:00Z') };

interface Case {
  name: string;
  input: Partial<PlanInput> & Pick<PlanInput, 'horizon'>;
  fn?: ZoneFunction;
  expected: Segment[];
}

const classroom = zone();
const gym = zone({ id: 'gymnase', rooms: ['GYMNASE'], category: 'gym', heating_type: 'air' });
const gymUnder24 = {
  rule: 'categories.gym.heating.unoccupied_under_24h',
  basis: "Code de l'énergie R241-26/R241-27: at most the gym's occupied 14 °C",
};
const electric = zone({ id: 'batiment-c', rooms: ['C201'], heating_type: 'electric' });
const electricMerge = {
  rule: 'heating_types.electric.merge_gap_minutes',
  basis:
    'local decision: gaps under 45 min stay comfort on direct electric heating (docs/regulation.md, Control practice)',
};
const slowZone = zone({ category: 'boarding', preheat_minutes: 180 });
const slowPreheat = {
  rule: 'devices/0670999X.yaml zones.batiment-b-est.preheat_minutes',
  basis: "zone's measured preheat lead (devices file)",
};

const cases: Case[] = [
  {
    name: 'occupied classroom: comfort 19 °C (R241-26), preheat 1 h before, eco 16 °C at night',
    input: {
      zone: classroom,
      occupancy: [
        ...twoWeeks.filter((i) => i.start !== t('2026-01-13T07:00:00Z')),
        occ('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', ['L1', 'L2']),
      ],
      horizon: TUESDAY,
    },
    expected: [
      heat('2026-01-13T00:00:00Z', '2026-01-13T06:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
      heat('2026-01-13T06:00:00Z', '2026-01-13T07:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
        lessons: ['L1', 'L2'],
      }),
      heat('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
        lessons: ['L1', 'L2'],
      }),
      heat('2026-01-13T16:30:00Z', '2026-01-14T00:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
    ],
  },
  {
    name: 'occupied gym: comfort 14 °C (plan de sobriété 2022), nights capped at 14 °C',
    input: { zone: gym, occupancy: twoWeeks, horizon: TUESDAY },
    expected: [
      heat('2026-01-13T00:00:00Z', '2026-01-13T06:00:00Z', 'eco', 14, {
        kind: 'short-gap',
        ...gymUnder24,
        gap_hours: 13.5,
      }),
      heat('2026-01-13T06:00:00Z', '2026-01-13T07:00:00Z', 'comfort', 14, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: 'categories.gym.heating.occupied',
      }),
      heat('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 14, {
        kind: 'occupied',
        rule: 'categories.gym.heating.occupied',
        basis: 'plan de sobriété 2022: 14 °C in gymnasiums',
      }),
      heat('2026-01-13T16:30:00Z', '2026-01-14T00:00:00Z', 'eco', 14, {
        kind: 'short-gap',
        ...gymUnder24,
        gap_hours: 13.5,
      }),
    ],
  },
  {
    name: 'a 3 h preheat for a lesson after the horizon crosses midnight into the day before',
    input: {
      zone: slowZone,
      occupancy: [...twoWeeks, occ('2026-01-14T01:00:00Z', '2026-01-14T03:00:00Z')],
      horizon: TUESDAY,
    },
    expected: [
      heat('2026-01-13T00:00:00Z', '2026-01-13T04:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 11.5,
      }),
      heat('2026-01-13T04:00:00Z', '2026-01-13T07:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...slowPreheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-01-13T16:30:00Z', '2026-01-13T22:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 5.5,
      }),
      heat('2026-01-13T22:00:00Z', '2026-01-14T00:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...slowPreheat,
        temperature_rule: B.occupied.rule,
      }),
    ],
  },
  {
    name: 'DST night: Monday 2026-03-30 08:00 Paris = 06:00Z, a 3 h preheat from 03:00Z after a Friday closing → 8 °C',
    input: {
      zone: slowZone,
      occupancy: [
        occ('2026-03-27T07:00:00Z', '2026-03-27T16:30:00Z'), // Friday, CET
        occ('2026-03-30T06:00:00Z', '2026-03-30T15:30:00Z'), // Monday, CEST
        occ('2026-03-31T06:00:00Z', '2026-03-31T15:30:00Z'),
      ],
      horizon: { from: t('2026-03-29T22:00:00Z'), to: t('2026-03-30T22:00:00Z') }, // Monday, local
    },
    expected: [
      heat('2026-03-29T22:00:00Z', '2026-03-30T03:00:00Z', 'frost', 8, {
        kind: 'holiday',
        ...B.over48,
        gap_hours: 58.5,
      }),
      heat('2026-03-30T03:00:00Z', '2026-03-30T06:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...slowPreheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-03-30T06:00:00Z', '2026-03-30T15:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-03-30T15:30:00Z', '2026-03-30T22:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 11.5,
      }),
    ],
  },
  {
    name: 'DST night with Saturday lessons: 12:00 Sat → 05:00 Mon local is 41 wall-clock hours but 40 real → 16 °C',
    input: {
      zone: slowZone,
      occupancy: [
        occ('2026-03-28T07:00:00Z', '2026-03-28T11:00:00Z'), // Saturday 08:00–12:00 CET
        occ('2026-03-30T06:00:00Z', '2026-03-30T15:30:00Z'),
      ],
      horizon: { from: t('2026-03-28T23:00:00Z'), to: t('2026-03-29T22:00:00Z') }, // Sunday, 23 h long
    },
    expected: [
      heat('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 'eco', 16, {
        kind: 'long-gap',
        ...B.from24to48,
        gap_hours: 40,
      }),
    ],
  },
  {
    name: '1 h unheated gap (after preheat) stays comfort on hydronic (merge < 90 min)',
    input: {
      zone: classroom,
      occupancy: [
        occ('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z'),
        occ('2026-01-13T11:00:00Z', '2026-01-13T16:30:00Z'),
      ],
      horizon: { from: t('2026-01-13T07:00:00Z'), to: t('2026-01-13T16:30:00Z') },
    },
    expected: [
      heat('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-01-13T09:00:00Z', '2026-01-13T10:00:00Z', 'comfort', 19, {
        kind: 'merged-gap',
        ...B.mergeHydronic,
        temperature_rule: B.occupied.rule,
        gap_hours: 1,
      }),
      heat('2026-01-13T10:00:00Z', '2026-01-13T11:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-01-13T11:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
    ],
  },
  {
    name: '2 h lunch break (10:00–12:00 local) on electric: 1 h unheated gap ≥ 45 min → eco 16 °C short-gap',
    input: {
      zone: electric,
      occupancy: [
        occ('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z'),
        occ('2026-01-13T11:00:00Z', '2026-01-13T16:30:00Z'),
      ],
      horizon: { from: t('2026-01-13T07:00:00Z'), to: t('2026-01-13T16:30:00Z') },
    },
    expected: [
      heat('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-01-13T09:00:00Z', '2026-01-13T10:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 1,
      }),
      heat('2026-01-13T10:00:00Z', '2026-01-13T11:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-01-13T11:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
    ],
  },
  {
    name: '40 min unheated gap stays comfort even on electric (40 < 45 min)',
    input: {
      zone: electric,
      occupancy: [
        occ('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z'),
        occ('2026-01-13T10:40:00Z', '2026-01-13T16:30:00Z'),
      ],
      horizon: { from: t('2026-01-13T07:00:00Z'), to: t('2026-01-13T16:30:00Z') },
    },
    expected: [
      heat('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-01-13T09:00:00Z', '2026-01-13T09:40:00Z', 'comfort', 19, {
        kind: 'merged-gap',
        ...electricMerge,
        temperature_rule: B.occupied.rule,
        gap_hours: 0.67,
      }),
      heat('2026-01-13T09:40:00Z', '2026-01-13T10:40:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-01-13T10:40:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
    ],
  },
  {
    name: 'free Wednesday afternoon: 19 h gap → eco 16 °C short-gap',
    input: {
      zone: classroom,
      occupancy: twoWeeks,
      horizon: { from: t('2026-01-14T11:00:00Z'), to: t('2026-01-15T06:00:00Z') },
    },
    expected: [
      heat('2026-01-14T11:00:00Z', '2026-01-15T06:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 19,
      }),
    ],
  },
  {
    name: 'Saturday-morning school: Sat 13:00 → Mon 07:00 local (preheat) = 42 h → 16 °C long-gap (R241-27)',
    input: {
      zone: classroom,
      occupancy: [...schoolWeek('2026-01-12', { saturdayUntil: '12:00' }), ...schoolWeek('2026-01-19')],
      horizon: { from: t('2026-01-17T12:00:00Z'), to: t('2026-01-19T07:00:00Z') },
    },
    expected: [
      heat('2026-01-17T12:00:00Z', '2026-01-19T06:00:00Z', 'eco', 16, {
        kind: 'long-gap',
        ...B.from24to48,
        gap_hours: 42,
      }),
      heat('2026-01-19T06:00:00Z', '2026-01-19T07:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
      }),
    ],
  },
  {
    name: 'Friday-closing school: Fri 17:30 → Mon 07:00 local = 61.5 h → frost 8 °C (R241-27)',
    input: {
      zone: classroom,
      occupancy: twoWeeks,
      horizon: { from: t('2026-01-17T00:00:00Z'), to: t('2026-01-19T00:00:00Z') },
    },
    expected: [
      heat('2026-01-17T00:00:00Z', '2026-01-19T00:00:00Z', 'frost', 8, {
        kind: 'holiday',
        ...B.over48,
        gap_hours: 61.5,
      }),
    ],
  },
  {
    name: 'holiday fortnight, occupancy known to 2026-02-24: exact 397.5 h gap → frost',
    input: {
      zone: classroom,
      occupancy: [
        occ('2026-02-06T07:00:00Z', '2026-02-06T16:30:00Z'),
        occ('2026-02-23T07:00:00Z', '2026-02-23T16:30:00Z'),
      ],
      horizon: { from: t('2026-02-11T00:00:00Z'), to: t('2026-02-12T00:00:00Z') },
      known: { from: t('2026-02-01T00:00:00Z'), to: t('2026-02-24T00:00:00Z') },
    },
    expected: [
      heat('2026-02-11T00:00:00Z', '2026-02-12T00:00:00Z', 'frost', 8, {
        kind: 'holiday',
        ...B.over48,
        gap_hours: 397.5,
      }),
    ],
  },
  {
    name: 'holiday fortnight, default ±7 days window: gap open-ended, 295.5 h at least → frost',
    input: {
      zone: classroom,
      occupancy: [
        occ('2026-02-06T07:00:00Z', '2026-02-06T16:30:00Z'),
        occ('2026-02-23T07:00:00Z', '2026-02-23T16:30:00Z'),
      ],
      horizon: { from: t('2026-02-11T00:00:00Z'), to: t('2026-02-12T00:00:00Z') },
    },
    expected: [
      heat('2026-02-11T00:00:00Z', '2026-02-12T00:00:00Z', 'frost', 8, {
        kind: 'holiday',
        ...B.over48,
        gap_hours: 295.5,
        gap_open_ended: true,
      }),
    ],
  },
  {
    name: 'lighting: on 10 min before, off 10 min after each occupancy',
    fn: 'lighting',
    input: {
      zone: zone({ functions: ['lighting'] }),
      occupancy: [
        occ('2026-01-12T07:00:00Z', '2026-01-12T16:30:00Z'),
        occ('2026-01-13T07:00:00Z', '2026-01-13T11:00:00Z'),
        occ('2026-01-13T12:00:00Z', '2026-01-13T16:30:00Z'),
        occ('2026-01-14T07:00:00Z', '2026-01-14T11:00:00Z'),
      ],
      horizon: TUESDAY,
    },
    expected: (() => {
      const lead = {
        rule: 'defaults.lighting.lead_minutes',
        basis:
          'local decision: lights on 10 min before occupancy (≤ 1 h, arrêté du 27 décembre 2018; docs/regulation.md, Control practice)',
      };
      const on = {
        rule: 'defaults.lighting.occupied',
        basis: 'arrêté du 27 décembre 2018 art. 2: lighting follows occupancy',
      };
      const lag = {
        rule: 'defaults.lighting.lag_minutes',
        basis:
          'local decision: lights off 10 min after occupancy (≤ 1 h, arrêté du 27 décembre 2018; docs/regulation.md, Control practice)',
      };
      const off = {
        rule: 'defaults.lighting.unoccupied',
        basis: 'arrêté du 27 décembre 2018 art. 2: off at most 1 h after occupancy ends',
      };
      const l = (a: string, b: string, mode: PlanMode, r: SegmentReason) =>
        seg('lighting', a, b, mode, undefined, r);
      return [
        l('2026-01-13T00:00:00Z', '2026-01-13T06:50:00Z', 'off', {
          kind: 'short-gap',
          ...off,
          gap_hours: 14.17,
        }),
        l('2026-01-13T06:50:00Z', '2026-01-13T07:00:00Z', 'on', { kind: 'preheat', ...lead }),
        l('2026-01-13T07:00:00Z', '2026-01-13T11:00:00Z', 'on', { kind: 'occupied', ...on }),
        l('2026-01-13T11:00:00Z', '2026-01-13T11:10:00Z', 'on', { kind: 'occupied', ...lag }),
        l('2026-01-13T11:10:00Z', '2026-01-13T11:50:00Z', 'off', {
          kind: 'short-gap',
          ...off,
          gap_hours: 0.67,
        }),
        l('2026-01-13T11:50:00Z', '2026-01-13T12:00:00Z', 'on', { kind: 'preheat', ...lead }),
        l('2026-01-13T12:00:00Z', '2026-01-13T16:30:00Z', 'on', { kind: 'occupied', ...on }),
        l('2026-01-13T16:30:00Z', '2026-01-13T16:40:00Z', 'on', { kind: 'occupied', ...lag }),
        l('2026-01-13T16:40:00Z', '2026-01-14T00:00:00Z', 'off', {
          kind: 'short-gap',
          ...off,
          gap_hours: 14.17,
        }),
      ];
    })(),
  },
  {
    name: 'ventilation: purge 30 min before and after occupancy, off otherwise',
    fn: 'ventilation',
    input: { zone: zone({ functions: ['ventilation'] }), occupancy: twoWeeks, horizon: TUESDAY },
    expected: (() => {
      const off = {
        rule: 'defaults.ventilation.unoccupied',
        basis: 'plan de sobriété 2022: ventilation off when unoccupied',
      };
      const v = (a: string, b: string, mode: PlanMode, r: SegmentReason) =>
        seg('ventilation', a, b, mode, undefined, r);
      return [
        v('2026-01-13T00:00:00Z', '2026-01-13T06:30:00Z', 'off', {
          kind: 'short-gap',
          ...off,
          gap_hours: 13.5,
        }),
        v('2026-01-13T06:30:00Z', '2026-01-13T07:00:00Z', 'on', {
          kind: 'preheat',
          rule: 'defaults.ventilation.purge_before_minutes',
          basis: 'local decision: 30 min purge before occupancy (docs/regulation.md, Control practice)',
        }),
        v('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', 'on', {
          kind: 'occupied',
          rule: 'defaults.ventilation.occupied',
          basis: 'décrets 2022-1689/1690: fresh air while occupied',
        }),
        v('2026-01-13T16:30:00Z', '2026-01-13T17:00:00Z', 'on', {
          kind: 'occupied',
          rule: 'defaults.ventilation.purge_after_minutes',
          basis: 'local decision: 30 min purge after occupancy (docs/regulation.md, Control practice)',
        }),
        v('2026-01-13T17:00:00Z', '2026-01-14T00:00:00Z', 'off', {
          kind: 'short-gap',
          ...off,
          gap_hours: 13.5,
        }),
      ];
    })(),
  },
  {
    name: 'fallback week (no timetable ever received): comfort on the given windows, flagged fallback',
    input: {
      zone: classroom,
      fallback: {
        occupancy: [
          '2026-01-12',
          '2026-01-13',
          '2026-01-14',
          '2026-01-15',
          '2026-01-16',
          '2026-01-19',
          '2026-01-20',
        ].map((d) => occ(`${d}T06:00:00Z`, `${d}T17:00:00Z`)),
      },
      horizon: { from: t('2026-01-19T00:00:00Z'), to: t('2026-01-20T00:00:00Z') },
    },
    expected: [
      heat('2026-01-19T00:00:00Z', '2026-01-19T06:00:00Z', 'frost', 8, {
        kind: 'holiday',
        ...B.over48,
        gap_hours: 61,
      }),
      heat('2026-01-19T06:00:00Z', '2026-01-19T17:00:00Z', 'comfort', 19, {
        kind: 'fallback',
        rule: 'fallback_week',
        temperature_rule: B.occupied.rule,
        basis:
          'local decision: conservative week while no timetable was ever received (docs/regulation.md, Control practice)',
      }),
      heat('2026-01-19T17:00:00Z', '2026-01-20T00:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13,
      }),
    ],
  },
];

describe('planZone, one case per rule', () => {
  it.each(cases)('$name', ({ input, fn = 'heating', expected }) => {
    const z = input.zone ?? classroom;
    const plan = planZone({ zone: z, occupancy: [], overrides: [], rules: rulesFor(z), ...input });
    expect(plan[fn]).toEqual(expected);
  });
});

describe('segments name the timing rule and the temperature rule', () => {
  it('preheat and merged-gap cite both, with the temperature rule’s exception; occupied cites one', () => {
    const exception = {
      justification: "unité d'accueil de jeunes enfants",
      basis: 'R241-29',
      approved_by: 'Conseil régional, commission permanente',
      approved_on: '2026-09-15',
      reference: 'délibération CP-2026-09-042',
    };
    const resolved = rulesFor(classroom);
    const rules = {
      ...resolved,
      heating: { ...resolved.heating, occupied: { ...resolved.heating.occupied, setpoint_c: 21, exception } },
    };
    const plan = planZone({
      zone: classroom,
      rules,
      occupancy: [
        occ('2026-01-13T07:00:00Z', '2026-01-13T09:00:00Z'),
        occ('2026-01-13T11:00:00Z', '2026-01-13T12:00:00Z'),
      ],
      overrides: [],
      horizon: { from: t('2026-01-13T06:00:00Z'), to: t('2026-01-13T12:00:00Z') },
    });
    expect(plan.heating?.map((s) => [new Date(s.from).toISOString(), s.setpoint_c, s.reason])).toEqual([
      [
        '2026-01-13T06:00:00.000Z',
        21,
        { kind: 'preheat', ...B.preheat, temperature_rule: B.occupied.rule, exception },
      ],
      ['2026-01-13T07:00:00.000Z', 21, { kind: 'occupied', ...B.occupied, exception }],
      [
        '2026-01-13T09:00:00.000Z',
        21,
        {
          kind: 'merged-gap',
          ...B.mergeHydronic,
          temperature_rule: B.occupied.rule,
          exception,
          gap_hours: 1,
        },
      ],
      [
        '2026-01-13T10:00:00.000Z',
        21,
        { kind: 'preheat', ...B.preheat, temperature_rule: B.occupied.rule, exception },
      ],
      ['2026-01-13T11:00:00.000Z', 21, { kind: 'occupied', ...B.occupied, exception }],
    ]);
  });
});

describe('overrides', () => {
  const base = { zone: classroom, occupancy: twoWeeks, rules: rulesFor(classroom), horizon: TUESDAY };
  const evening: Override = {
    id: 'ov-portes-ouvertes',
    zone: 'batiment-b-est',
    function: 'heating',
    mode: 'comfort',
    setpoint_c: 19,
    from: t('2026-01-13T17:00:00Z'),
    until: t('2026-01-13T20:00:00Z'),
    author: 'm.durand',
    reason: 'soirée portes ouvertes',
    created_at: t('2026-01-10T09:00:00Z'),
  };

  it('an override wins while active, then the plan resumes', () => {
    const plan = planZone({
      ...base,
      overrides: [evening, { ...evening, id: 'other-zone', zone: 'cdi', mode: 'frost' }],
    });
    expect(plan.heating).toEqual([
      heat('2026-01-13T00:00:00Z', '2026-01-13T06:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
      heat('2026-01-13T06:00:00Z', '2026-01-13T07:00:00Z', 'comfort', 19, {
        kind: 'preheat',
        ...B.preheat,
        temperature_rule: B.occupied.rule,
      }),
      heat('2026-01-13T07:00:00Z', '2026-01-13T16:30:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat('2026-01-13T16:30:00Z', '2026-01-13T17:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
      heat('2026-01-13T17:00:00Z', '2026-01-13T20:00:00Z', 'comfort', 19, {
        kind: 'override',
        rule: 'override:ov-portes-ouvertes',
        basis: 'soirée portes ouvertes (m.durand)',
        override_id: 'ov-portes-ouvertes',
      }),
      heat('2026-01-13T20:00:00Z', '2026-01-14T00:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
    ]);
  });

  it('two overlapping overrides: the newest wins, the other is reported shadowed', () => {
    const broken: Override = {
      ...evening,
      id: 'ov-panne',
      mode: 'frost',
      setpoint_c: 8,
      from: t('2026-01-13T15:00:00Z'),
      until: t('2026-01-13T22:00:00Z'),
      reason: 'chaudière en panne',
      created_at: t('2026-01-09T09:00:00Z'),
    };
    const plan = planZone({ ...base, overrides: [evening, broken] });
    const override = (id: string, basis: string): SegmentReason => ({
      kind: 'override',
      rule: `override:${id}`,
      basis,
      override_id: id,
    });
    expect(plan.heating?.slice(2)).toEqual([
      heat('2026-01-13T07:00:00Z', '2026-01-13T15:00:00Z', 'comfort', 19, {
        kind: 'occupied',
        ...B.occupied,
      }),
      heat(
        '2026-01-13T15:00:00Z',
        '2026-01-13T17:00:00Z',
        'frost',
        8,
        override('ov-panne', 'chaudière en panne (m.durand)'),
      ),
      heat(
        '2026-01-13T17:00:00Z',
        '2026-01-13T20:00:00Z',
        'comfort',
        19,
        override('ov-portes-ouvertes', 'soirée portes ouvertes (m.durand)'),
      ),
      heat(
        '2026-01-13T20:00:00Z',
        '2026-01-13T22:00:00Z',
        'frost',
        8,
        override('ov-panne', 'chaudière en panne (m.durand)'),
      ),
      heat('2026-01-13T22:00:00Z', '2026-01-14T00:00:00Z', 'eco', 16, {
        kind: 'short-gap',
        ...B.under24,
        gap_hours: 13.5,
      }),
    ]);
    expect(shadowedOverrides([evening, broken], 'batiment-b-est', 'heating', TUESDAY)).toEqual([
      {
        override_id: 'ov-panne',
        by: 'ov-portes-ouvertes',
        from: t('2026-01-13T17:00:00Z'),
        to: t('2026-01-13T20:00:00Z'),
      },
    ]);
  });

  it('nextChangeAfter skips preheat → occupied (same mode and setpoint) and finds the evening setback', () => {
    const plan = planZone({ ...base, overrides: [] });
    const heating = plan.heating ?? [];
    expect(nextChangeAfter(heating, t('2026-01-13T06:30:00Z'))).toBe(t('2026-01-13T16:30:00Z'));
    expect(nextChangeAfter(heating, t('2026-01-13T02:00:00Z'))).toBe(t('2026-01-13T06:00:00Z'));
    expect(nextChangeAfter(heating, t('2026-01-13T20:00:00Z'))).toBeNull();
    expect(nextChangeAfter(heating, t('2026-01-15T00:00:00Z'))).toBeNull();
  });
});

describe('planZone input guards', () => {
  it('refuses an empty horizon', () => {
    expect(() =>
      planZone({
        zone: classroom,
        occupancy: [],
        overrides: [],
        rules: rulesFor(classroom),
        horizon: { from: 5, to: 5 },
      }),
    ).toThrow(new RangeError('horizon.to must be after horizon.from'));
  });
  it('plans only the functions the zone has', () => {
    const z = zone({ functions: ['heating', 'lighting'] });
    const plan = planZone({
      zone: z,
      occupancy: twoWeeks,
      overrides: [],
      rules: rulesFor(z),
      horizon: TUESDAY,
    });
    expect(Object.keys(plan)).toEqual(['heating', 'lighting']);
  });
});
