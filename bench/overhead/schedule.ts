// The order of one round of the overhead benchmark: which blocks run, in which order, on which
// worker process. Kept apart from run.ts so that its balance is tested (schedule.test.ts).

/** A comparison: a variant against a baseline; `aa` = the same variant on both sides. */
export interface Pair<V extends string = string> {
  variant: V;
  baseline: V;
  aa: boolean;
}

export interface PairBlocks<V extends string = string> {
  pair: Pair<V>;
  /**
   * Which of the pair's own worker processes runs each side's block (the same index on both sides:
   * every comparison has `processes` processes of its own per side, none shared with another).
   */
  process: number;
  variantFirst: boolean;
}

/**
 * Round `round`: every pair once, as two adjacent blocks. The pairs' order rotates; the process
 * changes every round and the order within a pair every `processes` rounds, so that over any
 * 2 × `processes` consecutive rounds each pair meets each combination of order and process exactly
 * once, and every process runs exactly one block in any `processes` consecutive rounds: all
 * processes, variants' and baselines' alike, run at one cadence. (A bare SDK process run at a
 * variant's cadence while its baseline ran at a busier one — shared by several comparisons — came out
 * ×1.2 of it: bench/README.md, ninth look.)
 */
export function roundSchedule<V extends string>(round: number, pairs: readonly Pair<V>[], processes: number): PairBlocks<V>[] {
  return pairs.map((_, i) => {
    const pairIndex = (i + round) % pairs.length;
    return {
      pair: pairs[pairIndex] as Pair<V>,
      process: round % processes,
      variantFirst: (Math.floor(round / processes) + pairIndex) % 2 === 0,
    };
  });
}
