// Prompt cache: is it hitting, why not, where prefixes break, evictions, and stampedes — several
// calls writing the same prefix at nearly the same time, across instances. Hits, misses and the
// hit ratio are the report's definitions (@llm-prism/storage call-metrics.ts).
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { CACHE_MISS, CACHED_TOKEN_SHARE, HIT_RATIO_OF_COUNTS, MISS_REASON } from '@llm-prism/storage';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import {
  barsPanel,
  baseDashboard,
  DASHBOARD_UID,
  modelVariable,
  PER_SECOND,
  panelIds,
  perSecond,
  seriesPanel,
  serviceVariable,
  SPAN_FILTER,
  tablePanel,
  unitOf,
} from './common.ts';
import { callHoursSeriesSql, callHoursSource } from './hourly-tier.ts';

/** Writes of one prefix closer together than this count as one stampede. */
export const STAMPEDE_WINDOW_S = 10;

export const hitRatioSql = (db: string): string =>
  callHoursSeriesSql(db, { select: `${HIT_RATIO_OF_COUNTS} AS hit_ratio, ${CACHED_TOKEN_SHARE} AS cached_token_share`, uses: ['CacheState'] });

export const missesByReasonSql = (db: string): string =>
  callHoursSeriesSql(db, { select: `${perSecond('sum(Calls)')} AS misses`, label: MISS_REASON, where: CACHE_MISS, uses: ['CacheState'] });

/** Share of the prefix_changed misses in range breaking at each segment (does not change with zoom). */
export const breakAtSql = (db: string): string =>
  [
    'SELECT CacheBreakAt AS break_at, sum(Calls) / sum(sum(Calls)) OVER () AS share',
    `FROM ${callHoursSource(db, ['CacheState', MISS_REASON, 'CacheBreakAt'], false)}`,
    `WHERE ${CACHE_MISS} AND ${MISS_REASON} = 'prefix_changed'`,
    'GROUP BY break_at',
    'ORDER BY share DESC, break_at',
  ].join('\n');

export const evictionsSql = (db: string): string =>
  callHoursSeriesSql(db, { select: `${perSecond('sum(Calls)')} AS evictions`, label: 'Provider', where: `${CACHE_MISS} AND ${MISS_REASON} = 'evicted'`, uses: ['CacheState', MISS_REASON] });

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
      seriesPanel(nextId(), 'Cache hit ratio and cached-token share', 'percentunit')
        .description('hit_ratio = calls that read from the cache (hit or partial) ÷ calls with an eligible prefix (hit, partial, write, miss); cached_token_share = cache-read tokens ÷ input tokens.')
        .withTarget(chTimeSeries(hitRatioSql(db)))
        .min(0)
        .max(1)
        .height(8)
        .span(12),
    )
    .withPanel(
      seriesPanel(nextId(), 'Cache misses by reason', PER_SECOND)
        .description('Calls per second that read nothing of an eligible prefix — miss and write (the prefix was stored) — by miss reason.')
        .withTarget(chTimeSeries(missesByReasonSql(db)))
        .height(8)
        .span(12),
    )
    .withPanel(
      barsPanel(nextId(), 'Where prefixes break', 'percentunit')
        .description('Share of the prefix_changed misses in the time range by the first diverging segment of the prompt whose previous turn left a cached prefix.')
        .withTarget(chQuery(breakAtSql(db)))
        .xField('break_at')
        .height(8)
        .span(8),
    )
    .withPanel(
      seriesPanel(nextId(), 'Evictions by provider', PER_SECOND)
        .description('Calls per second missing a prefix that was read from cache within its TTL (miss reason evicted).')
        .withTarget(chTimeSeries(evictionsSql(db)))
        .height(8)
        .span(8),
    )
    .withPanel(
      tablePanel(nextId(), `Cache stampedes — one prefix written by several calls within ${STAMPEDE_WINDOW_S} s`)
        .withTarget(chQuery(stampedeSql(db)))
        .unit('none')
        .overrideByName('tokens_written', [unitOf('short')])
        .height(8)
        .span(8),
    )
    .build();
}
