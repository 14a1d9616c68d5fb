/**
 * The plan's heating segments and occupied intervals of a school's zones over a UTC range, from
 * the planner's local-day plans (at most `MAX_PLAN_DAYS` a call), for comfort and aggregation.
 */
import type { SchoolPlan } from '../bridge/school-plan.js';
import { addDaysIso, dayNumberOfIso } from '../calendar/index.js';
import type { Segment } from '../rules/segment.js';
import { type Interval, joinIntervals } from './comfort.js';

export type PlanFor = (uai: string, date: string, days: number) => Promise<{ plan: SchoolPlan }>;

/** 31: the planner's limit per call (src/bridge/planning.ts MAX_PLAN_DAYS). */
const PLAN_CHUNK_DAYS = 31;

export interface ZoneWindow {
  zone: string;
  name: string;
  /** Per function, the plan's segments sorted. */
  segments: Map<string, Segment[]>;
  occupied: Interval[];
}

const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** Local calendar date of an instant. */
export function localDateOf(ms: number, timezone: string): string {
  let format = DATE_FORMATS.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    DATE_FORMATS.set(timezone, format);
  }
  return format.format(ms);
}

/** Plans covering `[from, to)` (local days around it), joined per zone. */
export async function planWindow(
  planFor: PlanFor,
  uai: string,
  timezone: string,
  range: { from: number; to: number },
): Promise<Map<string, ZoneWindow>> {
  const first = localDateOf(range.from, timezone);
  const last = localDateOf(range.to - 1, timezone);
  const days = dayNumberOfIso(last) - dayNumberOfIso(first) + 1;
  const zones = new Map<string, ZoneWindow>();
  for (let offset = 0; offset < days; offset += PLAN_CHUNK_DAYS) {
    const { plan } = await planFor(uai, addDaysIso(first, offset), Math.min(PLAN_CHUNK_DAYS, days - offset));
    for (const entry of plan.zones) {
      let window = zones.get(entry.zone);
      if (!window) {
        window = { zone: entry.zone, name: entry.name, segments: new Map(), occupied: [] };
        zones.set(entry.zone, window);
      }
      for (const [fn, segments] of Object.entries(entry.functions)) {
        const list = window.segments.get(fn) ?? [];
        list.push(...(segments ?? []));
        window.segments.set(fn, list);
      }
      window.occupied.push(...(entry.occupied ?? []));
    }
  }
  for (const window of zones.values()) {
    window.occupied = joinIntervals(window.occupied);
    for (const list of window.segments.values()) list.sort((a, b) => a.from - b.from);
  }
  return zones;
}
