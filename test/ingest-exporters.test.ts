// The official OTLP exporters (protobuf and JSON) → a running ingest server → chDB: otel_traces
// rows column for column, the derived llm_calls row with every typed column, and the SLO rollups.
import { context, SpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../packages/ingest/src/index.ts';

const TOKEN = 'exporter-test-token';
let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, host: '127.0.0.1', storage, tokens: [TOKEN], log: () => {} });
});
afterAll(async () => {
  await server?.close();
  await storage?.close();
});

async function select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

const MS = 1_000_000n;
/** Nanoseconds since the epoch → HrTime, so spans carry exact, known timestamps. */
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
const text = (ns: bigint) => {
  const iso = new Date(Number(ns / MS)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
};

interface Emitted {
  start: bigint;
  traceId: string;
  callSpanId: string;
  ttftSpanId: string;
}

/** One streamed LLM call as @llm-prism/instrumentation shapes it, with phase times injected. */
async function emitCall(exporter: SpanExporter, serviceName: string): Promise<Emitted> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 20 })],
  });
  const tracer = provider.getTracer('@llm-prism/instrumentation', '0.1.0');
  // Whole milliseconds plus 123 456 ns, an instant in the current minute's past.
  const start = (BigInt(Date.now()) - 5_000n) * MS + 123_456n;
  const call = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: hr(start),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': 'chatcmpl-123',
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.request.stream': true,
        'gen_ai.conversation.id': 'conv-7',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read.input_tokens': 1024,
        'gen_ai.usage.cache_creation.input_tokens': 0,
        'gen_ai.usage.cache_write.input_tokens': 0,
        'gen_ai.usage.reasoning.output_tokens': 64,
        'gen_ai.response.time_to_first_chunk': 0.4125,
        'llm.route': '/support/answer',
        'llm.outcome': 'success',
        'llm.client_setup_ms': 35.25,
        'llm.queue_ms': 180,
        'llm.ttft_ms': 412.5,
        'llm.prefill_ms': 197.25,
        'llm.decode_ms': 2087.5,
        'llm.tool_call_ms': 0,
        'llm.stream.chunks': 57,
        'llm.stream.gap_p50_ms': 30.25,
        'llm.stream.gap_p95_ms': 88,
        'llm.stream.gap_max_ms': 140.5,
        'llm.decode.tokens_per_second': 143.71,
        'llm.attempts': 2,
        'llm.retries': 1,
        'llm.rate_limited_attempts': 1,
        'llm.ratelimit.headroom': 0.25,
        'llm.cache.state': 'hit',
        'llm.cache.prefix_hash': '9f2c4e1a',
        'llm.prompt.hash': '5d41402abc4b2a76',
      },
    },
  );
  const parent = trace.setSpan(context.active(), call);
  const ttft = tracer.startSpan('llm.ttft', { startTime: hr(start) }, parent);
  const queue = tracer.startSpan('llm.queue', { startTime: hr(start) }, trace.setSpan(parent, ttft));
  queue.addEvent('llm.http.attempt', { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.05 }, hr(start + 20n * MS));
  queue.end(hr(start + 180n * MS));
  ttft.end(hr(start + 412_500_000n));
  const decode = tracer.startSpan('llm.decode', { startTime: hr(start + 412_500_000n) }, parent);
  decode.end(hr(start + 2_500n * MS));
  call.setStatus({ code: SpanStatusCode.OK });
  call.end(hr(start + 2_500n * MS));
  await provider.forceFlush();
  await provider.shutdown();
  return {
    start,
    traceId: call.spanContext().traceId,
    callSpanId: call.spanContext().spanId,
    ttftSpanId: ttft.spanContext().spanId,
  };
}

const exporters: [string, () => SpanExporter][] = [
  ['exporter-trace-otlp-proto', () => new ProtoExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } })],
  ['exporter-trace-otlp-http (JSON)', () => new JsonExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } })],
];

