import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that share the machine's PostgreSQL database use their own schemas,
    // so files can run in parallel; keep the pool small on 2 cores.
    maxWorkers: 2,
  },
});
