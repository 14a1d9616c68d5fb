/**
 * The service checks its own audit log (issue 21): every period a full walk of the chain against
 * the newest anchor it knows (the last signed checkpoint, or what it verified last, whichever is
 * further), and after each append an incremental walk of the new entries only. A break is logged
 * as an error, shown by `scope_energie_audit_chain_broken` and degrades `/readyz` until a full
 * walk holds again (e.g. after the log was restored).
 */
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type {
  AuditAnchor,
  AuditHead,
  AuditVerification,
  AuditVerifyOptions,
} from '../store/audit-repository.js';
import { type AuditScheduler, every, timeoutAuditScheduler } from './audit-timer.js';
import type { Checkpoint } from './checkpoint.js';

export interface AuditChainStatus {
  ok: boolean;
  /** Entries found good (from seq 1). */
  checked: number;
  firstBad?: AuditVerification['firstBad'];
  /** The head the walk ended on (when the chain holds). */
  head?: AuditHead;
  /** What the walk was compared with, when anything. */
  anchor?: { seq: number; hash: string; source: 'checkpoint' | 'last-verification'; at?: string };
  /** After a retention purge: the walk started from this anchor (docs/audit.md, "Retention"). */
  purged?: AuditVerification['purged'];
  /** `full` walks every entry; `incremental` those after the last verified one. */
  scope: 'full' | 'incremental';
  /** ISO 8601 UTC. */
  verifiedAt: string;
}

export interface AuditMonitorOptions {
  audit: { verify(options?: AuditVerifyOptions): Promise<AuditVerification> };
  /** The newest signed checkpoint known. */
  latestCheckpoint: () => Checkpoint | null;
  clock: Clock;
  /** Period of the full walk; 0: only on demand and after appends. */
  intervalMs: number;
  scheduler?: AuditScheduler;
  logger?: { error(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

export class AuditMonitor implements Part {
  private last: AuditChainStatus | null = null;
  /** The last head a walk found good: the next incremental walk starts there. */
  private verified: AuditHead | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopTimer: (() => void) | undefined;

  constructor(private readonly options: AuditMonitorOptions) {}

  /** The last result, or null before the first walk. */
  status(): AuditChainStatus | null {
    return this.last;
  }

  chainBroken(): boolean {
    return this.last !== null && !this.last.ok;
  }

  /** The part's health (lifecycle/part.ts): the same problems as `readinessProblems()`. */
  health(): string[] {
    return this.readinessProblems();
  }

  /** For `/readyz`: empty while the chain holds. */
  readinessProblems(): string[] {
    const bad = this.last?.ok === false ? this.last.firstBad : undefined;
    return bad ? [`audit chain broken at seq ${bad.seq} (${bad.reason})`] : [];
  }

  /** Walks the whole chain now against the newest anchor. */
  verifyNow(): Promise<AuditChainStatus> {
    return this.serially(() => this.run('full'));
  }

  /** Walks the entries appended since the last good walk (nothing while the chain is broken). */
  afterAppend(): Promise<AuditChainStatus | null> {
    return this.serially(async () => {
      if (this.chainBroken()) return this.last;
      return this.run(this.verified ? 'incremental' : 'full');
    });
  }

  start(): void {
    if (this.stopTimer) return;
    void this.verifyNow().catch((error: unknown) => this.failed(error));
    if (this.options.intervalMs <= 0) return;
    this.stopTimer = every(this.options.scheduler ?? timeoutAuditScheduler, this.options.intervalMs, () =>
      this.verifyNow().catch((error: unknown) => this.failed(error)),
    );
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.running.then(work);
    this.running = next.catch(() => {});
    return next;
  }

  private async run(scope: 'full' | 'incremental'): Promise<AuditChainStatus> {
    const anchor = this.anchor();
    const options: AuditVerifyOptions =
      scope === 'incremental' && this.verified
        ? { from: this.verified }
        : anchor
          ? { against: { seq: anchor.seq, hash: anchor.hash } satisfies AuditAnchor }
          : {};
    const result = await this.options.audit.verify(options);
    const status: AuditChainStatus = {
      ok: result.ok,
      checked: result.checked,
      ...(result.firstBad ? { firstBad: result.firstBad } : {}),
      ...(result.head ? { head: result.head } : {}),
      ...(anchor && scope === 'full' ? { anchor } : {}),
      ...(result.purged ? { purged: result.purged } : {}),
      scope,
      verifiedAt: new Date(this.options.clock.now()).toISOString(),
    };
    if (result.ok && result.head) this.verified = result.head;
    if (!result.ok && this.last?.ok !== false) {
      this.options.logger?.error(
        { firstBad: result.firstBad, checked: result.checked, anchor },
        'audit chain broken: the log was changed outside the service',
      );
    } else if (result.ok && this.last?.ok === false) {
      this.options.logger?.info({ checked: result.checked }, 'audit chain holds again');
    }
    this.last = status;
    return status;
  }

  private anchor(): AuditChainStatus['anchor'] | undefined {
    const checkpoint = this.options.latestCheckpoint();
    const fromCheckpoint = checkpoint
      ? { seq: checkpoint.seq, hash: checkpoint.hash, source: 'checkpoint' as const, at: checkpoint.at }
      : undefined;
    const fromVerification = this.verified
      ? { seq: this.verified.seq, hash: this.verified.hash, source: 'last-verification' as const }
      : undefined;
    if (!fromCheckpoint) return fromVerification;
    if (!fromVerification) return fromCheckpoint;
    return fromVerification.seq > fromCheckpoint.seq ? fromVerification : fromCheckpoint;
  }

  private failed(error: unknown): void {
    this.options.logger?.error({ err: error }, 'audit self-verification could not run');
  }
}
