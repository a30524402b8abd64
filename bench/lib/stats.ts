// Order statistics for benchmark samples. Quantiles interpolate linearly between order statistics
// (type 7, as numpy and R default), so p50 of an even count is the mean of the middle two.

export interface Summary {
  n: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  p95: number;
  p99: number;
  max: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p25: quantile(s, 0.25),
    median: quantile(s, 0.5),
    p75: quantile(s, 0.75),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s.at(-1) ?? Number.NaN,
  };
}

/** A statistic with its confidence interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
  /** Confidence level of [low, high]. */
  level: number;
}

/** Mulberry32: a seeded generator, so a result file's intervals can be recomputed exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs: readonly number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);

/**
 * The median of `samples` (one per round) with a percentile-bootstrap confidence interval:
 * `resamples` resamplings of the rounds with replacement, the interval between the
 * (1 − level)/2 and (1 + level)/2 quantiles of their medians. Rounds are the unit resampled, so
 * paired figures (a ratio of two variants measured in the same round) keep their pairing.
 *
 * With `clusterOf` (a cluster id per sample: the worker processes a round ran on), the resampling
 * has two stages: the clusters with replacement, then each drawn cluster's rounds with replacement.
 * Rounds of one process share that process's offset (its JIT decisions and heap layout, kept for its
 * whole life), so resampling rounds alone would treat a few processes' offsets as if every round
 * had drawn its own, and give an interval narrower than a rerun with other processes bears out.
 */
export function medianCI(samples: readonly number[], level = 0.95, resamples = 2000, seed = 1, clusterOf?: readonly number[]): Estimate {
  if (samples.length === 0) return { value: Number.NaN, low: Number.NaN, high: Number.NaN, level };
  const random = seeded(seed);
  const index = (n: number) => Math.floor(random() * n);
  const clusters = clusterOf ? [...Map.groupBy(samples, (_, i) => clusterOf[i] as number).values()] : [samples];
  const medians: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const pick: number[] = [];
    for (let c = 0; c < clusters.length; c++) {
      const cluster = clusters.length === 1 ? (clusters[0] as readonly number[]) : (clusters[index(clusters.length)] as readonly number[]);
      for (let i = 0; i < cluster.length; i++) pick.push(cluster[index(cluster.length)] as number);
    }
    medians.push(median(pick));
  }
  medians.sort((a, b) => a - b);
  return { value: median(samples), low: quantile(medians, (1 - level) / 2), high: quantile(medians, (1 + level) / 2), level };
}

/** The two intervals share no value: the difference between the estimates is outside the noise. */
export const separated = (a: Estimate, b: Estimate): boolean => a.high < b.low || b.high < a.low;

/**
 * How a run read a cost injected on purpose (a control): `outside` — its interval misses the ratio
 * the cost should give; `found` — holds it and excludes 1; `unresolved` — holds it, and 1 as well.
 */
export function controlReading(interval: Estimate, expected: number): 'outside' | 'found' | 'unresolved' {
  if (expected < interval.low || expected > interval.high) return 'outside';
  return interval.low > 1 ? 'found' : 'unresolved';
}
