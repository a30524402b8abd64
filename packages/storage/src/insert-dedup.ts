// Exactly-once counting at insert (docs/clickhouse.md, "Duplicates"): before an insert, the spans
// that feed llm_calls and the SLO rollups (LLM call spans and `llm.ttft_deadline` reports) and are
// already stored — an exporter re-sending after a lost acknowledgement, a replayed batch — are
// dropped from it, so every count downstream is a plain count. One lookup per insert, on the
// tables' sorting keys. Safe while one insert at a time runs per store (the ingest's group commit);
// other spans stored twice stay twice in otel_traces (the trace view shows each span once).
import type { ClickHouseClient } from '@clickhouse/client';
import { type DdlContext, qualified } from './ddl.ts';
import { isCallSpan, type SpanRow } from './otel-traces.ts';
import { TTFT_DEADLINE_SPAN } from './rollups.ts';
import { LLM_CALLS, OTEL_TRACES } from './tables.ts';

const isDeadlineReport = (row: SpanRow): boolean => row.SpanName === TTFT_DEADLINE_SPAN;
const identity = (traceId: string, spanId: string): string => `${traceId}/${spanId}`;

/** An OtelTraceRow time: 'YYYY-MM-DD HH:MM:SS[.fraction]'. */
const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})?$/;

const isCounted = (row: SpanRow): boolean => isCallSpan(row) || isDeadlineReport(row);

/** The spans counts come from (LLM call spans, deadline reports) whose time is well formed. */
export const countedSpans = <R extends SpanRow>(rows: readonly R[]): R[] => rows.filter((r) => isCounted(r) && TIMESTAMP.test(r.Timestamp));

/** Minutes a batch may span before its lookup also names its trace ids. */
export const MAX_MINUTES_WITHOUT_IDS = 10;

/**
 * `rows` without the counted spans that are already stored or earlier in `rows` (other spans are
 * kept as they are). Returns `rows` itself when nothing is dropped.
 */
export async function withoutStoredCalls<R extends SpanRow>(client: ClickHouseClient, ctx: DdlContext, rows: readonly R[]): Promise<readonly R[]> {
  const counted = rows.filter(isCounted);
  // A malformed time is not looked up: the insert itself fails on it, with its own error.
  const looked = countedSpans(counted);
  if (looked.length === 0) return rows;
  let from = looked[0]!.Timestamp;
  let to = from;
  for (const r of looked) {
    if (r.Timestamp < from) from = r.Timestamp;
    if (r.Timestamp > to) to = r.Timestamp;
  }
  const services = [...new Set(looked.map((r) => r.ServiceName))];
  const minutes = [...new Set(looked.map((r) => `${r.Timestamp.slice(0, 16)}:00`))];
  // The batch's services and time range select llm_calls' granules by its key: reading back every
  // call stored in the batch's minutes is cheaper than sending the batch's ids (docs/clickhouse.md,
  // "Duplicates": 25-40 ms against 140-170 ms for 20 000 calls). A batch over many minutes (a
  // replay) sends its trace ids too, so that what comes back stays about the batch's size.
  const byTrace = minutes.length > MAX_MINUTES_WITHOUT_IDS;
  const params = { from, to, services, minutes, ...(byTrace ? { traces: [...new Set(looked.map((r) => r.TraceId))] } : {}) };
  // OrNull: a time of the right shape that is no date (month 13) matches nothing, as above.
  const keys = `ServiceName IN {services:Array(String)} AND toStartOfMinute(Timestamp) IN arrayMap(m -> toDateTimeOrNull(m), {minutes:Array(String)})
    AND Timestamp BETWEEN toDateTime64OrNull({from:String}, 9) AND toDateTime64OrNull({to:String}, 9)${byTrace ? ' AND TraceId IN {traces:Array(String)}' : ''}`;
  const query = `SELECT TraceId, SpanId FROM ${qualified(ctx, LLM_CALLS)} WHERE ${keys}
UNION ALL
SELECT TraceId, SpanId FROM ${qualified(ctx, OTEL_TRACES)} WHERE SpanName = '${TTFT_DEADLINE_SPAN}' AND ${keys}`;
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  const seen = new Set((await result.json<{ TraceId: string; SpanId: string }>()).map((r) => identity(r.TraceId, r.SpanId)));
  if (seen.size === 0 && new Set(counted.map((r) => identity(r.TraceId, r.SpanId))).size === counted.length) return rows;
  return rows.filter((r) => {
    if (!isCounted(r)) return true;
    const id = identity(r.TraceId, r.SpanId);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
