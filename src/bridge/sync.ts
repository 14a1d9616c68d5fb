/**
 * Keeps each school's occupancy current from SORTIE (issue 6, "Sync"): a cron job pulls every
 * school that has a devices file over a window of local dates, with the ETag of the body it
 * holds; the last good body is stored and used while the source is down (rules.md, "Fail-safe":
 * never drop to frost for lack of data), and a school whose last success is older than
 * `sync.stale_after_hours` is reported stale. A school the source has no timetable for plans on
 * the fallback week. `syncNow` pulls at once (the embedded ENTRÉE calls it after an import).
 * The source is this service's SORTIE in process (the embedded default) or a remote hub over
 * HTTP (sortie-source.ts): the same answers, tags and errors either way.
 */

import { addDaysIso } from '../calendar/index.js';
import type { Clock } from '../domain/clock.js';
import type { Occupancy } from '../domain/occupancy.js';
import type { Part } from '../lifecycle/part.js';
import type { Site } from '../site/load-site.js';
import type { SyncRecord, SyncRepository } from '../store/sync-repository.js';
import { ScheduledJob, type ScheduledJobStats } from './scheduled-job.js';
import { localDate } from './school-plan.js';
import {
  loadOccupancyRange,
  occupancyFromBody,
  parseOccupancyBody,
  SortieError,
  type SortieSource,
} from './sortie-source.js';

/** Days of occupancy pulled around today (local dates): a past week for gap lengths, and three
 * weeks ahead so that a source down for up to ~12 days still covers the 48 h schedule plus the
 * planner's 7-day margin (PLANNING_MARGIN_MS). 29 days stay under SORTIE's 62-day cap. */
export const SYNC_WINDOW = { pastDays: 7, futureDays: 21 } as const;

const HOUR = 3_600_000;

/** How old a school held elsewhere may be in `currentStatus`. */
const FOREIGN_STATUS_MAX_AGE_MS = 30_000;

export interface SyncLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SyncServiceOptions {
  /** In process on this service's SORTIE, or a remote hub's HTTP client (sortie-source.ts). */
  client: SortieSource;
  repository: SyncRepository;
  /** The schools to sync are those with a devices file (a SiteHolder fits). */
  site: { readonly current: Site };
  clock: Clock;
  /** node-cron expression (config `sync.cron`), evaluated in UTC. */
  cron: string;
  /** Config `sync.stale_after_hours`. */
  staleAfterHours: number;
  /** Schools pulled at once during a full sync (default 4). */
  concurrency?: number;
  /**
   * Several instances (issue 8): the schools this instance holds the lease of. The cron pulls
   * only those, and status and readiness speak only for them. Default: every school.
   */
  owns?: (uai: string) => boolean;
  logger?: SyncLogger;
}

/** One school's last good occupancy, covering local dates `from`..`to`. */
export interface CachedOccupancy {
  occupancy: Occupancy;
  from: string;
  to: string;
  etag: string | null;
}

export type SyncOutcome =
  | { uai: string; result: 'updated'; version: number }
  | { uai: string; result: 'not-modified'; version: number | null }
  | { uai: string; result: 'no-timetable' }
  | { uai: string; result: 'failed'; kind: string; message: string };

export type SyncState =
  /** Fresh data. */
  | 'ok'
  /** The last success is older than `stale_after_hours` (or it never succeeded for that long). */
  | 'stale'
  /** The source has no timetable for the school: planning on the fallback week. */
  | 'no-timetable'
  /** Not synced yet since start. */
  | 'pending';

export interface SchoolSyncStatus {
  uai: string;
  state: SyncState;
  stale: boolean;
  /** Plans on the fallback week (no occupancy ever received). */
  fallback: boolean;
  version: number | null;
  /** Local dates of the data held. */
  range: { from: string; to: string } | null;
  /** ISO 8601 UTC. */
  fetched_at: string | null;
  last_success_at: string | null;
  /** Hours since the last success, 2 decimals; null when never. */
  age_hours: number | null;
  last_error: { kind: string; message: string; since: string | null } | null;
}

