// Realistic span batches made with the real OTel SDK: per trace an HTTP server span, an LLM call
// span with the full attribute set of docs/conventions.md, and its llm.ttft ⊃ llm.queue (with an
// llm.http.attempt event) and llm.decode children — so one span in five is an LLM call.
// Making spans through the SDK costs the sending process ~20 µs a span, CPU the ingest service
// on the same two cores would lose to the load generator: the SDK makes a few batches once, and
// every batch after is one of them again with new trace ids and start times (ReadableSpans of the
// SDK's own spans' values, so the exporter serializes exactly what the SDK hands it).
import { randomBytes } from 'node:crypto';
import { SpanKind, context, trace, type HrTime, type SpanContext, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

export const BATCH_SPANS = 512;

export interface SpanFactory {
  /**
   * A fresh batch of `BATCH_SPANS` spans (new trace and span ids every time), its times those of a
   * batch made at `atMs` (epoch ms; default now).
   */
  batch(atMs?: number): ReadableSpan[];
}

const ms = (base: number, offset: number): [number, number] => {
  const t = base + offset;
  return [Math.floor(t / 1000), Math.round((t % 1000) * 1e6)];
};

function oneTrace(tracer: Tracer, i: number, start: number): void {
  const model = i % 3 === 0 ? 'gpt-4o-mini' : 'gpt-4o';
  const queue = 40 + (i % 50);
  const ttft = queue + 200 + (i % 300);
  const decode = 800 + (i % 2000);
  const total = ttft + decode;
  const server = tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: ms(start, 0), attributes: { 'http.request.method': 'POST', 'http.route': '/chat', 'http.response.status_code': 200 } });
  const serverCtx = trace.setSpan(context.active(), server);
  const call = tracer.startSpan(
    `chat ${model}`,
    {
      kind: SpanKind.CLIENT,
      startTime: ms(start, 2),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': model,
        'gen_ai.request.stream': true,
        'gen_ai.response.model': `${model}-2026-08-06`,
        'gen_ai.response.id': `chatcmpl-${i.toString(36)}`,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 1912 + (i % 500),
        'gen_ai.usage.output_tokens': 40 + (i % 200),
        'gen_ai.usage.cache_read.input_tokens': 1792,
        'gen_ai.usage.reasoning.output_tokens': 0,
        'gen_ai.response.time_to_first_chunk': ttft / 1000,
        'gen_ai.conversation.id': `conv-${i % 97}`,
        'server.address': 'api.openai.com',
        'server.port': 443,
        'llm.queue_ms': queue,
        'llm.ttft_ms': ttft,
        'llm.prefill_ms': ttft - queue,
        'llm.decode_ms': decode,
        'llm.tool_call_ms': 0,
        'llm.stream.chunks': 20 + (i % 100),
        'llm.stream.gap_p50_ms': 20.1,
        'llm.stream.gap_p95_ms': 31.7,
        'llm.stream.gap_max_ms': 48.2,
        'llm.decode.tokens_per_second': 105.2,
        'llm.outcome': 'success',
        'llm.attempts': 1,
        'llm.retries': 0,
        'llm.rate_limited_attempts': 0,
        'llm.ratelimit.requests.limit': 10000,
        'llm.ratelimit.requests.remaining': 9000 + (i % 1000),
        'llm.ratelimit.requests.reset_s': 6,
        'llm.ratelimit.tokens.limit': 2000000,
        'llm.ratelimit.tokens.remaining': 1500000,
        'llm.ratelimit.tokens.reset_s': 15,
        'llm.ratelimit.headroom': 0.75,
        'llm.cache.state': 'partial',
        'llm.cache.prefix_hash': (i % 4096).toString(16).padStart(16, '0'),
        'llm.route': '/chat',
      },
    },
    serverCtx,
  );
  const callCtx = trace.setSpan(serverCtx, call);
  const ttftSpan = tracer.startSpan('llm.ttft', { startTime: ms(start, 2) }, callCtx);
  const queueSpan = tracer.startSpan('llm.queue', { startTime: ms(start, 2) }, trace.setSpan(callCtx, ttftSpan));
  queueSpan.addEvent('llm.http.attempt', { 'llm.attempt': 1, 'http.response.status_code': 200 }, ms(start, 2 + queue));
  queueSpan.end(ms(start, 2 + queue));
  ttftSpan.end(ms(start, 2 + ttft));
  tracer.startSpan('llm.decode', { startTime: ms(start, 2 + ttft) }, callCtx).end(ms(start, 2 + total));
  call.end(ms(start, 2 + total));
  server.end(ms(start, 4 + total));
}

/** Batches the SDK makes; the rest are copies of them. */
const TEMPLATES = 8;

const later = ([s, ns]: HrTime, ms: number): HrTime => {
  const total = ns + (ms % 1000) * 1e6;
  return [s + Math.floor(ms / 1000) + Math.floor(total / 1e9), total % 1e9];
};

/**
 * A span of `template` with the trace ids `ids` maps to and its times `ms` later: a ReadableSpan of
 * the template's own values (resource, scope, attributes, links shared), holding only what differs.
 */
function copy(span: ReadableSpan, ids: Map<string, string>, ms: number): ReadableSpan {
  const newId = (old: string) => {
    let id = ids.get(old);
    if (id === undefined) ids.set(old, (id = randomBytes(16).toString('hex')));
    return id;
  };
  const own = span.spanContext();
  const spanContext: SpanContext = { ...own, traceId: newId(own.traceId) };
  const parent = span.parentSpanContext;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext: parent === undefined ? undefined : { ...parent, traceId: newId(parent.traceId) },
    startTime: later(span.startTime, ms),
    endTime: later(span.endTime, ms),
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events.map((e) => ({ ...e, time: later(e.time, ms) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export function spanFactory(serviceName = 'bench-chat'): SpanFactory {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': `pod-${process.pid}` }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@llm-prism/bench');
  const madeAt = Date.now();
  const templates: ReadableSpan[][] = [];
  for (let i = 0; templates.length < TEMPLATES; ) {
    exporter.reset();
    while (exporter.getFinishedSpans().length < BATCH_SPANS) oneTrace(tracer, i++, madeAt - 60_000);
    templates.push(exporter.getFinishedSpans().slice(0, BATCH_SPANS));
  }
  let n = 0;
  return {
    batch(atMs = Date.now()) {
      const ids = new Map<string, string>();
      const ms = atMs - madeAt;
      return (templates[n++ % TEMPLATES] as ReadableSpan[]).map((span) => copy(span, ids, ms));
    },
  };
}
