/**
 * Runs one hostile case against the running service inside a probe window and checks what
 * issue 13 asks of every case: no crash (child alive, `/healthz` 200 after), event-loop delay
 * p99 under 100 ms (the service's own gauge, and the `/healthz` round trips), the window's
 * dispatcher transition published within 1 s of its instant, RSS under 1 GB, and, for a refused
 * input, the school's version history unchanged. The case's own assertions (exact status and
 * code) run inside its attack. Every failure of a case is reported together.
 */
import { DEMO_UAI } from '../../src/demo/demo-lycee.js';
import { elapse } from '../helpers/wait.js';
import { type SendResult, send } from './http-client.js';
import type { Probe, WindowStats } from './probe.js';
import type { Backend, HostileService } from './service-harness.js';

/** How far ahead of the window's opening its transition is scheduled. */
export const TRANSITION_LEAD_MS = 1_200;
/** Limits of issue 13, "What must hold". */
export const LIMITS = { loopDelayP99Ms: 100, transitionMs: 1_000, rssBytes: 1024 ** 3 } as const;

export interface CaseContext {
  service: HostileService;
  /** The window's transition instant (epoch ms). */
  until: number;
  /** A request to the service; `token` adds `Authorization: Bearer`. */
  http(path: string, init?: Parameters<typeof send>[1] & { token?: string }): Promise<SendResult>;
}

export interface HostileCase {
  name: string;
  /** Backends it runs on: every case on SQLite, the store-touching ones on PostgreSQL too. */
  backends: readonly Backend[];
  /**
   * Stateless attacks are repeated (paced) until the window's transition instant has passed, so
   * that the transition always happens under attack; a case that stores runs once.
   */
  repeat: boolean;
  /** A refused input: `GET …/versions` must be the same after the case. */
  refused: boolean;
  /** How much the RSS may grow in the window (streamed bodies must not be buffered). */
  maxRssGrowthMb?: number;
  /** The attack and its exact-answer assertions; returns the time to the answer (ms) it timed. */
  attack(ctx: CaseContext): Promise<number | undefined>;
  /** Puts the service back as the next cases expect it (not measured, runs even on failure). */
  restore?(ctx: CaseContext): Promise<void>;
  /** Time limit of the whole case (ms); default 90 s. */
  timeoutMs?: number;
}

export interface CaseResult {
  name: string;
  /** Time of the first attempt's answer, as the attack timed it. */
  refusalMs: number | undefined;
  attempts: number;
  stats: WindowStats | undefined;
  failures: string[];
  restarted: boolean;
}

const VERSIONS = `/scope/entree/v1/etablissements/${DEMO_UAI}/versions`;

export function contextOf(service: HostileService, until: number): CaseContext {
  return {
    service,
    until,
    http: (path, init = {}) => {
      const { token, ...rest } = init;
      return send(`${service.url}${path}`, {
        ...rest,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...rest.headers },
      });
    },
  };
}

/** The version history as `GET …/versions` gives it (status and body). */
async function versionsOf(service: HostileService): Promise<string> {
  const res = await send(`${service.url}${VERSIONS}`, {
    headers: { Authorization: `Bearer ${service.tokens.editor}` },
    timeoutMs: 20_000,
  });
  return `${res.status} ${res.text}`;
}

export async function runCase(
  service: HostileService,
  probe: Probe,
  hostile: HostileCase,
): Promise<CaseResult> {
  const failures: string[] = [];
  const restarted = await service.ensureRunning();
  if (restarted) await probe.retarget(service);
  const before = hostile.refused ? await versionsOf(service) : undefined;

  let until: number;
  try {
    ({ until } = await probe.begin(TRANSITION_LEAD_MS));
  } catch (error) {
    await service.kill();
    return {
      name: hostile.name,
      refusalMs: undefined,
      attempts: 0,
      stats: undefined,
      failures: [`the window's override could not be created (service unresponsive?): ${String(error)}`],
      restarted,
    };
  }
  const ctx = contextOf(service, until);
  let refusalMs: number | undefined;
  let attempts = 0;
  try {
    refusalMs = await hostile.attack(ctx);
    attempts++;
    while (hostile.repeat && Date.now() < until + 100 && service.alive()) {
      await elapse(20, 'a repeated attack comes every 20 ms');
      await hostile.attack(ctx);
      attempts++;
    }
  } catch (error) {
    failures.push(`attack: ${error instanceof Error ? error.message : String(error)}`);
  }
  const stats = await probe.end().catch((error: Error) => {
    failures.push(`probe: ${error.message}`);
    return undefined;
  });

  if (!service.alive() || stats?.dead) {
    // Killed by the probe or crashed: wait for its exit, so that the next case starts a new one.
    await service.kill();
    failures.push(
      `the service died${stats?.killed ? ` (killed by the probe over ${probe.killedRssKb} kB of RSS)` : ''}; log tail:\n${service.logTail().slice(-3_000)}`,
    );
  } else {
    const health = await send(`${service.url}/healthz`, { timeoutMs: 10_000 });
    if (health.status !== 200) {
      failures.push(
        `/healthz after the case: ${health.status} ${health.error ?? ''}; the service is killed and restarted`,
      );
      await service.kill();
    }
  }
  if (stats) {
    const { loopDelay, healthz, rss, transition } = stats;
    if (loopDelay.maxSeconds === null)
      failures.push(
        `scope_energie_event_loop_delay_p99_seconds missing from /metrics (${loopDelay.missing} scrapes without it)`,
      );
    else if (loopDelay.maxSeconds * 1000 >= LIMITS.loopDelayP99Ms)
      failures.push(
        `event-loop delay p99 ${(loopDelay.maxSeconds * 1000).toFixed(1)} ms ≥ ${LIMITS.loopDelayP99Ms} ms`,
      );
    if (healthz.p99Ms === null || healthz.p99Ms >= LIMITS.loopDelayP99Ms)
      failures.push(
        `/healthz round trip p99 ${healthz.p99Ms?.toFixed(1) ?? '—'} ms ≥ ${LIMITS.loopDelayP99Ms} ms (${healthz.count} probes, ${healthz.failures} failed)`,
      );
    if (transition.latencyMs === null)
      failures.push(
        `the transition of ${new Date(transition.until ?? 0).toISOString()} (${transition.zone}) was not published`,
      );
    else if (transition.latencyMs >= LIMITS.transitionMs || transition.latencyMs < -250)
      failures.push(
        `the transition was published ${transition.latencyMs} ms after its instant (limit ${LIMITS.transitionMs} ms)`,
      );
    if (rss.peakKb * 1024 >= LIMITS.rssBytes)
      failures.push(`peak RSS ${(rss.peakKb / 1024).toFixed(0)} MB ≥ 1 GB`);
    if (hostile.maxRssGrowthMb !== undefined && (rss.peakKb - rss.baselineKb) / 1024 > hostile.maxRssGrowthMb)
      failures.push(
        `RSS grew by ${((rss.peakKb - rss.baselineKb) / 1024).toFixed(0)} MB (at most ${hostile.maxRssGrowthMb} MB: the body must not be buffered)`,
      );
  }
  if (before !== undefined && service.alive()) {
    const after = await versionsOf(service);
    if (after !== before)
      failures.push(`GET …/versions changed: the refused input was stored (${after.slice(0, 300)}…)`);
  }
  if (hostile.restore) {
    try {
      await service.ensureRunning().then(async (again) => (again ? probe.retarget(service) : undefined));
      await hostile.restore(ctx);
    } catch (error) {
      failures.push(`restore: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { name: hostile.name, refusalMs, attempts, stats, failures, restarted };
}
