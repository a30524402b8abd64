import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { sourceResolve } from './vitest.shared.ts';

/**
 * Files of minutes each, about 40 % of the suite's time: started first, so that neither worker is
 * left running one of them alone at the end (on a fresh clone vitest has no timings to order by).
 */
const LONGEST = ['test/installed-packages.test.ts', 'test/node22-contract.test.ts', 'test/slo-drill.test.ts', 'test/reliability/bad-input.test.ts'];
const rank = (file: TestSpecification): number => {
  const i = LONGEST.findIndex((path) => file.moduleId.endsWith(path));
  return i === -1 ? LONGEST.length : i;
};
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
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
    sequence: { sequencer: LongestFirst },
  },
});
