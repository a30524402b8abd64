// Migration 12: llm_duplicate_calls, every call that repeats the whole prompt (`PromptHash`) of an
// earlier call of its service within DUPLICATE_WINDOW_S (docs/cost.md, "Waste by cause"), known at
// insert, so the waste queries read the duplicates of a range instead of every call's prompt
// (docs/clickhouse.md, "Duplicate calls"). Being a duplicate is a property of the call: it does not
// depend on the range queried.
import { type DdlContext, localTable, materializedView, modifyViewQuery, qualified, quote, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALLS, LLM_DUPLICATE_CALLS } from './tables.ts';

/** A call repeating an earlier call's whole prompt (`PromptHash`, seeded by provider and model) within this many seconds is a duplicate. */
export const DUPLICATE_WINDOW_S = 60;

/**
 * The llm_calls columns kept per duplicate: its identity and what the cost queries filter, group
 * and price it by (cost.ts: the range, service and model, its base cause, its tokens).
 */
const COLUMNS = [
  ['Timestamp', 'DateTime64(9) CODEC(Delta, ZSTD(1))'],
  ['TraceId', 'String CODEC(ZSTD(1))'],
  ['SpanId', 'String CODEC(ZSTD(1))'],
  ...['ServiceName', 'RequestModel', 'ResponseModel', 'Outcome', 'CacheState', 'CacheMissReason', 'CacheBreakAt'].map((c) => [c, 'LowCardinality(String)']),
  ...['InputTokens', 'OutputTokens', 'CacheReadTokens', 'CacheWriteTokens', 'ReasoningTokens'].map((c) => [c, 'UInt64']),
] as const;
const NAMES = COLUMNS.map(([name]) => name).join(', ');

/**
 * The previous call of the same service and prompt (a window over llm_calls rows): calls are
 * ordered by start, then SpanId and TraceId, so of two calls with the same start the later in
 * that order is the duplicate.
 */
const SAME_PROMPT_ORDER = 'PARTITION BY ServiceName, PromptHash ORDER BY Timestamp, SpanId, TraceId';
export const PREVIOUS_SAME_PROMPT = `${SAME_PROMPT_ORDER} ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING`;
/** Every earlier call of the same service and prompt. */
const EARLIER_SAME_PROMPT = `${SAME_PROMPT_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING`;

/**
 * Whether a call whose previous call with the same prompt started at `previous` is a duplicate
 * (without a previous call, the window's max is 1970: never within the window).
 */
export const repeatsWithinWindow = (previous: string): string =>
  `PromptHash != '' AND toUnixTimestamp64Milli(Timestamp) - toUnixTimestamp64Milli(${previous}) <= ${DUPLICATE_WINDOW_S * 1000}`;

/**
 * The duplicates among `rows` (a FROM source of llm_calls columns plus `_Inserted`) that `mark`
 * selects; with `previousStored`, `_PreviousStored` is the start of the previous stored call of the
 * same prompt (1970 without one).
 */
const marked = (rows: string, mark: string, previousStored = false): string => `SELECT ${NAMES}
FROM (
  SELECT ${NAMES}, PromptHash, _Inserted,
    max(Timestamp) OVER w AS _Previous,
    max(_Inserted) OVER w AS _PreviousInserted${previousStored ? ',\n    maxIf(Timestamp, _Inserted = 0) OVER earlier AS _PreviousStored' : ''}
  FROM ${rows}
  WINDOW w AS (${PREVIOUS_SAME_PROMPT})${previousStored ? `, earlier AS (${EARLIER_SAME_PROMPT})` : ''}
)
WHERE ${repeatsWithinWindow('_Previous')} AND ${mark}`;

/**
 * The view's SELECT over an inserted block of llm_calls (`block`) and the calls already stored
 * (`stored`), for the calls sharing a service and prompt with the block from a window before its
 * first call to a window after its last: the inserted calls that repeat an earlier one, and the
 * stored calls an inserted one now precedes (a late arrival). Migration 12's view (`once` false)
 * marks such a stored call even when it was a duplicate already (readers take each call once);
 * migration 13's only when its previous stored call is not within the window — then it was not
 * marked before (that previous call starts after the read's start), so each call is written once
 * and llm_duplicate_hours can sum them. The block may already be visible in `stored`: its calls
 * are read from the block only.
 */
