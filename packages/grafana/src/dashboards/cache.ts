// Prompt cache: is it hitting, why not, where prefixes break, evictions, and stampedes — several
// calls writing the same prefix at nearly the same time, across instances.
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import { baseDashboard, CALLS_WHERE, callSeriesSql, DASHBOARD_UID, modelVariable, panelIds, serviceVariable, SPAN_FILTER } from './common.ts';

/** Writes of one prefix closer together than this count as one stampede. */
export const STAMPEDE_WINDOW_S = 10;

export const hitRatioSql = (db: string): string =>
  callSeriesSql(
    db,
  "countIf(CacheState IN ('hit', 'partial')) / nullIf(countIf(CacheState != 'none'), 0) AS hit_ratio, sum(CacheReadTokens) / nullIf(sum(InputTokens), 0) AS cached_token_share",
);

export const missesByReasonSql = (db: string): string =>
  callSeriesSql(db, 'count() AS misses', " AND CacheState = 'miss'", 'CacheMissReason');

export const breakAtSql = (db: string): string =>
  [
  'SELECT CacheBreakAt AS break_at, count() AS calls',
  `FROM ${db}.llm_calls FINAL`,
  `${CALLS_WHERE} AND CacheMissReason = 'prefix_changed'`,
  'GROUP BY break_at',
  'ORDER BY calls DESC',
].join('\n');

export const evictionsSql = (db: string): string =>
  callSeriesSql(db, 'count() AS evictions', " AND CacheMissReason = 'evicted'", 'Provider');

// otel_traces rather than llm_calls: the instance id is a resource attribute.
export const stampedeSql = (db: string): string =>
  [
  "SELECT SpanAttributes['llm.cache.prefix_hash'] AS prefix_hash,",
  `  toStartOfInterval(Timestamp, INTERVAL ${STAMPEDE_WINDOW_S} SECOND) AS window_start,`,
  '  uniqExact(TraceId, SpanId) AS writes,',
  "  uniqExact(ResourceAttributes['service.instance.id']) AS instances,",
  "  sum(toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_creation.input_tokens'])) AS tokens_written",
  `FROM ${db}.otel_traces`,
  `WHERE $__timeFilter(Timestamp) AND SpanKind = 'Client' AND ${SPAN_FILTER}`,
  "  AND SpanAttributes['llm.cache.prefix_hash'] != ''",
  "  AND toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_creation.input_tokens']) > 0",
  "  AND toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_read.input_tokens']) = 0",
  'GROUP BY prefix_hash, window_start',
  'HAVING writes > 1',
  'ORDER BY writes DESC, window_start',
  'LIMIT 100',
].join('\n');

export function cacheDashboard(db: string): dashboard.Dashboard {
  const nextId = panelIds();
  return baseDashboard(DASHBOARD_UID.cache, 'LLM Prism — prompt cache', 'Prompt-cache hits, misses by reason, prefix breaks, evictions and stampedes.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withPanel(
      new timeseries.PanelBuilder()
        .id(nextId())
        .title('Cache hit ratio and cached-token share')
        .description('hit_ratio = calls that read from the cache (hit or partial) ÷ calls with an eligible prefix; cached_token_share = cache-read tokens ÷ input tokens.')
        .withTarget(chTimeSeries(hitRatioSql(db)))
        .unit('percentunit')
        .min(0)
        .max(1)
        .height(8)
        .span(12),
    )
    .withPanel(new timeseries.PanelBuilder().id(nextId()).title('Cache misses by reason').withTarget(chTimeSeries(missesByReasonSql(db))).height(8).span(12))
    .withPanel(
      new barchart.PanelBuilder()
        .id(nextId())
        .title('Where prefixes break')
        .description('First diverging segment of prompts whose previous turn left a cached prefix (miss reason prefix_changed).')
        .withTarget(chQuery(breakAtSql(db)))
        .xField('break_at')
        .height(8)
        .span(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .id(nextId())
        .title('Evictions by provider')
        .description('Misses of a prefix that was read from cache within its TTL.')
        .withTarget(chTimeSeries(evictionsSql(db)))
        .height(8)
        .span(8),
    )
    .withPanel(
      new table.PanelBuilder()
        .id(nextId())
        .title(`Cache stampedes — one prefix written by several calls within ${STAMPEDE_WINDOW_S} s`)
        .withTarget(chQuery(stampedeSql(db)))
        .height(8)
        .span(8),
    )
    .build();
}
