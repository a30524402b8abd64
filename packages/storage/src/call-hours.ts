// Hourly rollups of llm_calls for the dashboards' long ranges: a 30-day panel reads
// O(hours × series) rows instead of every call. Counts and sums per hour and dimension in
// llm_call_hours; latency histograms (latency-histogram.ts) per hour, service and model in
// llm_latency_hours. Fed by views on llm_calls' inserts, which are exactly-once (insert-dedup.ts),
// so the rollups are too. Panels read whole hours from here and the partial hours at the edges of
// their range from llm_calls (docs/clickhouse.md, "Hourly rollups").
import { ABORTED } from './call-metrics.ts';
import { histogramOfCalls } from './latency-histogram.ts';
import { backfillWhileEmpty, type DdlContext, localTable, materializedView, qualified, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALL_HOURS, LLM_CALLS, LLM_LATENCY_HOURS } from './tables.ts';
import { HOUR_GRAIN, startOfGrain, type TimeGrain } from './time-grains.ts';

/** An hour as the Grafana plugin buckets time (`$__timeInterval`): epoch-aligned whatever the server's time zone. */
export const hourOf = (timestamp: string): string => startOfGrain(HOUR_GRAIN, timestamp);

/**
 * The dimensions of llm_call_hours, each an llm_calls column of the same name: every panel that
 * groups or filters calls by one of them can read the rollup.
 */
export const CALL_HOUR_DIMENSIONS = [
  'ServiceName',
  'RequestModel',
  'Provider',
  'Outcome',
  'FinishReason',
  'ErrorType',
  'CacheState',
  'CacheMissReason',
  'CacheBreakAt',
] as const;

/** A figure of llm_call_hours: how one call contributes (over llm_calls columns) and how hours combine. */
export interface HourMeasure {
  name: string;
  type: string;
  /** The aggregate over llm_calls rows giving one hour's value. */
  ofCalls: string;
  /** The aggregate combining rows of the rollup (or of both sources). */
  merge: 'sum' | 'min' | 'max' | 'sumMap';
  /** A latency histogram's column and the calls it is about (ofCalls is histogramOfCalls of these). */
  histogram?: { column: string; where: string };
}

/**
 * A measure may share its column's name (`sum(InputTokens) AS InputTokens`) only if no other
 * measure reads that column: ClickHouse substitutes aliases inside the same SELECT.
 */
export const CALL_HOUR_MEASURES: readonly HourMeasure[] = [
  { name: 'Calls', type: 'UInt64', ofCalls: 'count()', merge: 'sum' },
  /** Calls that streamed some output before they ended (an error among them is a mid-stream error). */
  { name: 'CallsWithOutput', type: 'UInt64', ofCalls: 'countIf(Chunks > 0)', merge: 'sum' },
  { name: 'RetriedCalls', type: 'UInt64', ofCalls: 'countIf(Retries > 0)', merge: 'sum' },
  { name: 'RetryAttempts', type: 'UInt64', ofCalls: 'sum(Retries)', merge: 'sum' },
  { name: 'RateLimitedAttempts', type: 'UInt64', ofCalls: 'sum(RateLimitedAttempts)', merge: 'sum' },
  { name: 'InputTokens', type: 'UInt64', ofCalls: 'sum(InputTokens)', merge: 'sum' },
  { name: 'CacheReadTokens', type: 'UInt64', ofCalls: 'sum(CacheReadTokens)', merge: 'sum' },
  { name: 'MinRateLimitHeadroom', type: 'Nullable(Float64)', ofCalls: 'min(RateLimitHeadroom)', merge: 'min' },
];

/** Streamed calls that were not broken off: the phase split of the latency dashboard. */
const STREAMED_COMPLETED = `Streamed = 1 AND NOT (${ABORTED})`;

/** A latency figure of llm_latency_hours: a histogram per hour of `column` over the calls it is about. */
const histogram = (column: string, where: string): HourMeasure => ({
  name: column,
  type: 'Map(UInt16, UInt64)',
  ofCalls: histogramOfCalls(column, where),
  merge: 'sumMap',
  histogram: { column, where },
});

/**
 * llm_latency_hours' figures: latency histograms (latency-histogram.ts; read with
 * histogramPercentileSql(level, `sumMap(<name>)`)), the count of calls the phase split is about,
 * and the slowest call's duration (a bound that lets the slowest-calls table skip most calls).
 */
