/**
 * The dashboard's per-version caches warmed at start (issue 18): each school's dates (calendar
 * and zone-room alerts) and unmapped rooms are computed in the view worker once per stored
 * version (service-deps.ts). Without this, the first overview after a start asked for all of
 * them at once, behind the bridge's first cycle: 48–66 s for 350 schools on a loaded 2-core
 * machine (docs/performance.md, "Region dashboard"). Here they are asked one school at a time in
 * the background, yielding to the event loop between schools, so a view or the bridge's own work
 * is never queued behind a region's worth of decodes; a view meanwhile is served as before (it
 * shares a computation already running, and computes the others itself).
 */
import type { LoadedDevices } from '../devices/load.js';
import type { Part } from '../lifecycle/part.js';
import type { DashboardDeps } from './deps.js';

export interface DashboardWarmUpResult {
  /** Schools whose caches were filled (a school without a timetable counts: nothing to keep). */
  schools: number;
  /** Schools whose reads failed (told to `onError`); a view computes them again. */
  failed: number;
  ms: number;
}

export interface DashboardWarmUpOptions {
  deps: Pick<DashboardDeps, 'timetableDates' | 'unknownRooms'>;
  /** The schools of devices/ at start. */
  schools: () => Iterable<LoadedDevices>;
  /** The warm-up event: every school was asked once. */
  onWarm?: (result: DashboardWarmUpResult) => void;
  onError?: (error: unknown, uai: string) => void;
}

export class DashboardWarmUp implements Part {
  private stopped = false;
  private running: Promise<DashboardWarmUpResult> | null = null;
  private result: DashboardWarmUpResult | null = null;

  constructor(private readonly options: DashboardWarmUpOptions) {}

  /** Starts the warm-up and returns at once: nothing waits for it (a view computes what it lacks). */
  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.run();
  }

  stop(): void {
    this.stopped = true;
  }

  /** The result once every school was asked, null before (or when stopped first). */
  warmed(): DashboardWarmUpResult | null {
    return this.result;
  }

  private async run(): Promise<DashboardWarmUpResult> {
    const started = performance.now();
    let schools = 0;
    let failed = 0;
    for (const devices of [...this.options.schools()]) {
      // A turn of the event loop between schools: requests and MQTT are served in between.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return { schools, failed, ms: performance.now() - started };
      const uai = devices.value.school.uai;
      try {
        await this.options.deps.timetableDates?.(uai);
        await this.options.deps.unknownRooms?.(uai, devices);
        schools += 1;
      } catch (error) {
        failed += 1;
        this.options.onError?.(error, uai);
      }
    }
    const result = { schools, failed, ms: performance.now() - started };
    this.result = result;
    this.options.onWarm?.(result);
    return result;
  }
}