function viewSelect(block: string, stored: string, cluster: boolean, once = false): string {
  // On a cluster the stored read runs on every shard: the block's sets are built here and sent
  // along (GLOBAL), where a plain IN would read each shard's own llm_calls_local instead.
  const inBlock = cluster ? 'GLOBAL IN' : 'IN';
  const notInBlock = cluster ? 'GLOBAL NOT IN' : 'NOT IN';
  const margin = `toIntervalSecond(${DUPLICATE_WINDOW_S + 1})`;
  return `WITH
    (SELECT min(Timestamp) FROM ${block}) - ${margin} AS _From,
    (SELECT max(Timestamp) FROM ${block}) + ${margin} AS _To
${marked(
  `(
    SELECT ${NAMES}, PromptHash, toUInt8(1) AS _Inserted FROM ${block} WHERE PromptHash != ''
    UNION ALL
    SELECT ${NAMES}, PromptHash, toUInt8(0) AS _Inserted FROM ${stored}
    WHERE PromptHash != '' AND ServiceName ${inBlock} (SELECT ServiceName FROM ${block}) AND Timestamp BETWEEN _From AND _To
      AND (ServiceName, PromptHash) ${inBlock} (SELECT ServiceName, PromptHash FROM ${block})
      AND (TraceId, SpanId) ${notInBlock} (SELECT TraceId, SpanId FROM ${block})
  )`,
  once ? `(_Inserted = 1 OR (_PreviousInserted = 1 AND NOT (${repeatsWithinWindow('_PreviousStored')})))` : '(_Inserted = 1 OR _PreviousInserted = 1)',
  once,
)}`;
}

/**
 * Every stored duplicate, once: the window runs over the calls whose service and prompt occur
 * more than once (a few percent of calls).
 */
function backfillSelect(calls: string, cluster: boolean): string {
  // On a cluster the keys are gathered once and sent to every shard.
  const inDistributed = cluster ? 'GLOBAL IN' : 'IN';
  return marked(
    `(
    SELECT *, toUInt8(0) AS _Inserted FROM ${calls}
    WHERE PromptHash != '' AND (ServiceName, PromptHash) ${inDistributed} (
      SELECT ServiceName, PromptHash FROM ${calls} WHERE PromptHash != '' GROUP BY ServiceName, PromptHash HAVING count() > 1)
  )`,
    'true',
  );
}

/** The calls already stored, as the view reads them. */
function storedCalls(ctx: DdlContext): string {
  quote(ctx.database); // validates the name the merge() string literal holds
  return ctx.cluster === undefined ? `merge('${ctx.database}', '^${LLM_CALLS}$')` : qualified(ctx, LLM_CALLS);
}

/** Migration 13's llm_duplicate_calls_mv: each duplicate written once (viewSelect). */
export const duplicateCallsOnceView = (ctx: DdlContext): string =>
  modifyViewQuery(ctx, { name: `${LLM_DUPLICATE_CALLS}_mv`, select: viewSelect(localTable(ctx, LLM_CALLS), storedCalls(ctx), ctx.cluster !== undefined, true) });

/**
 * Migration 12: llm_duplicate_calls, its view on llm_calls, and the duplicates already stored. The
 * view reads the stored calls through `merge()` (single node: every mention of llm_calls in the view
 * is the inserted block) or the Distributed table (a cluster: twins live on any shard). The view
 * comes first and the backfill runs whatever the table holds: a call marked twice is read once.
 */
export function duplicateCallsDdl(ctx: DdlContext): string[] {
  return [
    ...table(ctx, {
      name: LLM_DUPLICATE_CALLS,
      columns: COLUMNS.map(([name, type]) => `\n    ${name} ${type}`).join(','),
      engine: 'ReplacingMergeTree',
      // The call's identity is the key: a call marked twice collapses on merge.
      body: `PARTITION BY toYYYYMM(Timestamp)
ORDER BY (ServiceName, Timestamp, TraceId, SpanId)${ttlClause(ctx, LLM_DUPLICATE_CALLS)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
      shardingKey: 'cityHash64(TraceId)',
    }),
    materializedView(ctx, { name: `${LLM_DUPLICATE_CALLS}_mv`, to: LLM_DUPLICATE_CALLS, select: viewSelect(localTable(ctx, LLM_CALLS), storedCalls(ctx), ctx.cluster !== undefined) }),
    `INSERT INTO ${qualified(ctx, LLM_DUPLICATE_CALLS)}\n${backfillSelect(qualified(ctx, LLM_CALLS), ctx.cluster !== undefined)}`,
  ];
}
