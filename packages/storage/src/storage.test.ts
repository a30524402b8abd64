import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootstrapDdl, migrations } from './migrations.ts';
import { formatTimestamp, type OtelTraceRow } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let storage: Storage;
let dataDir: string;

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

const BASE_NS = 1_795_435_200_000_000_000n; // 2026-11-23 12:00:00 UTC
const at = (ms: number): string => formatTimestamp(BASE_NS + BigInt(Math.round(ms * 1e6)));
const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0');

/** A streamed chat call span carrying the full attribute set of docs/conventions.md, as the Collector stores it. */
function llmCallSpan(n: number, fields: Partial<OtelTraceRow> = {}, attributes: Record<string, string> = {}): OtelTraceRow {
  return otelTraceRow({
    Timestamp: at(n),
    TraceId: hex(n, 32),
    SpanId: hex(n, 16),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: 'checkout',
    ResourceAttributes: { 'service.name': 'checkout', 'telemetry.sdk.language': 'nodejs' },
    ScopeName: '@llm-prism/instrumentation',
    ScopeVersion: '0.1.0',
    Duration: '2350000000',
    SpanAttributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.id': 'chatcmpl-123',
      'gen_ai.response.finish_reasons': '["stop"]',
      'gen_ai.usage.input_tokens': '1200',
      'gen_ai.usage.output_tokens': '310',
      'gen_ai.usage.cache_read.input_tokens': '1024',
      'gen_ai.usage.cache_creation.input_tokens': '96',
      'gen_ai.usage.cache_write.input_tokens': '96',
      'gen_ai.usage.reasoning.output_tokens': '64',
      'gen_ai.request.stream': 'true',
      'gen_ai.conversation.id': 'conv-7',
      'gen_ai.response.time_to_first_chunk': '0.4125',
      'server.address': 'api.openai.com',
      'server.port': '443',
      'llm.client_setup_ms': '42.25',
      'llm.queue_ms': '180.5',
      'llm.ttft_ms': '412.5',
      'llm.prefill_ms': '189.75',
      'llm.decode_ms': '1937.25',
      'llm.tool_call_ms': '120.75',
      'llm.stream.chunks': '96',
      'llm.stream.gap_p50_ms': '18.5',
      'llm.stream.gap_p95_ms': '44',
      'llm.stream.gap_max_ms': '131.25',
      'llm.decode.tokens_per_second': '160.0206',
      'llm.outcome': 'success',
      'llm.attempts': '3',
      'llm.retries': '2',
      'llm.rate_limited_attempts': '2',
      'llm.ratelimit.requests.limit': '500',
      'llm.ratelimit.requests.remaining': '120',
      'llm.ratelimit.requests.reset_s': '1',
      'llm.ratelimit.tokens.limit': '30000',
      'llm.ratelimit.tokens.remaining': '1500',
      'llm.ratelimit.tokens.reset_s': '6',
      'llm.ratelimit.headroom': '0.05',
      'llm.cache.state': 'partial',
      'llm.cache.miss_reason': 'prefix_changed',
      'llm.cache.break_at': 'messages[3]',
      'llm.cache.prefix_hash': '9f86d081884c7d65',
      'llm.prompt.hash': '3b2f0d9c6e41a7f5',
      'llm.route': '/api/checkout',
      ...attributes,
    },
    ...fields,
  });
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage.close();
});

