export { DEFAULT_DATABASE, DEFAULT_DATA_DIR, openStorage, type Storage, type StorageOptions } from './storage.ts';
export { OTEL_TRACES, OTEL_TRACES_TRACE_ID_TS, type OtelTraceRow } from './otel-traces.ts';
export { LLM_CALLS } from './llm-calls.ts';
export { LLM_COMPLETION_MINUTE, LLM_TTFT_MINUTE, MIN_ROLLUP_RETENTION_DAYS } from './rollups.ts';
export {
  BUCKET_STEPS,
  OVERFLOW_BUCKET_MS,
  bucketBoundaries,
  isBucketBoundary,
  latencyBucketMs,
  latencyBucketSql,
} from './slo-buckets.ts';
export { type Migration, migrations, schemaDdl, SCHEMA_MIGRATIONS } from './migrations.ts';
export { type DdlContext } from './ddl.ts';
export { tempDataDir } from './temp-data-dir.ts';
