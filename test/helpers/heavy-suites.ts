/**
 * The heavy multi-process suites: each starts several service processes (or a bench over a real
 * broker) with timing budgets (lease TTLs, takeover delays, recovery deadlines) sized for two
 * cores shared with ONE such suite's worth of load. Two of them at once starved each other's
 * processes (scale-out lost a live lease while faults.test.ts restarted PostgreSQL alongside), so
 * they never overlap:
 *
 * - each takes a cross-process lock for its whole run (`runAlone()` of heavy-suite-lock.ts);
 * - vitest.config.ts's sequencer queues them with enough light files in between that the other
 *   worker rarely has to wait for the lock: it runs light files while one heavy suite runs.
 *
 */
// No vitest import here: vitest.config.ts reads this list.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Paths from the repository root, with the time each took alone on the 2-core CI machine: the
 * sequencer's estimate before vitest has cached durations (a fresh `npm ci` has none).
 */
export const HEAVY_SUITES: Readonly<Record<string, number>> = {
  'test/faults/faults.test.ts': 65_000,
  'test/cluster/scale-out.test.ts': 40_000,
  'test/bridge/region-republish.test.ts': 21_000,
  'test/hostile/hostile.test.ts': 8_000,
};

/** The estimate of `file` (absolute, or from the root) when it is a heavy suite. */
export function heavySuiteEstimateMs(file: string): number | undefined {
  return HEAVY_SUITES[relative(ROOT, resolve(ROOT, file)).split('\\').join('/')];
}