describe('migrations', () => {
  test('are recorded once and re-running applies nothing', async () => {
    const recorded = await rows<{ Version: number }>('SELECT Version FROM otel.schema_migrations FINAL ORDER BY Version');
    expect(recorded.map((r) => r.Version)).toEqual(migrations.map((m) => m.version));
    expect(await storage.migrate()).toEqual([]);
    const reopened = await openStorage({ dataDir });
    expect(await reopened.migrate()).toEqual([]);
    // Closing one Storage on a data directory leaves the others on it working.
    await reopened.close();
    expect(await reopened.ping()).toBe(false);
    expect(await storage.ping()).toBe(true);
    const count = await rows<{ n: string }>('SELECT count() AS n FROM otel.schema_migrations');
    expect(Number(count[0]!.n)).toBe(migrations.length);
  });

  test('create every table and view of the contract', async () => {
    const tables = await rows<{ name: string; engine: string }>(
      "SELECT name, engine FROM system.tables WHERE database = 'otel' ORDER BY name",
    );
    expect(tables).toEqual([
      { name: 'llm_call_hours', engine: 'AggregatingMergeTree' },
      { name: 'llm_call_hours_mv', engine: 'MaterializedView' },
      { name: 'llm_calls', engine: 'ReplacingMergeTree' },
      { name: 'llm_calls_mv', engine: 'MaterializedView' },
      { name: 'llm_completion_counts', engine: 'SummingMergeTree' },
      { name: 'llm_completion_counts_deadline_mv', engine: 'MaterializedView' },
      { name: 'llm_completion_counts_mv', engine: 'MaterializedView' },
      // Migration 9 empties the old rollups and drops their views; the tables stay (see rollups.ts).
      { name: 'llm_completion_minute', engine: 'AggregatingMergeTree' },
      { name: 'llm_cost_hours', engine: 'AggregatingMergeTree' },
      { name: 'llm_cost_hours_mv', engine: 'MaterializedView' },
      { name: 'llm_cost_minutes', engine: 'AggregatingMergeTree' },
      { name: 'llm_cost_minutes_mv', engine: 'MaterializedView' },
      { name: 'llm_duplicate_calls', engine: 'ReplacingMergeTree' },
      { name: 'llm_duplicate_calls_mv', engine: 'MaterializedView' },
      { name: 'llm_duplicate_hours', engine: 'AggregatingMergeTree' },
      { name: 'llm_duplicate_hours_mv', engine: 'MaterializedView' },
      { name: 'llm_latency_hours', engine: 'AggregatingMergeTree' },
      { name: 'llm_latency_hours_mv', engine: 'MaterializedView' },
      { name: 'llm_latency_minutes', engine: 'AggregatingMergeTree' },
      { name: 'llm_latency_minutes_mv', engine: 'MaterializedView' },
      { name: 'llm_ttft_counts', engine: 'SummingMergeTree' },
      { name: 'llm_ttft_counts_deadline_mv', engine: 'MaterializedView' },
      { name: 'llm_ttft_counts_mv', engine: 'MaterializedView' },
      { name: 'llm_ttft_minute', engine: 'AggregatingMergeTree' },
      { name: 'otel_traces', engine: 'MergeTree' },
      { name: 'otel_traces_trace_id_ts', engine: 'MergeTree' },
      { name: 'otel_traces_trace_id_ts_mv', engine: 'MaterializedView' },
      { name: 'schema_migrations', engine: 'ReplacingMergeTree' },
    ]);
  });

  test('a second database in the same data directory gets all versions', async () => {
    const other = await openStorage({ dataDir, database: 'otel_other' });
    expect(other.database).toBe('otel_other');
    const recorded = await rows<{ Version: number }>('SELECT Version FROM otel_other.schema_migrations ORDER BY Version');
    expect(recorded.map((r) => r.Version)).toEqual(migrations.map((m) => m.version));
    expect(await other.migrate()).toEqual([]);
    await other.close();
  });

  test('an install at version 3 gets llm_calls.ClientSetupMs: rows stored before stay NULL, the view fills it from then on', async () => {
    // What an older release left: the ledger and the schema of migrations 1-3, and a call stored then.
    const old = await openStorage({ dataDir, database: 'otel_v3_setup', migrate: false });
    const ctx = { database: 'otel_v3_setup' };
    for (const statement of bootstrapDdl(ctx)) await old.client.command({ query: statement });
    for (const m of migrations.filter((m) => m.version <= 3)) {
      for (const statement of m.statements(ctx)) await old.client.command({ query: statement });
      await old.client.insert({ table: 'otel_v3_setup.schema_migrations', values: [{ Version: m.version, Name: m.name }], format: 'JSONEachRow' });
    }
    await old.insertSpans([llmCallSpan(501)]);
    expect(await old.migrate()).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    await old.insertSpans([llmCallSpan(502)]);
    const stored = await rows<{ SpanId: string; ClientSetupMs: number | null; QueueMs: number; PrefillMs: number }>(
      'SELECT SpanId, ClientSetupMs, QueueMs, PrefillMs FROM otel_v3_setup.llm_calls ORDER BY SpanId',
    );
    expect(stored).toEqual([
      { SpanId: hex(501, 16), ClientSetupMs: null, QueueMs: 180.5, PrefillMs: 189.75 },
      { SpanId: hex(502, 16), ClientSetupMs: 42.25, QueueMs: 180.5, PrefillMs: 189.75 },
    ]);
    expect(await old.migrate()).toEqual([]);
    await old.close();
  });

  test('names that are not identifiers are refused before any DDL', async () => {
    await expect(openStorage({ dataDir, database: 'otel; DROP TABLE x' })).rejects.toThrow(/invalid ClickHouse identifier/);
    await expect(openStorage({ dataDir, retentionDays: 1.5 })).rejects.toThrow(/whole number of days from 1 to 2000/);
  });
});

