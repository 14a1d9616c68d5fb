/**
 * Hourly aggregates (docs/telemetry.md, "Hourly aggregates"): per zone, function and UTC hour, the
 * comfort core's figures over that hour (comfort.ts), so a report over months adds stored hours
 * instead of reading raw samples that are gone after 35 days.
 *
 * The job runs every `aggregate_every_minutes`: for each school it aggregates the completed hours
 * since its progress, and again the hours from the earliest sample written since the last run (a
 * replayed buffer, a stuck run flagged back), and applies retention once a day. One school at a
 * time, one transaction per school, which also rolls the school's touched months up
 * (telemetry-repository.ts `writeHourly`).
 */
import { type Clock, systemClock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { MqttLogger } from '../mqtt/logger.js';
import { silentLogger } from '../mqtt/logger.js';
import type {
  HourlyRow,
  RetentionPolicy,
  TelemetryRepository,
  TelemetrySample,
} from '../store/telemetry-repository.js';
import {
  type ComfortSegment,
  type ComfortSettings,
  computeComfort,
  type Interval,
  START_AFTER_UNOCCUPIED_MS,
} from './comfort.js';
import { type PlanFor, planWindow } from './plan-window.js';
import { DEFAULT_MAX_LATE_MS } from './sample-checks.js';

export const HOUR_MS = 3_600_000;

export const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

export interface ZoneHoursInput {
  uai: string;
  zone: string;
  function: string;
  /** Hour-aligned `[from, to)`. */
  from: number;
  to: number;
  occupied: readonly Interval[];
  segments: readonly ComfortSegment[];
  /** Sorted by ts, from `from − hold` on. */
  samples: readonly Pick<TelemetrySample, 'ts' | 'measured_c' | 'mode' | 'flag'>[];
  settings: ComfortSettings;
}

/** One row per hour of `[from, to)`. Pure. */
export function zoneHourlyRows(input: ZoneHoursInput): HourlyRow[] {
  const rows: HourlyRow[] = [];
  const { samples, settings } = input;
  let first = 0;
  for (let hour = input.from; hour < input.to; hour += HOUR_MS) {
    const end = hour + HOUR_MS;
    while (first < samples.length && (samples[first] as { ts: number }).ts < hour - settings.holdMs) first++;
    let last = first;
    while (last < samples.length && (samples[last] as { ts: number }).ts < end) last++;
    const figures = computeComfort({
      range: { from: hour, to: end },
      occupied: input.occupied.filter((o) => o.end > hour - START_AFTER_UNOCCUPIED_MS && o.start < end),
      segments: input.segments.filter((s) => s.to > hour && s.from < end),
      samples: samples.slice(first, last),
      settings,
    });
    rows.push({
      uai: input.uai,
      zone: input.zone,
      function: input.function,
      hour,
      samples: figures.samples,
      flagged: figures.flagged,
      minC: figures.minC,
      meanC: figures.meanC,
      maxC: figures.maxC,
      occupiedMs: figures.occupiedMs,
      measuredMs: figures.measuredMs,
      occupiedMeasuredMs: figures.occupiedMeasuredMs,
      coldMs: figures.coldMs,
      overheatedMs: figures.overheatedMs,
      unmeasuredMs: figures.unmeasuredMs,
      starts: figures.starts.length,
      coldStarts: figures.starts.filter((s) => s.cold).length,
      modesMs: figures.modesMs,
      startList: figures.starts,
    });
  }
  return rows;
}

export interface AggregatedSchool {
  uai: string;
  timezone: string;
  zones: readonly { id: string; functions: readonly string[] }[];
}

export interface HourlyAggregationOptions {
  repository: TelemetryRepository;
  planFor: PlanFor;
  /** The schools this instance aggregates (those it holds the lease of). */
  schools: () => Iterable<AggregatedSchool>;
  /** The ingestor's earliest `ts` written per school since the last call. */
  takeDirty?: () => Map<string, number>;
  settings: ComfortSettings;
  retention: RetentionPolicy;
  clock?: Clock;
  logger?: MqttLogger;
  everyMs?: number;
  maxLateMs?: number;
}

/** Aggregates one school's `[from, to)` (hour-aligned) from its stored samples and the plan. */
export async function aggregateSchool(
  options: Pick<HourlyAggregationOptions, 'repository' | 'planFor' | 'settings'>,
  school: AggregatedSchool,
  from: number,
  to: number,
): Promise<number> {
  if (!(to > from)) return 0;
  const windows = await planWindow(options.planFor, school.uai, school.timezone, {
    from: from - START_AFTER_UNOCCUPIED_MS,
    to,
  });
  const samples = await options.repository.samplesOf(school.uai, from - options.settings.holdMs, to);
  const byKey = new Map<string, TelemetrySample[]>();
  for (const sample of samples) {
    const key = `${sample.zone}/${sample.function}`;
    const list = byKey.get(key);
    if (list) list.push(sample);
    else byKey.set(key, [sample]);
  }
  const rows: HourlyRow[] = [];
  for (const zone of school.zones) {
    const window = windows.get(zone.id);
    for (const fn of zone.functions) {
      rows.push(
        ...zoneHourlyRows({
          uai: school.uai,
          zone: zone.id,
          function: fn,
          from,
          to,
          occupied: window?.occupied ?? [],
          segments: window?.segments.get(fn) ?? [],
          samples: byKey.get(`${zone.id}/${fn}`) ?? [],
          settings: options.settings,
        }),
      );
    }
  }
  await options.repository.writeHourly(rows, { uai: school.uai, until: to });
  return rows.length;
}

export class HourlyAggregation implements Part {
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRetention = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: HourlyAggregationOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    const every = this.options.everyMs ?? 10 * 60_000;
    this.timer = setInterval(() => void this.runOnce().catch(() => {}), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every school; a second call while one runs waits for it. */
  async runOnce(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { repository } = this.options;
    const now = this.clock.now();
    const end = floorHour(now);
    const oldest = floorHour(now - (this.options.maxLateMs ?? DEFAULT_MAX_LATE_MS));
    const dirty = this.options.takeDirty?.() ?? new Map<string, number>();
    for (const [uai, ts] of this.requeued) dirty.set(uai, Math.min(ts, dirty.get(uai) ?? ts));
    this.requeued.clear();
    for (const school of this.options.schools()) {
      try {
        const progress = await repository.progressOf(school.uai);
        const firstSample =
          progress === undefined ? await repository.firstSampleOf(school.uai, oldest) : undefined;
        let from = progress ?? (firstSample !== undefined ? floorHour(firstSample) : end);
        const late = dirty.get(school.uai);
        if (late !== undefined) from = Math.min(from, floorHour(late));
        from = Math.max(from, oldest);
        if (from >= end) {
          if (progress === undefined) await repository.writeHourly([], { uai: school.uai, until: end });
          continue;
        }
        await aggregateSchool(this.options, school, from, end);
      } catch (error) {
        // Its dirty mark is kept for the next pass.
        if (dirty.has(school.uai)) this.requeue(school.uai, dirty.get(school.uai) as number);
        this.logger.error(
          { error: (error as Error).message, uai: school.uai },
          'telemetry aggregation failed',
        );
      }
    }
    if (now - this.lastRetention >= 24 * HOUR_MS) {
      this.lastRetention = now;
      // The next months' partitions exist before their first sample (PostgreSQL).
      await repository.ensurePartitions(now, now + 62 * 24 * HOUR_MS);
      const result = await repository.applyRetention(now, this.options.retention);
      if (result.droppedPartitions.length > 0 || result.deletedRows > 0)
        this.logger.info({ ...result }, 'telemetry retention applied');
    }
  }

  private readonly requeued = new Map<string, number>();
  private requeue(uai: string, ts: number): void {
    this.requeued.set(uai, Math.min(ts, this.requeued.get(uai) ?? ts));
  }
}
