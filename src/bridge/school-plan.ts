/**
 * One school's plan: its zones (devices/), the rule set, the calendar and the occupancy (or the
 * fallback week when the school never sent a timetable) → segments per zone and function, with a
 * hash over the whole plan. Pure: the caller brings occupancy and overrides.
 */
import { createHash } from 'node:crypto';
import {
  dayNumberOfIso,
  isoOfDayNumber,
  isoWeekdayOf,
  type SchoolCalendar,
  zoneDays,
} from '../calendar/index.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Zone } from '../devices/schema.js';
import type { Occupancy, OccupancyInterval } from '../domain/occupancy.js';
import { EVENT_SOURCE_PREFIX, type EventOccurrence, eventZoneOccupancy } from '../events/expand-events.js';
import type { OptimumStartSnapshot } from '../rules/optimum-start.js';
import type { Override } from '../rules/overrides.js';
import { schoolPlanHash } from '../rules/plan-hash.js';
import { PLANNING_MARGIN_MS, planZone, type TimeRange, zoneOccupancy } from '../rules/planner.js';
import { type ResolvedRules, resolveZoneRules } from '../rules/resolve.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { FallbackWeek } from '../rules/schema.js';
import type { ZonePlan } from '../rules/segment.js';
import { intervalsWithin } from '../rules/zone-occupancy.js';

export interface ZonePlanEntry {
  zone: string;
  name: string;
  functions: ZonePlan;
  /**
   * The occupancy the plan was made from (the zone's rooms, or the fallback week), over the
   * known window: comfort's occupied intervals (docs/telemetry.md). Not part of the plan hash.
   */
  occupied?: readonly OccupancyInterval[];
}

export interface SchoolPlan {
  uai: string;
  horizon: TimeRange;
  rulesVersion: string;
  /** Timetable version planned from; null when planning on the fallback week. */
  timetableVersion: number | null;
  fallback: boolean;
  zones: ZonePlanEntry[];
  hash: string;
  /** The optimum-start snapshot planned with (docs/optimum-start.md); its id is part of `hash`. */
  optimumStart?: OptimumStartSnapshot;
}

export interface SchoolPlanInput {
  devices: LoadedDevices;
  ruleSet: RuleSet;
  calendar: SchoolCalendar;
  /** Occupancy covering `known` (see `occupancyDatesFor`), or null when no timetable was ever received. */
  occupancy: Occupancy | null;
  overrides: readonly Override[];
  horizon: TimeRange;
  /** Window over which `occupancy` is complete; default horizon ± the planning margin. */
  known?: TimeRange;
  /**
   * Scheduled events' occurrences over `known` (docs/events.md): occupancy of the zones they
   * reach, with preheat, leads and gap rules as for a lesson; segments they explain name them.
   */
  events?: readonly EventOccurrence[];
  /** Learned warm-ups (docs/optimum-start.md): heating preheats follow them where learned. */
  optimumStart?: OptimumStartSnapshot;
}

export function planSchool(input: SchoolPlanInput): SchoolPlan {
  const { devices, ruleSet, calendar, occupancy, horizon } = input;
  const uai = devices.value.school.uai;
  const known = input.known ?? {
    from: horizon.from - PLANNING_MARGIN_MS,
    to: horizon.to + PLANNING_MARGIN_MS,
  };
  const fallback =
    occupancy === null
      ? { occupancy: fallbackOccupancy(calendar, ruleSet.value.fallback_week, known) }
      : undefined;
  const rules = zoneRulesResolver(ruleSet, uai);
  const occurrences = input.events ?? [];
  const titles = new Map(occurrences.map((o) => [`${EVENT_SOURCE_PREFIX}${o.eventId}`, o.title]));
  const zones = devices.value.zones.map((zone) => {
    const lessons = occupancy ? zoneOccupancy(occupancy.rooms, zone) : [];
    const events = occurrences.length > 0 ? eventZoneOccupancy(occurrences, zone) : [];
    const occupied = events.length > 0 ? [...lessons, ...events] : lessons;
    const fallbackOccupancy = fallback
      ? events.length > 0
        ? { occupancy: [...fallback.occupancy, ...events] }
        : fallback
      : undefined;
    const functions = planZone({
      zone,
      occupancy: occupied,
      rules: rules(zone),
      overrides: input.overrides,
      horizon,
      known,
      // Without a timetable, an event still opens its own window (as the fallback week does).
      ...(fallbackOccupancy ? { fallback: fallbackOccupancy } : {}),
      ...(ruleSet.exceptionPolicy ? { exceptionPolicy: ruleSet.exceptionPolicy } : {}),
      ...(input.optimumStart ? { optimumStart: input.optimumStart } : {}),
    });
    return {
      zone: zone.id,
      name: zone.name,
      occupied: intervalsWithin(
        fallbackOccupancy ? fallbackOccupancy.occupancy : occupied,
        known.from,
        known.to,
      ),
      functions: events.length > 0 ? nameEvents(functions, titles) : functions,
    };
  });
  const plans = Object.fromEntries(zones.map((z) => [z.zone, z.functions]));
  const hash = schoolPlanHash(plans);
  return {
    uai,
    horizon,
    rulesVersion: ruleSet.value.version,
    timetableVersion: occupancy?.version ?? null,
    fallback: occupancy === null,
    zones,
    // The snapshot is in the hash even where no preheat used it: same inputs, same hash.
    ...(input.optimumStart
      ? {
          hash: createHash('sha256').update(`${hash}\noptimum-start ${input.optimumStart.id}`).digest('hex'),
          optimumStart: input.optimumStart,
        }
      : { hash }),
  };
}

