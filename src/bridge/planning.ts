/**
 * Keeps every school's live plan current in the plan feed (the dispatcher publishes it): each
 * school of the site is planned from its last good occupancy (sync), its overrides and its
 * calendar over [hour − 1 h, hour + 51 h), so the 48 h schedule is always covered until the
 * next hourly replan. Replans a school when the sync delivers new data or its overrides change,
 * every school when the site reloads, and hourly (a UTC cron) so the horizon rolls forward.
 * Deterministic: the same clock hour and inputs give the same plan and hash.
 *
 * Also answers plans for any local dates (`planFor`) for the API and shares with the CLI how a
 * plan becomes the API body (`planDayBody`).
 */

import { DateTime } from 'luxon';
import { addDaysIso } from '../calendar/index.js';
import { isoInstant } from '../calendar/occupancy-body.js';
import type { LoadedDevices } from '../devices/load.js';
import type { ZoneFunction } from '../devices/schema.js';
import type { Clock } from '../domain/clock.js';
import { parseDateParameter } from '../domain/dates.js';
import type { Occupancy } from '../domain/occupancy.js';
import { InputError } from '../domain/problems.js';
import { expandEvents } from '../events/expand-events.js';
import type { ScheduledEvent } from '../events/scheduled-event.js';
import type { Part } from '../lifecycle/part.js';
import type { OptimumStartSnapshot } from '../rules/optimum-start.js';
import type { Override } from '../rules/overrides.js';
import { nextChangeAfter, PLANNING_MARGIN_MS, type TimeRange } from '../rules/planner.js';
import type { PlanMode, SegmentReason } from '../rules/segment.js';
import type { CalendarSource } from '../site/calendars.js';
import type { Site } from '../site/load-site.js';
import type { ReloadResult } from '../site/site-holder.js';
import { NotFoundError } from './overrides-service.js';
import type { MutablePlanFeed } from './plan-feed.js';
import { ScheduledJob, type ScheduledJobStats } from './scheduled-job.js';
import { localDate, occupancyDatesFor, planSchool, type SchoolPlan } from './school-plan.js';

const HOUR = 3_600_000;
/** The live horizon: an hour back (the state that holds now is inside), 48 h of schedule
 * (docs/mqtt.md, `schedule`) plus 3 h so it stays covered until the next hourly replan. */
export const LIVE_HORIZON = { backMs: HOUR, aheadMs: 51 * HOUR } as const;
/** Longest range of `planFor` (API and CLI): a month, well inside SORTIE's 62-day cap with margins. */
export const MAX_PLAN_DAYS = 31;

/** Occupancy held for a school over local dates `from`..`to`. */
export interface HeldOccupancy {
  occupancy: Occupancy;
  from: string;
  to: string;
}

/** What planning needs from the sync (SyncService fits). */
export interface OccupancySource {
  occupancyFor(uai: string): HeldOccupancy | null;
  onChange(listener: (uai: string) => void): () => void;
}

/**
 * Occupancy for local dates beyond the held window (API plans of other weeks): the occupancy,
 * null when the source has no timetable for the school; throws when it cannot answer.
 */
export type OccupancyLoader = (
  uai: string,
  dates: { from: string; to: string },
) => Promise<HeldOccupancy | null>;

/** What planning needs from the overrides (OverridesService fits). */
export interface OverrideSource {
  /** Overrides of a school whose effective span overlaps `range` (cancelled ones end at their cancellation). */
  overridesFor(uai: string, range: TimeRange): Promise<Override[]>;
  onChange(listener: (uai: string) => void): () => void;
}

/** What planning needs from scheduled events (EventsService fits; docs/events.md). */
export interface ScheduledEventSource {
  /** Every event of a school (bounded by MAX_EVENTS_PER_SCHOOL); planning expands them. */
  eventsFor(uai: string): Promise<readonly ScheduledEvent[]>;
  onChange(listener: (uai: string) => void): () => void;
}

export interface SiteSource {
  readonly current: Site;
  onReload?(listener: (result: ReloadResult) => void): () => void;
}