describe('otel_traces and llm_calls', () => {
  const call = llmCallSpan(1);
  const children: OtelTraceRow[] = [
    otelTraceRow({
      Timestamp: at(1),
      TraceId: call.TraceId,
      SpanId: hex(101, 16),
      ParentSpanId: call.SpanId,
      SpanName: 'llm.ttft',
      SpanKind: 'Internal',
      ServiceName: 'checkout',
      Duration: '412500000',
    }),
    otelTraceRow({
      Timestamp: at(1),
      TraceId: call.TraceId,
      SpanId: hex(103, 16),
      ParentSpanId: hex(101, 16),
      SpanName: 'llm.client_setup',
      SpanKind: 'Internal',
      ServiceName: 'checkout',
      Duration: '42250000',
    }),
    otelTraceRow({
      Timestamp: at(1 + 42.25),
      TraceId: call.TraceId,
      SpanId: hex(102, 16),
      ParentSpanId: hex(101, 16),
      SpanName: 'llm.queue',
      SpanKind: 'Internal',
      ServiceName: 'checkout',
      Duration: '180500000',
      'Events.Timestamp': [at(1), at(120)],
      'Events.Name': ['llm.http.attempt', 'llm.http.attempt'],
      'Events.Attributes': [
        { 'llm.attempt': '1', 'http.response.status_code': '429', 'llm.retry_after_s': '0.1' },
        { 'llm.attempt': '2', 'http.response.status_code': '200' },
      ],
    }),
  ];
  // Not LLM calls: an HTTP client span (no gen_ai.operation.name) and a server span.
  const others: OtelTraceRow[] = [
    otelTraceRow({
      Timestamp: at(2),
      TraceId: hex(2, 32),
      SpanId: hex(2, 16),
      SpanName: 'POST',
      SpanKind: 'Client',
      ServiceName: 'checkout',
      SpanAttributes: { 'http.request.method': 'POST', 'server.address': 'api.openai.com' },
      Duration: 1000,
    }),
    otelTraceRow({
      Timestamp: at(3),
      TraceId: hex(3, 32),
      SpanId: hex(3, 16),
      SpanName: 'GET /api/checkout',
      SpanKind: 'Server',
      ServiceName: 'checkout',
      SpanAttributes: { 'gen_ai.operation.name': 'chat' }, // a server span is never an LLM call
      Duration: 1000,
      'Links.TraceId': [hex(9, 32)],
      'Links.SpanId': [hex(9, 16)],
      'Links.TraceState': ['k=v'],
      'Links.Attributes': [{ reason: 'batch' }],
    }),
  ];

  beforeAll(async () => {
    await storage.insertSpans([call, ...children, ...others]);
  });

  test('otel_traces keeps every span exactly', async () => {
    const stored = await rows<Record<string, unknown>>(
      `SELECT * FROM otel.otel_traces WHERE TraceId IN {ids:Array(String)} ORDER BY SpanId`,
      { ids: [call.TraceId, hex(2, 32), hex(3, 32)] },
    );
    expect(stored).toHaveLength(6);
    const byId = new Map(stored.map((r) => [r.SpanId, r]));
    for (const span of [call, ...children, ...others]) {
      const row = byId.get(span.SpanId)!;
      expect({ ...row, Duration: String(row.Duration) }).toEqual({ ...span, Duration: String(span.Duration) });
    }
  });

  test('the trace-id lookup table gets the trace span', async () => {
    const lookup = await rows<{ Start: string; End: string }>(
      'SELECT min(Start) AS Start, max(End) AS End FROM otel.otel_traces_trace_id_ts WHERE TraceId = {id:String}',
      { id: hex(3, 32) },
    );
    expect(lookup).toEqual([{ Start: at(3).slice(0, 19), End: at(3).slice(0, 19) }]);
  });

  test('llm_calls holds exactly the LLM call span, every typed column right', async () => {
    const calls = await rows<Record<string, unknown>>(
      'SELECT * FROM otel.llm_calls WHERE TraceId IN {ids:Array(String)}',
      { ids: [call.TraceId, hex(2, 32), hex(3, 32)] },
    );
    expect(calls).toEqual([
      {
        Timestamp: call.Timestamp,
        TraceId: call.TraceId,
        SpanId: call.SpanId,
        ServiceName: 'checkout',
        Route: '/api/checkout',
        Provider: 'openai',
        Operation: 'chat',
        RequestModel: 'gpt-4o',
        ResponseModel: 'gpt-4o-2024-08-06',
        Streamed: 1,
        StatusCode: 'Unset',
        ErrorType: '',
        FinishReason: 'stop',
        Outcome: 'success',
        DurationMs: 2350,
        ClientSetupMs: 42.25,
        QueueMs: 180.5,
        TtftMs: 412.5,
        PrefillMs: 189.75,
        DecodeMs: 1937.25,
        ToolCallMs: 120.75,
        InputTokens: 1200,
        OutputTokens: 310,
        CacheReadTokens: 1024,
        CacheWriteTokens: 96,
        ReasoningTokens: 64,
        CacheState: 'partial',
        CacheMissReason: 'prefix_changed',
        CacheBreakAt: 'messages[3]',
        PrefixHash: '9f86d081884c7d65',
        PromptHash: '3b2f0d9c6e41a7f5',
        ConversationId: 'conv-7',
        Chunks: 96,
        GapP50Ms: 18.5,
        GapP95Ms: 44,
        GapMaxMs: 131.25,
        DecodeTokensPerSec: 160.0206,
        Attempts: 3,
        Retries: 2,
        RateLimitedAttempts: 2,
        RateLimitHeadroom: 0.05,
        TtftDeadlineExceeded: 0,
      },
    ]);
  });
});

