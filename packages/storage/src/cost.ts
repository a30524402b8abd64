// Cost per call and waste by cause, computed at query time from a price table (docs/cost.md):
// prices change without re-ingestion, and the dashboards and the report build every cost query
// from the builders here, so a dollar means the same thing wherever it is shown.
//
// Cost is linear in token sums per price-determining key (response and request model, long-context
// tier) and per token class, so the queries price groups of calls: token sums per group from the
// hourly rollup llm_cost_hours for whole hours (cost-hours.ts; a series with buckets of whole
// minutes below an hour from llm_cost_minutes, minute-rollups.ts) and from llm_calls for the
// partial hours (minutes) at the range's edges, priced in the outer query. Duplicates are marked at insert
// (llm_duplicate_calls, duplicate-calls.ts): the queries read those of the range and move them from
// their base cause to `duplicate` (docs/clickhouse.md, "Cost rollup").
import { CACHE_MISS, ERRORED, TRUNCATED } from './call-metrics.ts';
import { CALL_HOUR_MEASURES, type HourMeasure } from './call-hours.ts';
import { PREVIOUS_SAME_PROMPT, repeatsWithinWindow } from './duplicate-calls.ts';
import { MODEL_PREFIX, SNAPSHOT_SUFFIX, type ModelPrice, type TokenPrices } from './prices.ts';
import { LLM_CALL_HOURS, LLM_COST_HOURS, LLM_COST_MINUTES, LLM_DUPLICATE_CALLS, LLM_DUPLICATE_HOURS } from './tables.ts';

/** Waste causes, in the order a call is assigned to one (each call's waste counts once). */
export const WASTE_CAUSES = ['error', 'truncated', 'duplicate', 'cache_miss'] as const;
export type WasteCause = (typeof WASTE_CAUSES)[number];

/** Which calls each cause takes (over llm_calls columns; IsDuplicate: duplicate-calls.ts). */
const WASTE_CONDITION: Record<WasteCause, string> = { error: ERRORED, truncated: TRUNCATED, duplicate: 'IsDuplicate', cache_miss: CACHE_MISS };

/** A call's cause without the duplicate check: a duplicate takes this cause's place only when it is '' or cache_miss. */
const BASE_CAUSE = `multiIf(${WASTE_CAUSES.filter((c) => c !== 'duplicate').map((c) => `${WASTE_CONDITION[c]}, '${c}'`).join(', ')}, '')`;
/** Base causes a duplicate overrides (it comes after error and truncated). */
const OVERRIDDEN_BY_DUPLICATE = WASTE_CAUSES.slice(WASTE_CAUSES.indexOf('duplicate') + 1);

/**
 * The long-context tier is decided per call by InputTokens > the row's threshold. The rollup keeps
 * a call's exact InputTokens above this floor (0 below it), so any threshold at or above the floor
 * is decided exactly from it; a price table with a lower threshold is priced from llm_calls alone.
 */
export const LONG_INPUT_FLOOR = 32_768;

const UNCACHED = 'toUInt64(greatest(toInt64(InputTokens) - toInt64(CacheReadTokens) - toInt64(CacheWriteTokens), 0))';
const REASONING = 'least(ReasoningTokens, OutputTokens)';

/** Token classes, each priced apart: the tokens of a call in it (over llm_calls columns) and its bit in TokenClasses. */
const TOKEN_CLASSES = [
  { name: 'TokUncached', ofCall: UNCACHED, bit: 1 },
  { name: 'TokRead', ofCall: 'CacheReadTokens', bit: 2 },
  { name: 'TokWrite', ofCall: 'CacheWriteTokens', bit: 4 },
  { name: 'TokOutput', ofCall: `(OutputTokens - ${REASONING})`, bit: 8 },
  { name: 'TokReasoning', ofCall: REASONING, bit: 16 },
] as const;
type TokenClass = (typeof TOKEN_CLASSES)[number]['name'];
const bitOf = (name: TokenClass): number => TOKEN_CLASSES.find((c) => c.name === name)!.bit;

