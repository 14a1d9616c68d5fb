/**
 * The service part that keeps the external broker's access control in line with devices/
 * (`mqtt.provisioning.broker`): Mosquitto's dynamic security, or the EMQX views. Runs at start
 * (before the bridge connects: its own login may be one of those provisioned), on every valid
 * devices/ reload, and when a rotated credential lapses.
 */
import type { AuditSink } from '../bridge/audit-events.js';
import type { Config } from '../config/schema.js';
import { MqttTopics } from '../contract/topics.js';
import type { Clock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import { watchCredentialLapses } from '../site/credential-lapses.js';
import type { SiteHolder } from '../site/site-holder.js';
import type { Store } from '../store/store.js';
import { emqxRows, syncEmqxRows } from './emqx-access.js';
import type { ProvisioningReport } from './mosquitto-provisioner.js';
import { mosquittoProvisioner } from './provisioning-setup.js';

/** What `/metrics` shows of provisioning. */
export interface BrokerAccessStats {
  broker: 'mosquitto' | 'emqx';
  runs: { ok: number; failed: number };
  /** Last run: ok, duration, commands sent, logins managed, logins needing credentials, conflicts. */
  last: {
    ok: boolean;
    durationMs: number;
    commands: number;
    logins: number;
    needsCredentials: number;
    conflicts: number;
    at: number;
  } | null;
}

export interface BrokerAccess {
  stats(): BrokerAccessStats;
  /** Reconciles now (tests, and the start). */
  reconcile(reason: string): Promise<void>;
  stop(): void;
}

export interface BrokerAccessContext {
  config: Config;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  site: SiteHolder;
  store: Store;
  clock: Clock;
  logger: Logger;
  version: string;
  audit?: AuditSink;
  /**
   * Reconcile on every devices/ reload (default). The service sets false and lets the bridge call
   * `reconcile` between the adapters' withdrawals and announcements (issue 15: a Home Assistant
   * entity of a zone that left is withdrawn while the bridge may still publish its config).
   */
  followReloads?: boolean;
}

/** null when `mqtt.provisioning.broker` is none. Throws `InputError` for an unusable configuration. */
export async function startBrokerAccess(context: BrokerAccessContext): Promise<BrokerAccess | null> {
  const { config, site, clock } = context;
  const kind = config.mqtt.provisioning.broker;
  if (kind === 'none') return null;
  const logger = context.logger.child({ part: 'broker-access' });
  let run: (reason: string) => Promise<void>;
  let stats: () => BrokerAccessStats;

  if (kind === 'mosquitto') {
    const provisioner = mosquittoProvisioner({ ...context, logger });
    run = async (reason) => {
      await provisioner.reconcile(() => site.current, { reason });
    };
    stats = () => ({
      broker: 'mosquitto',
      runs: provisioner.runCounts(),
      last: summary(provisioner.lastReport()),
    });
  } else {
    if (context.store.dialect !== 'postgres') {
      throw InputError.of(
        'provisioning-needs-postgres',
        'mqtt.provisioning.broker emqx needs storage.database_url: EMQX reads its logins and ACL from PostgreSQL views',
        'mqtt.provisioning.broker',
      );
    }
    const topics = new MqttTopics(config.mqtt.prefix);
    const runs = { ok: 0, failed: 0 };
    let last: BrokerAccessStats['last'] = null;
    run = async (reason) => {
      const started = performance.now();
      try {
        const rows = emqxRows(site.current, {
          topics,
          version: context.version,
          ...(config.mqtt.username ? { bridgeUsername: config.mqtt.username } : {}),
        });
        const result = await syncEmqxRows(context.store, rows);
        runs.ok++;
        last = {
          ok: true,
          durationMs: Math.round(performance.now() - started),
          commands: result.changed ? 1 : 0,
          logins: result.logins,
          needsCredentials: result.needsCredentials.length,
          conflicts: 0,
          at: clock.now(),
        };
        if (result.changed) {
          logger.info(
            { reason, logins: result.logins, acl_rows: result.aclRows },
            'EMQX views updated from devices/',
          );
          context.audit?.([
            {
              kind: 'config',
              at: clock.now(),
              actor: 'broker-provisioning',
              detail: {
                event: 'broker-provisioning',
                broker: 'emqx',
                ok: true,
                reason,
                logins: result.logins,
              },
            },
          ]);
        }
        if (result.needsCredentials.length > 0) {
          logger.warn(
            { usernames: result.needsCredentials },
            'gateways without an EMQX hash: run `scope-energie gateway credentials` for each',
          );
        }
      } catch (error) {
        runs.failed++;
        last = {
          ...(last ?? { commands: 0, logins: 0, needsCredentials: 0, conflicts: 0 }),
          ok: false,
          durationMs: 0,
          at: clock.now(),
        };
        logger.error({ err: error, reason }, 'EMQX views could not be updated');
      }
    };
    stats = () => ({ broker: 'emqx', runs: { ...runs }, last });
  }

  // Runs are serialised: a reload during a run waits for it.
  let chain: Promise<void> = Promise.resolve();
  const reconcile = (reason: string): Promise<void> => {
    chain = chain.then(() => run(reason));
    return chain;
  };
  const lapses = watchCredentialLapses(
    () => site.current,
    clock,
    () => void reconcile('credential lapsed'),
  );
  const unsubscribe = site.onReload((result) => {
    if (!result.ok) return;
    lapses.reschedule();
    if (context.followReloads !== false) void reconcile('devices reloaded');
  });
  await reconcile('start');
  return {
    stats,
    reconcile,
    stop() {
      lapses.stop();
      unsubscribe();
    },
  };
}

function summary(report: ProvisioningReport | null): BrokerAccessStats['last'] {
  if (!report) return null;
  return {
    ok: report.ok,
    durationMs: report.durationMs,
    commands: report.commands,
    logins: report.logins,
    needsCredentials: report.needsCredentials.length,
    conflicts: report.conflicts.length,
    at: report.at,
  };
}

/**
 * The provisioning as a part of the service (issue 14): built at start (its first reconcile
 * included), stopped with the service. `reconcile` is what the bridge calls on a devices/ reload;
 * `stats` feeds /metrics; both answer nothing when `mqtt.provisioning.broker` is none.
 */
export class BrokerAccessPart implements Part {
  private access: BrokerAccess | null = null;

  constructor(private readonly context: BrokerAccessContext) {}

  /** Whether the configuration provisions a broker at all. */
  get enabled(): boolean {
    return this.context.config.mqtt.provisioning.broker !== 'none';
  }

  async start(): Promise<void> {
    this.access = await startBrokerAccess(this.context);
  }

  stop(): void {
    this.access?.stop();
    this.access = null;
  }

  async reconcile(reason: string): Promise<void> {
    await this.access?.reconcile(reason);
  }

  stats(): BrokerAccessStats | null {
    return this.access?.stats() ?? null;
  }
}
