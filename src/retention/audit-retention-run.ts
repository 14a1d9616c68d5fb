/**
 * The service's audit purge (docs/audit.md, "Retention"): the policy and the anchoring's key and
 * checkpoint directory in, the outcome logged, and the self-verification told the log moved.
 */
import type { Anchoring } from '../audit/audit-anchoring.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';
import { type AuditRetentionOutcome, purgeOldAuditEntries } from './audit-retention.js';

/**
 * Whether this instance may purge audit entries. A purge is attested by a checkpoint signed with
 * the instance's audit key, and every instance sharing the log verifies it with its own key: on
 * PostgreSQL (where several instances may share one log, docs/deployment.md) a key generated in
 * each instance's data directory would make every other instance read a legitimate purge as
 * `unattested-purge` (a tamper alarm and /readyz 503 on all of them; found by a cold review).
 * There the purge needs `audit.signing_key_file`, the same file on every instance.
 */
export function auditPurgeAllowed(
  config: Pick<Config, 'retention' | 'audit'>,
  dialect: 'sqlite' | 'postgres',
): { allowed: true } | { allowed: false; why: string } {
  if (!config.retention.audit.purge) return { allowed: false, why: 'retention.audit.purge is false' };
  if (dialect === 'postgres' && config.audit.signing_key_file === undefined)
    return {
      allowed: false,
      why: 'on PostgreSQL every instance sharing the audit log must verify the purge with the same key: set audit.signing_key_file, the same file on every instance, to purge',
    };
  return { allowed: true };
}

export async function runAuditRetention(options: {
  config: Pick<Config, 'retention'>;
  store: Pick<Store, 'audit'>;
  anchoring: Pick<Anchoring, 'parts' | 'monitor'>;
  clock: Clock;
  logger: Logger;
}): Promise<AuditRetentionOutcome> {
  const { anchoring, logger } = options;
  const outcome = await purgeOldAuditEntries({
    keepMonths: options.config.retention.audit.keep_months,
    audit: options.store.audit,
    checkpoints: anchoring.parts.directory,
    publicKey: anchoring.parts.key.publicKey,
    clock: options.clock,
  });
  if (outcome.purged) {
    logger.info(
      {
        from_seq: outcome.purged.fromSeq,
        through_seq: outcome.purged.throughSeq,
        entries: outcome.purged.entries,
        purge_seq: outcome.purged.entry.seq,
        cutoff: outcome.cutoff,
      },
      'audit entries purged by the retention policy, up to a signed checkpoint',
    );
    await anchoring.monitor.afterAppend();
  } else if (outcome.why === 'chain-broken') {
    logger.error(
      { firstBad: outcome.firstBad, cutoff: outcome.cutoff },
      'audit purge skipped: the chain does not hold against the checkpoint it would stop at',
    );
  } else if (outcome.why === 'no-checkpoint') {
    logger.warn(
      { cutoff: outcome.cutoff },
      'audit entries older than the policy kept: no signed checkpoint taken before the cutoff to stop a purge at',
    );
  }
  return outcome;
}
