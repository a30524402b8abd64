// Per-minute SLO rollups: latency histograms on the grid of slo-buckets.ts, each bucket holding the
// set of distinct span identities, so thresholds are picked at query time and a span delivered
// twice is counted once. Fed by views on llm_calls' inserts (i.e. on every otel_traces insert).
import { type DdlContext, localTable, materializedView, table, ttlClause } from './ddl.ts';
import { LLM_CALLS } from './llm-calls.ts';
import { latencyBucketSql } from './slo-buckets.ts';

export const LLM_TTFT_MINUTE = 'llm_ttft_minute';
export const LLM_COMPLETION_MINUTE = 'llm_completion_minute';

/** Rollups are small and serve long SLO windows and reports: they keep at least this long. */
export const MIN_ROLLUP_RETENTION_DAYS = 400;

export function rollupRetentionDays(retentionDays: number | undefined): number | undefined {
  return retentionDays === undefined ? undefined : Math.max(retentionDays, MIN_ROLLUP_RETENTION_DAYS);
}

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
  const body = (bucket: string): string => `PARTITION BY toYYYYMM(Minute)
ORDER BY (ServiceName, Minute, Route, Model, Provider, ${bucket})${ttlClause('Minute', rollupRetentionDays(ctx.retentionDays))}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
  return [
    ...table(ctx, {
      name: LLM_TTFT_MINUTE,
      columns: `${dimensions}
    TtftBucketMs UInt32,
    Calls AggregateFunction(uniqExact, String)`,
      engine: 'AggregatingMergeTree',
      body: body('TtftBucketMs'),
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
      body: body('Good, DurationBucketMs'),
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