/** Segments explained by scheduled events say which ones, by id and title (the reason's `events`). */
function nameEvents(plan: ZonePlan, titles: ReadonlyMap<string, string>): ZonePlan {
  for (const segments of Object.values(plan)) {
    if (!segments) continue;
    for (const segment of segments) {
      const lessons = segment.reason.lessons;
      if (!lessons) continue;
      const events = lessons
        .filter((l) => l.startsWith(EVENT_SOURCE_PREFIX))
        .map((l) => ({ id: l.slice(EVENT_SOURCE_PREFIX.length), title: titles.get(l) ?? '' }));
      // A fresh reason: planned reasons may be shared between segments.
      if (events.length > 0) segment.reason = { ...segment.reason, events };
    }
  }
  return plan;
}

/**
 * `resolveZoneRules` for the zones of one school, resolved once per (category, heating type): a
 * school has ~40 zones but a handful of kinds. A zone with its own entry in the rule file or its
 * own measured preheat (devices/) gets rules that name it, so it is resolved alone.
 */
function zoneRulesResolver(ruleSet: RuleSet, uai: string): (zone: Zone) => ResolvedRules {
  const byKind = new Map<string, ResolvedRules>();
  const zoneEntries = ruleSet.value.schools[uai]?.zones;
  return (zone) => {
    if (zone.preheat_minutes !== undefined || zoneEntries?.[zone.id])
      return resolveZoneRules(ruleSet, uai, zone);
    const kind = `${zone.category}\u0000${zone.heating_type ?? ''}`;
    let rules = byKind.get(kind);
    if (!rules) {
      rules = resolveZoneRules(ruleSet, uai, zone);
      byKind.set(kind, rules);
    }
    return rules;
  };
}

/**
 * The fail-safe week (rules.md): comfort windows on the given weekdays, outside holidays and
 * public holidays, as UTC intervals over `range`. Local times become instants through the
 * calendar's per-day table, like lessons.
 */
export function fallbackOccupancy(
  calendar: SchoolCalendar,
  week: FallbackWeek,
  range: TimeRange,
): OccupancyInterval[] {
  const first = dayNumberOfIso(localDate(range.from, calendar.timezone)) - 1;
  const last = dayNumberOfIso(localDate(range.to, calendar.timezone)) + 1;
  const days = zoneDays(calendar.timezone, first, last);
  const startMinutes = minutesOf(week.start);
  const endMinutes = minutesOf(week.end);
  const out: OccupancyInterval[] = [];
  for (let day = first, index = 0; day <= last; day++, index++) {
    const iso = isoOfDayNumber(day);
    if (!week.days.includes(isoWeekdayOf(day)) || calendar.closure(iso)) continue;
    const start = days.instant(index, startMinutes);
    const end = days.instant(index, endMinutes);
    if (end > start) out.push({ start, end, source: ['fallback-week'] });
  }
  return out;
}

/** Local dates (inclusive) of occupancy a plan over `horizon` needs: horizon ± the planning margin. */
export function occupancyDatesFor(horizon: TimeRange, timezone: string): { from: string; to: string } {
  return {
    from: localDate(horizon.from - PLANNING_MARGIN_MS, timezone),
    to: localDate(horizon.to + PLANNING_MARGIN_MS, timezone),
  };
}

const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** Local calendar date of an instant (edge conversion, not in a hot loop). */
export function localDate(ms: number, timezone: string): string {
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

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