/** A dimension of llm_cost_hours computed from llm_calls columns. */
export interface ComputedDimension {
  name: string;
  type: string;
  ofCalls: string;
}

/** Dimensions of llm_cost_hours that are llm_calls columns of the same name. */
export const COST_HOUR_DIMENSIONS = ['ServiceName', 'RequestModel', 'ResponseModel', 'CacheMissReason', 'CacheBreakAt'] as const;

/**
 * Computed dimensions: the base waste cause, which token classes the calls used (a class a call did
 * not use needs no price, docs/cost.md), and InputTokens above LONG_INPUT_FLOOR (the tier).
 */
export const COST_HOUR_COMPUTED: readonly ComputedDimension[] = [
  { name: 'BaseCause', type: 'LowCardinality(String)', ofCalls: BASE_CAUSE },
  { name: 'TokenClasses', type: 'UInt8', ofCalls: `toUInt8(${TOKEN_CLASSES.map((c) => `${c.bit} * (${c.ofCall} > 0)`).join(' + ')})` },
  { name: 'LongInput', type: 'UInt64', ofCalls: `if(InputTokens > ${LONG_INPUT_FLOOR}, InputTokens, toUInt64(0))` },
];

/** Calls and token sums per class: the figures of llm_cost_hours. */
export const COST_HOUR_MEASURES: readonly HourMeasure[] = [
  { name: 'Calls', type: 'UInt64', ofCalls: 'count()', merge: 'sum' },
  ...TOKEN_CLASSES.map((c) => ({ name: c.name, type: 'UInt64', ofCalls: `sum(${c.ofCall})`, merge: 'sum' as const })),
];

/** What a query over a range of calls needs to know: where the calls are and how to read whole hours. */
export interface CostScope {
  /** llm_calls, qualified (`otel.llm_calls`). */
  calls: string;
  /** llm_duplicate_calls, qualified: the duplicates, which `where` selects as it selects calls. */
  duplicates: string;
  /** The range and filters over llm_calls rows. */
  where: string;
  /**
   * `(…)` of partial aggregates per [time,] dims over the range: whole hours from `hours`, the
   * partial hours at the edges from llm_calls with the same filter (grafana hourly-tier.ts).
   */
  tiered: (q: TieredQuery) => string;
  /** For time series: a call's bucket and the factor turning a bucket's USD into USD per hour. */
  series?: { bucket: string; perHour: string };
}

/** One partial aggregate both sources yield under one name: a rollup column, and how llm_calls rows give it. */
export interface TieredPart {
  name: string;
  ofCalls: string;
}

/** A query over whole hours of a rollup and the edge hours of llm_calls (grafana's hourly-tier.ts builds it). */
export interface TieredQuery {
  /** The rollup holding whole hours: its dimension columns have llm_calls' names. */
  hours: string;
  /**
   * The table the partial hours are read from, unqualified, with any modifier (`llm_duplicate_calls
   * FINAL`): its columns have llm_calls' names. Default llm_calls.
   */
  edges?: string;
  /** Dimension columns the query groups or filters by (columns of both sources). */
  dims: readonly string[];
  /** Dimensions of the rollup computed from llm_calls columns (after dims in each row). */
  computed?: readonly ComputedDimension[];
  parts: readonly TieredPart[];
  /**
   * A time series bucketed by `$__timeInterval`: the rollup can only serve buckets of whole hours,
   * so for other buckets the calls are read from llm_calls, or from `minutes` where it serves them.
   */
  series: boolean;
  /** A rollup like `hours` per minute (`Minute` for `Hour`), for series with buckets of whole minutes below an hour. */
  minutes?: string;
}

const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A number as a Float64 literal; an absent price is NaN, which makes the cost that needs it NULL. */
const num = (v: number | undefined) => (v === undefined ? 'nan' : String(v));
const finiteOrNull = (expr: string) => `if(isFinite(${expr}), ${expr}, NULL)`;
const norm = (col: string) => `replaceRegexpOne(replaceRegexpOne(${col}, '${MODEL_PREFIX}', ''), '${SNAPSHOT_SUFFIX}', '')`;
const modelNames = (prices: readonly ModelPrice[]) => `CAST([${prices.map((p) => str(p.model)).join(', ')}] AS Array(String))`;

