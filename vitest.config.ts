import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { sourceResolve } from './vitest.shared.ts';

/**
 * The files that take minutes, longest first. Vitest starts the files it has timed before longest
 * first, but on a fresh clone (no results cache) it starts the largest files first: the small
 * Node 22 contract file (2½–3 minutes) ran last and alone (Vitest 648 s on a fresh clone here;
 * 607 s and 620 s in this order).
 */
const MINUTES_LONG = ['test/installed-packages.test.ts', 'test/node22-contract.test.ts', 'test/slo-drill.test.ts', 'test/reliability/bad-input.test.ts'];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = MINUTES_LONG.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return i < 0 ? MINUTES_LONG.length : i;
    };
    // Array sort is stable: the rest keep Vitest's own order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  resolve: sourceResolve,
  ssr: { resolve: { conditions: sourceResolve!.conditions, externalConditions: sourceResolve!.conditions } },
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
    sequence: { sequencer: LongFilesFirst },
  },
});
