// Latency histograms on logarithmic buckets, as the hourly rollups keep them: a percentile read
// from one is within 2.2 % of the exact value, and histograms merge by adding counts, so a
// percentile over a month costs O(hours × buckets) instead of a sort of every call.

/**
 * Buckets per doubling: OpenTelemetry's exponential histogram at scale 4. Finer buckets cost merge
 * time in proportion (a 30-day panel merges every occupied bucket of every hour and series).
 */
export const BUCKETS_PER_DOUBLING = 16;

/** Each bucket is γ = 2^(1/16) ≈ 1.0443 times wider than the one below: (γ − 1) / (γ + 1) < 2.2 % relative error. */
export const BUCKET_GROWTH = 2 ** (1 / BUCKETS_PER_DOUBLING);

/** Values at or below this (ms, or tokens/s) share bucket 0, shown as 0. */
export const BUCKET_FLOOR = 0.01;

/**
 * The bucket of a value (UInt16): 0 up to BUCKET_FLOOR, else k with
 * FLOOR·γ^(k−1) < value ≤ FLOOR·γ^k (k ≤ 640 up to 10^9). Total: every branch of an `if` is
 * evaluated for every row, and one conversion error in a view would fail the whole insert after
 * otel_traces stored it, so 0, negatives and non-finite values (llm_calls holds none) map to 0
 * without a conversion that can throw.
 */
export const histogramBucketSql = (value: string): string =>
  `toUInt16(least(65535, ifNotFinite(ceil(log2(greatest(${value}, ${BUCKET_FLOOR}) / ${BUCKET_FLOOR}) * ${BUCKETS_PER_DOUBLING}), 0)))`;

/** A histogram (Map(UInt16, UInt64): bucket → calls) of `column` over the rows meeting `where`, NULLs left out. */
export const histogramOfCalls = (column: string, where: string): string =>
  `sumMapIf(map(${histogramBucketSql(`assumeNotNull(${column})`)}, toUInt64(1)), ${column} IS NOT NULL AND ${where})`;

/**
 * The `level` percentile of a histogram (an expression of type Map(UInt16, UInt64), e.g.
 * `sumMap(TtftMs)`), NULL when it is empty: the bucket of the value of nearest rank ⌈level · n⌉,
 * shown as the point of the bucket closest to all its values in relative terms, 2·FLOOR·γ^k / (γ + 1).
 */
export function histogramPercentileSql(level: number, histogram: string): string {
  const counts = `mapValues(${histogram})`;
  const bucket = `arrayElement(mapKeys(${histogram}), arrayFirstIndex(c -> c >= ${nearestRankSql(level, `arraySum(${counts})`)}, arrayCumSum(${counts})))`;
  return `if(arraySum(${counts}) = 0, NULL, if(${bucket} = 0, 0, ${BUCKET_FLOOR} * pow(2, ${bucket} / ${BUCKETS_PER_DOUBLING}) * 2 / (${BUCKET_GROWTH} + 1)))`;
}

/** The rank, from 1, of the `level` percentile of `n` values: nearest rank ⌈level · n⌉. */
const nearestRankSql = (level: number, n: string): string => `greatest(1, ceil(${level} * ${n}))`;

/**
 * The exact `level` percentile of `column` over the rows meeting `where`, NULLs left out, NULL
 * when there are none: the value of the same rank as histogramPercentileSql's, whose bucket
 * the dashboards show. For figures read from llm_calls (the report) next to a histogram's.
 */
export function exactPercentileSql(level: number, column: string, where: string): string {
  const of = `${column} IS NOT NULL AND ${where}`;
  return `if(countIf(${of}) = 0, NULL, arrayElement(arraySort(groupArrayIf(assumeNotNull(${column}), ${of})), toUInt64(${nearestRankSql(level, `countIf(${of})`)})))`;
}