describe('spans from other instrumentations (as a Collector writes them)', () => {
  // Only the older / minimal GenAI attributes: gen_ai.system, finish reasons, time_to_first_chunk.
  const foreign = (n: number, attributes: Record<string, string>, fields: Partial<OtelTraceRow> = {}): OtelTraceRow =>
    otelTraceRow({
      Timestamp: at(1000 + n),
      TraceId: hex(1000 + n, 32),
      SpanId: hex(1000 + n, 16),
      SpanName: 'chat gemini-2.5-flash',
      SpanKind: 'Client',
      ServiceName: 'other',
      Duration: '900000000',
      SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'gcp.gemini', ...attributes },
      ...fields,
    });
  const cases: { name: string; span: OtelTraceRow; expected: Record<string, unknown> }[] = [
    { name: 'stop', span: foreign(1, { 'gen_ai.response.finish_reasons': '["stop"]' }), expected: { Outcome: 'success', FinishReason: 'stop' } },
    { name: 'length', span: foreign(2, { 'gen_ai.response.finish_reasons': '["length"]' }), expected: { Outcome: 'truncated', FinishReason: 'length' } },
    { name: 'max_tokens', span: foreign(3, { 'gen_ai.response.finish_reasons': '["max_tokens"]' }), expected: { Outcome: 'truncated' } },
    { name: 'MAX_TOKENS', span: foreign(4, { 'gen_ai.response.finish_reasons': '["MAX_TOKENS"]' }), expected: { Outcome: 'truncated', FinishReason: 'MAX_TOKENS' } },
    { name: 'content_filter', span: foreign(5, { 'gen_ai.response.finish_reasons': '["content_filter"]' }), expected: { Outcome: 'filtered' } },
    { name: 'SAFETY', span: foreign(6, { 'gen_ai.response.finish_reasons': '["SAFETY"]' }), expected: { Outcome: 'filtered' } },
    { name: 'refusal', span: foreign(7, { 'gen_ai.response.finish_reasons': '["refusal"]' }), expected: { Outcome: 'refused' } },
    { name: 'second of two choices', span: foreign(8, { 'gen_ai.response.finish_reasons': '["stop","length"]' }), expected: { Outcome: 'truncated', FinishReason: 'stop' } },
    { name: 'plain string reason', span: foreign(9, { 'gen_ai.response.finish_reasons': 'end_turn' }), expected: { Outcome: 'success', FinishReason: 'end_turn' } },
    {
      name: 'error status',
      span: foreign(10, { 'error.type': '503', 'gen_ai.response.finish_reasons': '["stop"]' }, { StatusCode: 'Error' }),
      expected: { Outcome: 'error', StatusCode: 'Error', ErrorType: '503' },
    },
    { name: 'old exporter status name', span: foreign(11, {}, { StatusCode: 'STATUS_CODE_ERROR' }), expected: { Outcome: 'error', StatusCode: 'Error' } },
    {
      name: 'ttft from time_to_first_chunk makes it streamed',
      span: foreign(12, { 'gen_ai.response.time_to_first_chunk': '0.35' }),
      expected: { TtftMs: 350, Streamed: 1 },
    },
    { name: 'exponent notation', span: foreign(13, { 'gen_ai.response.time_to_first_chunk': '1.5e+1' }), expected: { TtftMs: 15_000 } },
    // 16.1 × 1000 is 16100.000000000002 in Float64: over a 16 100 ms threshold before migration 16.
    { name: 'seconds that do not multiply to whole ms in Float64', span: foreign(30, { 'gen_ai.response.time_to_first_chunk': '16.1' }), expected: { TtftMs: 16_100 } },
    { name: 'no stream evidence', span: foreign(14, {}), expected: { Streamed: 0, TtftMs: null, Attempts: 1, Retries: 0 } },
    {
      name: 'deprecated token names',
      span: foreign(15, { 'gen_ai.usage.prompt_tokens': '40', 'gen_ai.usage.completion_tokens': '7' }),
      expected: { InputTokens: 40, OutputTokens: 7 },
    },
    {
      name: 'cache_write only',
      span: foreign(16, { 'gen_ai.usage.cache_write.input_tokens': '2048' }),
      expected: { CacheWriteTokens: 2048 },
    },
    {
      name: 'llm.outcome wins over the derivation',
      span: foreign(17, { 'llm.outcome': 'aborted', 'gen_ai.response.finish_reasons': '["length"]' }),
      expected: { Outcome: 'aborted' },
    },
    { name: 'old exporter span kind', span: foreign(18, {}, { SpanKind: 'SPAN_KIND_CLIENT' }), expected: { Provider: 'gcp.gemini' } },
    // toFloat64OrNull parses these; before migration 5 the integer columns' conversion threw and
    // failed the whole insert after otel_traces had stored it (a retry stored it twice).
    ...(['inf', 'nan', '-inf', '+inf'] as const).map((value, i) => ({
      name: `'${value}' reads as absent`,
      span: foreign(19 + i, {
        ...Object.fromEntries(
          ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_creation.input_tokens',
            'gen_ai.usage.reasoning.output_tokens', 'llm.stream.chunks', 'llm.attempts', 'llm.retries', 'llm.rate_limited_attempts', 'llm.ttft_ms',
            'llm.queue_ms', 'llm.tool_call_ms', 'llm.ratelimit.headroom', 'llm.stream.gap_max_ms'].map((key) => [key, value]),
        ),
        'gen_ai.request.stream': 'true',
      }),
      expected: { InputTokens: 0, OutputTokens: 0, CacheReadTokens: 0, CacheWriteTokens: 0, ReasoningTokens: 0, Chunks: 0, Attempts: 1, Retries: 0,
        RateLimitedAttempts: 0, TtftMs: null, QueueMs: null, ToolCallMs: 0, RateLimitHeadroom: null, GapMaxMs: 0 },
    })),
  ];

  beforeAll(async () => {
    // Inserted straight into otel_traces, as the Collector's exporter does (it does not go through insertSpans).
    await storage.client.insert({ table: 'otel.otel_traces', values: cases.map((c) => c.span), format: 'JSONEachRow' });
  });

  test.each(cases)('$name', async ({ span, expected }) => {
    const [row] = await rows<Record<string, unknown>>('SELECT * FROM otel.llm_calls FINAL WHERE SpanId = {id:String}', { id: span.SpanId });
    expect(row).toMatchObject({ Provider: 'gcp.gemini', Operation: 'chat', ServiceName: 'other', DurationMs: 900, ...expected });
  });
});

const minute = 60 * 60_000; // a minute of its own: 13:00 UTC
/** A call of service `slo` in the minute 13:00 UTC. */
const call = (n: number, ttftMs: number | null, durationMs: number, outcome: string, streamed = true): OtelTraceRow =>
  llmCallSpan(
    minute + n,
    { TraceId: hex(5000 + n, 32), SpanId: hex(5000 + n, 16), ServiceName: 'slo', Duration: String(durationMs * 1e6) },
    {
      'llm.ttft_ms': ttftMs === null ? '' : String(ttftMs),
      'gen_ai.response.time_to_first_chunk': '',
      'llm.outcome': outcome,
      'gen_ai.request.stream': String(streamed),
    },
  );

