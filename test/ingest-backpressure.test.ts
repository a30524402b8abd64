// Slow storage: inserts take 300 ms and the queue holds 30 rows, so concurrent exporters overflow
// it. Ingest answers 429 with Retry-After for what it cannot queue; the official exporters retry
// and every span is stored exactly once.
// Each exporter sends one batch of 20: an export gives up after 5 retries (Retry-After 1 s apart),
// and the retries of all exporters come in waves that the queue admits one or two batches of.
// Six batches get through in time even when a loaded machine (load average 8 on 2 cores) slows
// every insert; twelve (two per exporter) did not: the last ones ran out of retries.
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../packages/ingest/src/index.ts';
import { scrapeMetric } from '../packages/ingest/test/requests.ts';

let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  const slow: Storage = {
    ...storage,
    async insertSpans(rows) {
      await new Promise((r) => setTimeout(r, 300));
      await storage.insertSpans(rows);
    },
  };
  server = await startIngest({ port: 0, storage: slow, maxQueuedRows: 30, retryAfterSeconds: 1, log: () => {} });
});
afterAll(async () => {
  await server?.close();
  await storage?.close();
});

const metric = (name: string) => scrapeMetric(server.url, name);

test('a full queue answers 429 and the exporters deliver every span after backing off', async () => {
  const EXPORTERS = 6;
  const SPANS = 20;
  const providers = Array.from(
    { length: EXPORTERS },
    (_, i) =>
      new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': `backpressure-${i}` }),
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({ url: `${server.url}/v1/traces` }),
            maxExportBatchSize: 20,
            scheduledDelayMillis: 10,
          }),
        ],
      }),
  );
  for (const provider of providers) {
    const tracer = provider.getTracer('backpressure-test');
    for (let i = 0; i < SPANS; i++) tracer.startSpan('work', { kind: SpanKind.INTERNAL }).end();
  }
  await Promise.all(providers.map((p) => p.forceFlush()));
  await Promise.all(providers.map((p) => p.shutdown()));

  expect(await metric('llm_prism_ingest_requests_total{status="429"}')).toBeGreaterThan(0);
  const result = await storage.client.query({
    query: `SELECT count() AS rows, uniqExact(SpanId) AS spans FROM ${storage.database}.otel_traces WHERE startsWith(ServiceName, 'backpressure-')`,
    format: 'JSONEachRow',
  });
  expect(await result.json()).toEqual([{ rows: EXPORTERS * SPANS, spans: EXPORTERS * SPANS }]);
  expect(await metric('llm_prism_ingest_spans_stored_total')).toBe(EXPORTERS * SPANS);
  expect(await metric('llm_prism_ingest_spans_rejected_total{reason="queue_full"}')).toBeGreaterThan(0);
});
