import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/longest-first.ts';
import { sourceResolve, testConditions } from './vitest.shared.ts';

export default defineConfig({
  resolve: sourceResolve,
  ssr: { resolve: { conditions: testConditions, externalConditions: testConditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Load, crash and storage-fault runs take minutes: `npm run test:reliability` runs them.
    exclude: ['**/node_modules/**', 'test/reliability/heavy/**'],
    // chDB allows one data directory per process: every test file gets its own process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Timing assertions hold on a noisy 2-core machine only without oversubscription.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