export interface PlanningLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PlanningServiceOptions {
  site: SiteSource;
  calendars: Pick<CalendarSource, 'forSchool'>;
  occupancy: OccupancySource;
  overrides: OverrideSource;
  /** Scheduled events (meetings, lettings, booking feeds): occupancy like lessons. */
  events?: ScheduledEventSource;
  feed: MutablePlanFeed;
  clock: Clock;
  /** Replan-everything job, evaluated in UTC (default: minute 0 of every hour). */
  cron?: string;
  /** For `planFor` outside the held window; without it such dates plan on what is held, else the fallback week. */
  loadOccupancy?: OccupancyLoader;
  /**
   * Several instances (issue 8): the schools this instance holds the lease of; only those are
   * planned live (put in the feed). `planFor` and `nextChange` answer for every school. Default:
   * every school.
   */
  owns?: (uai: string) => boolean;
  /**
   * False while a school's occupancy was never asked for (first start, a school just added): its
   * first plan waits for that answer (or failure) rather than publishing the fallback week and
   * then the real plan seconds later. Default: always ready.
   */
  ready?: (uai: string) => boolean;
  /** Learned warm-ups of a school before planning it (optimum-start-source.ts); none: fixed preheat. */
  optimumStart?: (uai: string, now: number) => Promise<OptimumStartSnapshot | undefined>;
  logger?: PlanningLogger;
}

export class PlanningService implements Part {
  private readonly unsubscribe: Array<() => void> = [];
  private readonly generation = new Map<string, number>();
  private task: ScheduledJob | undefined;

  constructor(private readonly options: PlanningServiceOptions) {}

