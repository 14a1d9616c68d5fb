/**
 * Valid `reported` messages (the gateway tracker's, after the contract schema, the declared-zone
 * check and the rate limit) → raw samples in the store, in batches: one transaction per
 * `batchSize` samples or per `flushMs`, whichever comes first, one batch at a time. `offer` is
 * O(1) and never waits for the store, so a region's reports (350 schools × 40 zones, one a minute:
 * ~230/s) cost the event loop a few short transactions a second (docs/performance.md, "Telemetry").
 *
 * The checks are sample-checks.ts; what was refused or flagged is counted by reason. The earliest
 * `ts` written per school since the last aggregation is kept, so late reports get their hours
 * aggregated again (hourly-aggregation.ts).
 */

import type { ReportedPayload } from '../contract/topics.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { MqttLogger } from '../mqtt/logger.js';
import { silentLogger } from '../mqtt/logger.js';
import type { SampleFlagging, TelemetryRepository, TelemetrySample } from '../store/telemetry-repository.js';
import {
  DEFAULT_MAX_LATE_MS,
  isOutOfRange,
  refusalOf,
  type SampleFlag,
  type SampleRefusal,
  StuckDetector,
} from './sample-checks.js';

export interface ReportedRow {
  uai: string;
  zone: string;
  function: string;
  payload: ReportedPayload;
  /** Epoch ms at which the bridge received it. */
  receivedAt: number;
}

export interface TelemetryIngestorOptions {
  repository: Pick<TelemetryRepository, 'writeBatch'>;
  clock?: Clock;
  logger?: MqttLogger;
  maxLateMs?: number;
  batchSize?: number;
  flushMs?: number;
}

export interface TelemetryIngestStats {
  offered: number;
  /** New rows written. */
  stored: number;
  /** Written again (same zone function and ts): no-ops. */
  duplicates: number;
  refused: Record<SampleRefusal, number>;
  flagged: Record<SampleFlag, number>;
  /** Batches whose transaction failed (their samples are lost, and logged). */
  failedBatches: number;
  /** The samples of those batches. */
  failedSamples: number;
}

export class TelemetryIngestor {
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private readonly maxLateMs: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly stuck = new StuckDetector();
  private buffer: TelemetrySample[] = [];
  private flaggings: SampleFlagging[] = [];
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly dirty = new Map<string, number>();
  private readonly counters: TelemetryIngestStats = {
    offered: 0,
    stored: 0,
    duplicates: 0,
    refused: { future: 0, 'too-old': 0 },
    flagged: { 'out-of-range': 0, stuck: 0 },
    failedBatches: 0,
    failedSamples: 0,
  };

  constructor(private readonly options: TelemetryIngestorOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.maxLateMs = options.maxLateMs ?? DEFAULT_MAX_LATE_MS;
    this.batchSize = options.batchSize ?? 500;
    this.flushMs = options.flushMs ?? 1_000;
  }

  /** Takes one report; written with its batch. */
  offer(row: ReportedRow): void {
    this.counters.offered++;
    const ts = Date.parse(row.payload.ts);
    const refusal = refusalOf(ts, this.clock.now(), this.maxLateMs);
    if (refusal !== null) {
      this.counters.refused[refusal]++;
      return;
    }
    const measured = row.payload.measured_c;
    let flag: SampleFlag | null = null;
    if (isOutOfRange(measured)) {
      flag = 'out-of-range';
    } else {
      const key = `${row.uai}/${row.zone}/${row.function}`;
      const verdict = this.stuck.feed(key, ts, measured, row.payload.mode);
      if (verdict.stuck) flag = 'stuck';
      if (verdict.flagFrom !== undefined) {
        this.flaggings.push({
          uai: row.uai,
          zone: row.zone,
          function: row.function,
          from: verdict.flagFrom,
          to: ts,
          flag: 'stuck',
        });
        this.markDirty(row.uai, verdict.flagFrom);
      }
    }
    if (flag !== null) this.counters.flagged[flag]++;
    this.buffer.push({
      uai: row.uai,
      zone: row.zone,
      function: row.function,
      ts,
      receivedAt: row.receivedAt,
      measured_c: measured ?? null,
      mode: row.payload.mode,
      setpoint_c: row.payload.setpoint_c ?? null,
      applied_rev: row.payload.applied_rev,
      source: row.payload.source,
      flag,
    });
    this.markDirty(row.uai, ts);
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what is buffered; resolves once everything offered so far is written (or failed). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.buffer.length > 0 || this.flaggings.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      const flaggings = this.buffer.length === 0 ? this.flaggings.splice(0) : [];
      this.writes = this.writes.then(() => this.write(batch, flaggings));
    }
    return this.writes;
  }

  /** The earliest `ts` written per school since the last call, and forgets them. */
  takeDirty(): Map<string, number> {
    const out = new Map(this.dirty);
    this.dirty.clear();
    return out;
  }

  stats(): TelemetryIngestStats {
    return {
      ...this.counters,
      refused: { ...this.counters.refused },
      flagged: { ...this.counters.flagged },
    };
  }

  async stop(): Promise<void> {
    await this.flush();
  }

  private markDirty(uai: string, ts: number): void {
    const known = this.dirty.get(uai);
    if (known === undefined || ts < known) this.dirty.set(uai, ts);
  }

  private async write(batch: TelemetrySample[], flaggings: SampleFlagging[]): Promise<void> {
    try {
      const { inserted } = await this.options.repository.writeBatch(batch, flaggings);
      this.counters.stored += inserted;
      this.counters.duplicates += batch.length - inserted;
    } catch (error) {
      this.counters.failedBatches++;
      this.counters.failedSamples += batch.length;
      this.logger.error(
        { error: (error as Error).message, samples: batch.length },
        'telemetry batch not stored',
      );
    }
  }
}
