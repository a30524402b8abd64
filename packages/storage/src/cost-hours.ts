// Migration 11: llm_cost_hours, calls and token sums per hour and price-determining group (cost.ts):
// the cost queries price whole hours from here, the partial hours at a range's edges from
// llm_calls, and duplicates from llm_duplicate_calls (docs/clickhouse.md, "Cost rollup").
// Fed by a view on llm_calls' inserts like the other hourly rollups (call-hours.ts).
import { rollupBody } from './call-hours.ts';
import { COST_HOUR_COMPUTED, COST_HOUR_DIMENSIONS, COST_HOUR_MEASURES } from './cost.ts';
import { backfillWhileEmpty, type DdlContext, localTable, materializedView, qualified, table } from './ddl.ts';
import { LLM_CALLS, LLM_COST_HOURS } from './tables.ts';
import { HOUR_GRAIN, startOfGrain, type TimeGrain } from './time-grains.ts';

const KEYS = [...COST_HOUR_DIMENSIONS, ...COST_HOUR_COMPUTED.map((d) => d.name)];

/** The llm_cost_hours rows of `source` (llm_calls columns): calls and token sums per hour (or `grain`) and group. */
export const costRollupSelect = (source: string, grain: TimeGrain = HOUR_GRAIN): string => `SELECT
    ${startOfGrain(grain, 'Timestamp')} AS ${grain.column},
    ${COST_HOUR_DIMENSIONS.join(',\n    ')},
    ${COST_HOUR_COMPUTED.map((d) => `${d.ofCalls} AS ${d.name}`).join(',\n    ')},
    ${COST_HOUR_MEASURES.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY ${grain.column}, ${KEYS.join(', ')}`;

/** A table shaped like llm_cost_hours at `grain` (migration 13's llm_duplicate_hours and 14's llm_cost_minutes are too). */
export const costRollupTable = (ctx: DdlContext, name: string, grain: TimeGrain = HOUR_GRAIN): string[] =>
  table(ctx, {
    name,
    columns: `
    ${grain.column} DateTime CODEC(Delta, ZSTD(1)),
    ${COST_HOUR_DIMENSIONS.map((d) => `${d} LowCardinality(String)`).join(',\n    ')},
    ${COST_HOUR_COMPUTED.map((d) => `${d.name} ${d.type}`).join(',\n    ')},
    ${COST_HOUR_MEASURES.map((m) => `${m.name} SimpleAggregateFunction(${m.merge}, ${m.type})`).join(',\n    ')}`,
    engine: 'AggregatingMergeTree',
    body: rollupBody(ctx, name, grain, `ServiceName, ${grain.column}, ${KEYS.slice(1).join(', ')}`),
    shardingKey: 'rand()',
  });

/**
 * Migration 11: llm_cost_hours, its view on llm_calls, and the hours already stored summed once
 * from llm_calls (only while the table is empty; the view first, as in migration 10).
 */
export function costHoursDdl(ctx: DdlContext): string[] {
  return [
    ...costRollupTable(ctx, LLM_COST_HOURS),
    materializedView(ctx, { name: `${LLM_COST_HOURS}_mv`, to: LLM_COST_HOURS, select: costRollupSelect(localTable(ctx, LLM_CALLS)) }),
    backfillWhileEmpty(ctx, LLM_COST_HOURS, costRollupSelect(qualified(ctx, LLM_CALLS))),
  ];
}