export class SyncService implements Part {
  private readonly records = new Map<string, SyncRecord>();
  private readonly cache = new Map<string, CachedOccupancy>();
  private readonly listeners = new Set<(uai: string) => void>();
  /** performance.now() of the last store read of a school held by another instance. */
  private readonly refreshedAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<SyncOutcome>>();
  private readonly queued = new Map<string, Promise<SyncOutcome>>();
  private task: ScheduledJob | undefined;
  private loaded = false;

  constructor(private readonly options: SyncServiceOptions) {}

  /** Loads the last good data of every school, schedules the cron job, and starts a first pull (not awaited). */
  async start(): Promise<void> {
    await this.load();
    // UTC, never Europe/Paris: node-cron 4.6 with a Paris time zone skipped the whole first 02:xx
    // hour on the autumn switch (4 runs of `*/15` instead of 8 between 00:50Z and 02:50Z on
    // 2026-10-25) while UTC fired 8 of 8 on both switch days (docs/architecture.md,
    // "node-cron and daylight-saving time"). A sync is an interval job: UTC is right.
    // A missed tick (loop late, process paused, clock jump) runs late and is counted (issue 22).
    this.task = new ScheduledJob({
      expression: this.options.cron,
      name: 'sortie-sync',
      run: async () => {
        await this.syncNow();
      },
      clock: this.options.clock,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    this.task.start();
    void this.syncNow();
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = undefined;
    await Promise.allSettled([...this.running.values(), ...this.queued.values()]);
  }

  /** Reads the stored state (done by `start`; call it alone to read the cache without syncing). */
  async load(): Promise<void> {
    if (this.loaded) return;
    for (const record of await this.options.repository.all()) {
      this.records.set(record.uai, record);
      this.cacheBody(record);
    }
    this.loaded = true;
  }

  /**
   * Pulls one school, or every school with a devices file, now. A call while that school's pull is
   * in flight runs once more after it (a new import must not be lost), never more.
   */
  async syncNow(uai?: string): Promise<SyncOutcome[]> {
    await this.load();
    const uais = uai === undefined ? this.schools() : [uai];
    const outcomes: SyncOutcome[] = [];
    const pending = [...uais];
    const workers = Array.from(
      { length: Math.min(this.options.concurrency ?? 4, pending.length) },
      async () => {
        for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
          outcomes.push(await this.enqueue(next));
        }
      },
    );
    await Promise.all(workers);
    return outcomes.sort((a, b) => a.uai.localeCompare(b.uai));
  }

  /** The last good occupancy of a school, or null when none was ever received. */
  occupancyFor(uai: string): CachedOccupancy | null {
    return this.cache.get(uai) ?? null;
  }

  /**
   * Occupancy over other local dates (a plan of next month): the held data when it covers them,
   * else a direct pull, not stored. Null when the source has no timetable; throws SortieError.
   */
  async loadRange(uai: string, dates: { from: string; to: string }): Promise<CachedOccupancy | null> {
    const held = this.cache.get(uai);
    if (held && held.from <= dates.from && held.to >= dates.to) return held;
    return loadOccupancyRange(this.options.client, uai, dates);
  }

  /**
   * Whether the source was ever asked for this school (by this instance or, for a school taken
   * over, by the one before): until then, a plan would be the fallback week for no reason.
   */
  attempted(uai: string): boolean {
    return (this.records.get(uai)?.lastAttemptAt ?? null) !== null;
  }

  /**
   * Called with the UAI when a school's occupancy changes (new body, or no timetable any more),
   * and after the first attempt ever, whatever its outcome.
   */
  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every school with a devices file (that this instance holds), for `/readyz` and the dashboard. */
  status(): SchoolSyncStatus[] {
    return this.schools()
      .sort()
      .map((uai) => this.statusOf(uai));
  }

  /**
   * Reads one school's last good data from the store again: another instance held it until now,
   * and its pulls are newer than what this one loaded at start.
   */
  async reload(uai: string): Promise<void> {
    const record = await this.options.repository.get(uai);
    if (!record) return;
    this.records.set(uai, record);
    this.cacheBody(record);
  }

  /**
   * `statusOf`, for any school: one this instance does not hold is read again from the store
   * (at most every 30 s), where its holder records each pull; the dashboard and the API of any
   * instance then tell the same story.
   */
  async currentStatus(uai: string): Promise<SchoolSyncStatus> {
    const owns = this.options.owns;
    if (owns && !owns(uai)) {
      const now = performance.now();
      const last = this.refreshedAt.get(uai);
      if (last === undefined || now - last > FOREIGN_STATUS_MAX_AGE_MS) {
        this.refreshedAt.set(uai, now);
        try {
          await this.reload(uai);
        } catch (error) {
          this.options.logger?.warn(
            { uai, err: error },
            'could not read the sync state of a school held elsewhere',
          );
        }
      }
    }
    return this.statusOf(uai);
  }

  private schools(): string[] {
    const owns = this.options.owns;
    const all = [...this.options.site.current.devices.keys()];
    return owns ? all.filter((uai) => owns(uai)) : all;
  }

  statusOf(uai: string): SchoolSyncStatus {
    const now = this.options.clock.now();
    const record = this.records.get(uai);
    const staleMs = this.options.staleAfterHours * HOUR;
    const lastSuccess = record?.lastSuccessAt ?? null;
    const stale =
      lastSuccess !== null
        ? now - lastSuccess > staleMs
        : record?.failingSince !== null &&
          record?.failingSince !== undefined &&
          now - record.failingSince > staleMs;
    const hasData = record?.bodyJson !== null && record?.bodyJson !== undefined;
    const state: SyncState = stale
      ? 'stale'
      : hasData
        ? 'ok'
        : lastSuccess !== null
          ? 'no-timetable'
          : 'pending';
    return {
      uai,
      state,
      stale,
      fallback: !hasData,
      version: hasData ? (record?.version ?? null) : null,
      range:
        hasData && record?.rangeFrom && record.rangeTo
          ? { from: record.rangeFrom, to: record.rangeTo }
          : null,
      fetched_at: isoOrNull(record?.fetchedAt),
      last_success_at: isoOrNull(lastSuccess),
      age_hours: lastSuccess === null ? null : Math.round((now - lastSuccess) / (HOUR / 100)) / 100,
      last_error:
        record?.lastError && record.lastErrorKind
          ? { kind: record.lastErrorKind, message: record.lastError, since: isoOrNull(record.failingSince) }
          : null,
    };
  }

  /** The cron job's runs: on time, late (a missed tick caught up) and missed instants; null before start. */
  scheduleStats(): ScheduledJobStats | null {
    return this.task?.stats() ?? null;
  }

  /** The part's health (lifecycle/part.ts): the same problems as `readinessProblems()`. */
  health(): string[] {
    return this.readinessProblems();
  }

  /** What `/readyz` lists as not ready: one line per stale school. */
  readinessProblems(): string[] {
    return this.status()
      .filter((s) => s.stale)
      .map(
        (s) =>
          `sync ${s.uai}: ${s.last_success_at ? `last success ${s.age_hours} h ago` : 'never synced'}, over ${this.options.staleAfterHours} h${s.last_error ? ` (${s.last_error.message})` : ''}`,
      );
  }

  /** Local dates pulled for a school on the current day. */
  windowFor(uai: string): { from: string; to: string } {
    const timezone = this.options.site.current.devices.get(uai)?.value.school.timezone ?? 'Europe/Paris';
    const today = localDate(this.options.clock.now(), timezone);
    return { from: addDaysIso(today, -SYNC_WINDOW.pastDays), to: addDaysIso(today, SYNC_WINDOW.futureDays) };
  }

  private enqueue(uai: string): Promise<SyncOutcome> {
    const queued = this.queued.get(uai);
    if (queued) return queued;
    const running = this.running.get(uai);
    if (!running) return this.run(uai);
    const next = running.then(() => {
      this.queued.delete(uai);
      return this.run(uai);
    });
    this.queued.set(uai, next);
    return next;
  }

  private run(uai: string): Promise<SyncOutcome> {
    const promise = this.syncSchool(uai).finally(() => {
      if (this.running.get(uai) === promise) this.running.delete(uai);
    });
    this.running.set(uai, promise);
    return promise;
  }

  /** Never throws: every failure becomes an outcome and a recorded error. */
  private async syncSchool(uai: string): Promise<SyncOutcome> {
    const now = this.options.clock.now();
    const range = this.windowFor(uai);
    const previous = this.records.get(uai) ?? emptyRecord(uai);
    const firstAttempt = previous.lastAttemptAt === null;
    // A tag names one range's body: after midnight the window moves and the tag no longer applies.
    const etag =
      previous.bodyJson !== null && previous.rangeFrom === range.from && previous.rangeTo === range.to
        ? previous.etag
        : null;
    let record: SyncRecord;
    let outcome: SyncOutcome;
    let changed = false;
    // The source answered (with data, 304, or "no timetable here"): no failure to remember.
    const success = {
      ...previous,
      lastAttemptAt: now,
      lastSuccessAt: now,
      failingSince: null,
      lastError: null,
      lastErrorKind: null,
    };
    try {
      const fetched = await this.options.client.occupancy(uai, range, etag);
      if (fetched.status === 'not-modified') {
        record = success;
        outcome = { uai, result: 'not-modified', version: previous.version };
      } else {
        const bodyJson = JSON.stringify(fetched.body);
        changed = bodyJson !== previous.bodyJson;
        record = {
          ...success,
          bodyJson,
          etag: fetched.etag,
          version: fetched.body.version,
          rangeFrom: fetched.body.from,
          rangeTo: fetched.body.to,
          fetchedAt: now,
        };
        outcome = { uai, result: 'updated', version: fetched.body.version };
      }
    } catch (error) {
      const failure =
        error instanceof SortieError
          ? error
          : new SortieError('network', error instanceof Error ? error.message : String(error), {
              url: '',
              attempts: 1,
            });
      if (failure.kind === 'not-found' && previous.bodyJson === null) {
        // The source answered: it has no timetable for this school. Fallback week, no alert.
        record = success;
        outcome = { uai, result: 'no-timetable' };
      } else {
        // Keep the last good body: a 404 after data (school withdrawn, access lost) is an error to
        // look at, not a reason to stop heating (rules.md, "Fail-safe").
        record = {
          ...previous,
          lastAttemptAt: now,
          failingSince: previous.failingSince ?? now,
          lastError: failure.message,
          lastErrorKind: failure.kind,
        };
        outcome = { uai, result: 'failed', kind: failure.kind, message: failure.message };
        this.options.logger?.warn(
          { uai, kind: failure.kind, err: failure.message },
          'SORTIE sync failed; keeping the last good occupancy',
        );
      }
    }
    try {
      await this.options.repository.put(record);
    } catch (error) {
      this.options.logger?.error({ uai, err: error }, 'could not store the sync state');
    }
    this.records.set(uai, record);
    if (changed) this.cacheBody(record);
    // The first attempt ends "not asked yet" even when it brings nothing: planning waits for it.
    if (changed || firstAttempt) for (const listener of this.listeners) listener(uai);
    return outcome;
  }

  private cacheBody(record: SyncRecord): void {
    if (record.bodyJson === null) {
      this.cache.delete(record.uai);
      return;
    }
    try {
      const body = parseOccupancyBody(JSON.parse(record.bodyJson));
      this.cache.set(record.uai, {
        occupancy: occupancyFromBody(body),
        from: body.from,
        to: body.to,
        etag: record.etag,
      });
    } catch (error) {
      // A row written by an older version we cannot read: plan as if never received.
      this.options.logger?.error({ uai: record.uai, err: error }, 'stored occupancy unreadable; ignoring it');
      this.cache.delete(record.uai);
    }
  }
}

function emptyRecord(uai: string): SyncRecord {
  return {
    uai,
    bodyJson: null,
    etag: null,
    version: null,
    rangeFrom: null,
    rangeTo: null,
    fetchedAt: null,
    lastSuccessAt: null,
    lastAttemptAt: null,
    failingSince: null,
    lastError: null,
    lastErrorKind: null,
  };
}

function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
