// Migration 14: rollups per minute for the time series whose buckets are shorter than an hour (a
// day's range has 2-minute buckets, a week's 10-minute ones): llm_cost_minutes, shaped like
// llm_cost_hours, and llm_latency_minutes, shaped like llm_latency_hours. Such a series reads whole
// minutes from here and only the partial minutes at its range's ends from llm_calls, where it read
// every call before (docs/clickhouse.md, "Minute rollups"). Duplicates have no minute rollup: there
// are few enough of them to read from llm_duplicate_calls. Fed by views on llm_calls' inserts like
// the hourly rollups; they keep as long as llm_calls, since the hourly ones serve longer ranges.
import { latencyRollupSelect, latencyRollupTable } from './call-hours.ts';
import { costRollupSelect, costRollupTable } from './cost-hours.ts';
import { backfillWhileEmpty, type DdlContext, localTable, materializedView, qualified } from './ddl.ts';
import { LLM_CALLS, LLM_COST_MINUTES, LLM_LATENCY_MINUTES } from './tables.ts';
import { MINUTE_GRAIN } from './time-grains.ts';

/**
 * Migration 14: llm_cost_minutes and llm_latency_minutes, their views on llm_calls, and the minutes
 * already stored summed once from llm_calls (only while a table is empty; the views first, as in
 * migration 10).
 */
export function minuteRollupsDdl(ctx: DdlContext): string[] {
  const calls = (source: string) => ({ cost: costRollupSelect(source, MINUTE_GRAIN), latency: latencyRollupSelect(source, MINUTE_GRAIN) });
  const local = calls(localTable(ctx, LLM_CALLS));
  const stored = calls(qualified(ctx, LLM_CALLS));
  return [
    ...costRollupTable(ctx, LLM_COST_MINUTES, MINUTE_GRAIN),
    ...latencyRollupTable(ctx, LLM_LATENCY_MINUTES, MINUTE_GRAIN),
    materializedView(ctx, { name: `${LLM_COST_MINUTES}_mv`, to: LLM_COST_MINUTES, select: local.cost }),
    materializedView(ctx, { name: `${LLM_LATENCY_MINUTES}_mv`, to: LLM_LATENCY_MINUTES, select: local.latency }),
    backfillWhileEmpty(ctx, LLM_COST_MINUTES, stored.cost),
    backfillWhileEmpty(ctx, LLM_LATENCY_MINUTES, stored.latency),
  ];
}