  /** Plans every school, then follows sync, overrides, site reloads and the hourly job. */
  async start(): Promise<void> {
    const { occupancy, overrides, site } = this.options;
    this.unsubscribe.push(occupancy.onChange((uai) => void this.replan(uai)));
    this.unsubscribe.push(overrides.onChange((uai) => void this.replan(uai)));
    if (this.options.events)
      this.unsubscribe.push(this.options.events.onChange((uai) => void this.replan(uai)));
    if (site.onReload) {
      this.unsubscribe.push(
        site.onReload((result) => {
          if (result.ok) void this.replanAll();
        }),
      );
    }
    // UTC like every interval job (docs/architecture.md, "node-cron and daylight-saving time":
    // in Europe/Paris the autumn switch skips a whole hour of runs).
    // A missed hourly tick runs late and is counted (issue 22, src/bridge/scheduled-job.ts).
    this.task = new ScheduledJob({
      expression: this.options.cron ?? '0 * * * *',
      name: 'replan',
      run: async () => {
        await this.replanAll();
      },
      clock: this.options.clock,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    this.task.start();
    await this.replanAll();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.task?.stop();
    this.task = undefined;
  }

  /** The hourly replan job's runs (on time, late, missed); null before start. */
  scheduleStats(): ScheduledJobStats | null {
    return this.task?.stats() ?? null;
  }

  /** The live horizon at `now`: whole hours, so replans within one hour give the same plan. */
  liveHorizon(now = this.options.clock.now()): TimeRange {
    const hour = Math.floor(now / HOUR) * HOUR;
    return { from: hour - LIVE_HORIZON.backMs, to: hour + LIVE_HORIZON.aheadMs };
  }

  /** Replans every school of the site and drops plans of schools that left it. */
  async replanAll(): Promise<void> {
    const site = this.options.site.current;
    const owns = this.options.owns ?? (() => true);
    for (const plan of [...this.options.feed.plans()]) {
      if (!site.devices.has(plan.uai) || !owns(plan.uai)) this.options.feed.remove(plan.uai);
    }
    await Promise.all([...site.devices.keys()].filter(owns).map((uai) => this.replan(uai)));
  }

  /** Replans one school now and puts the plan in the feed; returns it (undefined when the school left the site). */
  async replan(uai: string): Promise<SchoolPlan | undefined> {
    const turn = (this.generation.get(uai) ?? 0) + 1;
    this.generation.set(uai, turn);
    const site = this.options.site.current;
    const devices = site.devices.get(uai);
    if (!devices || (this.options.owns && !this.options.owns(uai))) {
      this.options.feed.remove(uai);
      return undefined;
    }
    if (this.options.ready && !this.options.ready(uai) && !this.options.feed.plan(uai)) return undefined;
    try {
      const horizon = this.liveHorizon();
      const overrides = await this.options.overrides.overridesFor(uai, horizon);
      const events = (await this.options.events?.eventsFor(uai)) ?? [];
      const optimumStart = await this.options.optimumStart?.(uai, this.options.clock.now());
      const plan = planFromHeld({
        site,
        devices,
        calendars: this.options.calendars,
        horizon,
        held: this.options.occupancy.occupancyFor(uai),
        overrides,
        events,
        ...(optimumStart ? { optimumStart } : {}),
      });
      // A newer replan of this school started meanwhile: its inputs are newer, let it win.
      if (this.generation.get(uai) !== turn) return plan;
      // The lease went meanwhile: the instance that took it plans the school now.
      if (this.options.owns && !this.options.owns(uai)) return plan;
      this.options.feed.set(plan);
      return plan;
    } catch (error) {
      this.options.logger?.error({ uai, err: error }, 'planning failed; keeping the previous plan');
      return this.options.feed.plan(uai);
    }
  }

  /**
   * The plan of local dates `date`..`date + days − 1` (midnight to midnight in the school's zone,
   * DST-aware), for the API and the dashboard. Throws `InputError` for an unknown school or bad dates.
   */
  async planFor(uai: string, date: string, days = 1): Promise<PlanForDates> {
    const site = this.options.site.current;
    const devices = site.devices.get(uai);
    if (!devices) throw new NotFoundError(`establishment ${uai}`, 'uai (path)');
    const timezone = devices.value.school.timezone;
    const horizon = localDaysRange(date, days, timezone);
    const dates = occupancyDatesFor(horizon, timezone);
    let held = this.options.occupancy.occupancyFor(uai);
    if (!covers(held, dates) && this.options.loadOccupancy)
      held = await this.options.loadOccupancy(uai, dates);
    const overrides = await this.options.overrides.overridesFor(uai, horizon);
    const events = (await this.options.events?.eventsFor(uai)) ?? [];
    const optimumStart = await this.options.optimumStart?.(uai, this.options.clock.now());
    const plan = planFromHeld({
      site,
      devices,
      calendars: this.options.calendars,
      horizon,
      held,
      overrides,
      events,
      ...(optimumStart ? { optimumStart } : {}),
    });
    return { plan, date, days, timezone };
  }

  /** "Until the next planned change" of a zone's function (see `nextPlannedChange`). */
  nextChange(uai: string, zone: string, fn: ZoneFunction, at: number, withinMs: number): number | null {
    return nextPlannedChange(this.options)(uai, zone, fn, at, withinMs);
  }
}

/** The first instant after `at`, within `withinMs`, where a zone function's planned schedule changes. */
export type NextChange = (
  uai: string,
  zone: string,
  fn: ZoneFunction,
  at: number,
  withinMs: number,
) => number | null;

/**
 * "Until the next planned change" (rules.md, "Overrides"): the first instant after `at` where the
 * schedule of this zone and function (rules only: other overrides on it are the manager's, not the
 * plan's) changes mode or setpoint, within the 14-day override cap; null when none. It reads the
 * files, the calendar and the held occupancy, not the planning service: the overrides service
 * takes it without a reference back to the planning that follows the overrides (issue 14).
 */
export function nextPlannedChange(sources: {
  site: { readonly current: Site };
  calendars: Pick<CalendarSource, 'forSchool'>;
  occupancy: Pick<OccupancySource, 'occupancyFor'>;
}): NextChange {
  return (uai, zone, fn, at, withinMs) => {
    const site = sources.site.current;
    const devices = site.devices.get(uai);
    if (!devices) return null;
    const plan = planFromHeld({
      site,
      devices,
      calendars: sources.calendars,
      horizon: { from: at, to: at + withinMs },
      held: sources.occupancy.occupancyFor(uai),
      overrides: [],
    });
    const segments = plan.zones.find((z) => z.zone === zone)?.functions[fn];
    return segments ? nextChangeAfter(segments, at) : null;
  };
}

export interface PlanForDates {
  plan: SchoolPlan;
  date: string;
  days: number;
  timezone: string;
}

export interface PlanFromHeldInput {
  site: Site;
  devices: LoadedDevices;
  calendars: Pick<CalendarSource, 'forSchool'>;
  horizon: TimeRange;
  /** The occupancy held (or loaded) for the school, or null when none was ever received. */
  held: HeldOccupancy | null;
  overrides: readonly Override[];
  /** The school's scheduled events, expanded here over the planning window. */
  events?: readonly ScheduledEvent[];
  /** Learned warm-ups (docs/optimum-start.md). */
  optimumStart?: OptimumStartSnapshot;
}

/**
 * planSchool on the data at hand. Occupancy that covers the horizon's dates is used, with the
 * "known" window clipped to the dates it covers (gaps reaching its edge are open-ended lower
 * bounds, never merged). Occupancy that does not cover the horizon (a source down longer than the
 * sync window, or dates far away) is not used: the fallback week plans instead, flagged `fallback`,
 * because a horizon beyond the data would otherwise read as empty rooms and drop to frost for
 * lack of data (docs/rules.md, "Fallback").
 */
export function planFromHeld(input: PlanFromHeldInput): SchoolPlan {
  const { devices, horizon } = input;
  const school = devices.value.school;
  const timezone = school.timezone;
  const calendar = input.calendars.forSchool(school.uai, {
    departement: school.departement,
    timezone,
  });
  const horizonDates = { from: localDate(horizon.from, timezone), to: localDate(horizon.to - 1, timezone) };
  const held = input.held && covers(input.held, horizonDates) ? input.held : null;
  const known = held
    ? {
        from: Math.max(horizon.from - PLANNING_MARGIN_MS, localMidnight(held.from, timezone)),
        to: Math.min(horizon.to + PLANNING_MARGIN_MS, localMidnight(addDaysIso(held.to, 1), timezone)),
      }
    : undefined;
  const window = known ?? { from: horizon.from - PLANNING_MARGIN_MS, to: horizon.to + PLANNING_MARGIN_MS };
  const events = input.events && input.events.length > 0 ? expandEvents(input.events, window, timezone) : [];
  return planSchool({
    devices,
    ruleSet: input.site.ruleSet,
    calendar,
    occupancy: held?.occupancy ?? null,
    overrides: input.overrides,
    horizon,
    ...(known ? { known } : {}),
    ...(events.length > 0 ? { events } : {}),
    ...(input.optimumStart ? { optimumStart: input.optimumStart } : {}),
  });
}

/** The API body of `GET /api/etablissements/{uai}/plan` (and `scope-energie plan --json`). */
export interface PlanDayBody {
  uai: string;
  date: string;
  days: number;
  timezone: string;
  rules_version: string;
  timetable_version: number | null;
  fallback: boolean;
  hash: string;
  zones: Array<{
    zone: string;
    name: string;
    segments: Array<{
      from: string;
      to: string;
      function: ZoneFunction;
      mode: PlanMode;
      setpoint_c?: number;
      reason: SegmentReason;
    }>;
  }>;
}

export function planDayBody(result: PlanForDates): PlanDayBody {
  const { plan } = result;
  return {
    uai: plan.uai,
    date: result.date,
    days: result.days,
    timezone: result.timezone,
    rules_version: plan.rulesVersion,
    timetable_version: plan.timetableVersion,
    fallback: plan.fallback,
    hash: plan.hash,
    zones: plan.zones.map((z) => ({
      zone: z.zone,
      name: z.name,
      segments: Object.values(z.functions).flatMap((segments) =>
        (segments ?? []).map((s) => ({
          from: isoInstant(s.from),
          to: isoInstant(s.to),
          function: s.function,
          mode: s.mode,
          ...(s.setpoint_c === undefined ? {} : { setpoint_c: s.setpoint_c }),
          reason: s.reason,
        })),
      ),
    })),
  };
}

/** `[local midnight of date, local midnight of date + days)`: 23, 24 or 25 h per day across DST. */
export function localDaysRange(date: string, days: number, timezone: string): TimeRange {
  parseDateParameter(date, 'date');
  if (!Number.isInteger(days) || days < 1 || days > MAX_PLAN_DAYS) {
    throw InputError.of(
      'bad-days',
      `days must be a whole number from 1 to ${MAX_PLAN_DAYS}`,
      'days',
      'malformed',
    );
  }
  return { from: localMidnight(date, timezone), to: localMidnight(addDaysIso(date, days), timezone) };
}

function localMidnight(date: string, timezone: string): number {
  return DateTime.fromISO(date, { zone: timezone }).startOf('day').toMillis();
}

function covers(held: HeldOccupancy | null, dates: { from: string; to: string }): held is HeldOccupancy {
  // ISO dates compare as text.
  return held !== null && held.from <= dates.from && held.to >= dates.to;
}
