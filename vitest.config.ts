import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { heavySuiteEstimateMs } from './test/helpers/heavy-suites.js';

/** A light file's cost beyond its cached test time: its worker's start and module transforms. */
const LIGHT_OVERHEAD_MS = 300;
/** A light file vitest has no duration for yet (a fresh checkout, after `npm ci`). */
const LIGHT_UNKNOWN_MS = 1_000;

/**
 * The heavy multi-process suites (test/helpers/heavy-suites.ts) hold a lock so that no two of
 * them overlap; this order keeps that lock from idling a worker. vitest hands files to its two
 * workers in queue order, so each heavy suite is followed by about its own duration of light
 * files: while one worker runs the heavy suite, the other works through those, and the next heavy
 * suite comes up about when the lock is released. Within each kind, the base order is kept
 * (failed first, then longest first).
 */
class HeavyLaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const cached = (spec: TestSpecification): number | undefined => {
      const key = `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
      return this.ctx.cache.getFileTestResults(key)?.duration;
    };
    const heavy = sorted.filter((spec) => heavySuiteEstimateMs(spec.moduleId) !== undefined);
    const light = sorted.filter((spec) => heavySuiteEstimateMs(spec.moduleId) === undefined);
    const queue: TestSpecification[] = [];
    for (const suite of heavy) {
      queue.push(suite);
      let budget = cached(suite) ?? heavySuiteEstimateMs(suite.moduleId)!;
      while (budget > 0 && light.length > 0) {
        const next = light.shift()!;
        queue.push(next);
        budget -= (cached(next) ?? LIGHT_UNKNOWN_MS) + LIGHT_OVERHEAD_MS;
      }
    }
    return [...queue, ...light];
  }
}

/**
 * The hostile-input suite (test/hostile) measures the running service's event-loop delay and
 * `/healthz` round trips against fixed limits (issue 13: p99 under 100 ms): on 2 cores, any other
 * test file running beside it would be measured too. It runs last, alone; everything else runs
 * first on two workers.
 */
const ALONE = ['test/hostile/**/*.test.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: ALONE,
          // Suites that share the machine's PostgreSQL database use their own schemas,
          // so files can run in parallel; keep the pool small on 2 cores.
          maxWorkers: 2,
          sequence: { sequencer: HeavyLaneSequencer, groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