describe('SLO rollups', () => {
  const spans = [
    call(1, 95, 900, 'success'),
    call(2, 100, 1000, 'success'),
    call(3, 101, 1800, 'success'),
    call(4, 480, 2500, 'truncated'),
    call(5, 2600, 9000, 'error'),
    call(6, null, 30_500, 'error'), // streamed, never produced a first chunk
    call(7, 50, 400, 'aborted'), // broke off after a fast first chunk, done within any threshold
    call(8, null, 700, 'success', false), // not streamed: completion only
    call(9, null, 5_000, 'aborted'), // gave up after 5 s without a first chunk
    call(10, 90, 12_000, 'aborted'), // broke off a slow stream after 12 s
  ];

  beforeAll(async () => {
    await storage.insertSpans(spans);
    await storage.insertSpans([spans[0]!, spans[3]!]); // delivered twice
    await storage.insertSpans([spans[4]!, spans[4]!]); // twice in one insert
    // chDB defaults to async inserts; views must fire for them too.
    await storage.client.insert({
      table: 'otel.otel_traces',
      values: [{ ...spans[1]!, ServiceName: 'slo-async' }],
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1 },
    });
  });

  test('a call span delivered again is not stored again: llm_calls needs no FINAL', async () => {
    const [counts] = await rows<{ spans: string; calls: string; async: string }>(
      `SELECT (SELECT count() FROM otel.otel_traces WHERE ServiceName = 'slo') AS spans,
        (SELECT count() FROM otel.llm_calls WHERE ServiceName = 'slo') AS calls,
        (SELECT sum(Calls) FROM otel.llm_ttft_counts WHERE ServiceName = 'slo-async') AS async`,
    );
    expect([Number(counts!.spans), Number(counts!.calls), Number(counts!.async)]).toEqual([spans.length, spans.length, 1]);
  });

  test('llm_ttft_minute: streamed calls per bucket, an abort before the first chunk by its wait, each span once', async () => {
    const buckets = await rows<{ Minute: string; Model: string; TtftBucketMs: number; Abandoned: number; calls: string }>(
      `SELECT Minute, Model, TtftBucketMs, Abandoned, sum(Calls) AS calls FROM otel.llm_ttft_counts
       WHERE ServiceName = 'slo' GROUP BY Minute, Model, TtftBucketMs, Abandoned ORDER BY TtftBucketMs`,
    );
    expect(buckets.map((b) => [b.Minute, b.Model, b.TtftBucketMs, b.Abandoned, Number(b.calls)])).toEqual([
      ['2026-11-23 13:00:00', 'gpt-4o', 50, 0, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 90, 0, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 100, 0, 2],
      ['2026-11-23 13:00:00', 'gpt-4o', 110, 0, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 480, 0, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 2600, 0, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 5000, 1, 1],
      ['2026-11-23 13:00:00', 'gpt-4o', 4294967295, 0, 1],
    ]);
  });

  test('a TTFT threshold chosen at query time gives good / total; an abandoned wait is bad only past it', async () => {
    const query = `SELECT sumIf(Calls, Abandoned = 0 AND TtftBucketMs <= {threshold:UInt32}) AS good,
        sumIf(Calls, Abandoned = 0 OR TtftBucketMs > {threshold:UInt32}) AS total
      FROM otel.llm_ttft_counts WHERE ServiceName = 'slo'`;
    const counts = async (threshold: number) =>
      (await rows<{ good: string; total: string }>(query, { threshold })).map((r) => [Number(r.good), Number(r.total)]);
    expect(await counts(100)).toEqual([[4, 9]]);
    expect(await counts(500)).toEqual([[6, 9]]);
    expect(await counts(5000)).toEqual([[7, 8]]); // waited exactly the threshold: no event
  });

  test('llm_completion_minute: good (success), duration buckets and aborts, each span once', async () => {
    const buckets = await rows<{ Good: number; DurationBucketMs: number; Aborted: number; calls: string }>(
      `SELECT Good, DurationBucketMs, Aborted, sum(Calls) AS calls FROM otel.llm_completion_counts
       WHERE ServiceName = 'slo' GROUP BY Good, DurationBucketMs, Aborted ORDER BY Good, DurationBucketMs`,
    );
    expect(buckets.map((b) => [b.Good, b.DurationBucketMs, b.Aborted, Number(b.calls)])).toEqual([
      [0, 400, 1, 1],
      [0, 2500, 0, 1],
      [0, 5000, 1, 1],
      [0, 9000, 0, 1],
      [0, 12_000, 1, 1],
      [0, 31_000, 0, 1],
      [1, 700, 0, 1],
      [1, 900, 0, 1],
      [1, 1000, 0, 1],
      [1, 1800, 0, 1],
    ]);
    const query = `SELECT sumIf(Calls, Good = 1 AND DurationBucketMs <= {threshold:UInt32}) AS good,
        sumIf(Calls, Aborted = 0 OR DurationBucketMs > {threshold:UInt32}) AS total
      FROM otel.llm_completion_counts WHERE ServiceName = 'slo'`;
    const counts = async (threshold: number) =>
      (await rows<{ good: string; total: string }>(query, { threshold })).map((r) => [Number(r.good), Number(r.total)]);
    expect(await counts(1000)).toEqual([[3, 9]]); // the 5 s and 12 s aborts are bad, the 400 ms one is no event
    expect(await counts(10_000)).toEqual([[4, 8]]); // only the 12 s abort
  });
});

