// "Without the derived tables": each derived table in a query is replaced by the SELECT of the
// materialized view that fills it, read back from ClickHouse (system.tables.as_select), so the
// same question is answered from otel_traces at query time — what a plain view over the raw span
// table would cost. Nested: the rollups' SELECTs read llm_calls, itself replaced by its SELECT.
// The hourly rollups are left as they are (their 30-day raw answers would take the raw budget);
// the minute rollups are replaced where a series reads them, so a day's series still checks the
// whole path from otel_traces (elsewhere their branch reads nothing, but its raw SELECT would run).
import { expandMacros } from '@llm-prism/grafana';
import { LLM_COST_MINUTES, LLM_LATENCY_MINUTES, type Storage } from '@llm-prism/storage';

/** `sql` expanded at a panel interval of `intervalMs`. */
export type RawRewriter = (sql: string, intervalMs: number) => string;

/**
 * Whether series read the minute rollups at this interval: buckets (`$__interval_s`, as the macros
 * make it) of whole minutes below an hour, the gate of grafana's hourly-tier.ts.
 */
const readsMinutes = (intervalMs: number) => {
  const s = Number(expandMacros('$__interval_s', { from: 0, to: 0, intervalMs }));
  return s % 60 === 0 && s % 3600 !== 0;
};

async function viewSelect(storage: Storage, view: string): Promise<string> {
  const result = await storage.client.query({
    query: 'SELECT as_select FROM system.tables WHERE database = {db:String} AND name = {view:String}',
    query_params: { db: storage.database, view },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ as_select: string }>();
  if (row === undefined || row.as_select === '') throw new Error(`no SELECT for view ${view}`);
  return row.as_select;
}

export async function rawRewriter(storage: Storage): Promise<RawRewriter> {
  const db = storage.database;
  const table = (name: string) => new RegExp(`\\b${db}\\.${name}\\b(\\s+FINAL\\b)?`, 'g');
  const calls = `(${await viewSelect(storage, 'llm_calls_mv')})`;
  // Inside the rollup SELECTs llm_calls appears as `otel.llm_calls` (as_select qualifies names).
  const viaCalls = async (view: string) => `(${(await viewSelect(storage, view)).replace(table('llm_calls'), () => calls)})`;
  const ttft = await viaCalls('llm_ttft_counts_mv');
  const completion = await viaCalls('llm_completion_counts_mv');
  const costMinutes = await viaCalls(`${LLM_COST_MINUTES}_mv`);
  const latencyMinutes = await viaCalls(`${LLM_LATENCY_MINUTES}_mv`);
  const traceIdTs = `(${await viewSelect(storage, 'otel_traces_trace_id_ts_mv')})`;
  return (sql, intervalMs) => {
    const withMinutes = readsMinutes(intervalMs) ? sql.replace(table(LLM_COST_MINUTES), () => costMinutes).replace(table(LLM_LATENCY_MINUTES), () => latencyMinutes) : sql;
    return withMinutes
      // A subquery takes no PREWHERE: its condition joins the WHERE (the same rows).
      .replace(/^PREWHERE (.+)\nWHERE /m, (_, cond: string) => `WHERE (${cond}) AND `)
      .replace(table('llm_ttft_counts'), () => ttft)
      .replace(table('llm_completion_counts'), () => completion)
      .replace(table('llm_calls'), () => calls)
      .replace(table('otel_traces_trace_id_ts'), () => traceIdTs);
  };
}
