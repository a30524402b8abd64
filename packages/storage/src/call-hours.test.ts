// Migrations 10 and 14: the hourly rollups hold what llm_calls holds, hour by hour, and the
// minute rollups minute by minute — backfilled once on upgrade, kept up by the views, each call
// counted once.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CALL_HOUR_MEASURES, type HourMeasure, LATENCY_HOUR_MEASURES } from './call-hours.ts';
import { COST_HOUR_COMPUTED, COST_HOUR_DIMENSIONS, COST_HOUR_MEASURES } from './cost.ts';
import { bootstrapDdl, migrations } from './migrations.ts';
import { formatTimestamp } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';
import { HOUR_GRAIN, MINUTE_GRAIN, startOfGrain, type TimeGrain } from './time-grains.ts';

const DB = 'otel_v9_hours';
const HOUR_START = Date.UTC(2026, 10, 23, 13, 0, 0);
let dataDir: string;
let storage: Storage;

/** Call n: in hour n % 3, streamed or not, with outcome, cache state and latencies varying with n. */
function span(n: number) {
  const streamed = n % 4 !== 0;
  const ttft = 100 + ((n * 37) % 900);
  return otelTraceRow({
    Timestamp: formatTimestamp(BigInt(HOUR_START + (n % 3) * 3_600_000 + ((n * 7919) % 3_600_000)) * 1_000_000n),
    TraceId: n.toString(16).padStart(32, '0'),
    SpanId: n.toString(16).padStart(16, '0'),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: 'hours',
    Duration: String((ttft + 500 + n) * 1e6),
    StatusCode: n % 11 === 0 ? 'Error' : 'Unset',
    SpanAttributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': n % 2 === 0 ? 'openai' : 'anthropic',
      'gen_ai.request.model': n % 2 === 0 ? 'gpt-4o' : 'claude-sonnet-4',
      'gen_ai.request.stream': String(streamed),
      'gen_ai.response.finish_reasons': n % 11 === 0 ? '' : n % 7 === 0 ? '["length"]' : '["stop"]',
      'gen_ai.usage.input_tokens': String(1000 + n),
      'gen_ai.usage.output_tokens': '40',
      'gen_ai.usage.cache_read.input_tokens': n % 3 === 0 ? '512' : '0',
      'llm.cache.state': n % 3 === 0 ? 'hit' : 'miss',
      'llm.cache.miss_reason': n % 3 === 0 ? '' : n % 2 === 0 ? 'cold' : 'expired',
      'llm.outcome': n % 11 === 0 ? 'error' : n % 13 === 0 ? 'aborted' : n % 7 === 0 ? 'truncated' : 'success',
      'error.type': n % 11 === 0 ? 'server_error' : '',
      'llm.retries': String(n % 5 === 0 ? 1 : 0),
      'llm.rate_limited_attempts': String(n % 10 === 0 ? 1 : 0),
      'llm.ratelimit.headroom': String((n % 17) / 17),
      // 0 and sub-floor latencies land in bucket 0 (a view that threw would fail the insert).
      'llm.queue_ms': String(n % 9 === 0 ? 0 : n % 10 === 0 ? 0.004 : 20 + (n % 50)),
      ...(streamed ? { 'llm.ttft_ms': String(ttft), 'llm.prefill_ms': String(ttft - 20), 'llm.decode_ms': String(500 + n), 'llm.stream.chunks': String(n % 6), 'llm.stream.gap_p95_ms': String(3 + (n % 9)) } : {}),
    },
  });
}

beforeAll(async () => {
  dataDir = await tempDataDir('llm-prism-call-hours-');
  storage = await openStorage({ dataDir, database: DB, migrate: false });
  // What release 9 left: the schema of migrations 1-9 and calls stored then.
  const ctx = { database: DB };
  for (const statement of bootstrapDdl(ctx)) await storage.client.command({ query: statement });
  for (const m of migrations.filter((m) => m.version <= 9)) {
    for (const statement of m.statements(ctx)) await storage.client.command({ query: statement });
    await storage.client.insert({ table: `${DB}.schema_migrations`, values: [{ Version: m.version, Name: m.name }], format: 'JSONEachRow' });
  }
  await storage.insertSpans(Array.from({ length: 120 }, (_, i) => span(i)));
});

afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const CALL_DIMS = 'ServiceName, RequestModel, Provider, Outcome, FinishReason, ErrorType, CacheState, CacheMissReason, CacheBreakAt';

/**
 * Every measure of `table` per `grain` and dimension equals the same measure recomputed from
 * llm_calls (dimensions there: `dimsOfCalls`); returns the rows.
 */
async function agrees(table: string, dims: string, measures: readonly HourMeasure[], grain: TimeGrain = HOUR_GRAIN, dimsOfCalls = dims): Promise<Record<string, unknown>[]> {
  const fromRollup = `SELECT toString(${grain.column}) AS time, ${dims}, ${measures.map((m) => `${m.merge}(${m.name}) AS ${m.name}`).join(', ')}
    FROM ${DB}.${table} GROUP BY ALL ORDER BY ALL`;
  const fromCalls = `SELECT toString(${startOfGrain(grain, 'Timestamp')}) AS time, ${dimsOfCalls},
    ${measures.map((m) => `${m.ofCalls} AS ${m.name}`).join(', ')} FROM ${DB}.llm_calls GROUP BY ALL ORDER BY ALL`;
  const [a, b] = await Promise.all([fromRollup, fromCalls].map(async (query) => (await storage.client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>()));
  expect(a).toEqual(b);
  return a ?? [];
}

const COST_DIMS = [...COST_HOUR_DIMENSIONS, ...COST_HOUR_COMPUTED.map((d) => d.name)].join(', ');
const COST_DIMS_OF_CALLS = [...COST_HOUR_DIMENSIONS, ...COST_HOUR_COMPUTED.map((d) => `${d.ofCalls} AS ${d.name}`)].join(', ');

/** The hourly and the minute rollups agree with llm_calls; returns the calls counted by each. */
async function rollupsAgree(): Promise<number[]> {
  const latency = await agrees('llm_latency_hours', 'ServiceName, RequestModel', LATENCY_HOUR_MEASURES);
  expect(latency).toHaveLength(6);
  // Histograms hold calls: the TTFT histogram of an hour counts its streamed calls.
  expect(latency.some((r) => Object.keys(r.TtftMs as object).length > 1)).toBe(true);
  const latencyMinutes = await agrees('llm_latency_minutes', 'ServiceName, RequestModel', LATENCY_HOUR_MEASURES, MINUTE_GRAIN);
  expect(latencyMinutes.length).toBeGreaterThan(latency.length);
  const counts = await agrees('llm_call_hours', CALL_DIMS, CALL_HOUR_MEASURES);
  const costMinutes = await agrees('llm_cost_minutes', COST_DIMS, COST_HOUR_MEASURES, MINUTE_GRAIN, COST_DIMS_OF_CALLS);
  const calls = (rows: Record<string, unknown>[]) => rows.reduce((n, r) => n + Number(r.Calls), 0);
  return [calls(counts), calls(costMinutes)];
}

test('an upgrade backfills the hours and minutes llm_calls holds, once, and the views keep them up, each call once', async () => {
  expect(await storage.migrate()).toEqual([10, 11, 12, 13, 14, 15, 16]);
  expect(await rollupsAgree()).toEqual([120, 120]);
  // Run again (a migration interrupted before its ledger row): the backfill does not repeat.
  for (const version of [10, 14]) {
    for (const statement of migrations.find((m) => m.version === version)!.statements({ database: DB })) await storage.client.command({ query: statement });
  }
  expect(await rollupsAgree()).toEqual([120, 120]);
  // New calls arrive through the views; a redelivered one is left out by the insert.
  await storage.insertSpans([span(5), ...Array.from({ length: 30 }, (_, i) => span(200 + i))]);
  expect(await rollupsAgree()).toEqual([150, 150]);
});
