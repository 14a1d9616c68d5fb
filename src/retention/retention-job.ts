/**
 * The retention policy applied by the running service (docs/audit.md, "Retention"): once at start
 * and then every `retention.interval_s`, old timetable versions are deleted per the policy and
 * each school's purge is one audit entry (kind `import`, `event: "purged"`, the versions, their
 * import instants and the oldest version kept), so the log says what left the store and why.
 */
import { DateTime } from 'luxon';
import { type AuditScheduler, every, timeoutAuditScheduler } from '../audit/audit-timer.js';
import type { AuditEntryInput } from '../domain/audit-entry.js';
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { PurgedVersions, TimetableRetentionPolicy } from '../store/timetable-retention.js';

export interface RetentionSettings {
  /** Period of the job; 0: at start only. */
  intervalMs: number;
  keepVersions: number;
  keepMonths: number;
}

export interface RetentionJobOptions {
  settings: RetentionSettings;
  purge(policy: TimetableRetentionPolicy): Promise<PurgedVersions[]>;
  audit(entries: AuditEntryInput[]): unknown;
  /** Purges audit entries older than their policy after the timetables (audit-retention.ts). */
  purgeAudit?: () => Promise<unknown>;
  clock: Clock;
  logger?: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  scheduler?: AuditScheduler;
}

export class RetentionJob implements Part {
  private stopTimer: (() => void) | undefined;

  constructor(private readonly options: RetentionJobOptions) {}

  /** Applies the policy now; resolves with what was purged. */
  async run(): Promise<PurgedVersions[]> {
    const { settings, clock } = this.options;
    const now = clock.now();
    const cutoff = DateTime.fromMillis(now, { zone: 'utc' })
      .minus({ months: settings.keepMonths })
      .toMillis();
    const purged = await this.options.purge({ keepVersions: settings.keepVersions, cutoff });
    if (purged.length > 0) {
      await this.options.audit(
        purged.map((p) => ({
          at: now,
          kind: 'import',
          uai: p.uai,
          actor: 'system:retention',
          detail: {
            event: 'purged',
            versions: p.versions,
            imported_from: p.importedFrom,
            imported_to: p.importedTo,
            oldest_kept: p.oldestKept,
            policy: { keep_versions: settings.keepVersions, keep_months: settings.keepMonths },
            cutoff: new Date(cutoff).toISOString(),
          },
        })),
      );
      this.options.logger?.info({ purged }, 'timetable versions purged by the retention policy');
    }
    await this.options.purgeAudit?.();
    return purged;
  }

  start(): void {
    const run = () =>
      this.run().catch((error: unknown) => {
        this.options.logger?.error({ err: error }, 'retention purge failed; the next period tries again');
      });
    void run();
    if (this.options.settings.intervalMs > 0 && !this.stopTimer) {
      this.stopTimer = every(
        this.options.scheduler ?? timeoutAuditScheduler,
        this.options.settings.intervalMs,
        run,
      );
    }
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }
}