describe.each(exporters)('%s → ingest → ClickHouse', (name, makeExporter) => {
  const service = `exporters-${name.split(' ')[0]}`;
  let sent: Emitted;

  beforeAll(async () => {
    sent = await emitCall(makeExporter(), service);
  });

  test('otel_traces holds every span exactly as the Collector would write it', async () => {
    const rows = await select<Record<string, unknown>>(
      `SELECT * FROM ${storage.database}.otel_traces WHERE ServiceName = {s:String} ORDER BY SpanName`,
      { s: service },
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['chat gpt-4o', 'llm.decode', 'llm.queue', 'llm.ttft']);
    const byName = Object.fromEntries(rows.map((r) => [r.SpanName, r]));
    expect(byName['chat gpt-4o']).toEqual({
      Timestamp: text(sent.start),
      TraceId: sent.traceId,
      SpanId: sent.callSpanId,
      ParentSpanId: '',
      TraceState: '',
      SpanName: 'chat gpt-4o',
      SpanKind: 'Client',
      ServiceName: service,
      ResourceAttributes: { 'service.name': service, 'deployment.environment.name': 'test' },
      ScopeName: '@llm-prism/instrumentation',
      ScopeVersion: '0.1.0',
      SpanAttributes: expect.objectContaining({
        'gen_ai.response.finish_reasons': '["stop"]',
        'gen_ai.request.stream': 'true',
        'gen_ai.usage.input_tokens': '1200',
        'gen_ai.response.time_to_first_chunk': '0.4125',
        'llm.ttft_ms': '412.5',
        'llm.decode.tokens_per_second': '143.71',
      }),
      Duration: 2_500_000_000,
      StatusCode: 'Ok',
      StatusMessage: '',
      'Events.Timestamp': [],
      'Events.Name': [],
      'Events.Attributes': [],
      'Links.TraceId': [],
      'Links.SpanId': [],
      'Links.TraceState': [],
      'Links.Attributes': [],
    });
    expect(Object.keys(byName['chat gpt-4o']!.SpanAttributes as object)).toHaveLength(35);
    const queue = byName['llm.queue']!;
    expect(queue).toMatchObject({
      ParentSpanId: sent.ttftSpanId,
      SpanKind: 'Internal',
      StatusCode: 'Unset',
      Duration: 180000000,
      'Events.Name': ['llm.http.attempt'],
      'Events.Timestamp': [text(sent.start + 20n * MS)],
      'Events.Attributes': [{ 'llm.attempt': '1', 'http.response.status_code': '429', 'llm.retry_after_s': '0.05' }],
    });
    expect(byName['llm.ttft']).toMatchObject({ ParentSpanId: sent.callSpanId, Duration: 412500000 });
    expect(byName['llm.decode']).toMatchObject({ ParentSpanId: sent.callSpanId, Duration: 2087500000 });
  });

  test('llm_calls has the call with every typed column right', async () => {
    const rows = await select<Record<string, unknown>>(
      `SELECT * FROM ${storage.database}.llm_calls WHERE ServiceName = {s:String}`,
      { s: service },
    );
    expect(rows).toEqual([
      {
        Timestamp: text(sent.start),
        TraceId: sent.traceId,
        SpanId: sent.callSpanId,
        ServiceName: service,
        Route: '/support/answer',
        Provider: 'openai',
        Operation: 'chat',
        RequestModel: 'gpt-4o',
        ResponseModel: 'gpt-4o-2024-08-06',
        Streamed: 1,
        StatusCode: 'Ok',
        ErrorType: '',
        FinishReason: 'stop',
        Outcome: 'success',
        DurationMs: 2500,
        ClientSetupMs: 35.25,
        QueueMs: 180,
        TtftMs: 412.5,
        PrefillMs: 197.25,
        DecodeMs: 2087.5,
        ToolCallMs: 0,
        InputTokens: 1200,
        OutputTokens: 300,
        CacheReadTokens: 1024,
        CacheWriteTokens: 0,
        ReasoningTokens: 64,
        CacheState: 'hit',
        CacheMissReason: '',
        CacheBreakAt: '',
        PrefixHash: '9f2c4e1a',
        PromptHash: '5d41402abc4b2a76',
        ConversationId: 'conv-7',
        Chunks: 57,
        GapP50Ms: 30.25,
        GapP95Ms: 88,
        GapMaxMs: 140.5,
        DecodeTokensPerSec: 143.71,
        Attempts: 2,
        Retries: 1,
        RateLimitedAttempts: 1,
        RateLimitHeadroom: 0.25,
        TtftDeadlineExceeded: 0,
      },
    ]);
  });

  test('the SLO rollups count the call once in its latency buckets', async () => {
    const ttft = await select<{ TtftBucketMs: number; Model: string; Route: string; Calls: number }>(
      `SELECT TtftBucketMs, Model, Route, sum(Calls) AS Calls FROM ${storage.database}.llm_ttft_counts
       WHERE ServiceName = {s:String} GROUP BY TtftBucketMs, Model, Route`,
      { s: service },
    );
    // 412.5 ms falls in the 10 ms grid below 2 s: bucket 420.
    expect(ttft).toEqual([{ TtftBucketMs: 420, Model: 'gpt-4o', Route: '/support/answer', Calls: 1 }]);
    const completion = await select<{ DurationBucketMs: number; Good: number; Calls: number }>(
      `SELECT DurationBucketMs, Good, sum(Calls) AS Calls FROM ${storage.database}.llm_completion_counts
       WHERE ServiceName = {s:String} GROUP BY DurationBucketMs, Good`,
      { s: service },
    );
    // 2 500 ms is on the 100 ms grid between 2 s and 30 s.
    expect(completion).toEqual([{ DurationBucketMs: 2500, Good: 1, Calls: 1 }]);
  });
});
