// Storage fails during export: otel_traces is detached in ClickHouse, so every insert fails for
// real. Ingest answers 503 with Retry-After and acknowledges nothing; the official exporter
// retries, and after the table is back every span is stored and counted once. A value storage
// refuses is not an outage: only its spans are refused, and no one waits for Retry-After.
import { SpanKind, type HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../packages/ingest/src/index.ts';
import { jsonRequest, jsonSpan, scrapeMetric } from '../packages/ingest/test/requests.ts';

let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, storage, retryAfterSeconds: 1, log: () => {} });
});
afterAll(async () => {
  await storage?.client.command({ query: `ATTACH TABLE IF NOT EXISTS ${storage.database}.otel_traces` }).catch(() => {});
  await server?.close();
  await storage?.close();
});

const outage = {
  begin: () => storage.client.command({ query: `DETACH TABLE ${storage.database}.otel_traces` }),
  end: () => storage.client.command({ query: `ATTACH TABLE ${storage.database}.otel_traces` }),
};

async function count(query: string, params: Record<string, unknown>): Promise<number> {
  const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return Number((await result.json<{ n: number }>())[0]?.n);
}

const metric = (name: string) => scrapeMetric(server.url, name);

describe('storage outage', () => {
  test('a request during the outage gets 503 with Retry-After and nothing is stored', async () => {
    await outage.begin();
    try {
      const spans = [jsonSpan(), jsonSpan()];
      const post = () =>
        fetch(`${server.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(jsonRequest(spans, 'outage-direct')),
        });
      const first = await post();
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('1');
      expect(((await first.json()) as { message: string }).message).toBe('storage unavailable (UNKNOWN_TABLE): try again later');
      // Within Retry-After the service refuses at once, without touching storage.
      const second = await post();
      expect(second.status).toBe(503);
      await second.arrayBuffer();
    } finally {
      await outage.end();
    }
    expect(await count(`SELECT count() AS n FROM ${storage.database}.otel_traces WHERE ServiceName = 'outage-direct'`, {})).toBe(0);
    expect(await metric('llm_prism_ingest_spans_rejected_total{reason="storage_unavailable"}')).toBe(4);
  });

  test('the official exporter retries through the outage and every span lands once', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // let the first test's Retry-After window pass
    const service = 'outage-exporter';
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${server.url}/v1/traces` }),
          maxExportBatchSize: 20,
          scheduledDelayMillis: 10,
        }),
      ],
    });
    const tracer = provider.getTracer('outage-test');
    const N = 60;
    const startNs = (BigInt(Date.now()) - 10_000n) * 1_000_000n;
    const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
    const before503 = await metric('llm_prism_ingest_requests_total{status="503"}');

    await outage.begin();
    for (let i = 0; i < N; i++) {
      const span = tracer.startSpan('chat gpt-4o-mini', {
        kind: SpanKind.CLIENT,
        startTime: hr(startNs),
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.request.stream': true,
          'llm.ttft_ms': 250,
          'llm.outcome': 'success',
        },
      });
      span.end(hr(startNs + 900_000_000n));
    }
    const flushed = provider.forceFlush();
    // Keep storage down until the exporter has been refused at least twice (bounded wait).
    const deadline = Date.now() + 15_000;
    while ((await metric('llm_prism_ingest_requests_total{status="503"}')) < before503 + 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const storedDuringOutage = await metric('llm_prism_ingest_spans_stored_total');
    await outage.end();
    await flushed;
    await provider.shutdown();

    expect(await metric('llm_prism_ingest_requests_total{status="503"}')).toBeGreaterThanOrEqual(before503 + 2);
    expect(storedDuringOutage).toBe(0);
    const q = `SELECT count() AS n FROM ${storage.database}`;
    expect(await count(`${q}.otel_traces WHERE ServiceName = {s:String}`, { s: service })).toBe(N);
    expect(await count(`${q}.llm_calls WHERE ServiceName = {s:String}`, { s: service })).toBe(N);
    expect(await metric('llm_prism_ingest_spans_stored_total')).toBe(N);

    const rollup = (table: string) =>
      count(`SELECT sum(Calls) AS n FROM ${storage.database}.${table} WHERE ServiceName = {s:String}`, { s: service });
    expect(await rollup('llm_ttft_counts')).toBe(N);
    expect(await rollup('llm_completion_counts')).toBe(N);
  });

  test('a batch delivered twice (an acknowledgement lost in transit) is counted once by llm_calls and the rollups', async () => {
    const service = 'outage-redelivery';
    const attributes = [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'claude-sonnet' } },
      { key: 'gen_ai.request.stream', value: { boolValue: true } },
      { key: 'llm.ttft_ms', value: { doubleValue: 300 } },
    ];
    const body = JSON.stringify(jsonRequest([jsonSpan({ kind: 3, attributes }), jsonSpan({ kind: 3, attributes })], service));
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const q = `SELECT count() AS n FROM ${storage.database}`;
    // The second delivery holds only call spans already stored: the insert leaves them out.
    expect(await count(`${q}.otel_traces WHERE ServiceName = {s:String}`, { s: service })).toBe(2);
    expect(await count(`${q}.llm_calls WHERE ServiceName = {s:String}`, { s: service })).toBe(2);
    for (const table of ['llm_ttft_counts', 'llm_completion_counts']) {
      const n = await count(`SELECT sum(Calls) AS n FROM ${storage.database}.${table} WHERE ServiceName = {s:String}`, { s: service });
      expect(n).toBe(2);
    }
  });

  test('values storage cannot hold are not an outage: repaired or refused per span, the rest stored, no 503 and no Retry-After window', async () => {
    // The storage-level isolation of values that reach ClickHouse is group-commit.test.ts's; here,
    // over HTTP, validation answers first: a lone surrogate is repaired, a time after 2100 refused.
    await new Promise((r) => setTimeout(r, 1100)); // let earlier Retry-After windows pass
    const service = 'outage-not-data';
    const far = (BigInt(Date.UTC(2300, 0, 1)) * 1_000_000n).toString();
    const post = (body: object) =>
      fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const fine = [jsonSpan(), jsonSpan()];
    const surrogate = jsonSpan({ name: 'cut \ud83d' });
    const future = jsonSpan({ name: 'in 2300', startTimeUnixNano: far, endTimeUnixNano: far });

    // Sent together, so that they would share inserts: a request with a bad string, one all bad, one fine.
    const [repaired, refused, healthy] = await Promise.all([
      post(jsonRequest([fine[0]!, surrogate, fine[1]!], service)),
      post(jsonRequest([future], service)),
      post(jsonRequest([jsonSpan()], service)),
    ]);
    expect(repaired.status).toBe(200);
    expect(await repaired.json()).toEqual({});
    // Nothing of it could be stored: the request failed (400, not retried), with the same message.
    expect(refused.status).toBe(400);
    expect(refused.headers.get('retry-after')).toBeNull();
    const { message } = (await refused.json()) as { message: string };
    expect(message).toMatch(/^1 span\(s\) rejected: span "in 2300" \(span_id [0-9a-f]{16}\): .*2100-01-01/);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({});
    // Taken at once: no refusal window after bad data.
    const next = await post(jsonRequest([jsonSpan()], service));
    expect(next.status).toBe(200);
    await next.arrayBuffer();

    expect(await count(`SELECT count() AS n FROM ${storage.database}.otel_traces WHERE ServiceName = {s:String}`, { s: service })).toBe(5);
    expect(await count(`SELECT count() AS n FROM ${storage.database}.otel_traces WHERE SpanName = {n:String}`, { n: 'cut \ufffd' })).toBe(1);
  });
});
