// Cost per call and waste by cause, computed at query time from a price table (docs/cost.md):
// prices change without re-ingestion, and the dashboards and the report build every cost query
// from the builders here, so a dollar means the same thing wherever it is shown.
import { CACHE_MISS, ERRORED, TRUNCATED } from './call-metrics.ts';
import { MODEL_PREFIX, SNAPSHOT_SUFFIX, type ModelPrice, type TokenPrices } from './prices.ts';

/** A call repeating an earlier call's whole prompt (`PromptHash`, seeded by provider and model) within this many seconds is a duplicate. */
export const DUPLICATE_WINDOW_S = 60;

/** Waste causes, in the order a call is assigned to one (each call's waste counts once). */
export const WASTE_CAUSES = ['error', 'truncated', 'duplicate', 'cache_miss'] as const;
export type WasteCause = (typeof WASTE_CAUSES)[number];

/** Which calls each cause takes (over the costed columns). */
const WASTE_CONDITION: Record<WasteCause, string> = { error: ERRORED, truncated: TRUNCATED, duplicate: 'IsDuplicate', cache_miss: CACHE_MISS };

const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A number as a Float64 literal; an absent price is NaN, which makes the cost that needs it NULL. */
const num = (v: number | undefined) => (v === undefined ? 'nan' : String(v));

function priceColumn(prices: readonly ModelPrice[], names: string, pick: (p: ModelPrice) => number | undefined): string {
  return `transform(PriceModel, ${names}, CAST([${prices.map((p) => num(pick(p))).join(', ')}] AS Array(Float64)), nan)`;
}

/** tokens × price, 0 without tokens (so a class a call did not use needs no price). */
const term = (tokens: string, price: string) => `if(${tokens} = 0, 0, ${tokens} * ${price})`;
const finiteOrNull = (expr: string) => `if(isFinite(${expr}), ${expr}, NULL)`;
const norm = (col: string) => `replaceRegexpOne(replaceRegexpOne(${col}, '${MODEL_PREFIX}', ''), '${SNAPSHOT_SUFFIX}', '')`;

const modelNames = (prices: readonly ModelPrice[]) => `CAST([${prices.map((p) => str(p.model)).join(', ')}] AS Array(String))`;

/**
 * The table row pricing a call ('' when none): the response model, else the request model, each
 * exactly, then by the dated-snapshot rule (prices.ts).
 */
export function priceModelSql(prices: readonly ModelPrice[]): string {
  return `arrayFirst(m -> has(${modelNames(prices)}, m), [ResponseModel, ${norm('ResponseModel')}, RequestModel, ${norm('RequestModel')}])`;
}

/**
 * `SELECT *` of llm_calls plus the cost columns, over `source` (e.g. `otel.llm_calls`) and
 * `where`:
 * - PriceModel: the table row, by response model then request model, each exactly then by the
 *   dated-snapshot rule; '' when unpriced.
 * - CostUsd: what the call was billed, from its recorded tokens; NULL when unpriced.
 * - MissExtraUsd: for a cache miss, what it paid above reading the same prefix from the cache.
 * - IsDuplicate, WasteCause, WasteUsd: docs/cost.md, "Waste by cause".
 */
