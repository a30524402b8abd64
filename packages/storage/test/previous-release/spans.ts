// The spans stored in release-6641a80.tar.gz by the previous release (see README.md): the
// generator inserts them with that release's code, the upgrade test checks them after migrating.
// Self-contained on purpose: it must not change with the current code's helpers.
import type { OtelTraceRow } from '../../src/otel-traces.ts';

const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0');
/** 2026-11-30 10:00:00 UTC plus `ms`, as the Collector writes DateTime64(9) text. */
const at = (ms: number): string => {
  const whole = new Date(Date.UTC(2026, 10, 30, 10, 0, 0) + Math.floor(ms)).toISOString().slice(0, 19).replace('T', ' ');
  return `${whole}.${String(Math.round((ms % 1000) * 1e6)).padStart(9, '0')}`;
};

function span(fields: Partial<OtelTraceRow> & Pick<OtelTraceRow, 'Timestamp' | 'TraceId' | 'SpanId'>): OtelTraceRow {
  return {
    ParentSpanId: '',
    TraceState: '',
    SpanName: '',
    SpanKind: 'Internal',
    ServiceName: 'checkout',
    ResourceAttributes: { 'service.name': 'checkout', 'telemetry.sdk.language': 'nodejs' },
    ScopeName: '@llm-prism/instrumentation',
    ScopeVersion: '0.1.0',
    SpanAttributes: {},
    Duration: '0',
    StatusCode: 'Unset',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
    ...fields,
  };
}

function call(n: number, ms: number, durationMs: number, attributes: Record<string, string>, fields: Partial<OtelTraceRow> = {}): OtelTraceRow {
  return span({
    Timestamp: at(ms),
    TraceId: hex(n, 32),
    SpanId: hex(n, 16),
    SpanName: `chat ${attributes['gen_ai.request.model']}`,
    SpanKind: 'Client',
    Duration: String(durationMs * 1e6),
    SpanAttributes: { 'gen_ai.operation.name': 'chat', 'llm.route': 'summary', ...attributes },
    ...fields,
  });
}

/** A streamed OpenAI call, prompt cache hit, with its phase children (10:00). */
export const STREAMED = call(1, 1_250.5, 2350, {
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.response.finish_reasons': '["stop"]',
  'gen_ai.request.stream': 'true',
  'gen_ai.usage.input_tokens': '1200',
  'gen_ai.usage.output_tokens': '310',
  'gen_ai.usage.cache_read.input_tokens': '1024',
  'llm.cache.state': 'hit',
  'llm.queue_ms': '180.5',
  'llm.ttft_ms': '412.5',
  'llm.prefill_ms': '232',
  'llm.decode_ms': '1937.5',
  'llm.stream.chunks': '96',
  'llm.stream.gap_p50_ms': '18.5',
  'llm.stream.gap_p95_ms': '44',
  'llm.stream.gap_max_ms': '131.25',
  'llm.attempts': '2',
  'llm.rate_limited_attempts': '1',
});
const STREAMED_CHILDREN = [
  span({ Timestamp: STREAMED.Timestamp, TraceId: STREAMED.TraceId, SpanId: hex(101, 16), ParentSpanId: STREAMED.SpanId, SpanName: 'llm.ttft', Duration: '412500000' }),
  span({
    Timestamp: STREAMED.Timestamp,
    TraceId: STREAMED.TraceId,
    SpanId: hex(102, 16),
    ParentSpanId: hex(101, 16),
    SpanName: 'llm.queue',
    Duration: '180500000',
    'Events.Timestamp': [STREAMED.Timestamp, at(1_350.5)],
    'Events.Name': ['llm.http.attempt', 'llm.http.attempt'],
    'Events.Attributes': [{ 'llm.attempt': '1', 'http.response.status_code': '429' }, { 'llm.attempt': '2', 'http.response.status_code': '200' }],
  }),
];

/** A non-streamed Anthropic call whose prompt missed the cache (10:00). */
export const NON_STREAMED = call(2, 20_000, 900.25, {
  'gen_ai.provider.name': 'anthropic',
  'gen_ai.request.model': 'claude-sonnet-4',
  'gen_ai.response.model': 'claude-sonnet-4-20250514',
  'gen_ai.response.finish_reasons': '["end_turn"]',
  'gen_ai.request.stream': 'false',
  'gen_ai.usage.input_tokens': '5000',
  'gen_ai.usage.output_tokens': '120',
  'gen_ai.usage.cache_creation.input_tokens': '4096',
  'llm.cache.state': 'miss',
  'llm.cache.miss_reason': 'prefix_changed',
  'llm.cache.break_at': 'system',
  'llm.cache.prefix_hash': 'abc123',
});

/** A streamed call the application aborted after its first chunk (10:00). */
export const ABORTED = call(3, 40_000, 700, {
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.request.stream': 'true',
  'llm.outcome': 'aborted',
  'llm.ttft_ms': '350',
  'llm.stream.chunks': '4',
});

/** A streamed call refused with 429 before any output (10:01). */
export const FAILED = call(
  4,
  65_000,
  120,
  { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': 'true', 'error.type': '429' },
  { StatusCode: 'Error', StatusMessage: 'Rate limit reached' },
);

/** A slow streamed call (10:01). */
export const SLOW = call(5, 90_000, 9800, {
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.response.finish_reasons': '["length"]',
  'gen_ai.request.stream': 'true',
  'gen_ai.usage.input_tokens': '800',
  'gen_ai.usage.output_tokens': '4096',
  'llm.ttft_ms': '1500.25',
});

/** Not an LLM call: the server span around the calls. */
const SERVER = span({ Timestamp: at(0), TraceId: hex(9, 32), SpanId: hex(9, 16), SpanName: 'POST /api/checkout', SpanKind: 'Server', Duration: '99000000000' });

/** The LLM call spans, each stored once or more. */
export const CALLS = [STREAMED, NON_STREAMED, ABORTED, FAILED, SLOW];

/**
 * Insert batches, in order. The first batch is sent again whole (an exporter retry after a lost
 * acknowledgement): the previous release stored it twice and counted it once (uniqExact).
 */
export const BATCHES: readonly OtelTraceRow[][] = [
  [STREAMED, ...STREAMED_CHILDREN, SERVER],
  [NON_STREAMED, ABORTED],
  [FAILED, SLOW],
  [STREAMED, ...STREAMED_CHILDREN, SERVER],
];

/** Every distinct span stored. */
export const SPANS: readonly OtelTraceRow[] = [...new Map(BATCHES.flat().map((s) => [s.SpanId, s])).values()];
