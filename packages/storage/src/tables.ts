// Public table names: the contract with the ingest, Grafana and report packages (docs/clickhouse.md).
export const OTEL_TRACES = 'otel_traces';
export const OTEL_TRACES_TRACE_ID_TS = 'otel_traces_trace_id_ts';
export const LLM_CALLS = 'llm_calls';
export const LLM_TTFT_MINUTE = 'llm_ttft_minute';
export const LLM_COMPLETION_MINUTE = 'llm_completion_minute';
/** The rollups from migration 9 on: plain counts per minute (the two above are read no more). */
export const LLM_TTFT_COUNTS = 'llm_ttft_counts';
export const LLM_COMPLETION_COUNTS = 'llm_completion_counts';
/** Migration 10: hourly rollups of llm_calls for the dashboards' long ranges (call-hours.ts). */
export const LLM_CALL_HOURS = 'llm_call_hours';
export const LLM_LATENCY_HOURS = 'llm_latency_hours';
/** Migration 11: calls and token sums per hour and price-determining group, for the cost queries (cost-hours.ts). */
export const LLM_COST_HOURS = 'llm_cost_hours';
/** Migration 12: every call repeating an earlier call's whole prompt within 60 s, marked at insert (duplicate-calls.ts). */
export const LLM_DUPLICATE_CALLS = 'llm_duplicate_calls';
/** Migration 13: those duplicates summed per hour and cost group, like llm_cost_hours (duplicate-hours.ts). */
export const LLM_DUPLICATE_HOURS = 'llm_duplicate_hours';
/** Migration 14: llm_cost_hours and llm_latency_hours per minute, for series with buckets shorter than an hour (minute-rollups.ts). */
export const LLM_COST_MINUTES = 'llm_cost_minutes';
export const LLM_LATENCY_MINUTES = 'llm_latency_minutes';
export const SCHEMA_MIGRATIONS = 'schema_migrations';

/**
 * Every table an insert into otel_traces writes, directly or through the views, with the time column
 * by which a window of its rows is deleted and rebuilt after an insert cut short (cut-inserts.ts).
 * null: not rebuilt — the trace-id lookup holds a trace's first and last span time, which spans
 * inserted again do not change. durability.test checks the names against the views' targets.
 */
export const INSERTED_TABLE_TIME_COLUMNS: Readonly<Record<string, string | null>> = {
  [OTEL_TRACES]: 'Timestamp',
  [OTEL_TRACES_TRACE_ID_TS]: null,
  [LLM_CALLS]: 'Timestamp',
  [LLM_TTFT_COUNTS]: 'Minute',
  [LLM_COMPLETION_COUNTS]: 'Minute',
  [LLM_CALL_HOURS]: 'Hour',
  [LLM_LATENCY_HOURS]: 'Hour',
  [LLM_COST_HOURS]: 'Hour',
  [LLM_COST_MINUTES]: 'Minute',
  [LLM_LATENCY_MINUTES]: 'Minute',
  [LLM_DUPLICATE_CALLS]: 'Timestamp',
  [LLM_DUPLICATE_HOURS]: 'Hour',
};