/** A price of a row (its base or long-context prices), absent as undefined. */
type PriceOf = (p: Partial<TokenPrices> | undefined) => number | undefined;
const priceOf =
  (field: keyof TokenPrices): PriceOf =>
  (p) =>
    p?.[field];
/** Reasoning tokens are priced as output unless the row prices them apart. */
const reasoningPrice: PriceOf = (p) => p?.reasoning ?? p?.output;

/**
 * One price of the call's row and tier, NaN when absent, 0 when `used` is 0 (calls that did not use
 * the class need no price, and have no tokens in it): a single lookup in [0, NaN, the rows' base
 * prices, their long-context prices] (`_Row`: the row's 1-based position, 0 when unpriced; `_Long`
 * is never true then), so the query's analysis has one small expression per price.
 */
function priceColumn(prices: readonly ModelPrice[], of: PriceOf, used: string): string {
  const base = prices.map((p) => num(of(p)));
  const long = prices.map((p) => num(p.longContext === undefined ? undefined : of(p.longContext)));
  return `CAST([0, nan, ${[...base, ...long].join(', ')}] AS Array(Float64))[1 + (${used}) * (1 + _Row + _Long * ${prices.length})]`;
}

/**
 * The 1-based position of the table row pricing a call (0 when none): the response model, else the
 * request model, each exactly, then by the dated-snapshot rule (prices.ts).
 */
const priceRowSql = (prices: readonly ModelPrice[]): string =>
  `arrayFirst(i -> i > 0, arrayMap(m -> indexOf(${modelNames(prices)}, m), [ResponseModel, ${norm('ResponseModel')}, RequestModel, ${norm('RequestModel')}]))`;

/** The name of the table row pricing a call ('' when none: element 0 of an array is its default). */
export function priceModelSql(prices: readonly ModelPrice[]): string {
  return `${modelNames(prices)}[${priceRowSql(prices)}]`;
}

/** Per [unpriced, each row]: the input tokens above which the long-context tier applies; none (or 0): a threshold no UInt64 exceeds. */
const longThresholds = (prices: readonly ModelPrice[]): string =>
  `CAST([${['18446744073709551615', ...prices.map((p) => p.longContext?.aboveInputTokens || '18446744073709551615')].join(', ')}] AS Array(UInt64))`;

/** Whether every long-context threshold of the table can be decided from the rollup's LongInput. */
const tiersFromRollup = (prices: readonly ModelPrice[]): boolean => prices.every((p) => p.longContext === undefined || p.longContext.aboveInputTokens >= LONG_INPUT_FLOOR);

/**
 * `rows` (groups of calls: ResponseModel, RequestModel, TokenClasses, `long` input tokens and the
 * token sums) with price columns: PriceModel, _Cost (USD, NaN when a class the calls used has no
 * price) and _MissExtra (what calls that `missed` the cache paid above a cache read; _PReadAny is
 * the cache-read price whether or not the calls read the cache). In layers, each reading the one
 * below's columns: one SELECT whose aliases refer to aliases has each copied into every use, which
 * made the query's analysis cost more than running it. _Cost has no `if`: ClickHouse evaluates an
 * `if` branch lazily, again for each `if` that needs it, so one `if` per token class re-ran the
 * price row's lookup (_Row) up to five times per group (docs/clickhouse.md, "Cost rollup").
 */
