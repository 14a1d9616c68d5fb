/**
 * What the bridge records in the audit log, by subscription (issue 14): plan changes from the
 * plan feed, devices/ and rules/ reloads, override events, every new desired state sent and every
 * gateway acknowledgement. The bridge's parts know nothing of the audit log; this file listens to
 * them.
 */
import type { Clock } from '../domain/clock.js';
import type { Part } from '../lifecycle/part.js';
import type { SiteHolder } from '../site/site-holder.js';
import { type AuditSink, planEvents, publishEvents, reloadEvents } from './audit-events.js';
import type { Dispatcher } from './dispatcher.js';
import type { GatewayTrackerOptions } from './gateway-tracker.js';
import type { OverridesService } from './overrides-service.js';
import type { MutablePlanFeed } from './plan-feed.js';
import type { BridgePublisher } from './publisher.js';

type DispatcherPublisher = ConstructorParameters<typeof Dispatcher>[0]['publisher'];

/**
 * The publisher as the dispatcher sees it: every new desired state it sends is audited
 * (re-publications of held state are not), and so is a zone or function dropped from devices/
 * (its retained topics emptied).
 */
export function auditedPublisher(
  publisher: BridgePublisher,
  audit: AuditSink | undefined,
  clock: Clock,
  actor: string,
): DispatcherPublisher {
  if (!audit) return publisher;
  return {
    apply: async (changes) => {
      const tally = await publisher.apply(changes);
      audit(publishEvents(changes, clock.now(), actor));
      return tally;
    },
    forget: (...args) => publisher.forget(...args),
    clear: async (...args) => {
      const tally = await publisher.clear(...args);
      const [uai, zone, fn] = args;
      if (tally.sent > 0)
        audit([
          {
            kind: 'publish',
            at: clock.now(),
            actor,
            uai,
            zone,
            detail: {
              function: fn,
              cleared: ['desired', 'schedule'],
              reason: 'zone function removed from devices/',
            },
          },
        ]);
      return tally;
    },
  };
}

/** A gateway's acknowledgement, as the tracker reports it, recorded. */
export function auditedAcks(
  audit: AuditSink | undefined,
  clock: Clock,
): Pick<GatewayTrackerOptions, 'onAcknowledged'> {
  if (!audit) return {};
  return {
    onAcknowledged: (ack) =>
      audit([
        {
          kind: 'ack',
          at: clock.now(),
          actor: ack.gateway ?? 'gateway',
          uai: ack.uai,
          zone: ack.zone,
          detail: { function: ack.function, ...ack.payload },
        },
      ]),
  };
}

/**
 * Plan changes, reloads and override events, heard from their sources. Started before the
 * overrides (their start records the expiries missed while stopped) and before planning.
 */
export class AuditTrail implements Part {
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly options: {
      audit: AuditSink | undefined;
      feed: MutablePlanFeed;
      site: Pick<SiteHolder, 'onReload'>;
      overrides: Pick<OverridesService, 'events' | 'onChange'>;
      clock: Clock;
      actor: string;
    },
  ) {}

  async start(): Promise<void> {
    const { audit, feed, site, overrides, clock, actor } = this.options;
    if (!audit) return;
    this.off.push(feed.subscribe((uai) => audit(planEvents(feed, uai, clock.now(), actor))));
    this.off.push(site.onReload((result) => audit(reloadEvents(result, clock.now()))));
    // Override events already in the store were recorded by an earlier life: only new ones go in.
    const audited = new Set((await overrides.events()).map((e) => e.id));
    this.off.push(
      overrides.onChange((uai) => {
        void overrides.events({ uai }).then((events) => {
          const fresh = events.filter((e) => !audited.has(e.id));
          for (const e of fresh) audited.add(e.id);
          audit(
            fresh.map((e) => ({
              kind: 'override' as const,
              at: e.at,
              actor: e.actor,
              uai: e.uai,
              zone: typeof e.detail['zone'] === 'string' ? e.detail['zone'] : undefined,
              detail: { event: e.kind, override_id: e.overrideId, ...e.detail },
            })),
          );
        });
      }),
    );
  }

  stop(): void {
    for (const off of this.off.splice(0).reverse()) off();
  }
}
