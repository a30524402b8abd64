export { DEFAULT_DATABASE, DEFAULT_DATA_DIR, openStorage, type Storage, type StorageOptions } from './storage.ts';
export { encodeTraceRow, encodeTraceRows, encodedRows, formatTimestamp, type EncodedRows, type EncodedTraceRow, type OtelTraceRow, type SpanRow } from './otel-traces.ts';
export {
  LLM_CALL_HOURS,
  LLM_CALLS,
  LLM_COMPLETION_COUNTS,
  LLM_COST_HOURS,
  LLM_COST_MINUTES,
  LLM_COMPLETION_MINUTE,
  LLM_DUPLICATE_CALLS,
  LLM_DUPLICATE_HOURS,
  LLM_LATENCY_HOURS,
  LLM_LATENCY_MINUTES,
  LLM_TTFT_COUNTS,
  LLM_TTFT_MINUTE,
  OTEL_TRACES,
  OTEL_TRACES_TRACE_ID_TS,
  SCHEMA_MIGRATIONS,
} from './tables.ts';
export { MAX_RETENTION_DAYS, MIN_ROLLUP_RETENTION_DAYS, retentionDaysFor, validateRetentionDays } from './retention.ts';
export { INSERTED_TABLES, type InsertQuorum } from './durability.ts';
export {
  BUCKET_STEPS,
  OVERFLOW_BUCKET_MS,
  bucketBoundaries,
  isBucketBoundary,
  latencyBucketMs,
  latencyBucketSql,
} from './slo-buckets.ts';
export { type Migration, migrations, schemaDdl } from './migrations.ts';
export { HOUR_GRAIN, MINUTE_GRAIN, startOfGrain, type TimeGrain } from './time-grains.ts';
export { CALL_HOUR_MEASURES, hourOf, LATENCY_HOUR_MEASURES, latencyHourMeasure, type HourMeasure } from './call-hours.ts';
export { BUCKET_FLOOR, BUCKET_GROWTH, BUCKETS_PER_DOUBLING, exactPercentileSql, histogramBucketSql, histogramPercentileSql } from './latency-histogram.ts';
export {
  ABORTED,
  ABORTED_BEFORE_FIRST_CHUNK,
  CACHE_ELIGIBLE,
  CACHE_HIT,
  CACHE_MISS,
  CACHED_TOKEN_SHARE,
  ERRORED,
  FAILED,
  FAILED_OUTCOMES,
  HIT_RATIO,
  HIT_RATIO_OF_COUNTS,
  MISS_REASON,
  SUCCEEDED,
  TRUNCATED,
} from './call-metrics.ts';
export {
  costedCallsSql,
  costSql,
  LONG_INPUT_FLOOR,
  priceModelSql,
  WASTE_CAUSES,
  type ComputedDimension,
  type CostScope,
  type TieredPart,
  type TieredQuery,
  type WasteCause,
} from './cost.ts';
export { DUPLICATE_WINDOW_S } from './duplicate-calls.ts';
export { mergePrices, PRICE_TABLE, type ModelPrice, type TokenPrices } from './prices.ts';
export { type DdlContext } from './ddl.ts';
