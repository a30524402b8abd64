// Rows written straight into otel_traces, as the OpenTelemetry Collector's ClickHouse exporter
// does, reach the derived tables: the trace-id lookup, llm_calls and the SLO rollups.
import { openStorage, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage?.close();
});

async function select<T>(query: string): Promise<T[]> {
  return (await storage.client.query({ query, format: 'JSONEachRow' })).json<T>();
}

test('Collector-written spans from another GenAI instrumentation land in llm_calls and the rollups', async () => {
  const service = 'collector-fed';
  const common = { ServiceName: service, SpanKind: 'Client', ScopeName: 'opentelemetry.instrumentation.openai_v2', ResourceAttributes: { 'service.name': service } };
  const rows = [
    // Streamed, truncated by max_tokens; TTFT only as gen_ai.response.time_to_first_chunk (s).
    otelTraceRow({
      ...common,
      Timestamp: '2026-11-23 10:15:07.250000000',
      TraceId: '11111111111111111111111111111111',
      SpanId: '1111111111111111',
      SpanName: 'chat gemini-2.5-flash',
      Duration: 3_210_000_000,
      SpanAttributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': 'gcp.gemini',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.response.finish_reasons': '["MAX_TOKENS"]',
        'gen_ai.response.time_to_first_chunk': '0.734',
        'gen_ai.usage.input_tokens': '880',
        'gen_ai.usage.output_tokens': '1024',
      },
    }),
    // A failed, non-streamed call.
    otelTraceRow({
      ...common,
      Timestamp: '2026-11-23 10:15:41.000000000',
      TraceId: '22222222222222222222222222222222',
      SpanId: '2222222222222222',
      SpanName: 'chat gpt-4o',
      Duration: 95_000_000,
      StatusCode: 'Error',
      StatusMessage: '429 Too Many Requests',
      SpanAttributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'error.type': '429',
      },
    }),
    // Not an LLM call: must stay out of llm_calls.
    otelTraceRow({ ...common, Timestamp: '2026-11-23 10:15:42.000000000', TraceId: '22222222222222222222222222222222', SpanId: '3333333333333333', SpanName: 'GET /', SpanKind: 'Server' }),
  ];
  await storage.client.insert({ table: `${storage.database}.otel_traces`, values: rows, format: 'JSONEachRow' });

  const calls = await select<Record<string, unknown>>(
    `SELECT TraceId, Provider, RequestModel, Streamed, StatusCode, ErrorType, FinishReason, Outcome, DurationMs, TtftMs, InputTokens, OutputTokens, Attempts, Retries
     FROM ${storage.database}.llm_calls WHERE ServiceName = '${service}' ORDER BY Timestamp`,
  );
  expect(calls).toEqual([
    {
      TraceId: '11111111111111111111111111111111', Provider: 'gcp.gemini', RequestModel: 'gemini-2.5-flash', Streamed: 1, StatusCode: 'Unset',
      ErrorType: '', FinishReason: 'MAX_TOKENS', Outcome: 'truncated', DurationMs: 3210, TtftMs: 734, InputTokens: 880, OutputTokens: 1024, Attempts: 1, Retries: 0,
    },
    {
      TraceId: '22222222222222222222222222222222', Provider: 'openai', RequestModel: 'gpt-4o', Streamed: 0, StatusCode: 'Error',
      ErrorType: '429', FinishReason: '', Outcome: 'error', DurationMs: 95, TtftMs: null, InputTokens: 0, OutputTokens: 0, Attempts: 1, Retries: 0,
    },
  ]);

  expect(
    await select(`SELECT Minute, TtftBucketMs, sum(Calls) AS Calls FROM ${storage.database}.llm_ttft_counts
      WHERE ServiceName = '${service}' GROUP BY Minute, TtftBucketMs`),
  ).toEqual([{ Minute: '2026-11-23 10:15:00', TtftBucketMs: 740, Calls: 1 }]);
  expect(
    await select(`SELECT Model, Good, DurationBucketMs, sum(Calls) AS Calls FROM ${storage.database}.llm_completion_counts
      WHERE ServiceName = '${service}' GROUP BY Model, Good, DurationBucketMs ORDER BY Model`),
  ).toEqual([
    { Model: 'gemini-2.5-flash', Good: 0, DurationBucketMs: 3300, Calls: 1 },
    { Model: 'gpt-4o', Good: 0, DurationBucketMs: 100, Calls: 1 },
  ]);

  expect(
    await select(`SELECT TraceId, min(Start) AS Start, max(End) AS End FROM ${storage.database}.otel_traces_trace_id_ts
      WHERE TraceId = '22222222222222222222222222222222' GROUP BY TraceId`),
  ).toEqual([{ TraceId: '22222222222222222222222222222222', Start: '2026-11-23 10:15:41', End: '2026-11-23 10:15:42' }]);
});
