// Applications exporting spans with the official OTLP protobuf exporter, recording which spans
// each export acknowledged (HTTP 200) and which it gave up on.
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

/** What every client saw, by span id. */
export interface Ledger {
  /** Spans the application created. */
  created: Set<string>;
  /** Spans handed to an export (a retry inside the exporter is the same export). */
  exported: Set<string>;
  /** Spans in an export answered 200. */
  acked: Set<string>;
  /** Spans in an export that failed for good (the exporter gave up). */
  failed: Set<string>;
  /**
   * Why exports failed, counted by export: `HTTP <status>` when ingest answered something else
   * than 200 (a real refusal), else the exporter's own error (e.g. its timeout on a slow answer).
   */
  failedWhy: Record<string, number>;
  /** The longest an export took to complete, ms (the exporter gives up after 10 s). */
  slowestExportMs: number;
  /** Span ids of LLM call spans (`chat …`, kind CLIENT), which llm_calls and the rollups count. */
  calls: Set<string>;
}

export const newLedger = (): Ledger => ({ created: new Set(), exported: new Set(), acked: new Set(), failed: new Set(), failedWhy: {}, slowestExportMs: 0, calls: new Set() });

/** Wraps the real exporter to note the outcome of every export in the ledger. */
class RecordingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #ledger: Ledger;

  constructor(inner: SpanExporter, ledger: Ledger) {
    this.#inner = inner;
    this.#ledger = ledger;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const ids = spans.map((s) => s.spanContext().spanId);
    for (const id of ids) this.#ledger.exported.add(id);
    const started = performance.now();
    this.#inner.export(spans, (result) => {
      this.#ledger.slowestExportMs = Math.max(this.#ledger.slowestExportMs, Math.round(performance.now() - started));
      const outcome = result.code === ExportResultCode.SUCCESS ? this.#ledger.acked : this.#ledger.failed;
      for (const id of ids) outcome.add(id);
      if (result.code !== ExportResultCode.SUCCESS) {
        const code = (result.error as { code?: number } | undefined)?.code;
        const why = code === undefined ? (result.error?.message ?? 'no error given') : `HTTP ${code}`;
        this.#ledger.failedWhy[why] = (this.#ledger.failedWhy[why] ?? 0) + 1;
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface LoadClient {
  provider: TracerProvider;
  tracer: Tracer;
}

/** One application: a TracerProvider with a BatchSpanProcessor around the official exporter. */
export function loadClient(url: string, service: string, ledger: Ledger): LoadClient {
  const exporter = new RecordingExporter(new OTLPTraceExporter({ url: `${url}/v1/traces` }), ledger);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    // A queue deep enough that the client never drops spans at the rates used here: the suite
    // measures what ingest loses, not what the SDK discards before sending.
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 200_000, maxExportBatchSize: 512, scheduledDelayMillis: 50 })],
  });
  return { provider, tracer: provider.getTracer('llm-prism-reliability') };
}

/** One span; every fifth is an LLM call with the attributes llm_calls and the rollups read. */
export function emitSpan(tracer: Tracer, ledger: Ledger, i: number): void {
  const call = i % 5 === 0;
  const span = call
    ? tracer.startSpan('chat gpt-4o-mini', {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.request.stream': true,
          'gen_ai.usage.input_tokens': 812,
          'gen_ai.usage.output_tokens': 96,
          'llm.ttft_ms': 200 + (i % 300),
          'llm.outcome': 'success',
        },
      })
    : tracer.startSpan('work', { kind: SpanKind.INTERNAL, attributes: { 'work.index': i } });
  const id = span.spanContext().spanId;
  ledger.created.add(id);
  if (call) ledger.calls.add(id);
  span.end();
}

export interface PaceResult {
  created: number;
  elapsedMs: number;
}

/**
 * Creates spans at `spansPerSecond` in total, round-robin over the clients, for `durationMs`
 * (ticks of 20 ms; a late tick catches up).
 */
export async function pacedLoad(
  clients: LoadClient[],
  ledger: Ledger,
  spansPerSecond: number,
  durationMs: number,
): Promise<PaceResult> {
  const t0 = performance.now();
  let created = 0;
  for (;;) {
    const elapsed = Math.min(performance.now() - t0, durationMs);
    const due = Math.floor((spansPerSecond * elapsed) / 1000);
    for (; created < due; created++) emitSpan(clients[created % clients.length]!.tracer, ledger, created);
    if (elapsed >= durationMs) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { created, elapsedMs: performance.now() - t0 };
}

/** Flushes and shuts every client down (each export still bounded by the exporter's timeout). */
export async function drain(clients: LoadClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.provider.forceFlush()));
  await Promise.all(clients.map((c) => c.provider.shutdown()));
}

/**
 * Saturating throughput of an ingest: `loops` exporters each send 512-span batches back to back
 * for `durationMs`; returns acknowledged spans per second.
 */
export async function measureCapacity(url: string, loops: number, durationMs: number): Promise<number> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'capacity-probe' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('capacity-probe');
  const scratch = newLedger();
  const t0 = performance.now();
  let acked = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces` });
      while (performance.now() - t0 < durationMs) {
        for (let i = 0; i < 512; i++) emitSpan(tracer, scratch, n++);
        const batch = memory.getFinishedSpans();
        memory.reset(); // a new list: `batch` keeps this loop's spans
        const result = await new Promise<ExportResult>((resolve) => exporter.export(batch, resolve));
        if (result.code === ExportResultCode.SUCCESS) acked += batch.length;
      }
      await exporter.shutdown();
    }),
  );
  await provider.shutdown();
  return (acked * 1000) / (performance.now() - t0);
}
