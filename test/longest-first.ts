// Vitest orders the test files of a fresh checkout by size, having no timings of them yet: the
// node22 contract run (a small file that runs Vitest again, ~140 s) then starts last and one
// worker spends the end of `npm test` alone on it. The longest files measured start first; the
// rest keep Vitest's order (by its recorded durations once it has them, else by size).
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST = ['test/node22-contract.test.ts', 'test/installed-packages.test.ts', 'test/slo-drill.test.ts'];

const rank = (spec: TestSpecification): number => {
  const i = LONGEST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
  return i < 0 ? LONGEST.length : i;
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
  }
}
