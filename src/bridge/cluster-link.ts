/**
 * How the bridge lives beside other instances on one database (issue 8), as parts (issue 14):
 * the signals that carry an import or an override to the instance holding the school
 * (LISTEN/NOTIFY), and the schools this instance takes over or hands over as its leases change.
 */
import type { SchoolLeases } from '../cluster/school-leases.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import type { StoreSignals } from '../store/store-signals.js';
import { type ClusterSignal, parseClusterSignal } from './cluster-signal.js';
import type { EventsService } from './events-service.js';
import type { OverridesService } from './overrides-service.js';
import type { PlanningService } from './planning.js';
import type { SyncService } from './sync.js';

interface ClusterParts {
  instanceId: string;
  leases: SchoolLeases;
  sync: SyncService;
  planning: PlanningService;
  logger: Logger;
}

/**
 * Changes reach the lease holder whichever instance took the request: an import makes it pull
 * the school, an override or a scheduled event makes it replan (its event cache read afresh).
 */
export class ClusterSignals implements Part {
  private readonly off: Array<() => void> = [];
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly options: ClusterParts & {
      signals: StoreSignals;
      overrides: Pick<OverridesService, 'onChange'>;
      events: Pick<EventsService, 'onChange' | 'forget'>;
    },
  ) {}

  async start(): Promise<void> {
    const { signals, instanceId, leases, sync, planning, events, overrides } = this.options;
    this.unlisten = await signals.listen((text) => {
      const message = parseClusterSignal(text);
      if (!message || message.from === instanceId || !leases.owns(message.uai)) return;
      if (message.kind === 'timetable') void sync.syncNow(message.uai);
      else {
        events.forget(message.uai);
        void planning.replan(message.uai);
      }
    });
    this.off.push(overrides.onChange((uai) => this.send({ kind: 'overrides', uai })));
    this.off.push(events.onChange((uai) => this.send({ kind: 'overrides', uai })));
  }

  async stop(): Promise<void> {
    for (const off of this.off.splice(0)) off();
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Tells the other instances (never throws: a lost signal is caught up by the next sync or replan). */
  send(message: Omit<ClusterSignal, 'from'>): void {
    this.options.signals
      .notify(JSON.stringify({ ...message, from: this.options.instanceId }))
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'cluster signal not sent'));
  }
}

/**
 * The leases as two parts. `leases` joins the live set and takes this instance's share (before
 * planning, which plans the schools held), then follows the changes: a school released is
 * replanned (dropped), a school acquired is read from the store, planned, then pulled afresh.
 * `handover`, declared last, gives every lease up first when the bridge stops: nothing of ours
 * goes out from there on, and the others take the schools over at their next renewal rather than
 * after the TTL, while the rest of the bridge stops.
 */
export function leaseParts(options: ClusterParts): { leases: Part; handover: Part } {
  const { leases, sync, planning, logger } = options;
  let unfollow: (() => void) | undefined;
  const follow = () =>
    leases.onChange(({ acquired, released }) => {
      // Released first: a school lost and taken again (a lapse) is dropped, then planned afresh.
      for (const uai of released) void planning.replan(uai);
      for (const uai of acquired) {
        void (async () => {
          // The previous holder's last pull, then a fresh one; never synced before: the first
          // plan waits for that pull (planning's `ready`). Planned even if the store read fails.
          try {
            await sync.reload(uai);
          } finally {
            await planning.replan(uai);
          }
          await sync.syncNow(uai);
        })().catch((error: unknown) => logger.error({ err: error, uai }, 'taking over a school failed'));
      }
    });
  const release = async () => {
    unfollow?.();
    unfollow = undefined;
    await leases.stop();
  };
  return {
    leases: {
      async start() {
        await leases.start();
        unfollow = follow();
      },
      stop: release,
      health: () => leases.health(),
    },
    handover: { start() {}, stop: release },
  };
}