describe('hangs: llm.ttft_deadline reports (migrations 7 and 9)', () => {
  const hourLater = 2 * 60 * 60_000; // 14:00 UTC, a minute of its own
  /** A call of service `hang` started at 14:00 + n ms. */
  const hungCall = (n: number, ttftMs: number | null, durationMs: number, outcome: string, streamed = true): OtelTraceRow => ({
    ...call(n, ttftMs, durationMs, outcome, streamed),
    Timestamp: at(hourLater + n),
    TraceId: hex(7000 + n, 32),
    SpanId: hex(7000 + n, 16),
    ServiceName: 'hang',
  });
  /** What the instrumentation exports when the call had no output `waitedMs` after it started (docs/conventions.md). */
  const deadlineReport = (c: OtelTraceRow, waitedMs: number): OtelTraceRow =>
    otelTraceRow({
      Timestamp: c.Timestamp,
      TraceId: c.TraceId,
      SpanId: `${c.SpanId.slice(0, 12)}dead`,
      ParentSpanId: c.SpanId,
      SpanName: 'llm.ttft_deadline',
      SpanKind: 'Internal',
      ServiceName: c.ServiceName,
      ScopeName: '@llm-prism/instrumentation',
      Duration: String(waitedMs * 1e6),
      SpanAttributes: {
        'gen_ai.provider.name': c.SpanAttributes['gen_ai.provider.name']!,
        'gen_ai.request.model': c.SpanAttributes['gen_ai.request.model']!,
        'gen_ai.request.stream': c.SpanAttributes['gen_ai.request.stream']!,
        'llm.route': c.SpanAttributes['llm.route']!,
      },
    });

  /** The call's own span once it ends: the instrumentation marks a call whose report it exported. */
  const reported = (c: OtelTraceRow): OtelTraceRow => ({ ...c, SpanAttributes: { ...c.SpanAttributes, 'llm.ttft_deadline_exceeded': 'true' } });
  const hung = reported(hungCall(1, 90_000, 95_000, 'success')); // first chunk after 90 s
  const hungAborted = reported(hungCall(2, null, 200_000, 'aborted')); // the user gave up after 200 s
  const hungPlain = reported(hungCall(3, null, 70_000, 'success', false)); // not streamed: completion only
  const fast = hungCall(4, 400, 2_000, 'success'); // no report: output before the deadline
  const reports = [deadlineReport(hung, 60_004.5), deadlineReport(hungAborted, 60_000.2), deadlineReport(hungPlain, 60_001)];

  /** good / total over service `hang` for a threshold, the SLI conditions of docs/clickhouse.md. */
  async function sli(kind: 'ttft' | 'completion', threshold: number): Promise<number[]> {
    const query =
      kind === 'ttft'
        ? `SELECT sumIf(Calls, Abandoned = 0 AND TtftBucketMs <= {threshold:UInt32}) AS good,
              sumIf(Calls, Abandoned = 0 OR TtftBucketMs > {threshold:UInt32}) AS total
            FROM otel.llm_ttft_counts WHERE ServiceName = 'hang' AND Minute = '2026-11-23 14:00:00'`
        : `SELECT sumIf(Calls, Good = 1 AND DurationBucketMs <= {threshold:UInt32}) AS good,
              sumIf(Calls, Aborted = 0 OR DurationBucketMs > {threshold:UInt32}) AS total
            FROM otel.llm_completion_counts WHERE ServiceName = 'hang' AND Minute = '2026-11-23 14:00:00'`;
    const [row] = await rows<{ good: string; total: string }>(query, { threshold });
    return [Number(row!.good), Number(row!.total)];
  }

  test('while the calls hang, the reports alone are bad events in the minute the calls started, for thresholds below the wait', async () => {
    await storage.insertSpans([...reports, fast]);
    await storage.insertSpans([reports[0]!]); // delivered twice
    const buckets = await rows<{ Minute: string; Model: string; Route: string; Provider: string; TtftBucketMs: number; Abandoned: number; calls: string }>(
      `SELECT Minute, Model, Route, Provider, TtftBucketMs, Abandoned, sum(Calls) AS calls FROM otel.llm_ttft_counts
       WHERE ServiceName = 'hang' GROUP BY ALL ORDER BY TtftBucketMs`,
    );
    // The call's own dimensions; the wait's bucket (60 004.5 ms and 60 000.2 ms → 61 000).
    expect(buckets.map((b) => [b.Minute, b.Model, b.Route, b.Provider, b.TtftBucketMs, b.Abandoned, Number(b.calls)])).toEqual([
      ['2026-11-23 14:00:00', 'gpt-4o', '/api/checkout', 'openai', 400, 0, 1],
      ['2026-11-23 14:00:00', 'gpt-4o', '/api/checkout', 'openai', 61_000, 1, 2],
    ]);
    expect(await sli('ttft', 1_500)).toEqual([1, 3]); // the two streamed hangs are bad
    expect(await sli('ttft', 61_000)).toEqual([1, 1]); // waited less than the threshold: no event yet
    expect(await sli('completion', 20_000)).toEqual([1, 4]); // all three hangs, streamed or not
    expect(await sli('completion', 120_000)).toEqual([1, 1]);
  });

  test('once the calls end, each counts once: by its report (its own span, marked, is not counted again)', async () => {
    await storage.insertSpans([hung, hungAborted, hungPlain]);
    await storage.insertSpans([hung]); // delivered twice
    expect(await sli('ttft', 1_500)).toEqual([1, 3]);
    expect(await sli('ttft', 61_000)).toEqual([1, 1]); // waits of 61 s are within it: no event (docs/slo.md, Hangs)
    expect(await sli('completion', 20_000)).toEqual([1, 4]);
    expect(await sli('completion', 100_000)).toEqual([1, 1]);
    const [all] = await rows<{ ttft: string; completion: string; calls: string }>(
      `SELECT (SELECT sum(Calls) FROM otel.llm_ttft_counts WHERE ServiceName = 'hang') AS ttft,
              (SELECT sum(Calls) FROM otel.llm_completion_counts WHERE ServiceName = 'hang') AS completion,
              (SELECT count() FROM otel.llm_calls WHERE ServiceName = 'hang' AND TtftDeadlineExceeded = 1) AS calls`,
    );
    expect([Number(all!.ttft), Number(all!.completion), Number(all!.calls)]).toEqual([3, 4, 3]);
  });
});

