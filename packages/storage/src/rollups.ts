// Per-minute SLO rollups: latency histograms on the grid of slo-buckets.ts, each bucket holding the
// set of distinct span identities, so thresholds are picked at query time and a span delivered
// twice is counted once. Fed by views on llm_calls' inserts (i.e. on every otel_traces insert).
import { ABORTED, ABORTED_BEFORE_FIRST_CHUNK, SUCCEEDED } from './call-metrics.ts';
import { addKeyColumn, type DdlContext, dropView, localTable, materializedView, onCluster, qualified, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { SPAN_PROVIDER, spanAttribute } from './llm-calls.ts';
import { LLM_CALLS, LLM_COMPLETION_COUNTS, LLM_COMPLETION_MINUTE, LLM_TTFT_COUNTS, LLM_TTFT_MINUTE, OTEL_TRACES } from './tables.ts';
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

/** The instrumentation's report of a call still without output at its TTFT deadline (docs/conventions.md). */
export const TTFT_DEADLINE_SPAN = 'llm.ttft_deadline';

/**
 * The dimensions of an `llm.ttft_deadline` span, as the call's own row gets them: it starts when
 * the call started and carries the call's provider, request model and route; its duration is how
 * long the call had waited without output.
 */
const deadlineDimensions = `toStartOfMinute(Timestamp) AS Minute,
    ServiceName,
    ${spanAttribute('llm.route')} AS Route,
    ${spanAttribute('gen_ai.request.model')} AS Model,
    ${SPAN_PROVIDER} AS Provider`;

/**
 * Migration 7: hangs count while they hang. An `llm.ttft_deadline` span (exported by the
 * instrumentation when a call has had no output for its deadline, before the call ends) goes into
 * both rollups as a wait without output, exactly like an abort: `Abandoned = 1` / `Aborted = 1`
 * with the bucket of the wait, so it is a bad event for every threshold below the wait and no event
 * otherwise. It is stored under the call's identity (`TraceId || ParentSpanId`, the call span's
 * `TraceId || SpanId`), so once the call ends and its own row arrives, `uniqExactMerge` counts the
 * call once — good only if its own row is good, which a wait past the threshold rules out.
 */
export function rollupDeadlineDdl(ctx: DdlContext): string[] {
  const wait = latencyBucketSql('Duration / 1e6');
  return [
    materializedView(ctx, {
      name: `${LLM_TTFT_MINUTE}_deadline_mv`,
      to: LLM_TTFT_MINUTE,
      select: `SELECT
    ${deadlineDimensions},
    ${wait} AS TtftBucketMs,
    toUInt8(1) AS Abandoned,
    uniqExactState(TraceId || ParentSpanId) AS Calls
FROM ${localTable(ctx, OTEL_TRACES)}
WHERE SpanName = '${TTFT_DEADLINE_SPAN}' AND ${spanAttribute('gen_ai.request.stream')} = 'true'
GROUP BY Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned`,
    }),
    materializedView(ctx, {
      name: `${LLM_COMPLETION_MINUTE}_deadline_mv`,
      to: LLM_COMPLETION_MINUTE,
      select: `SELECT
    ${deadlineDimensions},
    toUInt8(0) AS Good,
    ${wait} AS DurationBucketMs,
    toUInt8(1) AS Aborted,
    uniqExactState(TraceId || ParentSpanId) AS Calls
FROM ${localTable(ctx, OTEL_TRACES)}
WHERE SpanName = '${TTFT_DEADLINE_SPAN}'
GROUP BY Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted`,
    }),
  ];
}

/** The rollups' columns in table order, as every SELECT feeding them lists them. */
const TTFT_COLUMNS = 'Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned, Calls';
const COMPLETION_COLUMNS = 'Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted, Calls';

/** Calls per TTFT row, from llm_calls rows of `source` (migration 4's rule, as plain counts). */
const ttftCalls = (source: string, where: string): string => `SELECT
    ${selectDimensions},
    ${latencyBucketSql(`if(${ABORTED_BEFORE_FIRST_CHUNK}, DurationMs, TtftMs)`)} AS TtftBucketMs,
    toUInt8(${ABORTED_BEFORE_FIRST_CHUNK}) AS Abandoned,
    count() AS Calls
FROM ${source}
WHERE Streamed = 1 AND ${where}
GROUP BY Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned`;

const completionCalls = (source: string, where: string): string => `SELECT
    ${selectDimensions},
    toUInt8(${SUCCEEDED}) AS Good,
    ${latencyBucketSql('DurationMs')} AS DurationBucketMs,
    toUInt8(${ABORTED}) AS Aborted,
    count() AS Calls
FROM ${source}
WHERE ${where}
GROUP BY Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted`;

/** Deadline reports per row, from otel_traces rows of `source` (migration 7's rule, as plain counts). */
const ttftReports = (source: string, where: string): string => `SELECT
    ${deadlineDimensions},
    ${latencyBucketSql('Duration / 1e6')} AS TtftBucketMs,
    toUInt8(1) AS Abandoned,
    count() AS Calls
FROM ${source}
WHERE SpanName = '${TTFT_DEADLINE_SPAN}' AND ${spanAttribute('gen_ai.request.stream')} = 'true' AND ${where}
GROUP BY Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned`;

const completionReports = (source: string, where: string): string => `SELECT
    ${deadlineDimensions},
    toUInt8(0) AS Good,
    ${latencyBucketSql('Duration / 1e6')} AS DurationBucketMs,
    toUInt8(1) AS Aborted,
    count() AS Calls
FROM ${source}
WHERE SpanName = '${TTFT_DEADLINE_SPAN}' AND ${where}
GROUP BY Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted`;

/** A call counted by its deadline report is not counted again by its own row. */
const NOT_REPORTED = 'TtftDeadlineExceeded = 0';

/**
 * Migration 9: the rollups hold plain counts (SummingMergeTree, `Calls UInt64`): O(minutes ×
 * series × buckets) rows, no per-call state. Exactly-once comes from the insert, which leaves out
 * call spans and deadline reports already stored (insert-dedup.ts), and from counting a hung call
 * once: by its `llm.ttft_deadline` report, its own row (TtftDeadlineExceeded = 1) left out.
 *
 * Existing minutes move over once (the INSERT runs only while the new table is empty, so a
 * migration interrupted and run again does not count twice): minutes llm_calls still holds are
 * recounted from it (FINAL, the last read that needs it) and the deadline reports in otel_traces
 * (each once; a call row whose report is stored left out); older minutes keep the old rollups'
 * per-row distinct counts (uniqExactMerge per row). The old tables are then truncated (kept empty,
 * so the INSERT still parses if the migration runs again) and their views dropped.
 */
export function rollupCountsDdl(ctx: DdlContext): string[] {
  const body = (name: string, key: string): string => `PARTITION BY toYYYYMM(Minute)
ORDER BY (${key})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
  const calls = qualified(ctx, LLM_CALLS);
  const traces = qualified(ctx, OTEL_TRACES);
  const reports = `(SELECT * FROM ${traces} WHERE SpanName = '${TTFT_DEADLINE_SPAN}' LIMIT 1 BY TraceId, SpanId)`;
  // Minutes from here on are recounted; before it (llm_calls expired) the old rows carry over.
  const since = `ifNull((SELECT minOrNull(toStartOfMinute(Timestamp)) FROM ${calls}), toDateTime('2106-01-01 00:00:00', 'UTC'))`;
  const unreported = `Timestamp >= ${since} AND (TraceId, SpanId) NOT IN (SELECT TraceId, ParentSpanId FROM ${traces} WHERE SpanName = '${TTFT_DEADLINE_SPAN}')`;
  const recount = (target: string, columns: string, parts: string[]): string =>
    `INSERT INTO ${qualified(ctx, target)} (${columns})
SELECT ${columns} FROM (
${parts.join('\nUNION ALL\n')}
)
WHERE (SELECT count() FROM ${qualified(ctx, target)}) = 0`;
  const carried = (old: string, keys: string): string =>
    `SELECT ${keys}, toUInt64(uniqExactMerge(Calls)) AS Calls FROM ${qualified(ctx, old)} WHERE Minute < ${since} GROUP BY ${keys}`;
  const truncate = (old: string): string => `TRUNCATE TABLE IF EXISTS ${localTable(ctx, old)}${onCluster(ctx)}`;
  return [
    ...table(ctx, {
      name: LLM_TTFT_COUNTS,
      columns: `${dimensions}
    TtftBucketMs UInt32,
    Abandoned UInt8,
    Calls UInt64`,
      engine: 'SummingMergeTree',
      body: body(LLM_TTFT_COUNTS, `${TTFT_KEY}, Abandoned`),
      // Rows are summed wherever they are: any shard will do for the one-time recount.
      shardingKey: 'rand()',
    }),
    ...table(ctx, {
      name: LLM_COMPLETION_COUNTS,
      columns: `${dimensions}
    Good UInt8,
    DurationBucketMs UInt32,
    Aborted UInt8,
    Calls UInt64`,
      engine: 'SummingMergeTree',
      body: body(LLM_COMPLETION_COUNTS, `${COMPLETION_KEY}, Aborted`),
      shardingKey: 'rand()',
    }),
    recount(LLM_TTFT_COUNTS, TTFT_COLUMNS, [
      ttftCalls(`${calls} FINAL`, unreported),
      ttftReports(reports, `Timestamp >= ${since}`),
      carried(LLM_TTFT_MINUTE, 'Minute, ServiceName, Route, Model, Provider, TtftBucketMs, Abandoned'),
    ]),
    recount(LLM_COMPLETION_COUNTS, COMPLETION_COLUMNS, [
      completionCalls(`${calls} FINAL`, unreported),
      completionReports(reports, `Timestamp >= ${since}`),
      carried(LLM_COMPLETION_MINUTE, 'Minute, ServiceName, Route, Model, Provider, Good, DurationBucketMs, Aborted'),
    ]),
    materializedView(ctx, { name: `${LLM_TTFT_COUNTS}_mv`, to: LLM_TTFT_COUNTS, select: ttftCalls(localTable(ctx, LLM_CALLS), NOT_REPORTED) }),
    materializedView(ctx, { name: `${LLM_TTFT_COUNTS}_deadline_mv`, to: LLM_TTFT_COUNTS, select: ttftReports(localTable(ctx, OTEL_TRACES), '1') }),
    materializedView(ctx, { name: `${LLM_COMPLETION_COUNTS}_mv`, to: LLM_COMPLETION_COUNTS, select: completionCalls(localTable(ctx, LLM_CALLS), NOT_REPORTED) }),
    materializedView(ctx, {
      name: `${LLM_COMPLETION_COUNTS}_deadline_mv`,
      to: LLM_COMPLETION_COUNTS,
      select: completionReports(localTable(ctx, OTEL_TRACES), '1'),
    }),
    dropView(ctx, `${LLM_TTFT_MINUTE}_mv2`),
    dropView(ctx, `${LLM_TTFT_MINUTE}_deadline_mv`),
    dropView(ctx, `${LLM_COMPLETION_MINUTE}_mv2`),
    dropView(ctx, `${LLM_COMPLETION_MINUTE}_deadline_mv`),
    truncate(LLM_TTFT_MINUTE),
    truncate(LLM_COMPLETION_MINUTE),
  ];
}
