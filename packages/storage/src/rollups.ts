// Per-minute SLO rollups: latency histograms on the grid of slo-buckets.ts, each bucket holding the
// set of distinct span identities, so thresholds are picked at query time and a span delivered
// twice is counted once. Fed by views on llm_calls' inserts (i.e. on every otel_traces insert).
import { ABORTED, ABORTED_BEFORE_FIRST_CHUNK, SUCCEEDED } from './call-metrics.ts';
import { addKeyColumn, type DdlContext, dropView, localTable, materializedView, table } from './ddl.ts';
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

const KEY = 'ServiceName, Minute, Route, Model, Provider';
const TTFT_KEY = `${KEY}, TtftBucketMs`;
const COMPLETION_KEY = `${KEY}, Good, DurationBucketMs`;

/** Migration 3: the rollups as first released (aborted calls left out of both). */
export function rollupsDdl(ctx: DdlContext): string[] {
  const body = (name: string, key: string): string => `PARTITION BY toYYYYMM(Minute)
ORDER BY (${key})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
  return [
    ...table(ctx, {
      name: LLM_TTFT_MINUTE,
      columns: `${dimensions}
    TtftBucketMs UInt32,
    Calls AggregateFunction(uniqExact, String)`,
      engine: 'AggregatingMergeTree',
      body: body(LLM_TTFT_MINUTE, TTFT_KEY),
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
      body: body(LLM_COMPLETION_MINUTE, COMPLETION_KEY),
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

/**
 * Migration 4: aborted calls become events users feel. TTFT: a streamed call aborted before its
 * first chunk gets `Abandoned = 1` and the bucket of its duration in TtftBucketMs (how long the
 * user waited): a bad event for thresholds below that wait, no event otherwise. Completion: an
 * aborted call gets `Aborted = 1` (and Good = 0): a bad event for thresholds below its duration.
 * Rows stored before have 0 in both columns, which is what they were. Each new view is created
 * before the old one is dropped, so no insert misses the rollups; an insert seen by both views
 * lands in the same row and is counted once (uniqExact).
 */
export function rollupAbortsDdl(ctx: DdlContext): string[] {
  return [
    ...addKeyColumn(ctx, { table: LLM_TTFT_MINUTE, column: 'Abandoned UInt8', after: 'TtftBucketMs', orderBy: TTFT_KEY }),
    materializedView(ctx, {
      name: `${LLM_TTFT_MINUTE}_mv2`,
      to: LLM_TTFT_MINUTE,
      select: `WITH
    toUInt8(${ABORTED_BEFORE_FIRST_CHUNK}) AS _Abandoned,
    if(_Abandoned = 1, DurationMs, TtftMs) AS _WaitMs
SELECT
    ${selectDimensions},
    ${latencyBucketSql('_WaitMs')} AS TtftBucketMs,
    _Abandoned AS Abandoned,
    uniqExactState(TraceId || SpanId) AS Calls
FROM ${localTable(ctx, LLM_CALLS)}
WHERE Streamed = 1
GROUP BY Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned`,
    }),
    dropView(ctx, `${LLM_TTFT_MINUTE}_mv`),
    ...addKeyColumn(ctx, { table: LLM_COMPLETION_MINUTE, column: 'Aborted UInt8', after: 'DurationBucketMs', orderBy: COMPLETION_KEY }),
    materializedView(ctx, {
      name: `${LLM_COMPLETION_MINUTE}_mv2`,
      to: LLM_COMPLETION_MINUTE,
      select: `SELECT
    ${selectDimensions},
    toUInt8(${SUCCEEDED}) AS Good,
    ${latencyBucketSql('DurationMs')} AS DurationBucketMs,
    toUInt8(${ABORTED}) AS Aborted,
    uniqExactState(TraceId || SpanId) AS Calls
FROM ${localTable(ctx, LLM_CALLS)}
GROUP BY Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted`,
    }),
    dropView(ctx, `${LLM_COMPLETION_MINUTE}_mv`),
  ];
}