describe('migration 4 on a store that has migration 3 and data', () => {
  test('keeps the rows stored before and counts aborts inserted after', async () => {
    // chDB: one data directory per process, so a database of its own in it.
    const ctx = { database: 'otel_v3' };
    const old = await openStorage({ dataDir, database: ctx.database, migrate: false });
    try {
      for (const statement of bootstrapDdl(ctx)) await old.client.command({ query: statement });
      for (const m of migrations.filter((m) => m.version <= 3)) {
        for (const statement of m.statements(ctx)) await old.client.command({ query: statement });
      }
      const before = [call(1, 95, 900, 'success'), call(9, null, 5_000, 'aborted')];
      await old.insertSpans(before);
      // Recorded as applied up to 3: migrate() must apply exactly 4 on top.
      for (const m of migrations.filter((m) => m.version <= 3)) {
        await old.client.insert({ table: 'otel_v3.schema_migrations', values: [{ Version: m.version, Name: m.name }], format: 'JSONEachRow' });
      }
      expect(await old.migrate()).toEqual(migrations.filter((m) => m.version > 3).map((m) => m.version));
      await old.insertSpans([call(11, null, 6_000, 'aborted'), call(1, 95, 900, 'success')]);
      const result = await old.client.query({
        query: `SELECT TtftBucketMs, Abandoned, sum(Calls) AS calls FROM otel_v3.llm_ttft_counts
          WHERE ServiceName = 'slo' GROUP BY TtftBucketMs, Abandoned ORDER BY TtftBucketMs`,
        format: 'JSONEachRow',
      });
      // The abort stored under migration 3 was never in the old rollup; migration 9 recounts the
      // calls llm_calls holds, so it is now; the one after counts; call 1 once.
      expect((await result.json<{ TtftBucketMs: number; Abandoned: number; calls: number }>()).map((r) => [r.TtftBucketMs, r.Abandoned, Number(r.calls)])).toEqual([
        [100, 0, 1],
        [5000, 1, 1],
        [6000, 1, 1],
      ]);
      expect(await old.migrate()).toEqual([]);
    } finally {
      await old.close();
    }
  });
});

describe('migration 8 on a store that has migration 7 and data', () => {
  test('adds PromptHash: empty on the rows stored before, filled from llm.prompt.hash after; the view keeps ClientSetupMs', async () => {
    const ctx = { database: 'otel_v7' };
    const old = await openStorage({ dataDir, database: ctx.database, migrate: false });
    try {
      for (const statement of bootstrapDdl(ctx)) await old.client.command({ query: statement });
      const applied = migrations.filter((m) => m.version <= 7);
      for (const m of applied) for (const statement of m.statements(ctx)) await old.client.command({ query: statement });
      for (const m of applied) await old.client.insert({ table: 'otel_v7.schema_migrations', values: [{ Version: m.version, Name: m.name }], format: 'JSONEachRow' });
      await old.insertSpans([llmCallSpan(30_001, { ServiceName: 'v7' }, { 'llm.prompt.hash': 'aaaa' })]);
      expect(await old.migrate()).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16]);
      // The new view still reads 'inf' as absent (migration 5): Chunks 0, the insert not failed.
      await old.insertSpans([llmCallSpan(30_002, { ServiceName: 'v7' }, { 'llm.prompt.hash': 'bbbb', 'llm.stream.chunks': 'inf' })]);
      const result = await old.client.query({
        query: "SELECT SpanId, PromptHash, PrefixHash, ClientSetupMs, InputTokens, Chunks FROM otel_v7.llm_calls WHERE ServiceName = 'v7' ORDER BY SpanId",
        format: 'JSONEachRow',
      });
      expect(await result.json()).toEqual([
        { SpanId: hex(30_001, 16), PromptHash: '', PrefixHash: '9f86d081884c7d65', ClientSetupMs: 42.25, InputTokens: 1200, Chunks: 96 },
        { SpanId: hex(30_002, 16), PromptHash: 'bbbb', PrefixHash: '9f86d081884c7d65', ClientSetupMs: 42.25, InputTokens: 1200, Chunks: 0 },
      ]);
      expect(await old.migrate()).toEqual([]);
    } finally {
      await old.close();
    }
  });
});

