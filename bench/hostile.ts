/**
 * `npm run bench -- hostile`: the hostile-input cases of issue 13 (test/hostile/cases.ts)
 * against the real service on SQLite, with the suite's probe, printing per case the time to
 * the refusal (or answer), the worst event-loop delay (the service's p99 gauge, and the worst
 * `/healthz` round trip), the peak RSS, and the `desired` publish latency of the transition
 * scheduled during the attack as a ratio of the idle one (goal ≤ 2×). A case's assertion
 * failures are counted, not fatal: the figures are what this prints. `HOSTILE_CASES=<regex>`
 * runs only the cases whose name matches.
 */
import { HOSTILE_CASES } from '../test/hostile/cases.js';
import { Probe } from '../test/hostile/probe.js';
import { runCase, TRANSITION_LEAD_MS } from '../test/hostile/run-case.js';
import { startHostileService } from '../test/hostile/service-harness.js';

const IDLE_WINDOWS = 5;

const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? '—' : `${value.toFixed(0)} ms`;

export async function benchHostile(report: (line: string) => void): Promise<void> {
  const service = await startHostileService('sqlite');
  let probe: Probe | undefined;
  try {
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${service.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('/readyz never answered 200');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    probe = await Probe.start(service);

    // Idle: the same window, nothing else running.
    const idle: number[] = [];
    for (let i = 0; i < IDLE_WINDOWS; i++) {
      await probe.begin(TRANSITION_LEAD_MS);
      const stats = await probe.end();
      if (stats.transition.latencyMs !== null) idle.push(stats.transition.latencyMs);
    }
    idle.sort((a, b) => a - b);
    const idleMedian = idle[Math.floor(idle.length / 2)] ?? Number.NaN;
    // A ratio over a near-zero idle latency says nothing: floor the denominator at 1 ms.
    const idleBase = Math.max(1, idleMedian);
    report(
      `hostile: idle transition publish latency median ${ms(idleMedian)} (${idle.map((v) => v.toFixed(0)).join(', ')} ms over ${IDLE_WINDOWS} windows)`,
    );
    report(
      'hostile: case | time to answer | worst loop delay (gauge p99 / worst healthz) | peak RSS | publish latency (× idle) | failures',
    );
    const only = process.env['HOSTILE_CASES'] ? new RegExp(process.env['HOSTILE_CASES']) : undefined;
    const cases = HOSTILE_CASES.filter((c) => c.backends.includes('sqlite') && (only?.test(c.name) ?? true));
    for (const hostile of cases) {
      const result = await runCase(service, probe, hostile);
      const s = result.stats;
      const gauge = s?.loopDelay.maxSeconds;
      const latency = s?.transition.latencyMs;
      report(
        [
          `hostile: ${hostile.name}`,
          ms(result.refusalMs),
          `${gauge === null || gauge === undefined ? '— (no gauge)' : ms(gauge * 1000)} / ${ms(s?.healthz.maxMs)}`,
          s ? `${(s.rss.peakKb / 1024).toFixed(0)} MB` : '—',
          latency === null || latency === undefined
            ? 'not published'
            : `${ms(latency)} (${(Math.max(1, latency) / idleBase).toFixed(1)}×)`,
          result.failures.length === 0
            ? 'ok'
            : `${result.failures.length}: ${result.failures.map((f) => f.split('\n')[0]!.slice(0, 160)).join(' | ')}`,
        ].join(' | '),
      );
    }
  } finally {
    await probe?.stop();
    await service.stop();
  }
}
