// `llm_calls`: one typed row per LLM call span, derived inside ClickHouse from otel_traces so that
// spans written by a Collector (or another GenAI instrumentation) land here too.
import { addColumns, type DdlContext, localTable, materializedView, modifyViewQuery, table } from './ddl.ts';
import { MEASURED_BY } from './otel-traces.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALLS, OTEL_TRACES } from './tables.ts';

/** Outcomes derived from finish reasons when a span carries no `llm.outcome`. Matched case-insensitively. */
export const TRUNCATED_FINISH_REASONS = ['length', 'max_tokens', 'model_context_window_exceeded'];
export const FILTERED_FINISH_REASONS = ['content_filter', 'safety', 'recitation', 'blocklist', 'prohibited_content', 'spii', 'image_safety'];
export const REFUSED_FINISH_REASONS = ['refusal'];

/** A span attribute of an otel_traces row, as text ('' when absent). */
export const spanAttribute = (key: string): string => `SpanAttributes['${key}']`;
const attr = spanAttribute;
/** Collector numbers arrive as decimal text; absent or unparsable → NULL. */
const parsed = (key: string): string => `toFloat64OrNull(${attr(key)})`;
/**
 * Also NULL for 'inf' and 'nan', which toFloat64OrNull parses and which made the integer columns'
 * conversions throw, failing the whole insert after otel_traces had stored it (migration 5).
 */
const finite = (key: string): string => `if(isFinite(${parsed(key)}), ${parsed(key)}, NULL)`;
const text = (key: string, fallback?: string): string =>
  fallback === undefined ? attr(key) : `if(${attr(key)} != '', ${attr(key)}, ${attr(fallback)})`;
const sqlList = (values: string[]): string => `[${values.map((v) => `'${v}'`).join(', ')}]`;

/** The span's provider: `gen_ai.provider.name`, or the older `gen_ai.system`. */
export const SPAN_PROVIDER = text('gen_ai.provider.name', 'gen_ai.system');

/** Collector array attributes are JSON text (`["stop"]`); a plain string is one reason. */
const finishReasons = `if(startsWith(${attr('gen_ai.response.finish_reasons')}, '['),
        JSONExtract(${attr('gen_ai.response.finish_reasons')}, 'Array(String)'),
        if(${attr('gen_ai.response.finish_reasons')} = '', [], [${attr('gen_ai.response.finish_reasons')}]))`;

/**
 * Older exporters wrote STATUS_CODE_ERROR / SPAN_KIND_CLIENT; normalise to the current names. The
 * source column is qualified: the output column has the same name, and ClickHouse's old analyzer
 * (servers with enable_analyzer = 0) would otherwise substitute the alias and report a cycle.
 */
const statusCode = `multiIf(span.StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 'Error', span.StatusCode IN ('Ok', 'STATUS_CODE_OK'), 'Ok', 'Unset')`;

const LLM_CALLS_MV = `${LLM_CALLS}_mv`;

/**
 * A column a later migration added to llm_calls: its definition and the attribute the view fills it
 * from, a number (read as the view version reads numbers) unless `text`.
 */
interface AddedColumn {
  definition: string;
  name: string;
  key: string;
  text?: true;
  /** A boolean attribute: 1 when it is `true`, else 0. */
  flag?: true;
}

/** Migration 6: `llm.client_setup_ms`, the client's start-up before the first request was on the wire. */
const CLIENT_SETUP_MS: AddedColumn = { definition: 'ClientSetupMs Nullable(Float64) AFTER DurationMs', name: 'ClientSetupMs', key: 'llm.client_setup_ms' };
/** Migration 8: `llm.prompt.hash`, the whole prompt's fingerprint: the duplicate-call check of docs/cost.md ('' when absent). */
const PROMPT_HASH: AddedColumn = { definition: 'PromptHash String CODEC(ZSTD(1)) AFTER PrefixHash', name: 'PromptHash', key: 'llm.prompt.hash', text: true };

/**
 * Migration 9: `llm.ttft_deadline_exceeded`, set on a call whose `llm.ttft_deadline` report was
 * exported: the SLO rollups counted the call by that report, so its own row is not counted again.
 */
const TTFT_DEADLINE_EXCEEDED: AddedColumn = {
  definition: 'TtftDeadlineExceeded UInt8 AFTER RateLimitHeadroom',
  name: 'TtftDeadlineExceeded',
  key: 'llm.ttft_deadline_exceeded',
  flag: true,
};

/**
 * One version of the view's query: how it reads a numeric attribute and the columns added after
 * migration 2. Each migration names its version here, so an applied migration's statements never
 * change when the view evolves (a new version is a new constant and a new migration).
 */
