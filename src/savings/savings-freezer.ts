/**
 * Savings frozen per closed period (issue 21; docs/savings.md, "Frozen periods"): once a week
 * (Monday–Sunday, local) or a month is over, its savings estimate is computed once, from the plan
 * in force then (timetable version, rules version, plan hash), and stored; `GET /api/savings` for
 * exactly that week or month answers with the stored figures and the versions used, never a
 * recomputation with a later timetable. Runs at start and every `intervalMs` (default 15 min),
 * for the schools this instance holds; a period missed while the service was down is frozen at the
 * next run, with its real `frozen_at`. The first figure stored wins (a second freeze is a no-op).
 */
import { DateTime } from 'luxon';
import { MAX_PLAN_DAYS, type PlanForDates } from '../bridge/planning.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { CalendarSource } from '../site/calendars.js';
import type {
  FrozenPeriodKind,
  FrozenSavings,
  FrozenSavingsRepository,
} from '../store/frozen-savings-repository.js';
import { type BaselineSchedule, DEFAULT_BASELINE } from './baseline.js';
import { dateChunks, estimateSchoolSavings, outdoorForSchool, savingsDates } from './school-savings.js';

export const DEFAULT_FREEZE_INTERVAL_MS = 15 * 60_000;

export interface SavingsFreezerOptions {
  schools: () => Iterable<LoadedDevices>;
  owns?: (uai: string) => boolean;
  /** The school's occupancy was pulled once at least: before that its plan is the fallback week, not to be frozen. */
  ready?: (uai: string) => boolean;
  calendars: Pick<CalendarSource, 'forSchool'>;
  planFor: (uai: string, date: string, days: number) => Promise<PlanForDates>;
  repository: Pick<FrozenSavingsRepository, 'freeze' | 'get'>;
  clock: Clock;
  zoneComfort?: (uai: string) => ReadonlyMap<string, number>;
  baseline?: BaselineSchedule;
  onError?: (error: unknown, uai: string) => void;
}

export interface ClosedPeriod {
  kind: FrozenPeriodKind;
  from: string;
  to: string;
}

/** The last closed week (Monday–Sunday) and month before the local date `today`. Pure. */
export function lastClosedPeriods(today: string): ClosedPeriod[] {
  const day = DateTime.fromISO(today);
  const thisMonday = day.minus({ days: day.weekday - 1 });
  const thisMonth = day.startOf('month');
  return [
    {
      kind: 'week',
      from: thisMonday.minus({ days: 7 }).toISODate() as string,
      to: thisMonday.minus({ days: 1 }).toISODate() as string,
    },
    {
      kind: 'month',
      from: thisMonth.minus({ months: 1 }).toISODate() as string,
      to: thisMonth.minus({ days: 1 }).toISODate() as string,
    },
  ];
}

export class SavingsFreezer implements Part {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<FrozenSavings[]> = Promise.resolve([]);

  constructor(private readonly options: SavingsFreezerOptions) {}

  start(intervalMs = DEFAULT_FREEZE_INTERVAL_MS): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Freezes every closed period not frozen yet; resolves with what this run stored. */
  runOnce(): Promise<FrozenSavings[]> {
    this.running = this.running.then(() => this.freezeDue());
    return this.running;
  }

  private async freezeDue(): Promise<FrozenSavings[]> {
    const stored: FrozenSavings[] = [];
    for (const devices of this.options.schools()) {
      const school = devices.value.school;
      if (this.options.owns && !this.options.owns(school.uai)) continue;
      if (this.options.ready && !this.options.ready(school.uai)) continue;
      const today = DateTime.fromMillis(this.options.clock.now(), {
        zone: school.timezone,
      }).toISODate() as string;
      for (const period of lastClosedPeriods(today)) {
        try {
          if (await this.options.repository.get(school.uai, period.kind, period.from)) continue;
          stored.push(await this.freeze(devices, period));
        } catch (error) {
          // One school's failure (SORTIE down, no normals) must not stop the others; retried next run.
          this.options.onError?.(error, school.uai);
        }
      }
    }
    return stored;
  }

  private async freeze(devices: LoadedDevices, period: ClosedPeriod): Promise<FrozenSavings> {
    const school = devices.value.school;
    const calendar = this.options.calendars.forSchool(school.uai, {
      departement: school.departement,
      timezone: school.timezone,
    });
    const dates = savingsDates(period.from, period.to, school.timezone, { from: 'from', to: 'to' });
    const plans = [];
    for (const chunk of dateChunks(dates, MAX_PLAN_DAYS)) {
      plans.push((await this.options.planFor(school.uai, chunk.date, chunk.days)).plan);
    }
    const zoneComfort = this.options.zoneComfort?.(school.uai);
    const body = estimateSchoolSavings({
      devices,
      calendar,
      plans,
      dates,
      baseline: this.options.baseline ?? DEFAULT_BASELINE,
      outdoor: outdoorForSchool(calendar, undefined, 'station'),
      ...(zoneComfort ? { zoneComfort } : {}),
    });
    return this.options.repository.freeze({
      uai: school.uai,
      kind: period.kind,
      from: period.from,
      to: period.to,
      frozenAt: new Date(this.options.clock.now()).toISOString(),
      rulesVersion: body.rules_version,
      timetableVersions: body.timetable_versions,
      planHashes: plans.map((p) => p.hash),
      body,
    });
  }
}
