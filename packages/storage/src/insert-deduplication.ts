// Migration 15 and the settings of every span insert: ClickHouse's insert deduplication across the
// whole cascade. Each insert carries its own token (`insert_deduplication_token`), so two inserts
// never collide, and the same insert run again — a journaled insert replayed after a crash
// (insert-journal.ts) — is skipped by every table that has it and written to every table that does
// not (`deduplicate_blocks_in_dependent_materialized_views`: each view's table checks its own log).
// A plain MergeTree keeps that log only with `non_replicated_deduplication_window`; the Replicated
// tables of a cluster keep it by default.
import type { ClickHouseSettings } from '@clickhouse/client';
import { type DdlContext, localTable } from './ddl.ts';
import {
  LLM_CALL_HOURS,
  LLM_CALLS,
  LLM_COMPLETION_COUNTS,
  LLM_COST_HOURS,
  LLM_COST_MINUTES,
  LLM_DUPLICATE_CALLS,
  LLM_DUPLICATE_HOURS,
  LLM_LATENCY_HOURS,
  LLM_LATENCY_MINUTES,
  LLM_TTFT_COUNTS,
  OTEL_TRACES,
  OTEL_TRACES_TRACE_ID_TS,
} from './tables.ts';

/** Inserts remembered per table: a replay follows its crash with no insert between. */
export const DEDUPLICATION_WINDOW = 1000;

/** The tables an insert of spans wrote as of migration 15 (frozen: a later table sets the window in its own CREATE). */
const TABLES_V15 = [
  OTEL_TRACES,
  OTEL_TRACES_TRACE_ID_TS,
  LLM_CALLS,
  LLM_TTFT_COUNTS,
  LLM_COMPLETION_COUNTS,
  LLM_CALL_HOURS,
  LLM_LATENCY_HOURS,
  LLM_COST_HOURS,
  LLM_DUPLICATE_CALLS,
  LLM_DUPLICATE_HOURS,
  LLM_COST_MINUTES,
  LLM_LATENCY_MINUTES,
];

/** Migration 15: every table an insert writes keeps a deduplication log (none needed on a cluster). */
export function insertDeduplicationDdl(ctx: DdlContext): string[] {
  if (ctx.cluster !== undefined) return [];
  return TABLES_V15.map((t) => `ALTER TABLE ${localTable(ctx, t)} MODIFY SETTING non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`);
}

/** The settings of one span insert, identified by `token`. */
export function deduplicationSettings(token: string): ClickHouseSettings {
  return { insert_deduplicate: 1, deduplicate_blocks_in_dependent_materialized_views: 1, insert_deduplication_token: token };
}
