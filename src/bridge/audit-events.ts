/**
 * What the bridge tells the audit log (issue 7): plan changes with their hash and rule-set
 * version, every new desired state it publishes, gateway acknowledgements, override starts and
 * ends, and configuration reloads. The bridge only emits events; the sink batches them into the
 * hash-chained log (src/store/audit-repository.ts), so auditing never slows a transition.
 */
import type { ClientsReloadResult } from '../auth/clients-holder.js';
import type { ReloadResult } from '../site/site-holder.js';
import type { PlanFeed } from './plan-feed.js';
import type { StateChange } from './publisher.js';

export type AuditKind = 'import' | 'plan' | 'publish' | 'ack' | 'override' | 'config';

export interface AuditEvent {
  kind: AuditKind;
  /** Epoch ms. */
  at: number;
  actor: string;
  uai?: string | undefined;
  zone?: string | undefined;
  detail: Record<string, unknown>;
}

export type AuditSink = (events: AuditEvent[]) => void;

/**
 * `actor` names the bridge instance when several share the store (`bridge/{instance}`), so the
 * log says which one planned or published what, e.g. around a takeover.
 */
export function planEvents(feed: PlanFeed, uai: string, at: number, actor = 'bridge'): AuditEvent[] {
  const plan = feed.plan(uai);
  if (!plan) return [{ kind: 'plan', at, actor, uai, detail: { removed: true } }];
  return [
    {
      kind: 'plan',
      at,
      actor,
      uai,
      detail: {
        hash: plan.hash,
        rules_version: plan.rulesVersion,
        timetable_version: plan.timetableVersion,
        fallback: plan.fallback,
        // The learned warm-ups planned with (docs/optimum-start.md): what the preheats' reasons cite.
        ...(plan.optimumStart ? { optimum_start: plan.optimumStart } : {}),
        horizon: {
          from: new Date(plan.horizon.from).toISOString(),
          to: new Date(plan.horizon.to).toISOString(),
        },
      },
    },
  ];
}

/** One event per new desired state (schedules are derived from the plan, already audited). */
export function publishEvents(changes: readonly StateChange[], at: number, actor = 'bridge'): AuditEvent[] {
  return changes.flatMap((change) =>
    change.desired
      ? [
          {
            kind: 'publish' as const,
            at,
            actor,
            uai: change.uai,
            zone: change.zone,
            detail: { function: change.function, ...change.desired },
          },
        ]
      : [],
  );
}

/** Who changed which file and how (src/site/site-change.ts), refused edits too. */
export function reloadEvents(result: ReloadResult, at: number): AuditEvent[] {
  const { actor, ...change } = result.change ?? { actor: 'system' };
  return [
    {
      kind: 'config',
      at,
      actor,
      detail: result.ok
        ? {
            applied: true,
            schools: [...result.site.devices.keys()],
            rules_version: result.site.ruleSet.value.version,
            ...change,
          }
        : { applied: false, problems: result.problems, ...change },
    },
  ];
}

/**
 * A reload of the clients files (docs/api.md, "Clients without restarts"): ids only, never a hash.
 * An applied reload that changed nothing is not worth an entry (the caller skips it).
 */
export function clientsReloadEvents(result: ClientsReloadResult, at: number): AuditEvent[] {
  return [
    {
      kind: 'config',
      at,
      actor: 'system',
      detail: result.ok
        ? {
            clients: true,
            applied: true,
            added: result.added,
            removed: result.removed,
            changed: result.changed,
          }
        : { clients: true, applied: false, problems: result.problems },
    },
  ];
}

/** A client created through `POST /api/admin/clients`, by the admin who asked. */
export function clientCreatedEvents(clientId: string, by: string, at: number): AuditEvent[] {
  return [{ kind: 'config', at, actor: by, detail: { client_created: clientId } }];
}
