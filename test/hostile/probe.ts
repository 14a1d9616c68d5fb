/**
 * The test thread's handle on the probe worker (probe-worker.mjs): opens a measuring window
 * around an attack (scheduling the window's dispatcher transition) and closes it with the
 * figures. One window at a time.
 */
import { Worker } from 'node:worker_threads';
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { DEMO_GATEWAY, type HostileService, TOPIC_PREFIX } from './service-harness.js';

export interface WindowStats {
  healthz: {
    count: number;
    failures: number;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
  };
  /** `scope_energie_event_loop_delay_p99_seconds` scraped during the window. */
  loopDelay: { samples: number; missing: number; maxSeconds: number | null };
  rss: { baselineKb: number; peakKb: number };
  /** The child was gone at some sample. */
  dead: boolean;
  /** The probe SIGKILLed the child over the hard memory cap. */
  killed: boolean;
  transition: {
    zone: string;
    until: number | null;
    /** Arrival at the subscriber minus the scheduled instant; null when it never came. */
    latencyMs: number | null;
    /** The message's `issued_at` minus the scheduled instant. */
    issuedLatencyMs: number | null;
  };
  windowMs: number;
}

/**
 * Heating zones of devices/0670999X.yaml used in turn for the transitions (the gymnasium is kept
 * for the comfort-override case). Seven zones: an override on one has ended long before its turn
 * comes again.
 */
const TRANSITION_ZONES = [
  'batiment-b-est',
  'batiment-b-ouest',
  'batiment-c',
  'laboratoires',
  'atelier',
  'amphi',
  'cdi',
] as const;

export interface ProbeOptions {
  /** The child is killed past this RSS (MB), to protect the shared machine. Default 1,536. */
  hardCapMb?: number;
  healthzEveryMs?: number;
  rssEveryMs?: number;
  metricsEveryMs?: number;
}

export class Probe {
  private readonly worker: Worker;
  private turn = 0;
  private pending: {
    type: string;
    resolve: (m: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }[] = [];
  /** Set when the probe killed the child over the hard cap. */
  killedRssKb: number | null = null;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (message: Record<string, unknown>) => {
      if (message['type'] === 'killed') {
        this.killedRssKb = Number(message['rssKb']);
        return;
      }
      const waiter = this.pending.shift();
      if (!waiter) return;
      if (message['type'] === 'error') waiter.reject(new Error(`probe: ${String(message['message'])}`));
      else waiter.resolve(message);
    });
    worker.on('error', (error) => {
      for (const waiter of this.pending.splice(0)) waiter.reject(error);
    });
  }

  static async start(service: HostileService, options: ProbeOptions = {}): Promise<Probe> {
    const worker = new Worker(new URL('./probe-worker.mjs', import.meta.url), {
      workerData: {
        pid: service.pid,
        url: service.url,
        mqttUrl: service.mqttUrl,
        uai: DEMO_UAI,
        prefix: TOPIC_PREFIX,
        gateway: DEMO_GATEWAY,
        managerToken: service.tokens.manager,
        metricsToken: service.tokens.auditor,
        hardCapMb: options.hardCapMb ?? 1_536,
        healthzEveryMs: options.healthzEveryMs ?? 50,
        rssEveryMs: options.rssEveryMs ?? 50,
        metricsEveryMs: options.metricsEveryMs ?? 500,
      },
    });
    const probe = new Probe(worker);
    await probe.request({ type: '(ready)' }, false);
    return probe;
  }

  private request(
    message: { type: string; [key: string]: unknown },
    send = true,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ type: message.type, resolve, reject });
      if (send) this.worker.postMessage(message);
    });
  }

  /** Opens a window whose transition is `leadMs` ahead; resolves with its instant (epoch ms). */
  async begin(leadMs: number): Promise<{ until: number; zone: string }> {
    const zone = TRANSITION_ZONES[this.turn++ % TRANSITION_ZONES.length]!;
    const answer = await this.request({ type: 'begin', leadMs, zone });
    return { until: Number(answer['until']), zone };
  }

  /** Closes the window, after waiting up to `waitMs` past the transition instant for its message. */
  async end(waitMs = 3_000): Promise<WindowStats> {
    const answer = await this.request({ type: 'end', waitMs });
    return answer['stats'] as WindowStats;
  }

  /** After a restart of the child: new pid, ports and subscriber. */
  async retarget(service: HostileService): Promise<void> {
    await this.request({ type: 'retarget', pid: service.pid, url: service.url, mqttUrl: service.mqttUrl });
  }

  async stop(): Promise<void> {
    await this.request({ type: 'stop' }).catch(() => undefined);
    await this.worker.terminate();
  }
}
