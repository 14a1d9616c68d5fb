/**
 * Takes signed checkpoints of the audit log's head, at a period and on demand, and hands each to
 * every sink outside the database (docs/audit.md, "Anchoring"). A sink that fails is logged and
 * reported; the others still get the checkpoint, and the next period tries again.
 */
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { AuditHead } from '../store/audit-repository.js';
import type { AuditSigningKey } from './audit-signing-key.js';
import { type AuditScheduler, every, timeoutAuditScheduler } from './audit-timer.js';
import { type Checkpoint, signCheckpoint } from './checkpoint.js';
import type { CheckpointSink } from './checkpoint-sinks.js';

export interface SinkOutcome {
  sink: string;
  ok: boolean;
  error?: string;
}

export interface CheckpointResult {
  checkpoint: Checkpoint;
  sinks: SinkOutcome[];
}

export interface AuditCheckpointerOptions {
  audit: { head(): Promise<AuditHead> };
  key: AuditSigningKey;
  sinks: readonly CheckpointSink[];
  clock: Clock;
  /** Period of the automatic checkpoints; 0: on demand only. */
  intervalMs: number;
  scheduler?: AuditScheduler;
  /** The last checkpoint taken before this process (e.g. the directory's newest). */
  initial?: Checkpoint | null;
  logger?: {
    info(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
  };
}

export class AuditCheckpointer implements Part {
  private last: Checkpoint | null;
  private running: Promise<unknown> = Promise.resolve();
  private stopTimer: (() => void) | undefined;

  constructor(private readonly options: AuditCheckpointerOptions) {
    this.last = options.initial ?? null;
  }

  get publicKeyPem(): string {
    return this.options.key.publicKeyPem;
  }

  get keyId(): string {
    return this.options.key.keyId;
  }

  /** The newest checkpoint this process knows (taken or given at start). */
  latest(): Checkpoint | null {
    return this.last;
  }

  /** Signs the current head and writes it to every sink; one checkpoint at a time. */
  checkpoint(): Promise<CheckpointResult> {
    const next = this.running.then(() => this.take());
    this.running = next.catch(() => {});
    return next;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.stopTimer) return;
    this.stopTimer = every(this.options.scheduler ?? timeoutAuditScheduler, this.options.intervalMs, () =>
      this.checkpoint().catch((error: unknown) => {
        this.options.logger?.error({ err: error }, 'audit checkpoint failed: could not read the head');
      }),
    );
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  private async take(): Promise<CheckpointResult> {
    const head = await this.options.audit.head();
    const checkpoint = signCheckpoint(head, this.options.clock.now(), this.options.key);
    const settled = await Promise.allSettled(this.options.sinks.map((sink) => sink.write(checkpoint)));
    const sinks = settled.map((outcome, i): SinkOutcome => {
      const sink = this.options.sinks[i]?.name ?? String(i);
      return outcome.status === 'fulfilled'
        ? { sink, ok: true }
        : { sink, ok: false, error: (outcome.reason as Error).message };
    });
    this.last = checkpoint;
    const failed = sinks.filter((s) => !s.ok);
    if (failed.length > 0) {
      this.options.logger?.error(
        { seq: checkpoint.seq, failed },
        'audit checkpoint not stored by every sink',
      );
    } else {
      this.options.logger?.info(
        { seq: checkpoint.seq, hash: checkpoint.hash, sinks: sinks.map((s) => s.sink) },
        'audit checkpoint written',
      );
    }
    return { checkpoint, sinks };
  }
}
