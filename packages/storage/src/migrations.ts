// Versioned schema migrations. Every statement is idempotent (IF NOT EXISTS), and each applied
// version is recorded in schema_migrations, so start-up can always run migrate().
import type { ClickHouseClient } from '@clickhouse/client';
import { callHoursDdl } from './call-hours.ts';
import { costHoursDdl } from './cost-hours.ts';
import { duplicateCallsDdl } from './duplicate-calls.ts';
import { duplicateHoursDdl } from './duplicate-hours.ts';
import { createDatabase, type DdlContext, localTable, onCluster, qualified, table } from './ddl.ts';
import { minuteRollupsDdl } from './minute-rollups.ts';
import {
  llmCallsClientSetupDdl,
  llmCallsDdl,
  llmCallsDeadlineFlagDdl,
  llmCallsFiniteNumbersDdl,
  llmCallsMeasuredElsewhereDdl,
  llmCallsPromptHashDdl,
  llmCallsTtftSecondsDdl,
} from './llm-calls.ts';
import { otelTracesDdl } from './otel-traces.ts';
import { rollupAbortsDdl, rollupCountsDdl, rollupDeadlineDdl, rollupsDdl } from './rollups.ts';
import { LLM_CALLS, SCHEMA_MIGRATIONS } from './tables.ts';

export interface Migration {
  version: number;
  name: string;
  statements: (ctx: DdlContext) => string[];
  /**
   * Run right after the statements, when a migrate applies this migration: what the later
   * migrations of the same run need. Not part of the released text (the statements, which never
   * change once applied), so a store that applied the migration before is not touched again.
   */
  then?: (ctx: DdlContext) => string[];
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'otel_traces (Collector exporter schema) and trace-id lookup', statements: otelTracesDdl },
  { version: 2, name: 'llm_calls and its view from otel_traces', statements: llmCallsDdl },
  { version: 3, name: 'per-minute SLO rollups llm_ttft_minute and llm_completion_minute', statements: rollupsDdl },
  { version: 4, name: 'SLO rollups count aborted calls (llm_ttft_minute.Abandoned, llm_completion_minute.Aborted)', statements: rollupAbortsDdl },
  { version: 5, name: 'llm_calls_mv reads inf and nan attributes as absent', statements: llmCallsFiniteNumbersDdl },
  { version: 6, name: 'llm_calls.ClientSetupMs (llm.client_setup_ms) and its view', statements: llmCallsClientSetupDdl },
  { version: 7, name: 'SLO rollups count a call without output at its TTFT deadline while it hangs (llm.ttft_deadline spans)', statements: rollupDeadlineDdl },
  { version: 8, name: 'llm_calls.PromptHash (llm.prompt.hash) for duplicate calls', statements: llmCallsPromptHashDdl },
  {
    version: 9,
    name: 'SLO rollups as plain counts (llm_ttft_counts, llm_completion_counts; llm_calls.TtftDeadlineExceeded): exactly-once at insert',
    statements: (ctx) => [...llmCallsDeadlineFlagDdl(ctx), ...rollupCountsDdl(ctx)],
    // Releases before this one stored a re-sent call span twice in llm_calls (deduplicated at read
    // time) until a merge; the backfills of migrations 10 to 14 read llm_calls and counted both
    // copies into the hourly, cost and minute rollups and llm_duplicate_calls, for good. One FINAL
    // merge first: once, on the upgrade across this migration (it rewrites the table).
    then: (ctx) => [`OPTIMIZE TABLE ${localTable(ctx, LLM_CALLS)}${onCluster(ctx)} FINAL`],
  },
  { version: 10, name: 'hourly rollups llm_call_hours and llm_latency_hours for long dashboard ranges', statements: callHoursDdl },
  { version: 11, name: 'hourly cost rollup llm_cost_hours (token sums per price-determining group) for the cost queries', statements: costHoursDdl },
  {
    version: 12,
    name: 'llm_duplicate_calls: calls repeating a prompt within 60 s, marked at insert by a view on llm_calls, and those already stored',
    statements: duplicateCallsDdl,
  },
  {
    version: 13,
    name: 'llm_duplicate_hours: the duplicates summed per hour and cost group; llm_duplicate_calls_mv marks each duplicate once',
    statements: duplicateHoursDdl,
  },
  {
    version: 14,
    name: 'minute rollups llm_cost_minutes and llm_latency_minutes for time series with buckets shorter than an hour',
    statements: minuteRollupsDdl,
  },
  {
    version: 15,
    name: "llm_calls_mv leaves out another instrumentation's call span whose model request an LLM Prism call span measures (llm.measured_by)",
    statements: llmCallsMeasuredElsewhereDdl,
  },
  {
    version: 16,
    name: 'llm_calls_mv rounds a first-chunk time given in seconds (gen_ai.response.time_to_first_chunk) to the nanosecond once in ms',
    statements: llmCallsTtftSecondsDdl,
  },
];

/** Statements creating the database and the migrations ledger (run before every migrate). */
export function bootstrapDdl(ctx: DdlContext): string[] {
  return [
    createDatabase(ctx),
    ...table(ctx, {
      name: SCHEMA_MIGRATIONS,
      columns: `
    Version UInt32,
    Name String,
    AppliedAt DateTime64(3, 'UTC') DEFAULT now64(3)`,
      engine: 'ReplacingMergeTree',
      body: 'ORDER BY Version',
      sharded: false,
    }),
  ];
}

/** What applying one migration runs: its statements, then its `then`. */
const migrationStatements = (m: Migration, ctx: DdlContext): string[] => [...m.statements(ctx), ...(m.then?.(ctx) ?? [])];

/** Every statement of every migration, in order: the complete DDL (used by docs and tests). */
export function schemaDdl(ctx: DdlContext): string[] {
  return [...bootstrapDdl(ctx), ...migrations.flatMap((m) => migrationStatements(m, ctx))];
}

/** Applies the migrations not yet recorded; returns the versions applied by this call. */
export async function applyMigrations(client: ClickHouseClient, ctx: DdlContext): Promise<number[]> {
  for (const statement of bootstrapDdl(ctx)) await client.command({ query: statement });
  const ledger = qualified(ctx, SCHEMA_MIGRATIONS);
  const result = await client.query({ query: `SELECT DISTINCT Version FROM ${ledger}`, format: 'JSONEachRow' });
  const done = new Set((await result.json<{ Version: number }>()).map((row) => Number(row.Version)));
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    for (const statement of migrationStatements(migration, ctx)) await client.command({ query: statement });
    await client.insert({ table: ledger, values: [{ Version: migration.version, Name: migration.name }], format: 'JSONEachRow' });
    applied.push(migration.version);
  }
  return applied;
}
