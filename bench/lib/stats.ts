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
