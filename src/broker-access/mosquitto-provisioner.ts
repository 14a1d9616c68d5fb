/**
 * Keeps a Mosquitto's dynamic security in line with devices/ (docs/mqtt.md, "Which broker
 * enforces what"): at start, on every devices/ reload, when a rotated credential lapses, and when
 * `gateway credentials` issues a password. Each run reads the broker's clients and roles, plans
 * the difference (dynsec-plan.ts) and sends it in batches; nothing is sent when nothing changed.
 * Runs never overlap: a reload during a run queues one more.
 */
import type { AuditSink } from '../bridge/audit-events.js';
import type { MqttTopics } from '../contract/topics.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../log/logger.js';
import type { Site } from '../site/load-site.js';
import type { DynsecClient } from './dynsec-client.js';
import { type BrokerClient, type BrokerRole, type DynsecPlan, noChanges, planDynsec } from './dynsec-plan.js';
import { managedAccess } from './managed-access.js';

export interface ProvisioningReport {
  /** Epoch ms the run ended. */
  at: number;
  reason: string;
  ok: boolean;
  error?: string;
  durationMs: number;
  /** Commands sent (0 when the broker already matched). */
  commands: number;
  /** MQTT messages those commands took. */
  messages: number;
  changes: DynsecPlan['changes'];
  needsCredentials: string[];
  conflicts: DynsecPlan['conflicts'];
  /** Commands the broker refused, with its reason. */
  failed: { command: string; name: string; error: string }[];
  /** Logins devices/ gives (gateways, and the bridge when managed). */
  logins: number;
}

export interface MosquittoProvisionerOptions {
  /** A fresh admin session per run (dynsec-client.ts). */
  connect: () => Promise<DynsecClient>;
  topics: MqttTopics;
  version: string;
  clock: Clock;
  logger: Logger;
  audit?: AuditSink;
  /** The bridge's login, when the service provisions it too (it knows that password). */
  bridge?: { username: string; password: string };
}

export interface ReconcileOptions {
  reason: string;
  /** Clear passwords to set now, by username (only `gateway credentials` has them). */
  passwords?: ReadonlyMap<string, string>;
  /** Read and plan, send nothing (`check`). */
  dryRun?: boolean;
}

export class MosquittoProvisioner {
  private running: Promise<ProvisioningReport> | null = null;
  private again: { site: () => Site; options: ReconcileOptions } | null = null;
  private last: ProvisioningReport | null = null;
  private runs = { ok: 0, failed: 0 };

  constructor(private readonly options: MosquittoProvisionerOptions) {}

  lastReport(): ProvisioningReport | null {
    return this.last;
  }

  runCounts(): { ok: number; failed: number } {
    return { ...this.runs };
  }

  /**
   * Reconciles now, or right after the run under way (coalescing bursts of reloads). Never
   * throws: a failure is in the report, the log and the metrics, and the next trigger retries.
   */
  reconcile(site: () => Site, options: ReconcileOptions): Promise<ProvisioningReport> {
    if (this.running) {
      this.again = { site, options };
      return this.running.then(() => this.running ?? this.reconcile(site, options));
    }
    const run = this.run(site(), options).finally(() => {
      this.running = null;
      const next = this.again;
      this.again = null;
      if (next) void this.reconcile(next.site, next.options);
    });
    this.running = run;
    return run;
  }

  private async run(site: Site, options: ReconcileOptions): Promise<ProvisioningReport> {
    const { clock } = this.options;
    const started = performance.now();
    const report: ProvisioningReport = {
      at: 0,
      reason: options.reason,
      ok: false,
      durationMs: 0,
      commands: 0,
      messages: 0,
      changes: noChanges(),
      needsCredentials: [],
      conflicts: [],
      failed: [],
      logins: 0,
    };
    let client: DynsecClient | undefined;
    try {
      const desired = managedAccess(site, {
        topics: this.options.topics,
        version: this.options.version,
        now: clock.now(),
        ...(this.options.bridge ? { bridge: this.options.bridge } : {}),
      });
      report.logins = desired.logins.length;
      client = await this.options.connect();
      const [clients, roles] = await client.execute([
        { command: 'listClients', verbose: true, count: -1 },
        { command: 'listRoles', verbose: true, count: -1 },
      ]);
      if (clients?.error || roles?.error) {
        throw new Error(`reading the broker's clients and roles failed: ${clients?.error ?? roles?.error}`);
      }
      const plan = planDynsec(
        {
          clients: (clients?.data as { clients?: BrokerClient[] } | undefined)?.clients ?? [],
          roles: (roles?.data as { roles?: BrokerRole[] } | undefined)?.roles ?? [],
        },
        desired,
        options.passwords,
      );
      report.changes = plan.changes;
      report.needsCredentials = plan.needsCredentials;
      report.conflicts = plan.conflicts;
      if (!options.dryRun && plan.commands.length > 0) {
        const before = client.messagesSent;
        const answers = await client.execute(plan.commands);
        report.messages = client.messagesSent - before;
        report.commands = plan.commands.length;
        answers.forEach((answer, i) => {
          if (!answer.error) return;
          const command = plan.commands[i];
          // Another instance reconciling at the same moment created it first: the next run
          // compares again, so this is not a failure.
          if (answer.command.startsWith('create') && /already exists/i.test(answer.error)) return;
          report.failed.push({
            command: answer.command,
            name: String(command?.['username'] ?? command?.['rolename'] ?? ''),
            error: answer.error,
          });
        });
      }
      report.ok = report.failed.length === 0;
      if (!report.ok) report.error = `${report.failed.length} command(s) refused by the broker`;
    } catch (error) {
      report.ok = false;
      report.error = (error as Error).message;
    } finally {
      await client?.close().catch(() => {});
    }
    report.at = clock.now();
    report.durationMs = Math.round(performance.now() - started);
    if (!options.dryRun) this.record(report);
    return report;
  }

  private record(report: ProvisioningReport): void {
    const { logger, audit } = this.options;
    this.last = report;
    if (report.ok) this.runs.ok++;
    else this.runs.failed++;
    const summary = {
      reason: report.reason,
      commands: report.commands,
      messages: report.messages,
      duration_ms: report.durationMs,
      ...Object.fromEntries(Object.entries(report.changes).map(([k, v]) => [k, v.length])),
      needs_credentials: report.needsCredentials.length,
      conflicts: report.conflicts.length,
    };
    if (!report.ok)
      logger.error({ ...summary, error: report.error, failed: report.failed }, 'broker provisioning failed');
    else if (report.commands > 0) logger.info(summary, 'broker provisioned from devices/');
    else logger.debug(summary, 'broker already matches devices/');
    if (report.needsCredentials.length > 0) {
      logger.warn(
        { usernames: report.needsCredentials },
        'gateways without a broker password matching devices/: run `scope-energie gateway credentials` for each',
      );
    }
    if (report.conflicts.length > 0)
      logger.warn({ conflicts: report.conflicts }, 'broker names not managed by scope-energie');
    // Audited when the broker's rights changed or could not be brought in line.
    if (audit && (report.commands > 0 || !report.ok)) {
      audit([
        {
          kind: 'config',
          at: report.at,
          actor: 'broker-provisioning',
          detail: {
            event: 'broker-provisioning',
            ok: report.ok,
            ...(report.error ? { error: report.error } : {}),
            reason: report.reason,
            commands: report.commands,
            changes: report.changes,
            needs_credentials: report.needsCredentials,
            conflicts: report.conflicts,
          },
        },
      ]);
    }
  }
}
