// Tests of the benchmark harness itself (not the benchmarks): `npx vitest run --config bench/vitest.config.ts`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/**/*.test.ts'],
    exclude: ['bench/peers/**'],
    // chDB allows one data directory per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