function priced(prices: readonly ModelPrice[], long: string, missed: string, rows: string): string {
  const used = (c: TokenClass) => `bitAnd(TokenClasses, ${bitOf(c)}) != 0`;
  return `(
  SELECT *,
    (TokUncached * _PIn + TokRead * _PRead + TokWrite * _PWrite + TokOutput * _POut + TokReasoning * _PReasoning) / 1e6 AS _Cost,
    if(${missed}, if(${used('TokWrite')}, TokWrite * (_PWrite - _PReadAny), if(${used('TokUncached')}, TokUncached * (_PIn - _PReadAny), 0)) / 1e6, 0) AS _MissExtra
  FROM (
  SELECT *,
    ${priceColumn(prices, priceOf('input'), used('TokUncached'))} AS _PIn,
    ${priceColumn(prices, priceOf('cacheRead'), used('TokRead'))} AS _PRead,
    ${priceColumn(prices, priceOf('cacheWrite5m'), used('TokWrite'))} AS _PWrite,
    ${priceColumn(prices, priceOf('output'), used('TokOutput'))} AS _POut,
    ${priceColumn(prices, reasoningPrice, used('TokReasoning'))} AS _PReasoning,
    ${priceColumn(prices, priceOf('cacheRead'), '1')} AS _PReadAny
  FROM (
  SELECT *,
    ${priceRowSql(prices)} AS _Row,
    ${modelNames(prices)}[_Row] AS PriceModel,
    ${long} > ${longThresholds(prices)}[1 + _Row] AS _Long
  FROM ${rows})))`;
}

/** One call as a group of one: its computed dimensions and token classes (over llm_calls columns). */
const callAsGroup = (long: string) =>
  [
    ...COST_HOUR_COMPUTED.map((d) => (d.name === 'LongInput' ? `${long} AS LongInput` : `${d.ofCalls} AS ${d.name}`)),
    ...TOKEN_CLASSES.map((c) => `${c.ofCall} AS ${c.name}`),
  ].join(',\n    ');

/** Whether a call repeats an earlier call's prompt within the window, over every call of its source (a window function). */
const IS_DUPLICATE = repeatsWithinWindow(`max(Timestamp) OVER (${PREVIOUS_SAME_PROMPT})`);

/**
 * `SELECT *` of llm_calls plus the cost columns, over `source` (e.g. `otel.llm_calls`) and
 * `where`, one call at a time (the definition the grouped queries of costSql agree with):
 * - PriceModel: the table row, by response model then request model, each exactly then by the
 *   dated-snapshot rule; '' when unpriced.
 * - CostUsd: what the call was billed, from its recorded tokens; NULL when unpriced.
 * - MissExtraUsd: for a cache miss, what it paid above reading the same prefix from the cache.
 * - IsDuplicate, WasteCause, WasteUsd (with `duplicates`): docs/cost.md, "Waste by cause"; a
 *   call's earlier twin is looked for among every call of `source`, not only those `where` keeps.
 */
export function costedCallsSql(prices: readonly ModelPrice[], source: string, where: string, duplicates = true): string {
  const waste = duplicates
    ? `,
    multiIf(${WASTE_CAUSES.map((c) => `${WASTE_CONDITION[c]}, '${c}'`).join(', ')}, '') AS WasteCause,
    multiIf(WasteCause IN ('error', 'truncated', 'duplicate'), CostUsd, WasteCause = 'cache_miss', MissExtraUsd, 0) AS WasteUsd`
    : '';
  const from = duplicates ? `(SELECT *, ${IS_DUPLICATE} AS IsDuplicate FROM ${source})` : source;
  return `SELECT *,
    ${finiteOrNull('_Cost')} AS CostUsd,
    ${finiteOrNull('_MissExtra')} AS MissExtraUsd${waste}
  FROM ${priced(prices, 'LongInput', CACHE_MISS, `(SELECT *, ${callAsGroup('InputTokens')} FROM ${from} WHERE ${where})`)}`;
}

/**
 * The partial aggregates of llm_cost_hours: calls and token sums, of the rollup's type on the
 * llm_calls side too (a sum of `OutputTokens - …` is Int64: with the rollup's UInt64 in one UNION,
 * the old analyzer finds no common type).
 */
const COST_PARTS: readonly TieredPart[] = COST_HOUR_MEASURES.map((m) => ({ name: m.name, ofCalls: `CAST(${m.ofCalls}, '${m.type}')` }));
const PRICING_DIMS = ['RequestModel', 'ResponseModel'] as const;

/** The keys of a group of calls: [time,] `dims` with the pricing dimensions, and the computed dimensions. */
function groupKeys(scope: CostScope, dims: readonly string[], computed: readonly ComputedDimension[]): string[] {
  return [...(scope.series === undefined ? [] : ['time']), ...new Set([...dims, ...PRICING_DIMS]), ...computed.map((d) => d.name)];
}