interface ViewVersion {
  float: (key: string) => string;
  added: readonly AddedColumn[];
  /** Migration 15: a call span that one of ours measures is not a call (MEASURED_BY). */
  measuredElsewhere?: 'skipped';
  /**
   * Migration 16: a first-chunk time in seconds (`gen_ai.response.time_to_first_chunk`) is rounded
   * to the nanosecond once in ms: 16.1 s × 1000 is 16100.000000000002 in Float64, which fell in the
   * histogram bucket above 16100 ms and counted as over a 16100 ms threshold.
   */
  secondsRounded?: true;
}
const VIEW_2: ViewVersion = { float: parsed, added: [] };
const VIEW_5: ViewVersion = { float: finite, added: [] };
const VIEW_6: ViewVersion = { float: finite, added: [CLIENT_SETUP_MS] };
const VIEW_8: ViewVersion = { float: finite, added: [CLIENT_SETUP_MS, PROMPT_HASH] };
const VIEW_9: ViewVersion = { float: finite, added: [CLIENT_SETUP_MS, PROMPT_HASH, TTFT_DEADLINE_EXCEEDED] };
const VIEW_15: ViewVersion = { ...VIEW_9, measuredElsewhere: 'skipped' };
const VIEW_16: ViewVersion = { ...VIEW_15, secondsRounded: true };

