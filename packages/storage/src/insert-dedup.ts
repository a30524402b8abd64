// Exactly-once counting at insert (docs/clickhouse.md, "Duplicates"): before an insert, the spans
// that feed llm_calls and the SLO rollups (LLM call spans and `llm.ttft_deadline` reports) and are
// already stored — an exporter re-sending after a lost acknowledgement, a replayed batch — are
// dropped from it, so every count downstream is a plain count. One lookup per insert, on the
// tables' sorting keys. Safe while one insert at a time runs per store (the ingest's group commit);
// other spans stored twice stay twice in otel_traces (the trace view shows each span once).
import type { ClickHouseClient } from '@clickhouse/client';
import { type DdlContext, qualified } from './ddl.ts';
import type { OtelTraceRow } from './otel-traces.ts';
import { TTFT_DEADLINE_SPAN } from './rollups.ts';
import { LLM_CALLS, OTEL_TRACES } from './tables.ts';

/** A span llm_calls_mv turns into a call row (the view's WHERE, on the row as inserted). */
export function isCallSpan(row: OtelTraceRow): boolean {
  return (row.SpanKind === 'Client' || row.SpanKind === 'SPAN_KIND_CLIENT') && (row.SpanAttributes['gen_ai.operation.name'] ?? '') !== '';
}

const isDeadlineReport = (row: OtelTraceRow): boolean => row.SpanName === TTFT_DEADLINE_SPAN;
const identity = (traceId: string, spanId: string): string => `${traceId}/${spanId}`;

/**
 * `rows` without the counted spans that are already stored or earlier in `rows` (other spans are
 * kept as they are). Returns `rows` itself when nothing is dropped.
 */
export async function withoutStoredCalls(client: ClickHouseClient, ctx: DdlContext, rows: readonly OtelTraceRow[]): Promise<readonly OtelTraceRow[]> {
  const counted = rows.filter((r) => isCallSpan(r) || isDeadlineReport(r));
  if (counted.length === 0) return rows;
  let from = counted[0]!.Timestamp;
  let to = from;
  for (const r of counted) {
    if (r.Timestamp < from) from = r.Timestamp;
    if (r.Timestamp > to) to = r.Timestamp;
  }
  const services = [...new Set(counted.map((r) => r.ServiceName))];
  const traces = [...new Set(counted.map((r) => r.TraceId))];
  const params = { from, to, services, traces };
  // OrNull: a malformed time matches nothing here and fails the insert itself, with its own error.
  const range = 'Timestamp BETWEEN toDateTime64OrNull({from:String}, 9) AND toDateTime64OrNull({to:String}, 9)';
  const keys = 'ServiceName IN {services:Array(String)} AND TraceId IN {traces:Array(String)}';
  const query = `SELECT TraceId, SpanId FROM ${qualified(ctx, LLM_CALLS)} WHERE ${keys} AND ${range}
UNION ALL
SELECT TraceId, SpanId FROM ${qualified(ctx, OTEL_TRACES)} WHERE ${keys} AND SpanName = '${TTFT_DEADLINE_SPAN}' AND ${range}`;
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  const seen = new Set((await result.json<{ TraceId: string; SpanId: string }>()).map((r) => identity(r.TraceId, r.SpanId)));
  if (seen.size === 0 && new Set(counted.map((r) => identity(r.TraceId, r.SpanId))).size === counted.length) return rows;
  return rows.filter((r) => {
    if (!isCallSpan(r) && !isDeadlineReport(r)) return true;
    const id = identity(r.TraceId, r.SpanId);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
