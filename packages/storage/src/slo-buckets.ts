// The latency bucket grid of the SLO rollups. A bucket is the smallest grid point >= the latency,
// so for any threshold T on the grid "latency <= T" is exactly "bucket <= T": objectives are
// chosen at query time without losing precision. The SQL and the TS function are built from the
// same steps so that the Grafana and report code can validate thresholds against the stored data.

/** Multiples of `step` ms up to `upTo` ms (inclusive), ascending. */
export const BUCKET_STEPS: readonly { step: number; upTo: number }[] = [
  { step: 10, upTo: 2_000 },
  { step: 100, upTo: 30_000 },
  { step: 1_000, upTo: 300_000 },
];

/** Bucket for latencies above the grid, unknown latencies, and streams without a first chunk. */
export const OVERFLOW_BUCKET_MS = 4_294_967_295;

const SMALLEST_BUCKET_MS = BUCKET_STEPS[0]!.step;

/** Bucket (upper bound, ms) of a latency in ms; null/NaN go to the overflow bucket. */
export function latencyBucketMs(ms: number | null | undefined): number {
  const value = ms ?? Number.POSITIVE_INFINITY;
  for (const { step, upTo } of BUCKET_STEPS) {
    if (value <= upTo) return Math.max(SMALLEST_BUCKET_MS, Math.ceil(value / step) * step);
  }
  return OVERFLOW_BUCKET_MS;
}

/** True when `thresholdMs` is a grid point, i.e. an SLO threshold the rollups answer exactly. */
export function isBucketBoundary(thresholdMs: number): boolean {
  return thresholdMs !== OVERFLOW_BUCKET_MS && latencyBucketMs(thresholdMs) === thresholdMs;
}

/** Every grid point, ascending (without the overflow bucket). */
export function bucketBoundaries(): number[] {
  const bounds: number[] = [];
  let from = 0;
  for (const { step, upTo } of BUCKET_STEPS) {
    for (let b = from + step; b <= upTo; b += step) bounds.push(b);
    from = upTo;
  }
  return bounds;
}

/** ClickHouse expression (UInt32) computing the same bucket for a Float64 or Nullable(Float64) expression. */
export function latencyBucketSql(msExpression: string): string {
  const value = `ifNull(toFloat64(${msExpression}), inf)`;
  const branches = BUCKET_STEPS.map(({ step, upTo }) => `${value} <= ${upTo}, ceil(${value} / ${step}) * ${step}`);
  return `toUInt32(greatest(${SMALLEST_BUCKET_MS}, multiIf(${branches.join(', ')}, ${OVERFLOW_BUCKET_MS})))`;
}