export const LATENCY_HOUR_MEASURES: readonly HourMeasure[] = [
  histogram('ClientSetupMs', STREAMED_COMPLETED),
  histogram('QueueMs', STREAMED_COMPLETED),
  histogram('PrefillMs', STREAMED_COMPLETED),
  histogram('DecodeMs', STREAMED_COMPLETED),
  histogram('TtftMs', 'Streamed = 1'),
  histogram('GapP95Ms', 'Chunks > 1'),
  histogram('DecodeTokensPerSec', 'DecodeTokensPerSec > 0'),
  histogram('ToolCallMs', 'ToolCallMs > 0'),
  { name: 'PhaseCalls', type: 'UInt64', ofCalls: `countIf(${STREAMED_COMPLETED})`, merge: 'sum' },
  { name: 'MaxDurationMs', type: 'Float64', ofCalls: 'max(DurationMs)', merge: 'max' },
];

/** The llm_latency_hours figure of this name (a histogram is named for the llm_calls column it is of). */
export function latencyHourMeasure(name: string): HourMeasure {
  const found = LATENCY_HOUR_MEASURES.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no latency figure ${name}`);
  return found;
}

const simpleColumn = (m: HourMeasure): string => `${m.name} SimpleAggregateFunction(${m.merge}, ${m.type})`;

const LATENCY_DIMENSIONS = ['ServiceName', 'RequestModel'] as const;

const callHoursSelect = (source: string): string => `SELECT
    ${hourOf('Timestamp')} AS Hour,
    ${CALL_HOUR_DIMENSIONS.join(',\n    ')},
    ${CALL_HOUR_MEASURES.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY Hour, ${CALL_HOUR_DIMENSIONS.join(', ')}`;

/** The llm_latency_hours rows of `source` (llm_calls columns), or those of a rollup like it at another grain. */
export const latencyRollupSelect = (source: string, grain: TimeGrain = HOUR_GRAIN): string => `SELECT
    ${startOfGrain(grain, 'Timestamp')} AS ${grain.column},
    ${LATENCY_DIMENSIONS.join(',\n    ')},
    ${LATENCY_HOUR_MEASURES.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY ${grain.column}, ${LATENCY_DIMENSIONS.join(', ')}`;

/** The settings every rollup table has: partitions by month, parts dropped whole by TTL. */
export const rollupBody = (ctx: DdlContext, name: string, grain: TimeGrain, key: string): string => `PARTITION BY toYYYYMM(${grain.column})
ORDER BY (${key})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;

const dims = (names: readonly string[]) => names.map((d) => `${d} LowCardinality(String)`).join(',\n    ');

/** A table shaped like llm_latency_hours at `grain` (migration 14's llm_latency_minutes is one too). */
export const latencyRollupTable = (ctx: DdlContext, name: string, grain: TimeGrain = HOUR_GRAIN): string[] =>
  table(ctx, {
    name,
    columns: `
    ${grain.column} DateTime CODEC(Delta, ZSTD(1)),
    ${dims(LATENCY_DIMENSIONS)},
    ${LATENCY_HOUR_MEASURES.map(simpleColumn).join(',\n    ')}`,
    engine: 'AggregatingMergeTree',
    body: rollupBody(ctx, name, grain, `ServiceName, ${grain.column}, RequestModel`),
    // Rows combine wherever they are: any shard will do for the backfill.
    shardingKey: 'rand()',
  });

/**
 * Migration 10: llm_call_hours and llm_latency_hours, their views on llm_calls, and the hours
 * already stored counted once from llm_calls (only while a table is empty, so a migration
 * interrupted and run again does not count twice). The view is created first: an insert racing the
 * backfill can land in both, which the emptiness check cannot see; start-up runs migrations before
 * the ingest accepts spans, so nothing races it in this product.
 */
export function callHoursDdl(ctx: DdlContext): string[] {
  return [
    ...table(ctx, {
      name: LLM_CALL_HOURS,
      columns: `
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ${dims(CALL_HOUR_DIMENSIONS)},
    ${CALL_HOUR_MEASURES.map(simpleColumn).join(',\n    ')}`,
      engine: 'AggregatingMergeTree',
      body: rollupBody(ctx, LLM_CALL_HOURS, HOUR_GRAIN, `ServiceName, Hour, ${CALL_HOUR_DIMENSIONS.slice(1).join(', ')}`),
      shardingKey: 'rand()',
    }),
    ...latencyRollupTable(ctx, LLM_LATENCY_HOURS),
    materializedView(ctx, { name: `${LLM_CALL_HOURS}_mv`, to: LLM_CALL_HOURS, select: callHoursSelect(localTable(ctx, LLM_CALLS)) }),
    materializedView(ctx, { name: `${LLM_LATENCY_HOURS}_mv`, to: LLM_LATENCY_HOURS, select: latencyRollupSelect(localTable(ctx, LLM_CALLS)) }),
    backfillWhileEmpty(ctx, LLM_CALL_HOURS, callHoursSelect(qualified(ctx, LLM_CALLS))),
    backfillWhileEmpty(ctx, LLM_LATENCY_HOURS, latencyRollupSelect(qualified(ctx, LLM_CALLS))),
  ];
}
