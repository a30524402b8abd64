// Hourly rollups of llm_calls for the dashboards' long ranges: a 30-day panel reads
// O(hours × series) rows instead of every call. Counts and sums per hour and dimension in
// llm_call_hours; t-digest states of the latency figures per hour, service and model in
// llm_latency_hours. Fed by views on llm_calls' inserts, which are exactly-once (insert-dedup.ts),
// so the rollups are too. Panels read whole hours from here and the partial hours at the edges of
// their range from llm_calls (docs/clickhouse.md, "Hourly rollups").
import { ABORTED } from './call-metrics.ts';
import { type DdlContext, localTable, materializedView, qualified, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALL_HOURS, LLM_CALLS, LLM_LATENCY_HOURS } from './tables.ts';

/** An hour as the Grafana plugin buckets time (`$__timeInterval`): epoch-aligned whatever the server's time zone. */
export const hourOf = (timestamp: string): string => `toStartOfInterval(toDateTime(${timestamp}), INTERVAL 3600 second)`;

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
  merge: 'sum' | 'min';
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

/**
 * The latency figures of llm_latency_hours: a t-digest state per hour of the calls each figure is
 * about (quantileTDigest; NULLs left out). Percentiles at every zoom level are merged from these
 * states, so a p95 means the same estimate in a 1-hour and a 30-day view.
 */
export interface LatencyState {
  name: string;
  column: string;
  /** Which calls the figure is about. */
  where: string;
}

/** Streamed calls that were not broken off: the phase split of the latency dashboard. */
const STREAMED_COMPLETED = `Streamed = 1 AND NOT (${ABORTED})`;

export const LATENCY_STATES: readonly LatencyState[] = [
  { name: 'ClientSetupMs', column: 'ClientSetupMs', where: STREAMED_COMPLETED },
  { name: 'QueueMs', column: 'QueueMs', where: STREAMED_COMPLETED },
  { name: 'PrefillMs', column: 'PrefillMs', where: STREAMED_COMPLETED },
  { name: 'DecodeMs', column: 'DecodeMs', where: STREAMED_COMPLETED },
  { name: 'TtftMs', column: 'TtftMs', where: 'Streamed = 1' },
  { name: 'GapP95Ms', column: 'GapP95Ms', where: 'Chunks > 1' },
  { name: 'DecodeTokensPerSec', column: 'DecodeTokensPerSec', where: 'DecodeTokensPerSec > 0' },
  { name: 'ToolCallMs', column: 'ToolCallMs', where: 'ToolCallMs > 0' },
];

/** Counts kept beside the states: the streamed, completed calls the phase split is about. */
export const LATENCY_HOUR_COUNTS: readonly HourMeasure[] = [{ name: 'PhaseCalls', type: 'UInt64', ofCalls: `countIf(${STREAMED_COMPLETED})`, merge: 'sum' }];

/** The state of one latency figure over llm_calls rows (an aggregate expression). */
export const latencyStateOfCalls = (s: LatencyState): string =>
  `quantileTDigestStateIf(assumeNotNull(${s.column}), ${s.column} IS NOT NULL AND ${s.where})`;

const simpleColumn = (m: HourMeasure): string => `${m.name} SimpleAggregateFunction(${m.merge}, ${m.type})`;

const LATENCY_DIMENSIONS = ['ServiceName', 'RequestModel'] as const;

const callHoursSelect = (source: string): string => `SELECT
    ${hourOf('Timestamp')} AS Hour,
    ${CALL_HOUR_DIMENSIONS.join(',\n    ')},
    ${CALL_HOUR_MEASURES.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY Hour, ${CALL_HOUR_DIMENSIONS.join(', ')}`;

const latencyHoursSelect = (source: string): string => `SELECT
    ${hourOf('Timestamp')} AS Hour,
    ${LATENCY_DIMENSIONS.join(',\n    ')},
    ${LATENCY_STATES.map((s) => `${latencyStateOfCalls(s)} AS ${s.name}`).join(',\n    ')},
    ${LATENCY_HOUR_COUNTS.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY Hour, ${LATENCY_DIMENSIONS.join(', ')}`;

/**
 * Migration 10: llm_call_hours and llm_latency_hours, their views on llm_calls, and the hours
 * already stored counted once from llm_calls (only while a table is empty, so a migration
 * interrupted and run again does not count twice). The view is created first: an insert racing the
 * backfill can land in both, which the emptiness check cannot see; start-up runs migrations before
 * the ingest accepts spans, so nothing races it in this product.
 */
export function callHoursDdl(ctx: DdlContext): string[] {
  const body = (name: string, key: string): string => `PARTITION BY toYYYYMM(Hour)
ORDER BY (${key})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
  const dims = (names: readonly string[]) => names.map((d) => `${d} LowCardinality(String)`).join(',\n    ');
  const backfill = (target: string, select: string): string =>
    `INSERT INTO ${qualified(ctx, target)}\nSELECT * FROM (\n${select}\n)\nWHERE (SELECT count() FROM ${qualified(ctx, target)}) = 0`;
  return [
    ...table(ctx, {
      name: LLM_CALL_HOURS,
      columns: `
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ${dims(CALL_HOUR_DIMENSIONS)},
    ${CALL_HOUR_MEASURES.map(simpleColumn).join(',\n    ')}`,
      engine: 'AggregatingMergeTree',
      body: body(LLM_CALL_HOURS, `ServiceName, Hour, ${CALL_HOUR_DIMENSIONS.slice(1).join(', ')}`),
      // Rows combine wherever they are: any shard will do for the backfill.
      shardingKey: 'rand()',
    }),
    ...table(ctx, {
      name: LLM_LATENCY_HOURS,
      columns: `
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ${dims(LATENCY_DIMENSIONS)},
    ${LATENCY_STATES.map((s) => `${s.name} AggregateFunction(quantileTDigest, Float64)`).join(',\n    ')},
    ${LATENCY_HOUR_COUNTS.map(simpleColumn).join(',\n    ')}`,
      engine: 'AggregatingMergeTree',
      body: body(LLM_LATENCY_HOURS, 'ServiceName, Hour, RequestModel'),
      shardingKey: 'rand()',
    }),
    materializedView(ctx, { name: `${LLM_CALL_HOURS}_mv`, to: LLM_CALL_HOURS, select: callHoursSelect(localTable(ctx, LLM_CALLS)) }),
    materializedView(ctx, { name: `${LLM_LATENCY_HOURS}_mv`, to: LLM_LATENCY_HOURS, select: latencyHoursSelect(localTable(ctx, LLM_CALLS)) }),
    backfill(LLM_CALL_HOURS, callHoursSelect(qualified(ctx, LLM_CALLS))),
    backfill(LLM_LATENCY_HOURS, latencyHoursSelect(qualified(ctx, LLM_CALLS))),
  ];
}
