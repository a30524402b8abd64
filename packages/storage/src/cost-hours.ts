// Migration 11: llm_cost_hours, calls and token sums per hour and price-determining group (cost.ts):
// the cost queries price whole hours from here, the partial hours at a range's edges from
// llm_calls, and duplicates from llm_duplicate_calls (docs/clickhouse.md, "Cost rollup").
// Fed by a view on llm_calls' inserts like the other hourly rollups (call-hours.ts).
import { hourOf } from './call-hours.ts';
import { COST_HOUR_COMPUTED, COST_HOUR_DIMENSIONS, COST_HOUR_MEASURES } from './cost.ts';
import { backfillWhileEmpty, type DdlContext, localTable, materializedView, qualified, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { LLM_CALLS, LLM_COST_HOURS } from './tables.ts';

const KEYS = [...COST_HOUR_DIMENSIONS, ...COST_HOUR_COMPUTED.map((d) => d.name)];

/** The llm_cost_hours rows of `source` (llm_calls columns): calls and token sums per hour and group. */
export const costHoursSelect = (source: string): string => `SELECT
    ${hourOf('Timestamp')} AS Hour,
    ${COST_HOUR_DIMENSIONS.join(',\n    ')},
    ${COST_HOUR_COMPUTED.map((d) => `${d.ofCalls} AS ${d.name}`).join(',\n    ')},
    ${COST_HOUR_MEASURES.map((m) => `${m.ofCalls} AS ${m.name}`).join(',\n    ')}
FROM ${source}
GROUP BY Hour, ${KEYS.join(', ')}`;

/** A table shaped like llm_cost_hours (migration 13's llm_duplicate_hours is one too). */
export const costHoursTable = (ctx: DdlContext, name: string): string[] =>
  table(ctx, {
    name,
    columns: `
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ${COST_HOUR_DIMENSIONS.map((d) => `${d} LowCardinality(String)`).join(',\n    ')},
    ${COST_HOUR_COMPUTED.map((d) => `${d.name} ${d.type}`).join(',\n    ')},
    ${COST_HOUR_MEASURES.map((m) => `${m.name} SimpleAggregateFunction(${m.merge}, ${m.type})`).join(',\n    ')}`,
    engine: 'AggregatingMergeTree',
    body: `PARTITION BY toYYYYMM(Hour)
ORDER BY (ServiceName, Hour, ${KEYS.slice(1).join(', ')})${ttlClause(ctx, name)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
    shardingKey: 'rand()',
  });

/**
 * Migration 11: llm_cost_hours, its view on llm_calls, and the hours already stored summed once
 * from llm_calls (only while the table is empty; the view first, as in migration 10).
 */
export function costHoursDdl(ctx: DdlContext): string[] {
  return [
    ...costHoursTable(ctx, LLM_COST_HOURS),
    materializedView(ctx, { name: `${LLM_COST_HOURS}_mv`, to: LLM_COST_HOURS, select: costHoursSelect(localTable(ctx, LLM_CALLS)) }),
    backfillWhileEmpty(ctx, LLM_COST_HOURS, costHoursSelect(qualified(ctx, LLM_CALLS))),
  ];
}
