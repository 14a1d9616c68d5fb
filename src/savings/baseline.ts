/**
 * The baseline schedule the plan is compared with: a typical fixed programme (issue 7: comfort
 * 06:00–18:00 Monday–Friday outside holidays), at its setback outside those hours (the plan de
 * sobriété's 16 °C at night, docs/regulation.md) and at a holiday setpoint on closed days
 * (8 °C, the R241-27 tier for ≥ 48 h, which a programmer's "holiday" setting gives). Local times
 * become instants through the calendar's per-day table, like `fallbackOccupancy`.
 */

import { z } from 'zod';
import { localDate } from '../bridge/school-plan.js';
import { dayNumberOfIso, isoWeekdayOf, type SchoolCalendar, zoneDays } from '../calendar/index.js';
import type { Zone } from '../devices/schema.js';
import { resolveZoneRules } from '../rules/resolve.js';
import type { RuleSet } from '../rules/rule-set.js';

export interface BaselineSchedule {
  /** ISO weekdays (1 = Monday) of the comfort window. */
  days: number[];
  /** Local start and end of the comfort window, HH:MM. */
  start: string;
  end: string;
  comfort_c: number;
  /** Outside the comfort window on open days, and on the programme's off days (weekends). */
  setback_c: number;
  /** Whole local days the calendar closes (holidays, public holidays); null: the setback applies. */
  holiday_c: number | null;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const hhmm = z.string().regex(HHMM, 'a local time HH:MM');
const celsius = z.number().min(0).max(30);

/** The baseline as configured (CLI options, configuration): validated at the edge. */
export const baselineScheduleSchema = z
  .strictObject({
    days: z.array(z.number().int().min(1).max(7)).max(7),
    start: hhmm,
    end: hhmm,
    comfort_c: celsius,
    setback_c: celsius,
    holiday_c: celsius.nullable(),
  })
  .refine((b) => !(HHMM.test(b.start) && HHMM.test(b.end)) || b.start < b.end, {
    message: 'start must be before end',
    path: ['end'],
  });

export const DEFAULT_BASELINE: BaselineSchedule = {
  days: [1, 2, 3, 4, 5],
  start: '06:00',
  end: '18:00',
  comfort_c: 19,
  setback_c: 16,
  holiday_c: 8,
};

export type BaselineMode = 'comfort' | 'setback' | 'holiday';

export interface BaselineStep {
  from: number;
  to: number;
  mode: BaselineMode;
  setpointC: number;
}

/** The baseline over `[range.from, range.to)` as contiguous steps. */
export function baselineSteps(
  calendar: SchoolCalendar,
  baseline: BaselineSchedule,
  range: { from: number; to: number },
): BaselineStep[] {
  const first = dayNumberOfIso(localDate(range.from, calendar.timezone));
  const last = dayNumberOfIso(localDate(range.to - 1, calendar.timezone));
  const days = zoneDays(calendar.timezone, first, last + 1);
  const startMinutes = minutesOf(baseline.start);
  const endMinutes = minutesOf(baseline.end);
  const steps: BaselineStep[] = [];
  const push = (from: number, to: number, mode: BaselineMode, setpointC: number) => {
    const a = Math.max(from, range.from);
    const b = Math.min(to, range.to);
    if (b <= a) return;
    const previous = steps.at(-1);
    if (previous && previous.to === a && previous.mode === mode && previous.setpointC === setpointC)
      previous.to = b;
    else steps.push({ from: a, to: b, mode, setpointC });
  };
  for (let day = first, index = 0; day <= last; day++, index++) {
    const midnight = days.instant(index, 0);
    const nextMidnight = days.instant(index + 1, 0);
    if (calendar.closureOfDay(day) && baseline.holiday_c !== null) {
      push(midnight, nextMidnight, 'holiday', baseline.holiday_c);
      continue;
    }
    const open = baseline.days.includes(isoWeekdayOf(day)) && !calendar.closureOfDay(day);
    const start = days.instant(index, startMinutes);
    const end = days.instant(index, endMinutes);
    if (!open || end <= start) {
      push(midnight, nextMidnight, 'setback', baseline.setback_c);
      continue;
    }
    push(midnight, start, 'setback', baseline.setback_c);
    push(start, end, 'comfort', baseline.comfort_c);
    push(end, nextMidnight, 'setback', baseline.setback_c);
  }
  return steps;
}

export function describeBaseline(baseline: BaselineSchedule): string {
  const names = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return `comfort ${baseline.comfort_c} °C ${baseline.start}–${baseline.end} on ${baseline.days
    .map((d) => names[d])
    .join(', ')} outside holidays; ${baseline.setback_c} °C otherwise${
    baseline.holiday_c === null ? '' : `; ${baseline.holiday_c} °C on closed days`
  }`;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * The baseline of one zone (issue 21): a fixed programme heats each space to its own comfort, so a
 * zone whose rules set their own occupied setpoint (a gym or workshop at 14 °C, a corridor at
 * 16 °C) is compared with the programme at that setpoint, its setback and holiday setpoints
 * capped at it (a programme never heats an empty gym above its occupied 14 °C). Without it the
 * baseline heated gyms to 19 °C and credited the plan with savings the rules, not the timetable,
 * made (docs/savings.md, "Baseline").
 */
export function zoneBaseline(baseline: BaselineSchedule, comfortC: number | undefined): BaselineSchedule {
  if (comfortC === undefined) return baseline;
  return {
    ...baseline,
    comfort_c: comfortC,
    setback_c: Math.min(baseline.setback_c, comfortC),
    holiday_c: baseline.holiday_c === null ? null : Math.min(baseline.holiday_c, comfortC),
  };
}

/**
 * The occupied heating setpoint of each zone whose rules give it one other than the defaults'
 * (by zone id): what `zoneBaseline` compares those zones with.
 */
export function zoneComfortSetpoints(
  ruleSet: RuleSet,
  uai: string,
  zones: readonly Pick<Zone, 'id' | 'category' | 'heating_type' | 'preheat_minutes' | 'functions'>[],
): Map<string, number> {
  const general = ruleSet.value.defaults.heating.occupied.setpoint_c;
  const out = new Map<string, number>();
  for (const zone of zones) {
    if (!zone.functions.includes('heating')) continue;
    const own = resolveZoneRules(ruleSet, uai, zone).heating.occupied.setpoint_c;
    if (own !== undefined && own !== general) out.set(zone.id, own);
  }
  return out;
}