/** Where groups of calls are read: the calls (qualified, with any modifier) and a cost-hours rollup of them. */
interface GroupTables {
  calls: string;
  hours: string;
  minutes?: string;
  /** The calls for TieredQuery.edges (unqualified); default llm_calls. */
  edges?: string;
}

/** Every call, its whole hours from llm_cost_hours (and a series' whole minutes from llm_cost_minutes). */
const ALL_CALLS = (scope: CostScope): GroupTables => ({ calls: scope.calls, hours: LLM_COST_HOURS, minutes: LLM_COST_MINUTES });
/** The duplicates (each once: FINAL, docs/clickhouse.md "Duplicate calls"), their whole hours from llm_duplicate_hours. */
const DUPLICATES = (scope: CostScope): GroupTables => ({ calls: `${scope.duplicates} FINAL`, hours: LLM_DUPLICATE_HOURS, edges: `${LLM_DUPLICATE_CALLS} FINAL` });

/**
 * Groups of `from`'s calls in the range per [time,] `dims`, the pricing dimensions and the computed
 * ones: from the rollup and the edges, or from the calls alone when a long-context threshold lies
 * below LONG_INPUT_FLOOR (then LongInput is every call's InputTokens).
 */
function groupsSource(prices: readonly ModelPrice[], scope: CostScope, dims: readonly string[], computed: readonly ComputedDimension[], from: GroupTables): string {
  const all = [...new Set([...dims, ...PRICING_DIMS])];
  const series = scope.series !== undefined;
  if (tiersFromRollup(prices)) {
    const optional = { ...(from.edges === undefined ? {} : { edges: from.edges }), ...(from.minutes === undefined ? {} : { minutes: from.minutes }) };
    return scope.tiered({ hours: from.hours, ...optional, dims: all, computed, parts: COST_PARTS, series });
  }
  const keys = groupKeys(scope, dims, computed);
  const ofCalls = computed.map((d) => `${d.name === 'LongInput' ? 'InputTokens' : d.ofCalls} AS ${d.name}`);
  return `(
  SELECT ${[...(series ? [`${scope.series!.bucket} AS time`] : []), ...all, ...ofCalls, ...COST_PARTS.map((p) => `${p.ofCalls} AS ${p.name}`)].join(', ')}
  FROM ${from.calls}
  WHERE ${scope.where}
  GROUP BY ${keys.join(', ')}
)`;
}

/**
 * The duplicates that change a call's cause (Dup = 1), as groups shaped like groupsSource's rows.
 * Whole hours from llm_duplicate_hours, the edges from llm_duplicate_calls (each call once:
 * FINAL): O(hours × groups + duplicates in the edge hours).
 */
function duplicateCorrections(prices: readonly ModelPrice[], scope: CostScope, dims: readonly string[]): string {
  return `SELECT *, toInt8(1) AS Dup
  FROM ${groupsSource(prices, scope, dims, COST_HOUR_COMPUTED, DUPLICATES(scope))}
  WHERE BaseCause IN (${['', ...OVERRIDDEN_BY_DUPLICATE].map(str).join(', ')})`;
}

/**
 * One row per group of `rows` (parts of groups, e.g. one per hour) by `keys`: pricing costs more
 * per row than summing, so groups are summed before they are priced (cost is linear in the sums).
 */
const summed = (rows: string, keys: readonly string[]) => `(
  SELECT ${[...keys, ...COST_HOUR_MEASURES.map((m) => `${m.merge}(CAST(${m.name}, '${m.type}')) AS ${m.name}`)].join(', ')}
  FROM ${rows}
  GROUP BY ${keys.join(', ')}
)`;

/**
 * Priced groups per [time,] `dims`; with `waste`, each with its cause (duplicates moved to theirs)
 * and _Waste; without, the base cause is left out of the grouping (fewer groups for cost alone).
 *
 * _Waste is picked from an array, not by multiIf: both candidates are then computed once per group
 * (see priced()). A group of duplicates becomes its two corrections (_Move -1: out of its base
 * cause, 1: into duplicate) only after pricing, so it is summed and priced once.
 */