/** Migration 2: llm_calls and its view from otel_traces. */
export function llmCallsDdl(ctx: DdlContext): string[] {
  return [
    ...table(ctx, {
      name: LLM_CALLS,
      columns: `
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String),
    Route LowCardinality(String),
    Provider LowCardinality(String),
    Operation LowCardinality(String),
    RequestModel LowCardinality(String),
    ResponseModel LowCardinality(String),
    Streamed UInt8,
    StatusCode LowCardinality(String),
    ErrorType LowCardinality(String),
    FinishReason LowCardinality(String),
    Outcome LowCardinality(String),
    DurationMs Float64,
    QueueMs Nullable(Float64),
    TtftMs Nullable(Float64),
    PrefillMs Nullable(Float64),
    DecodeMs Nullable(Float64),
    ToolCallMs Float64,
    InputTokens UInt64,
    OutputTokens UInt64,
    CacheReadTokens UInt64,
    CacheWriteTokens UInt64,
    ReasoningTokens UInt64,
    CacheState LowCardinality(String),
    CacheMissReason LowCardinality(String),
    CacheBreakAt LowCardinality(String),
    PrefixHash String CODEC(ZSTD(1)),
    ConversationId String CODEC(ZSTD(1)),
    Chunks UInt32,
    GapP50Ms Float64,
    GapP95Ms Float64,
    GapMaxMs Float64,
    DecodeTokensPerSec Float64,
    Attempts UInt16,
    Retries UInt16,
    RateLimitedAttempts UInt16,
    RateLimitHeadroom Nullable(Float64)`,
      engine: 'ReplacingMergeTree',
      // The whole identity of a span is in the key, so a span delivered twice collapses on merge / FINAL.
      // (From migration 9 the insert leaves out call spans already stored: reads need no FINAL.)
      body: `PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, toStartOfMinute(Timestamp), TraceId, SpanId)${ttlClause(ctx, LLM_CALLS)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
      shardingKey: 'cityHash64(TraceId)',
    }),
    materializedView(ctx, { name: LLM_CALLS_MV, to: LLM_CALLS, select: llmCallsSelect(ctx, VIEW_2) }),
  ];
}

/** Migration 5: the view, unchanged except that non-finite numbers read as absent. */
export function llmCallsFiniteNumbersDdl(ctx: DdlContext): string[] {
  return [modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_5) })];
}

/** Migration 6: the ClientSetupMs column, and the view filling it from then on (older rows: NULL). */
export function llmCallsClientSetupDdl(ctx: DdlContext): string[] {
  return [
    ...addColumns(ctx, LLM_CALLS, [CLIENT_SETUP_MS.definition]),
    modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_6) }),
  ];
}

/** Migration 8: the PromptHash column, and the view filling it from then on (older rows: ''). */
export function llmCallsPromptHashDdl(ctx: DdlContext): string[] {
  return [
    ...addColumns(ctx, LLM_CALLS, [PROMPT_HASH.definition]),
    modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_8) }),
  ];
}

/** Migration 9: the TtftDeadlineExceeded column, and the view filling it from then on (older rows: 0). */
export function llmCallsDeadlineFlagDdl(ctx: DdlContext): string[] {
  return [
    ...addColumns(ctx, LLM_CALLS, [TTFT_DEADLINE_EXCEEDED.definition]),
    modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_9) }),
  ];
}

/** Migration 15: the view leaves out other instrumentations' call spans that a call span of ours measures. */
export function llmCallsMeasuredElsewhereDdl(ctx: DdlContext): string[] {
  return [modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_15) })];
}

/** Migration 16: the view rounds a first-chunk time given in seconds to the nanosecond once in ms. */
export function llmCallsTtftSecondsDdl(ctx: DdlContext): string[] {
  return [modifyViewQuery(ctx, { name: LLM_CALLS_MV, select: llmCallsSelect(ctx, VIEW_16) })];
}

/** The view's SELECT in one version: migration 2's columns, then those later migrations added. */
function llmCallsSelect(ctx: DdlContext, { float, added, measuredElsewhere, secondsRounded }: ViewVersion): string {
  const firstSet = (...keys: string[]): string => `coalesce(${keys.map(float).join(', ')})`;
  const value = (c: AddedColumn): string => (c.text ? attr(c.key) : c.flag ? `toUInt8(${attr(c.key)} = 'true')` : float(c.key));
  const more = added.map((c) => `,\n    ${value(c)} AS ${c.name}`).join('');
  return `WITH
    ${float('llm.ttft_ms')} AS _LlmTtft,
    ${secondsRounded ? `round(${float('gen_ai.response.time_to_first_chunk')} * 1000, 6)` : `${float('gen_ai.response.time_to_first_chunk')} * 1000`} AS _GenAiTtft,
    ${finishReasons} AS _Reasons,
    arrayMap(r -> lower(r), _Reasons) AS _LowerReasons,
    ${statusCode} AS _Status
SELECT
    Timestamp,
    TraceId,
    SpanId,
    ServiceName,
    ${attr('llm.route')} AS Route,
    ${SPAN_PROVIDER} AS Provider,
    ${attr('gen_ai.operation.name')} AS Operation,
    ${attr('gen_ai.request.model')} AS RequestModel,
    ${attr('gen_ai.response.model')} AS ResponseModel,
    -- Without gen_ai.request.stream, a first-chunk time is the evidence of a stream.
    toUInt8(multiIf(${attr('gen_ai.request.stream')} = 'true', 1, ${attr('gen_ai.request.stream')} = 'false', 0,
        isNotNull(_LlmTtft) OR isNotNull(_GenAiTtft))) AS Streamed,
    _Status AS StatusCode,
    ${attr('error.type')} AS ErrorType,
    _Reasons[1] AS FinishReason,
    multiIf(${attr('llm.outcome')} != '', ${attr('llm.outcome')},
        _Status = 'Error', 'error',
        hasAny(_LowerReasons, ${sqlList(TRUNCATED_FINISH_REASONS)}), 'truncated',
        hasAny(_LowerReasons, ${sqlList(FILTERED_FINISH_REASONS)}), 'filtered',
        hasAny(_LowerReasons, ${sqlList(REFUSED_FINISH_REASONS)}), 'refused',
        'success') AS Outcome,
    Duration / 1e6 AS DurationMs,
    ${float('llm.queue_ms')} AS QueueMs,
    coalesce(_LlmTtft, _GenAiTtft) AS TtftMs,
    ${float('llm.prefill_ms')} AS PrefillMs,
    ${float('llm.decode_ms')} AS DecodeMs,
    ifNull(${float('llm.tool_call_ms')}, 0) AS ToolCallMs,
    toUInt64(ifNull(${firstSet('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')}, 0)) AS InputTokens,
    toUInt64(ifNull(${firstSet('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')}, 0)) AS OutputTokens,
    toUInt64(ifNull(${float('gen_ai.usage.cache_read.input_tokens')}, 0)) AS CacheReadTokens,
    toUInt64(ifNull(${firstSet('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write.input_tokens')}, 0)) AS CacheWriteTokens,
    toUInt64(ifNull(${float('gen_ai.usage.reasoning.output_tokens')}, 0)) AS ReasoningTokens,
    ${attr('llm.cache.state')} AS CacheState,
    ${attr('llm.cache.miss_reason')} AS CacheMissReason,
    ${attr('llm.cache.break_at')} AS CacheBreakAt,
    ${attr('llm.cache.prefix_hash')} AS PrefixHash,
    ${attr('gen_ai.conversation.id')} AS ConversationId,
    toUInt32(ifNull(${float('llm.stream.chunks')}, 0)) AS Chunks,
    ifNull(${float('llm.stream.gap_p50_ms')}, 0) AS GapP50Ms,
    ifNull(${float('llm.stream.gap_p95_ms')}, 0) AS GapP95Ms,
    ifNull(${float('llm.stream.gap_max_ms')}, 0) AS GapMaxMs,
    ifNull(${float('llm.decode.tokens_per_second')}, 0) AS DecodeTokensPerSec,
    -- A span from another instrumentation still records one attempt.
    toUInt16(ifNull(${float('llm.attempts')}, 1)) AS Attempts,
    toUInt16(ifNull(${float('llm.retries')}, Attempts - 1)) AS Retries,
    toUInt16(ifNull(${float('llm.rate_limited_attempts')}, 0)) AS RateLimitedAttempts,
    ${float('llm.ratelimit.headroom')} AS RateLimitHeadroom${more}
FROM ${localTable(ctx, OTEL_TRACES)} AS span
WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT') AND ${attr('gen_ai.operation.name')} != ''${
    measuredElsewhere === 'skipped' ? ` AND ${attr(MEASURED_BY)} = ''` : ''
  }`;
}