describe('migration 9 on a store that has migration 8 and data', () => {
  test('counts each stored call once into the count rollups: recounted where llm_calls has the minute, carried over before', async () => {
    const ctx = { database: 'otel_v8' };
    const old = await openStorage({ dataDir, database: ctx.database, migrate: false });
    const count = async (query: string) => Number((await (await old.client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
    try {
      for (const statement of bootstrapDdl(ctx)) await old.client.command({ query: statement });
      const applied = migrations.filter((m) => m.version <= 8);
      for (const m of applied) for (const statement of m.statements(ctx)) await old.client.command({ query: statement });
      for (const m of applied) await old.client.insert({ table: 'otel_v8.schema_migrations', values: [{ Version: m.version, Name: m.name }], format: 'JSONEachRow' });
      // What releases up to 8 stored: a call delivered twice (the insert did not check then), a hang
      // report and its call's own span (an instrumentation without llm.ttft_deadline_exceeded).
      const slow = call(1, 95, 900, 'success');
      const hang = { ...call(2, 90_000, 95_000, 'success'), SpanId: hex(9002, 16) };
      const report = otelTraceRow({
        ...hang,
        SpanId: hex(9003, 16),
        ParentSpanId: hang.SpanId,
        SpanName: 'llm.ttft_deadline',
        SpanKind: 'Internal',
        Duration: String(60_000.5 * 1e6),
        SpanAttributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': 'true', 'llm.route': '/api/checkout' },
      });
      for (const batch of [[slow, report], [slow], [hang]]) await old.client.insert({ table: 'otel_v8.otel_traces', values: batch, format: 'JSONEachRow' });
      // A minute older than anything llm_calls still holds (expired there, kept by the rollup).
      await old.client.command({
        query: `INSERT INTO otel_v8.llm_ttft_minute SELECT toDateTime('2026-10-01 00:00:00'), 'slo', '', 'gpt-4o', 'openai', 100, 0, uniqExactState(toString(number)) FROM numbers(7)`,
      });
      expect(await count("SELECT uniqExactMerge(Calls) AS n FROM otel_v8.llm_ttft_minute WHERE ServiceName = 'slo' AND Minute > '2026-11-01'")).toBe(2);

      expect(await old.migrate()).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
      const ttft = await old.client.query({
        query: `SELECT toString(Minute) AS minute, TtftBucketMs, Abandoned, sum(Calls) AS calls FROM otel_v8.llm_ttft_counts
          WHERE ServiceName = 'slo' GROUP BY ALL ORDER BY minute, TtftBucketMs`,
        format: 'JSONEachRow',
      });
      // The duplicate once; the hang once, by its report; the old minute's 7 calls carried over.
      expect((await ttft.json<{ minute: string; TtftBucketMs: number; Abandoned: number; calls: string }>()).map((r) => [r.minute, r.TtftBucketMs, r.Abandoned, Number(r.calls)])).toEqual([
        ['2026-10-01 00:00:00', 100, 0, 7],
        ['2026-11-23 13:00:00', 100, 0, 1],
        ['2026-11-23 13:00:00', 61_000, 1, 1],
      ]);
      expect(await count("SELECT sum(Calls) AS n FROM otel_v8.llm_completion_counts WHERE ServiceName = 'slo'")).toBe(2);
      expect(await count('SELECT count() AS n FROM otel_v8.llm_ttft_minute')).toBe(0);
      // Run again (a migration interrupted before its ledger row): the recount does not repeat.
      for (const statement of migrations.find((m) => m.version === 9)!.statements(ctx)) await old.client.command({ query: statement });
      expect(await count("SELECT sum(Calls) AS n FROM otel_v8.llm_ttft_counts WHERE ServiceName = 'slo'")).toBe(9);
      // From now on the insert leaves out what is stored: the duplicate is not counted again.
      await old.insertSpans([slow, call(3, 480, 2500, 'truncated')]);
      expect(await count("SELECT sum(Calls) AS n FROM otel_v8.llm_ttft_counts WHERE ServiceName = 'slo'")).toBe(10);
      expect(await old.migrate()).toEqual([]);
    } finally {
      await old.close();
    }
  });
});

describe('insertSpans', () => {
  test('resolves once rows are readable, and an empty batch is a no-op', async () => {
    await storage.insertSpans([]);
    const span = llmCallSpan(9000, { ServiceName: 'readable' });
    await storage.insertSpans([span]);
    const [row] = await rows<{ n: string }>("SELECT count() AS n FROM otel.llm_calls WHERE ServiceName = 'readable'");
    expect(Number(row!.n)).toBe(1);
  });

  test('rejects a batch with an invalid row and stores none of it', async () => {
    const good = llmCallSpan(9001, { ServiceName: 'rejected' });
    const bad = llmCallSpan(9002, { ServiceName: 'rejected', Timestamp: 'not a time' });
    await expect(storage.insertSpans([good, bad])).rejects.toThrow();
    const [row] = await rows<{ n: string }>("SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = 'rejected'");
    expect(Number(row!.n)).toBe(0);
  });

  test('ping answers true while open', async () => {
    expect(await storage.ping()).toBe(true);
  });

  test('concurrent inserts and pings all complete, every row stored once', async () => {
    const batches = [0, 1, 2, 3].map((b) =>
      Array.from({ length: 250 }, (_, i) => llmCallSpan(20_000 + b * 250 + i, { ServiceName: 'concurrent' })),
    );
    const pings = Promise.all([storage.ping(), storage.ping()]);
    await Promise.all(batches.map((batch) => storage.insertSpans(batch)));
    expect(await pings).toEqual([true, true]);
    const [row] = await rows<{ spans: string; calls: string }>(
      "SELECT (SELECT count() FROM otel.otel_traces WHERE ServiceName = 'concurrent') AS spans, (SELECT count() FROM otel.llm_calls WHERE ServiceName = 'concurrent') AS calls",
    );
    expect([Number(row!.spans), Number(row!.calls)]).toEqual([1000, 1000]);
  });
});