function pricedGroupsSql(prices: readonly ModelPrice[], scope: CostScope, dims: readonly string[], waste: boolean): string {
  if (!waste) {
    const computed = COST_HOUR_COMPUTED.filter((d) => d.name !== 'BaseCause');
    return `SELECT *,
    1 AS _Sign,
    toInt64(Calls) AS _Calls
  FROM ${priced(prices, 'LongInput', 'false', summed(groupsSource(prices, scope, dims, computed, ALL_CALLS(scope)), groupKeys(scope, dims, computed)))}`;
  }
  const groups = `(
  SELECT *, toInt8(0) AS Dup FROM ${groupsSource(prices, scope, dims, COST_HOUR_COMPUTED, ALL_CALLS(scope))}
  UNION ALL
  ${duplicateCorrections(prices, scope, dims)}
)`;
  return `SELECT *,
    if(_Move = 1, 'duplicate', BaseCause) AS WasteCause,
    if(_Move = -1, -1, 1) AS _Sign,
    toInt64(Calls) * _Sign AS _Calls,
    [0, _Cost, _MissExtra][1 + (WasteCause IN ('error', 'truncated', 'duplicate')) + 2 * (WasteCause = 'cache_miss')] AS _Waste
  FROM ${priced(prices, 'LongInput', "BaseCause = 'cache_miss'", summed(groups, [...groupKeys(scope, dims, COST_HOUR_COMPUTED), 'Dup']))}
  ARRAY JOIN if(Dup = 1, [toInt8(-1), toInt8(1)], [toInt8(0)]) AS _Move`;
}

/**
 * Calls, unpriced calls and USD of grouped rows whose USD is `usd` (NaN: unpriced), as sums do over
 * calls: NULL only when every call is unpriced; no call at all costs (or saves) 0.
 */
const money = (usd: string, alias: string) =>
  `sum(_Calls) AS calls, sum(if(isFinite(${usd}), 0, _Calls)) AS unpriced_calls,
    if(calls = 0, 0, if(calls > unpriced_calls, sum(if(isFinite(${usd}), _Sign * ${usd}, 0)), NULL)) AS ${alias}`;

/**
 * Every cost query runs without JIT compilation. ClickHouse compiles an expression, aggregate or
 * sort description in the query that runs it for the third time (min_count_to_compile_*): ~20
 * functions for a waste query, 40–240 ms of CPU in that one query, which reads only
 * O(hours × groups + edge calls) rows — what compiled code saves on them is far below that. It was
 * the benchmark's slow repetition (docs/clickhouse.md, "Where a waste query's time goes").
 */
const NO_JIT = 'compile_expressions = 0, compile_aggregate_expressions = 0, compile_sort_description = 0';
/**
 * And without three analyzer passes over GROUP BY keys, which find nothing to rewrite in these
 * queries (no function of another key, no `any(key)`, no injective function as a key) but walk
 * every layer's keys: ~6 ms of a waste query's ~30 ms analysis (docs/clickhouse.md, "Minute rollups").
 */
const NO_GROUP_BY_REWRITES = 'optimize_group_by_function_keys = 0, optimize_aggregators_of_group_by_keys = 0, optimize_injective_functions_in_group_by = 0';
const QUERY_SETTINGS = `SETTINGS ${NO_JIT}, ${NO_GROUP_BY_REWRITES}`;
const withSettings = (sql: string) => `${sql}\n${QUERY_SETTINGS}`;

