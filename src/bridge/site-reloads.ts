/**
 * What a devices/ edit changes in the bridge, by subscription to the site holder (issue 14): the
 * schools are shared out again at once, the tracker lists the new zones, and the adapters follow.
 * Issue 15: Home Assistant entities of zones that left are withdrawn under the old rights, the
 * broker's rights change, then the new zones are announced; the bridge's own session survives the
 * change (broker.ts keeps it). Reloads are applied one after the other.
 */
import type { SchoolLeases } from '../cluster/school-leases.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import type { Site } from '../site/load-site.js';
import type { SiteHolder } from '../site/site-holder.js';
import { zoneTargetsOf } from './adapters/index.js';
import type { GatewayTracker } from './gateway-tracker.js';
import type { HomeAssistantCommands } from './ha-commands.js';
import type { BridgePublisher } from './publisher.js';

export class SiteReloads implements Part {
  private off: (() => void) | undefined;
  private updates: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      site: Pick<SiteHolder, 'onReload'>;
      leases: Pick<SchoolLeases, 'tick'>;
      tracker: Pick<GatewayTracker, 'updateZones'>;
      publisher: Pick<BridgePublisher, 'updateTargets'>;
      haCommands: Pick<HomeAssistantCommands, 'updateTargets'>;
      /** The broker's new rights, between the withdrawals and the announcements. */
      applyRights: (current: Site) => Promise<void>;
      logger: Logger;
    },
  ) {}

  start(): void {
    const { site, leases, tracker, publisher, haCommands, applyRights, logger } = this.options;
    this.off = site.onReload((result) => {
      if (!result.ok) return;
      // A school added to devices/ is shared out now, not at the next renewal.
      void leases.tick();
      const next = zoneTargetsOf([...result.site.devices.values()]);
      tracker.updateZones(next);
      this.updates = this.updates
        .then(async () => {
          await publisher.updateTargets(next, () => applyRights(result.site));
          await haCommands.updateTargets(next);
        })
        .catch((error: unknown) =>
          logger.error({ error: (error as Error).message }, 'adapter update failed'),
        );
    });
  }

  /** Stops following reloads, then lets an update under way finish. */
  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    await this.updates;
  }
}
