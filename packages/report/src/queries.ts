// The report's read side: one parameterised query per section, all over `llm_calls` (each call
// stored once: the insert leaves out call spans already stored, docs/clickhouse.md). User input reaches ClickHouse only as query parameters. Hits,
// misses and the hit ratio are the dashboards' definitions (@llm-prism/storage call-metrics.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import { tieredSource, type TieredRange } from '@llm-prism/grafana';
import {
  CACHE_MISS,
  CACHED_TOKEN_SHARE,
  costSql,
  exactPercentileSql,
  HIT_RATIO,
  latencyHourMeasure,
  LLM_DUPLICATE_CALLS,
  MISS_REASON,
  type ModelPrice,
  type WasteCause,
} from '@llm-prism/storage';

export interface ReportScope {
  /** Inclusive start and exclusive end, in ms since the epoch. */
  from: number;
  to: number;
  /** Limit to one service; all services when absent. */
  service?: string;
}

export interface AnatomyRow {
  model: string;
  calls: number;
  streamed: number;
  /** Client start-up (`llm.client_setup_ms`): null when no call of the model recorded it. */
  setup_p50: number | null;
  setup_p95: number | null;
  queue_p50: number | null;
  queue_p95: number | null;
  prefill_p50: number | null;
  prefill_p95: number | null;
  ttft_p50: number | null;
  ttft_p95: number | null;
  decode_p50: number | null;
  decode_p95: number | null;
  total_p50: number;
  total_p95: number;
}

export interface CacheRow {
  provider: string;
  calls: number;
  hit: number;
  partial: number;
  write: number;
  miss: number;
  none: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** (hit + partial) ÷ (hit + partial + write + miss); null without an eligible prefix. */
  hit_ratio: number | null;
  /** cache-read ÷ input tokens; null without input tokens. */
  cached_token_share: number | null;
}

export interface MissRow {
  provider: string;
  reason: string;
  break_at: string;
  calls: number;
}

export interface OutcomeRow {
  provider: string;
  model: string;
  outcome: string;
  finish_reason: string;
  error_type: string;
  calls: number;
}

export interface RetryRow {
  provider: string;
  calls: number;
  retried_calls: number;
  retries: number;
  rate_limited_attempts: number;
  min_headroom: number | null;
}

export interface SlowCallRow {
  timestamp: string;
  trace_id: string;
  span_id: string;
  service: string;
  model: string;
  outcome: string;
  duration_ms: number;
  ttft_ms: number | null;
}

export interface CostByModelRow {
  service: string;
  model: string;
  calls: number;
  /** Calls whose model or a token class they used has no price: left out of cost_usd, never counted as free. */
  unpriced_calls: number;
  /** USD; null when no call of the row is priced. */
  cost_usd: number | null;
}

export interface WasteRow {
  cause: WasteCause;
  calls: number;
  unpriced_calls: number;
  waste_usd: number | null;
}

export interface MissWasteRow extends Omit<WasteRow, 'cause'> {
  reason: string;
  break_at: string;
}

export interface AttemptWasteRow {
  failed_attempts: number;
  rate_limited_attempts: number;
  retried_calls: number;
}

export interface ConversationCostRow {
  conversation: string;
  calls: number;
  unpriced_calls: number;
  cost_usd: number | null;
}

const SERVICE_FILTER = "({service:String} = '' OR ServiceName = {service:String})";
const scopeWhere = `Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
  AND ${SERVICE_FILTER}`;
/** The report's range for the hourly rollups: whole hours in [from, to), the partial ones from llm_calls. */
const REPORT_RANGE: TieredRange = {
  calls: 'Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})',
  hoursFrom: 'toDateTime(intDiv({from:Int64} + 3599999, 3600000) * 3600)',
  hoursTo: 'toDateTime(intDiv({to:Int64}, 3600000) * 3600)',
};

/** The calls a latency figure's percentiles are over: the latency dashboard's (@llm-prism/storage call-hours.ts). */
function population(column: string): string {
  const where = latencyHourMeasure(column).histogram?.where;
  if (where === undefined) throw new Error(`no latency histogram of ${column}`);
  return where;
}

// Exact percentiles, as people check the report against their own numbers: the value of the rank
// the dashboards' histograms read, over the same calls, where the dashboards show its bucket.
const q = (level: number, col: string) => exactPercentileSql(level, col, population(col));