/** The aggregate cost queries shared by the cost dashboard and the report. */
export function costSql(prices: readonly ModelPrice[], scope: CostScope) {
  const priced = (dims: readonly string[], duplicates: boolean) => `(${pricedGroupsSql(prices, scope, dims, duplicates)})`;
  const retryParts = CALL_HOUR_MEASURES.filter((m) => ['RetryAttempts', 'RateLimitedAttempts', 'RetriedCalls'].includes(m.name));
  const queries = {
    /** Cost per service and model (the priced row's name; the request model when unpriced). */
    byModel: `SELECT ServiceName AS service, if(PriceModel != '', PriceModel, RequestModel) AS model, ${money('_Cost', 'cost_usd')}
  FROM ${priced(['ServiceName'], false)}
  GROUP BY service, model HAVING calls > 0 ORDER BY cost_usd DESC NULLS LAST, service, model`,
    /** Waste by cause: each wasting call under its first cause. */
    waste: `SELECT WasteCause AS cause, ${money('_Waste', 'waste_usd')}
  FROM ${priced([], true)}
  WHERE WasteCause != ''
  GROUP BY cause HAVING calls > 0 ORDER BY waste_usd DESC NULLS LAST, cause`,
    /** Cache-miss waste by miss reason and break point (prefix_changed at system: what a prefix fix saves). */
    missWaste: `SELECT CacheMissReason AS reason, CacheBreakAt AS break_at, ${money('_Waste', 'waste_usd')}
  FROM ${priced(['CacheMissReason', 'CacheBreakAt'], true)}
  WHERE WasteCause = 'cache_miss'
  GROUP BY reason, break_at HAVING calls > 0 ORDER BY waste_usd DESC NULLS LAST, reason, break_at`,
    /** What a stable system prompt would have saved: the waste of misses whose prefix changed at `system`. */
    prefixFix: `SELECT savings_usd, calls FROM (SELECT ${money('_Waste', 'savings_usd')}
  FROM ${priced(['CacheMissReason', 'CacheBreakAt'], true)}
  WHERE WasteCause = 'cache_miss' AND CacheMissReason = 'prefix_changed' AND CacheBreakAt = 'system')`,
    /** Failed attempts before a call's answer: counted, billed nothing (docs/cost.md). */
    retries: `SELECT sum(RetryAttempts) AS failed_attempts, sum(RateLimitedAttempts) AS rate_limited_attempts, sum(RetriedCalls) AS retried_calls
  FROM ${scope.tiered({ hours: LLM_CALL_HOURS, dims: [], parts: retryParts, series: false })}`,
    /** The most expensive conversations (per call: a conversation is no dimension of the rollup). */
    conversations: `SELECT ConversationId AS conversation, count() AS calls, countIf(CostUsd IS NULL) AS unpriced_calls, sum(CostUsd) AS cost_usd
  FROM (${costedCallsSql(prices, scope.calls, scope.where, false)})
  WHERE ConversationId != ''
  GROUP BY conversation ORDER BY cost_usd DESC NULLS LAST, conversation LIMIT 10`,
    /** Spend as USD per hour per service and model, over time (needs scope.series). */
    costSeries: series(scope, 'usd_per_hour', ['ServiceName', "if(PriceModel != '', PriceModel, RequestModel) AS model"], '_Cost', priced(['ServiceName'], false)),
    /** Waste as USD per hour per cause, over time (needs scope.series). */
    wasteSeries: series(scope, 'wasted_usd_per_hour', ['WasteCause'], '_Waste', priced([], true), "WasteCause != ''"),
  };
  return Object.fromEntries(Object.entries(queries).map(([name, sql]) => [name, sql === '' ? '' : withSettings(sql)])) as Readonly<typeof queries>;
}

/** USD per hour per [time, labels] (label expressions `expr AS name` or columns), rows with calls only. */
function series(scope: CostScope, alias: string, labels: readonly string[], usd: string, source: string, filter = ''): string {
  if (scope.series === undefined) return '';
  const names = labels.map((l) => l.replace(/.* AS /, ''));
  return [
    `SELECT time, ${labels.join(', ')}, if(sum(_Calls) > sum(if(isFinite(${usd}), 0, _Calls)), sum(if(isFinite(${usd}), _Sign * ${usd}, 0)), NULL) * ${scope.series.perHour} AS ${alias}`,
    `FROM ${source}`,
    ...(filter === '' ? [] : [`WHERE ${filter}`]),
    `GROUP BY time, ${names.join(', ')}`,
    'HAVING sum(_Calls) > 0',
    'ORDER BY time',
  ].join('\n');
}
