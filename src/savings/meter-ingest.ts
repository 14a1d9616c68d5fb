/**
 * Meter indexes and outdoor temperatures over MQTT (issue 16; docs/mqtt.md, "Meters and outdoor
 * temperature"): `{prefix}/{uai}/meter/{meter}/reported` and `{prefix}/{uai}/outdoor/reported`,
 * published by the school's gateways (the ACL lets only them), stored for measured savings.
 *
 * Bounded like `reported` (docs/mqtt.md, "Limits"): only schools of devices/, at most
 * `maxPerMinute` messages per school, payloads under 1 KiB, a `ts` more than 5 minutes ahead of
 * the bridge's clock refused (a gateway's clock gone wrong would write the future). Invalid
 * messages are counted and logged, never fatal. Idempotent: the same reading again changes
 * nothing (the store's key is the instant). Only the holder of a school's lease writes.
 */
import { TokenBuckets } from '../bridge/token-buckets.js';
import type { MeterReportedPayload, MqttTopics, OutdoorReportedPayload } from '../contract/topics.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { MqttConnection, ReceivedMessage, Subscription } from '../mqtt/connection.js';
import { type MqttLogger, silentLogger } from '../mqtt/logger.js';
import type { MeterRepository } from '../store/meter-repository.js';

export const MAX_METER_PAYLOAD_BYTES = 1024;
/** A meter every minute and an outdoor sensor every minute leave room for a dozen meters. */
export const DEFAULT_METER_MAX_PER_MINUTE = 60;
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface MeterIngestOptions {
  connection: Pick<MqttConnection, 'subscribe'>;
  topics: MqttTopics;
  repository: Pick<MeterRepository, 'putMeterReadings' | 'putOutdoor'>;
  /** Schools of devices/. */
  knows: (uai: string) => boolean;
  owns?: (uai: string) => boolean;
  clock?: Clock;
  maxPerMinute?: number;
  logger?: MqttLogger;
}

export interface MeterIngestStats {
  received: number;
  stored: number;
  duplicates: number;
  rejected: Record<
    'unknown-school' | 'rate-limited' | 'too-large' | 'invalid' | 'future' | 'conflict',
    number
  >;
}

export class MeterIngest implements Part {
  private readonly clock: Clock;
  private readonly logger: MqttLogger;
  private readonly rates: TokenBuckets;
  private readonly subscriptions: Subscription[] = [];
  private writes: Promise<void> = Promise.resolve();
  private readonly counters: MeterIngestStats = {
    received: 0,
    stored: 0,
    duplicates: 0,
    rejected: { 'unknown-school': 0, 'rate-limited': 0, 'too-large': 0, invalid: 0, future: 0, conflict: 0 },
  };

  constructor(private readonly options: MeterIngestOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.rates = new TokenBuckets(options.maxPerMinute ?? DEFAULT_METER_MAX_PER_MINUTE, this.clock);
  }

  async start(): Promise<void> {
    const handler = (message: ReceivedMessage) => this.receive(message);
    this.subscriptions.push(
      await this.options.connection.subscribe(this.options.topics.allMeterFilter(), handler),
    );
    this.subscriptions.push(
      await this.options.connection.subscribe(this.options.topics.allOutdoorFilter(), handler),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    await this.writes;
  }

  stats(): MeterIngestStats {
    return { ...this.counters, rejected: { ...this.counters.rejected } };
  }

  /** Resolves once every message received so far is stored. */
  flushed(): Promise<void> {
    return this.writes;
  }

  private receive(message: ReceivedMessage): void {
    this.counters.received += 1;
    const parsed = this.options.topics.parse(message.topic);
    if (!parsed || (parsed.kind !== 'meter-reported' && parsed.kind !== 'outdoor-reported')) return;
    if (!this.options.knows(parsed.uai)) {
      this.reject('unknown-school', message.topic);
      return;
    }
    if (this.options.owns && !this.options.owns(parsed.uai)) return;
    if (!this.rates.take(parsed.uai)) {
      this.reject('rate-limited', message.topic);
      return;
    }
    if (message.payload.length > MAX_METER_PAYLOAD_BYTES) {
      this.reject('too-large', message.topic);
      return;
    }
    const decoded = this.options.topics.decode(message.topic, message.payload);
    if (!decoded.ok) {
      this.counters.rejected.invalid += 1;
      this.logger.warn({ topic: message.topic, problem: decoded.problem }, 'invalid meter message ignored');
      return;
    }
    if (decoded.payload === null) return;
    const now = this.clock.now();
    const payload = decoded.payload as MeterReportedPayload | OutdoorReportedPayload;
    const ts = Date.parse(payload.ts);
    if (ts > now + FUTURE_TOLERANCE_MS) {
      this.reject('future', message.topic);
      return;
    }
    const write =
      parsed.kind === 'meter-reported'
        ? async () => {
            const result = await this.options.repository.putMeterReadings(
              parsed.uai,
              [
                {
                  meter: parsed.meter,
                  ts,
                  kind: 'index',
                  valueKwh: (payload as MeterReportedPayload).index_kwh,
                  periodFrom: null,
                  source: 'mqtt',
                },
              ],
              now,
            );
            this.counters.stored += result.inserted;
            this.counters.duplicates += result.duplicates;
            if (result.conflicts.length > 0) this.reject('conflict', message.topic);
          }
        : async () => {
            const fresh = await this.options.repository.putOutdoor(
              parsed.uai,
              ts,
              (payload as OutdoorReportedPayload).temperature_c,
              now,
            );
            if (fresh) this.counters.stored += 1;
            else this.counters.duplicates += 1;
          };
    this.writes = this.writes
      .then(write)
      .catch((error: unknown) =>
        this.logger.error(
          { topic: message.topic, error: (error as Error).message },
          'meter reading not stored',
        ),
      );
  }

  private reject(reason: keyof MeterIngestStats['rejected'], topic: string): void {
    this.counters.rejected[reason] += 1;
    this.logger.warn({ topic, reason }, 'meter message dropped');
  }
}
