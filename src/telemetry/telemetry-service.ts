/**
 * Telemetry assembled for the service (issue 16): the ingestor the gateway tracker feeds, the
 * hourly aggregation job over the schools this instance holds, and the comfort routes.
 */
import type { Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.js';
import type { Config } from '../config/schema.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import type { MqttLogger } from '../mqtt/logger.js';
import type { RetentionPolicy, TelemetryRepository } from '../store/telemetry-repository.js';
import type { ComfortSettings } from './comfort.js';
import { comfortRoutes } from './comfort-routes.js';
import { HourlyAggregation } from './hourly-aggregation.js';
import type { PlanFor } from './plan-window.js';
import { TelemetryIngestor } from './telemetry-ingestor.js';

export function comfortSettingsOf(config: Pick<Config, 'telemetry' | 'comfort'>): ComfortSettings {
  return {
    holdMs: config.telemetry.hold_minutes * 60_000,
    coldToleranceC: config.comfort.cold_tolerance_c,
    overheatToleranceC: config.comfort.overheat_tolerance_c,
  };
}

export function retentionOf(config: Pick<Config, 'telemetry'>): RetentionPolicy {
  return {
    rawDays: config.telemetry.raw_retention_days,
    hourlyMonths: config.telemetry.hourly_retention_months,
    monthlyYears: config.telemetry.monthly_retention_years,
  };
}

export function createTelemetryIngestor(options: {
  config: Pick<Config, 'telemetry'>;
  repository: TelemetryRepository;
  clock: Clock;
  logger: MqttLogger;
}): TelemetryIngestor {
  const { telemetry } = options.config;
  return new TelemetryIngestor({
    repository: options.repository,
    clock: options.clock,
    logger: options.logger,
    maxLateMs: telemetry.max_late_hours * 3_600_000,
    batchSize: telemetry.batch_size,
    flushMs: telemetry.flush_ms,
  });
}

export interface TelemetryParts {
  routes: Hono<AuthEnv>;
  aggregation: HourlyAggregation;
  stop(): Promise<void>;
}

/** The telemetry parts, running: `createTelemetry` with its aggregation started. */
export function startTelemetry(options: TelemetryOptions): TelemetryParts {
  const parts = createTelemetry(options);
  parts.aggregation.start();
  return parts;
}

export interface TelemetryOptions {
  config: Pick<Config, 'telemetry' | 'comfort'>;
  repository: TelemetryRepository;
  ingestor: TelemetryIngestor;
  planFor: PlanFor;
  devices: () => ReadonlyMap<string, LoadedDevices>;
  owns: (uai: string) => boolean;
  clock: Clock;
  logger: MqttLogger;
}

/** The hourly aggregation (not started: a part of the service) and the comfort routes. */
export function createTelemetry(options: TelemetryOptions): TelemetryParts {
  const settings = comfortSettingsOf(options.config);
  const aggregation = new HourlyAggregation({
    repository: options.repository,
    planFor: options.planFor,
    schools: function* () {
      for (const [uai, devices] of options.devices()) {
        if (!options.owns(uai)) continue;
        yield { uai, timezone: devices.value.school.timezone, zones: devices.value.zones };
      }
    },
    takeDirty: () => options.ingestor.takeDirty(),
    settings,
    retention: retentionOf(options.config),
    clock: options.clock,
    logger: options.logger,
    everyMs: options.config.telemetry.aggregate_every_minutes * 60_000,
    maxLateMs: options.config.telemetry.max_late_hours * 3_600_000,
  });
  const routes = comfortRoutes({
    repository: options.repository,
    planFor: options.planFor,
    devicesOf: (uai) => options.devices().get(uai),
    settings,
    clock: options.clock,
  });
  return {
    routes,
    aggregation,
    async stop() {
      await aggregation.stop();
      await options.ingestor.stop();
    },
  };
}