export function costedCallsSql(prices: readonly ModelPrice[], source: string, where: string): string {
  const names = modelNames(prices);
  const tier = (field: keyof TokenPrices) =>
    `if(_Long, ${priceColumn(prices, names, (p) => p.longContext?.[field])}, ${priceColumn(prices, names, (p) => p[field])})`;
  const reasoning = 'least(ReasoningTokens, OutputTokens)';
  return `SELECT *,
    ${priceModelSql(prices)} AS PriceModel,
    transform(PriceModel, ${names}, CAST([${prices.map((p) => p.longContext?.aboveInputTokens ?? 0).join(', ')}] AS Array(UInt64)), toUInt64(0)) AS _LongAbove,
    _LongAbove > 0 AND InputTokens > _LongAbove AS _Long,
    ${tier('input')} AS _PIn,
    ${tier('output')} AS _POut,
    ${tier('cacheRead')} AS _PRead,
    ${tier('cacheWrite5m')} AS _PWrite,
    ${tier('reasoning')} AS _PReasoning,
    toUInt64(greatest(toInt64(InputTokens) - toInt64(CacheReadTokens) - toInt64(CacheWriteTokens), 0)) AS UncachedTokens,
    (${term('UncachedTokens', '_PIn')} + ${term('CacheReadTokens', '_PRead')} + ${term('CacheWriteTokens', '_PWrite')}
      + ${term(`(OutputTokens - ${reasoning})`, '_POut')} + ${term(reasoning, 'if(isNaN(_PReasoning), _POut, _PReasoning)')}) / 1e6 AS _Cost,
    ${finiteOrNull('_Cost')} AS CostUsd,
    if(${CACHE_MISS}, if(CacheWriteTokens > 0, ${term('CacheWriteTokens', '(_PWrite - _PRead)')}, ${term('UncachedTokens', '(_PIn - _PRead)')}) / 1e6, 0) AS _MissExtra,
    ${finiteOrNull('_MissExtra')} AS MissExtraUsd,
    PromptHash != '' AND toUnixTimestamp64Milli(Timestamp) - toUnixTimestamp64Milli(max(Timestamp) OVER (
      PARTITION BY ServiceName, PromptHash ORDER BY Timestamp, SpanId ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING))
      <= ${DUPLICATE_WINDOW_S * 1000} AS IsDuplicate,
    multiIf(${WASTE_CAUSES.map((c) => `${WASTE_CONDITION[c]}, '${c}'`).join(', ')}, '') AS WasteCause,
    multiIf(WasteCause IN ('error', 'truncated', 'duplicate'), CostUsd, WasteCause = 'cache_miss', MissExtraUsd, 0) AS WasteUsd
  FROM ${source}
  WHERE ${where}`;
}

/** The aggregate cost queries shared by the cost dashboard and the report, over costed calls. */
export function costSql(prices: readonly ModelPrice[], source: string, where: string) {
  const calls = `(${costedCallsSql(prices, source, where)})`;
  return {
    /** Cost per service and model (the priced row's name; the request model when unpriced). */
    byModel: `SELECT ServiceName AS service, if(PriceModel != '', PriceModel, RequestModel) AS model, count() AS calls,
    countIf(CostUsd IS NULL) AS unpriced_calls, sum(CostUsd) AS cost_usd
  FROM ${calls}
  GROUP BY service, model ORDER BY cost_usd DESC NULLS LAST, service, model`,
    /** Waste by cause: each wasting call under its first cause. */
    waste: `SELECT WasteCause AS cause, count() AS calls, countIf(WasteUsd IS NULL) AS unpriced_calls, sum(WasteUsd) AS waste_usd
  FROM ${calls}
  WHERE WasteCause != ''
  GROUP BY cause ORDER BY waste_usd DESC NULLS LAST, cause`,
    /** Cache-miss waste by miss reason and break point (prefix_changed at system: what a prefix fix saves). */
    missWaste: `SELECT CacheMissReason AS reason, CacheBreakAt AS break_at, count() AS calls, countIf(WasteUsd IS NULL) AS unpriced_calls,
    sum(WasteUsd) AS waste_usd
  FROM ${calls}
  WHERE WasteCause = 'cache_miss'
  GROUP BY reason, break_at ORDER BY waste_usd DESC NULLS LAST, reason, break_at`,
    /** What a stable system prompt would have saved: the waste of misses whose prefix changed at `system`. */
    prefixFix: `SELECT sum(WasteUsd) AS savings_usd, count() AS calls
  FROM ${calls}
  WHERE WasteCause = 'cache_miss' AND CacheMissReason = 'prefix_changed' AND CacheBreakAt = 'system'`,
    /** Failed attempts before a call's answer: counted, billed nothing (docs/cost.md). */
    retries: `SELECT sum(Retries) AS failed_attempts, sum(RateLimitedAttempts) AS rate_limited_attempts, countIf(Retries > 0) AS retried_calls
  FROM ${calls}`,
    /** The most expensive conversations. */
    conversations: `SELECT ConversationId AS conversation, count() AS calls, countIf(CostUsd IS NULL) AS unpriced_calls, sum(CostUsd) AS cost_usd
  FROM ${calls}
  WHERE ConversationId != ''
  GROUP BY conversation ORDER BY cost_usd DESC NULLS LAST, conversation LIMIT 10`,
  } as const;
}
