// Retention (TTL). Tables get their TTL when created; on later start-ups a changed retentionDays is
// applied with ALTER … MODIFY TTL, so `--retention-days` is never silently ignored.
import type { ClickHouseClient } from '@clickhouse/client';
import { type DdlContext, localName, localTable, onCluster } from './ddl.ts';
import { LLM_CALL_HOURS, LLM_CALLS, LLM_COST_HOURS, LLM_COST_MINUTES, LLM_COMPLETION_COUNTS, LLM_DUPLICATE_CALLS, LLM_DUPLICATE_HOURS, LLM_COMPLETION_MINUTE, LLM_LATENCY_HOURS, LLM_LATENCY_MINUTES, LLM_TTFT_COUNTS, LLM_TTFT_MINUTE, OTEL_TRACES, OTEL_TRACES_TRACE_ID_TS } from './tables.ts';

/** Rollups are small and serve long SLO windows and reports: they keep at least this long. */
export const MIN_ROLLUP_RETENTION_DAYS = 400;

interface TtlSpec {
  timeExpression: string;
  days: (retentionDays: number) => number;
}

const asConfigured = (days: number): number => days;
const rollup = (days: number): number => Math.max(days, MIN_ROLLUP_RETENTION_DAYS);

const TTL: Record<string, TtlSpec> = {
  [OTEL_TRACES]: { timeExpression: 'toDateTime(Timestamp)', days: asConfigured },
  [OTEL_TRACES_TRACE_ID_TS]: { timeExpression: 'toDateTime(Start)', days: asConfigured },
  [LLM_CALLS]: { timeExpression: 'toDateTime(Timestamp)', days: asConfigured },
  [LLM_TTFT_MINUTE]: { timeExpression: 'Minute', days: rollup },
  [LLM_COMPLETION_MINUTE]: { timeExpression: 'Minute', days: rollup },
  [LLM_TTFT_COUNTS]: { timeExpression: 'Minute', days: rollup },
  [LLM_COMPLETION_COUNTS]: { timeExpression: 'Minute', days: rollup },
  [LLM_CALL_HOURS]: { timeExpression: 'Hour', days: rollup },
  [LLM_LATENCY_HOURS]: { timeExpression: 'Hour', days: rollup },
  [LLM_COST_HOURS]: { timeExpression: 'Hour', days: rollup },
  // Kept as long as the cost rollup whose hours' waste it corrects.
  [LLM_DUPLICATE_CALLS]: { timeExpression: 'toDateTime(Timestamp)', days: rollup },
  [LLM_DUPLICATE_HOURS]: { timeExpression: 'Hour', days: rollup },
  // Sub-hour buckets of the ranges llm_calls still holds; the hourly rollups serve longer ones.
  [LLM_COST_MINUTES]: { timeExpression: 'Minute', days: asConfigured },
  [LLM_LATENCY_MINUTES]: { timeExpression: 'Minute', days: asConfigured },
};

function spec(table: string): TtlSpec {
  const found = TTL[table];
  if (found === undefined) throw new Error(`no retention defined for ${table}`);
  return found;
}

/**
 * The longest retention: a TTL computes `toDateTime(time) + days` in DateTime, which ends at
 * 2106-02-07 06:28:15 and wraps past it (an expiry in 1970: the row would be dropped at once), and
 * spans are stored up to LATEST_SPAN_TIME_NS (2100-01-01); 2 000 days later is 2105-06-24.
 */
export const MAX_RETENTION_DAYS = 2000;

export function validateRetentionDays(retentionDays: number): number {
  if (!Number.isInteger(retentionDays) || retentionDays <= 0 || retentionDays > MAX_RETENTION_DAYS) {
    throw new Error(`retention must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${retentionDays}`);
  }
  return retentionDays;
}

/** Days a table keeps rows under the given retention (undefined: no TTL). */
export function retentionDaysFor(table: string, retentionDays: number | undefined): number | undefined {
  return retentionDays === undefined ? undefined : spec(table).days(validateRetentionDays(retentionDays));
}

function ttlExpression(table: string, days: number): string {
  return `${spec(table).timeExpression} + toIntervalDay(${days})`;
}

/** The TTL line of a table's CREATE statement ('' without retention). */
export function ttlClause(ctx: DdlContext, table: string): string {
  const days = retentionDaysFor(table, ctx.retentionDays);
  return days === undefined ? '' : `\nTTL ${ttlExpression(table, days)}`;
}

/** Brings existing tables' TTL in line with ctx.retentionDays; returns the tables altered. */
export async function applyRetention(client: ClickHouseClient, ctx: DdlContext): Promise<string[]> {
  if (ctx.retentionDays === undefined) return [];
  const result = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = {database:String}',
    query_params: { database: ctx.database },
    format: 'JSONEachRow',
  });
  const engines = new Map((await result.json<{ name: string; engine_full: string }>()).map((t) => [t.name, t.engine_full]));
  const altered: string[] = [];
  for (const table of Object.keys(TTL)) {
    const engine = engines.get(localName(ctx, table));
    if (engine === undefined) continue;
    const days = retentionDaysFor(table, ctx.retentionDays)!;
    const current = /\bTTL\b.*?toIntervalDay\((\d+)\)/.exec(engine)?.[1];
    if (current === String(days)) continue;
    await client.command({ query: `ALTER TABLE ${localTable(ctx, table)}${onCluster(ctx)} MODIFY TTL ${ttlExpression(table, days)}` });
    altered.push(table);
  }
  return altered;
}
