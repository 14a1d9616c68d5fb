/**
 * The anchoring parts built from the `audit` configuration, one way for the service and the CLI:
 * the signing key, the directory sink (which also tells the newest checkpoint taken before) and
 * the webhook sink.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { InputError } from '../domain/problems.js';
import { type AuditSigningKey, loadAuditSigningKey } from './audit-signing-key.js';
import type { Checkpoint } from './checkpoint.js';
import { type CheckpointSink, directorySink, webhookSink } from './checkpoint-sinks.js';

export const DEFAULT_CHECKPOINT_DIR = 'audit-checkpoints';

export interface AnchoringParts {
  key: AuditSigningKey;
  sinks: CheckpointSink[];
  /** The newest checkpoint in the directory sink, if any. */
  latestStored(): Checkpoint | null;
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
  return { key, sinks, latestStored: () => directory.latest() };
}
