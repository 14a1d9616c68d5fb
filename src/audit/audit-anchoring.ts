/**
 * The anchoring parts built from the `audit` configuration, one way for the service and the CLI:
 * the signing key, the directory sink (which also tells the newest checkpoint taken before) and
 * the webhook and MQTT sinks; for the service, the checkpointer and the self-verification on top.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Clock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import type { AuditRepository } from '../store/audit-repository.js';
import { AuditCheckpointer } from './audit-checkpointer.js';
import { AuditMonitor } from './audit-monitor.js';
import { type AuditSigningKey, loadAuditSigningKey } from './audit-signing-key.js';
import type { AuditScheduler } from './audit-timer.js';
import { type Checkpoint, checkpointSchema, checkpointSignatureHolds } from './checkpoint.js';
import {
  brokerSink,
  type CheckpointSink,
  type DirectorySink,
  directorySink,
  webhookSink,
} from './checkpoint-sinks.js';

export const DEFAULT_CHECKPOINT_DIR = 'audit-checkpoints';

export interface AnchoringParts {
  key: AuditSigningKey;
  sinks: CheckpointSink[];
  /** The newest checkpoint in the directory sink, if any. */
  latestStored(): Checkpoint | null;
  /** The directory sink: the checkpoints an audit purge may stop at. */
  directory: DirectorySink;
}

export function anchoringFromConfig(
  audit: Config['audit'],
  paths: { baseDir: string; dataDir: string },
  env: NodeJS.ProcessEnv,
): AnchoringParts {
  const key = loadAuditSigningKey({
    keyFile: audit.signing_key_file ? resolve(paths.baseDir, audit.signing_key_file) : undefined,
    dataDir: paths.dataDir,
  });
  const directory = directorySink(
    audit.checkpoint_dir
      ? resolve(paths.baseDir, audit.checkpoint_dir)
      : resolve(paths.dataDir, DEFAULT_CHECKPOINT_DIR),
  );
  const sinks: CheckpointSink[] = [directory];
  if (audit.webhook) {
    const tokenEnv = audit.webhook.bearer_token_env;
    const token = tokenEnv ? env[tokenEnv] : undefined;
    if (tokenEnv && !token) {
      throw InputError.of(
        'env-missing',
        `audit.webhook.bearer_token_env names ${tokenEnv}, which is not set`,
        'audit.webhook.bearer_token_env',
      );
    }
    sinks.push(
      webhookSink({
        url: audit.webhook.url,
        timeoutMs: audit.webhook.timeout_ms,
        retries: audit.webhook.retries,
        retryDelayMs: audit.webhook.retry_delay_ms,
        bearerToken: token,
      }),
    );
  }
  if (audit.mqtt) {
    const passwordEnv = audit.mqtt.password_env;
    const password = passwordEnv ? env[passwordEnv] : undefined;
    if (passwordEnv && !password) {
      throw InputError.of(
        'env-missing',
        `audit.mqtt.password_env names ${passwordEnv}, which is not set`,
        'audit.mqtt.password_env',
      );
    }
    sinks.push(
      brokerSink({
        url: audit.mqtt.url,
        topic: audit.mqtt.topic,
        username: audit.mqtt.username,
        password,
        timeoutMs: audit.mqtt.timeout_ms,
      }),
    );
  }
  return { key, sinks, latestStored: () => directory.latest(), directory };
}

export interface Anchoring extends Part {
  /** The signing key and the sinks, for the audit purge (src/retention/audit-retention.ts). */
  parts: AnchoringParts;
  checkpointer: AuditCheckpointer;
  monitor: AuditMonitor;
  start(): void;
  stop(): void;
  /** The self-verification's problems (a broken chain, a checkpoint not matched). */
  health(): string[];
}

/**
 * The running service's anchoring: periodic signed checkpoints, starting from the newest one in
 * the directory (when its signature holds), and the self-verification against them.
 */
export function createAnchoring(options: {
  config: Config['audit'];
  paths: { baseDir: string; dataDir: string };
  env: NodeJS.ProcessEnv;
  audit: Pick<AuditRepository, 'head' | 'verify'>;
  clock: Clock;
  logger: Logger;
  scheduler?: AuditScheduler;
}): Anchoring {
  const { config, logger } = options;
  const parts = anchoringFromConfig(config, options.paths, options.env);
  let initial: Checkpoint | null = null;
  try {
    initial = parts.latestStored();
    if (initial && !checkpointSignatureHolds(initial, parts.key.publicKey)) {
      logger.error(
        { seq: initial.seq, at: initial.at, key_id: initial.key_id },
        'the newest stored audit checkpoint is not signed by this key: not used as an anchor',
      );
      initial = null;
    }
  } catch (error) {
    logger.error({ err: error }, 'the newest stored audit checkpoint cannot be read: not used as an anchor');
  }
  const scheduler = options.scheduler ? { scheduler: options.scheduler } : {};
  const checkpointer = new AuditCheckpointer({
    audit: options.audit,
    key: parts.key,
    sinks: parts.sinks,
    clock: options.clock,
    intervalMs: config.checkpoint_interval_s * 1000,
    initial,
    logger,
    ...scheduler,
  });
  // After an audit purge the walk meets the purge entry: its checkpoint must carry this key's
  // signature.
  const checkpointHolds = (checkpoint: unknown) => {
    const parsed = checkpointSchema.safeParse(checkpoint);
    return parsed.success && checkpointSignatureHolds(parsed.data, parts.key.publicKey);
  };
  const monitor = new AuditMonitor({
    audit: {
      verify: (verifyOptions) => options.audit.verify({ ...verifyOptions, checkpointHolds }),
    },
    latestCheckpoint: () => checkpointer.latest(),
    clock: options.clock,
    intervalMs: config.verify_interval_s * 1000,
    logger,
    ...scheduler,
  });
  return {
    parts,
    checkpointer,
    monitor,
    start() {
      monitor.start();
      checkpointer.start();
    },
    stop() {
      checkpointer.stop();
      monitor.stop();
    },
    health: () => monitor.readinessProblems(),
  };
}
