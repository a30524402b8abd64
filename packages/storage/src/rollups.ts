// Per-minute SLO rollups: latency histograms on the grid of slo-buckets.ts, each bucket holding the
// set of distinct span identities, so thresholds are picked at query time and a span delivered
// twice is counted once. Fed by views on llm_calls' inserts (i.e. on every otel_traces insert).
import { type DdlContext, localTable, materializedView, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALLS, LLM_COMPLETION_MINUTE, LLM_TTFT_MINUTE } from './tables.ts';
import { latencyBucketSql } from './slo-buckets.ts';

const dimensions = `
    Minute DateTime CODEC(Delta, ZSTD(1)),
    ServiceName LowCardinality(String),
    Route LowCardinality(String),
    Model LowCardinality(String),
    Provider LowCardinality(String),`;

/** The model the application asked for names the SLO; the response model only when none was recorded. */
const selectDimensions = `toStartOfMinute(Timestamp) AS Minute,
    ServiceName,
    Route,
    if(RequestModel != '', RequestModel, ResponseModel) AS Model,
    Provider`;

export function rollupsDdl(ctx: DdlContext): string[] {
  const body = (name: string, bucket: string): string => `PARTITION BY toYYYYMM(Minute)
ORDER BY (ServiceName, Minute, Route, Model, Provider, ${bucket})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
  return [
    ...table(ctx, {
      name: LLM_TTFT_MINUTE,
      columns: `${dimensions}
    TtftBucketMs UInt32,
    Calls AggregateFunction(uniqExact, String)`,
      engine: 'AggregatingMergeTree',
      body: body(LLM_TTFT_MINUTE, 'TtftBucketMs'),
    }),
    materializedView(ctx, {
      name: `${LLM_TTFT_MINUTE}_mv`,
      to: LLM_TTFT_MINUTE,
      select: `SELECT
    ${selectDimensions},
    ${latencyBucketSql('TtftMs')} AS TtftBucketMs,
    uniqExactState(TraceId || SpanId) AS Calls
FROM ${localTable(ctx, LLM_CALLS)}
WHERE Streamed = 1 AND Outcome != 'aborted'
GROUP BY Minute, ServiceName, Route, Model, Provider, TtftBucketMs`,
    }),
    ...table(ctx, {
      name: LLM_COMPLETION_MINUTE,
      columns: `${dimensions}
    Good UInt8,
    DurationBucketMs UInt32,
    Calls AggregateFunction(uniqExact, String)`,
      engine: 'AggregatingMergeTree',
      body: body(LLM_COMPLETION_MINUTE, 'Good, DurationBucketMs'),
    }),
    materializedView(ctx, {
      name: `${LLM_COMPLETION_MINUTE}_mv`,
      to: LLM_COMPLETION_MINUTE,
      select: `SELECT
    ${selectDimensions},
    toUInt8(Outcome = 'success') AS Good,
    ${latencyBucketSql('DurationMs')} AS DurationBucketMs,
    uniqExactState(TraceId || SpanId) AS Calls
FROM ${localTable(ctx, LLM_CALLS)}
WHERE Outcome != 'aborted'
GROUP BY Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs`,
    }),
  ];
}
