import { defineConfig } from 'vitest/config';
import { sourceResolve, testConditions } from './vitest.shared.ts';

// `npm run test:reliability`: the whole reliability suite, including the heavy parts (load at 80 %
// of capacity, SIGKILL during load, storage outages) kept out of `npm test` for its time budget,
// the bad-input fuzz with thousands of cases instead of a few hundred, and 120 storage poisons instead of 16.
export default defineConfig({
  resolve: sourceResolve,
  ssr: { resolve: { conditions: testConditions, externalConditions: testConditions } },
  test: {
    include: ['test/reliability/**/*.test.ts'],
    pool: 'forks',
    // One file at a time: the load test measures capacity, which other files would distort.
    maxWorkers: 1,
    testTimeout: 480_000,
    hookTimeout: 60_000,
    env: { LLM_PRISM_FUZZ_RUNS: '3000', LLM_PRISM_POISON_RUNS: '120' },
  },
});
