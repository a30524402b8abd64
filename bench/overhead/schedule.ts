// The order of one round of the overhead benchmark: which blocks run, in which order, on which
// worker process. Kept apart from run.ts so that its balance is tested (schedule.test.ts).

/** A comparison: a variant against a baseline; `aa` = two processes of the same variant. */
export interface Pair<V extends string = string> {
  variant: V;
  baseline: V;
  aa: boolean;
}

export interface PairBlocks<V extends string = string> {
  pair: Pair<V>;
  /** Worker process index of the variant's block and of the baseline's. */
  variantProcess: number;
  baselineProcess: number;
  variantFirst: boolean;
}

/**
 * Round `round`: every pair once, as two adjacent blocks. The pairs' order rotates; within a pair
 * the order alternates from round to round (the second block of a pair can cost more than the
 * first), and the process used changes every two rounds, so that over any four consecutive rounds
 * each pair meets each combination of order and process (with two processes) exactly once. An A/A
 * pair runs its variant block on the next process, so the two processes swap roles too.
 */
export function roundSchedule<V extends string>(round: number, pairs: readonly Pair<V>[], processes: number): PairBlocks<V>[] {
  const p = Math.floor(round / 2) % processes;
  return pairs.map((_, i) => {
    const pairIndex = (i + round) % pairs.length;
    const pair = pairs[pairIndex] as Pair<V>;
    return {
      pair,
      variantProcess: pair.aa ? (p + 1) % processes : p,
      baselineProcess: p,
      variantFirst: (round + pairIndex) % 2 === 0,
    };
  });
}
