/**
 * The demo lycée's parts of the service (`demo.enabled`): its timetable imported on the first
 * start, and its simulated gateway (docs/gateway-contract.md), so that gateway tracking shows
 * acknowledgements and measured temperatures from the first minute.
 */
import { importAuditEntry } from '../audit/import-audit.js';
import type { LoadedDevices } from '../devices/load.js';
import type { Clock } from '../domain/clock.js';
import { type SimulatedGateway, startSimulatedGateway } from '../gateway/simulated-gateway.js';
import type { Part } from '../lifecycle/part.js';
import type { Logger } from '../log/logger.js';
import { ingestTimetable } from '../scope/entree/ingest.js';
import type { Store } from '../store/store.js';
import { buildDemoTimetable, DEMO_GATEWAY_PASSWORD, DEMO_UAI } from './demo-lycee.js';

/** Imports the demo lycée once (first start), through the same path as any ENTRÉE import. */
export async function seedDemo(store: Store, clock: Clock, logger: Logger): Promise<void> {
  if (await store.timetables.currentMeta(DEMO_UAI)) return;
  const bytes = new TextEncoder().encode(JSON.stringify(buildDemoTimetable(clock.now())));
  const report = await ingestTimetable(
    store,
    { bytes, uai: DEMO_UAI, format: 'json', importedBy: 'demo-seed' },
    clock.now(),
  );
  if (!report.unchanged)
    await store.audit.append([importAuditEntry(report, 'demo-seed', 'seed', clock.now())]);
  logger.info({ uai: DEMO_UAI, version: report.version, counts: report.counts }, 'demo lycée imported');
}

/**
 * The demo lycée's simulated gateway. Its password is the public demo one of
 * devices/0670999X.yaml; a site that changed it just runs without it (a warning, not a failed start).
 */
export class DemoGatewayPart implements Part {
  private gateway: SimulatedGateway | null = null;

  constructor(
    private readonly options: {
      url: () => string;
      devices: () => LoadedDevices | undefined;
      prefix: string;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async start(): Promise<void> {
    const { logger } = this.options;
    const devices = this.options.devices()?.value;
    const first = devices?.gateways[0];
    if (!devices || !first) return;
    try {
      this.gateway = await startSimulatedGateway({
        url: this.options.url(),
        uai: DEMO_UAI,
        gateway: first.id,
        username: first.username,
        password: DEMO_GATEWAY_PASSWORD,
        zones: devices.zones,
        prefix: this.options.prefix,
        clock: this.options.clock,
        logger: logger.child({ part: 'demo-gateway' }),
      });
      logger.info({ gateway: first.id }, 'simulated demo gateway connected');
    } catch (error) {
      logger.warn(
        { err: error },
        'the simulated demo gateway could not log in (demo password changed?): running without it',
      );
    }
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    this.gateway = null;
  }
}
