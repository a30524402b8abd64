// Tests of the benchmark harness itself (not the benchmarks): `npx vitest run --config bench/vitest.config.ts`.
import { defineConfig } from 'vitest/config';
import { sourceResolve, testConditions } from '../vitest.shared.ts';

export default defineConfig({
  // The workspace packages' sources (the replay benchmark imports the simulator).
  resolve: sourceResolve,
  ssr: { resolve: { conditions: testConditions, externalConditions: testConditions } },
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