/** A database name as a quoted identifier (it comes from configuration; quote it anyway). */
export function ident(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** Every report query, over `llm_calls` in `database`. */
export const sqlFor = (database: string) => {
  const calls = `${ident(database)}.llm_calls`;
  return {
  anatomy: `SELECT RequestModel AS model, count() AS calls, countIf(Streamed = 1) AS streamed,
    ${q(0.5, 'ClientSetupMs')} AS setup_p50, ${q(0.95, 'ClientSetupMs')} AS setup_p95,
    ${q(0.5, 'QueueMs')} AS queue_p50, ${q(0.95, 'QueueMs')} AS queue_p95,
    ${q(0.5, 'PrefillMs')} AS prefill_p50, ${q(0.95, 'PrefillMs')} AS prefill_p95,
    ${q(0.5, 'TtftMs')} AS ttft_p50, ${q(0.95, 'TtftMs')} AS ttft_p95,
    ${q(0.5, 'DecodeMs')} AS decode_p50, ${q(0.95, 'DecodeMs')} AS decode_p95,
    ${exactPercentileSql(0.5, 'DurationMs', '1')} AS total_p50, ${exactPercentileSql(0.95, 'DurationMs', '1')} AS total_p95
  FROM ${calls} WHERE ${scopeWhere}
  GROUP BY model ORDER BY prefill_p95 DESC NULLS LAST, model`,
  cache: `SELECT Provider AS provider, count() AS calls,
    countIf(CacheState = 'hit') AS hit, countIf(CacheState = 'partial') AS partial,
    countIf(CacheState = 'write') AS write, countIf(CacheState = 'miss') AS miss,
    countIf(CacheState IN ('none', '')) AS none,
    sum(InputTokens) AS input_tokens, sum(CacheReadTokens) AS cache_read_tokens,
    sum(CacheWriteTokens) AS cache_write_tokens,
    ${HIT_RATIO} AS hit_ratio, ${CACHED_TOKEN_SHARE} AS cached_token_share
  FROM ${calls} WHERE ${scopeWhere}
  GROUP BY provider ORDER BY provider`,
  misses: `SELECT Provider AS provider, ${MISS_REASON} AS reason, CacheBreakAt AS break_at, count() AS calls
  FROM ${calls} WHERE ${scopeWhere} AND ${CACHE_MISS}
  GROUP BY provider, reason, break_at ORDER BY calls DESC, provider, reason, break_at`,
  outcomes: `SELECT Provider AS provider, RequestModel AS model, Outcome AS outcome, FinishReason AS finish_reason,
    ErrorType AS error_type, count() AS calls
  FROM ${calls} WHERE ${scopeWhere}
  GROUP BY provider, model, outcome, finish_reason, error_type ORDER BY calls DESC, provider, model, outcome`,
  retries: `SELECT Provider AS provider, count() AS calls, countIf(Retries > 0) AS retried_calls,
    sum(Retries) AS retries, sum(RateLimitedAttempts) AS rate_limited_attempts,
    minIf(RateLimitHeadroom, isNotNull(RateLimitHeadroom)) AS min_headroom
  FROM ${calls} WHERE ${scopeWhere}
  GROUP BY provider ORDER BY provider`,
  slowest: `SELECT toString(Timestamp) AS timestamp, TraceId AS trace_id, SpanId AS span_id, ServiceName AS service,
    RequestModel AS model, Outcome AS outcome, DurationMs AS duration_ms, TtftMs AS ttft_ms
  FROM ${calls} WHERE ${scopeWhere}
  ORDER BY DurationMs DESC, trace_id LIMIT {limit:UInt32}`,
  } as const;
};

/** The cost queries of the cost dashboard (@llm-prism/storage cost.ts) over the report's scope. */
export const costSqlFor = (database: string, prices: readonly ModelPrice[]) =>
  costSql(prices, {
    calls: `${ident(database)}.llm_calls`,
    duplicates: `${ident(database)}.${LLM_DUPLICATE_CALLS}`,
    where: scopeWhere,
    tiered: (q) => tieredSource(ident(database), { ...q, filter: SERVICE_FILTER, range: REPORT_RANGE }),
  });

export async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const rs = await client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    // 64-bit integers as numbers: the counts here are far below 2^53.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return rs.json<T>();
}

export function scopeParams(s: ReportScope): Record<string, unknown> {
  return { from: s.from, to: s.to, service: s.service ?? '' };
}
