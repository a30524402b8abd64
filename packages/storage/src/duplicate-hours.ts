// Migration 13: llm_duplicate_hours, the duplicates of llm_duplicate_calls summed per hour and cost
// group like llm_cost_hours (same columns), so the waste queries read whole hours of duplicates in
// O(hours × groups) and only the partial hours at a range's edges from llm_duplicate_calls
// (docs/clickhouse.md, "Duplicate hours"). Summing needs each duplicate written once: the migration
// first changes llm_duplicate_calls' view to mark a late arrival's stored twin only when it was not
// a duplicate already (duplicate-calls.ts).
import { costRollupSelect, costRollupTable } from './cost-hours.ts';
import { backfillWhileEmpty, type DdlContext, localTable, materializedView, qualified } from './ddl.ts';
import { duplicateCallsOnceView } from './duplicate-calls.ts';
import { LLM_DUPLICATE_CALLS, LLM_DUPLICATE_HOURS } from './tables.ts';

/**
 * Migration 13: the view marking each duplicate once, llm_duplicate_hours, its view on
 * llm_duplicate_calls' inserts, and the hours already stored summed once from llm_duplicate_calls
 * with FINAL (a call migration 12's view marked twice counts once; only while the table is empty).
 */
export function duplicateHoursDdl(ctx: DdlContext): string[] {
  return [
    duplicateCallsOnceView(ctx),
    ...costRollupTable(ctx, LLM_DUPLICATE_HOURS),
    materializedView(ctx, { name: `${LLM_DUPLICATE_HOURS}_mv`, to: LLM_DUPLICATE_HOURS, select: costRollupSelect(localTable(ctx, LLM_DUPLICATE_CALLS)) }),
    backfillWhileEmpty(ctx, LLM_DUPLICATE_HOURS, costRollupSelect(`${qualified(ctx, LLM_DUPLICATE_CALLS)} FINAL`)),
  ];
}
