// Every bad input of POST /v1/traces against a running server on real chDB: status, message, and
// that the valid spans of the same request were stored; values ClickHouse itself would refuse
// (too many partitions in one insert, the end of DateTime64(9), lone surrogates) stored or refused.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { decodeExportResponse, decodeStatus, encodeProtobufRequest } from '../test/otlp-messages.ts';
import { decodeJsonRequest } from './otlp-json.ts';
import { otlpToRows } from './otlp-to-rows.ts';
import { MAX_DAYS_PER_REQUEST } from './partition-groups.ts';
import { startIngest, type IngestServer } from './server.ts';
import { jsonRequest, jsonSpan, randomSpanId, randomTraceId, type JsonSpan } from '../test/requests.ts';

const TOKEN = 'test-token-1';
const MAX_BODY = 64 * 1024;
const MAX_DECODED = 256 * 1024;

let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({
    port: 0,
    storage,
    tokens: [TOKEN, 'test-token-2'],
    host: '127.0.0.1',
    maxBodyBytes: MAX_BODY,
    maxDecodedBytes: MAX_DECODED,
    log: () => {},
  });
});

afterAll(async () => {
  await server?.close();
  await storage?.close();
});

async function select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await storage.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

async function storedCount(traceId: string): Promise<number> {
  const [row] = await select<{ n: string }>(`SELECT count() AS n FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`, { t: traceId });
  return Number(row?.n);
}

type Encoding = 'protobuf' | 'json';

interface Case {
  name: string;
  /** Spans of the request: the valid one (stored) plus the bad ones. */
  bad?: Partial<JsonSpan>[];
  encoding?: Encoding;
  gzip?: boolean;
  headers?: Record<string, string>;
  /** A raw body instead of the built request. */
  body?: Uint8Array | string;
  auth?: string | null;
  status: number;
  message: RegExp;
  rejected?: number;
}

const hex = (bytes: number) => 'ab'.repeat(bytes);

/** How partial_success names a bad span of these requests (name "bad", a random span id). */
const BAD = 'span "bad" \\(span_id [0-9a-f]{16}\\)';
const bad = (problem: string) => new RegExp(`${BAD}: ${problem}`);

const cases: Case[] = [
  { name: 'trace id of 15 bytes (protobuf)', bad: [{ traceId: hex(15) }], status: 200, rejected: 1, message: bad('trace_id has 15 bytes, want 16') },
  { name: 'span id of 9 bytes (protobuf, gzip)', bad: [{ spanId: hex(9) }], gzip: true, status: 200, rejected: 1, message: /span "bad" \(span_id "(ab){9}"\): span_id has 9 bytes, want 8/ },
  { name: 'empty span id (protobuf)', bad: [{ spanId: '' }], status: 200, rejected: 1, message: /span "bad" \(span_id none\): span_id is empty/ },
  { name: 'all-zero trace id (JSON)', bad: [{ traceId: '0'.repeat(32) }], encoding: 'json', status: 200, rejected: 1, message: bad('trace_id is all zeros') },
  { name: 'span id not hex (JSON)', bad: [{ spanId: 'zzzzzzzzzzzzzzzz' }], encoding: 'json', status: 200, rejected: 1, message: /span "bad" \(span_id "z{16}"\): span_id is not hex/ },
  { name: 'parent span id of 4 bytes (JSON, gzip)', bad: [{ parentSpanId: hex(4) }], encoding: 'json', gzip: true, status: 200, rejected: 1, message: bad('parent_span_id has 4 bytes, want 8') },
  {
    name: 'link with a short trace id, and a second bad span (JSON)',
    bad: [{ links: [{ traceId: hex(3), spanId: hex(8) }] }, { traceId: hex(17) }],
    encoding: 'json',
    status: 200,
    rejected: 2,
    message: new RegExp(`^2 span\\(s\\) rejected: ${BAD}: link 0 trace_id has 3 bytes, want 16; ${BAD}: trace_id has 17 bytes, want 16$`),
  },
  { name: 'start time "abc" (JSON)', bad: [{ startTimeUnixNano: 'abc' }], encoding: 'json', status: 200, rejected: 1, message: bad('start_time_unix_nano "abc" is not a uint64') },
  { name: 'start time missing (protobuf)', bad: [{ startTimeUnixNano: '0' }], status: 200, rejected: 1, message: bad('start_time_unix_nano is missing \\(0\\)') },
  {
    name: 'start time in 2200 (protobuf)',
    bad: [{ startTimeUnixNano: '7258118400000000000', endTimeUnixNano: '7258118400000000001' }],
    status: 200,
    rejected: 1,
    message: bad('start_time_unix_nano 7258118400000000000 is after 2100-01-01 00:00:00.000000000 UTC'),
  },
  { name: 'end before start (JSON, gzip)', bad: [{ endTimeUnixNano: '1000' }], encoding: 'json', gzip: true, status: 200, rejected: 1, message: bad('end_time_unix_nano 1000 is before start_time_unix_nano \\d+') },
  { name: 'span kind 9 (protobuf)', bad: [{ kind: 9 }], status: 200, rejected: 1, message: bad('kind 9 is not a SpanKind \\(0–5\\)') },
  { name: 'status code 7 (JSON)', bad: [{ status: { code: 7 } }], encoding: 'json', status: 200, rejected: 1, message: bad('status code 7 is not a StatusCode \\(0–2\\)') },
  {
    name: 'int attribute "abc" (JSON)',
    bad: [{ attributes: [{ key: 'n', value: { intValue: 'abc' } }] }],
    encoding: 'json',
    status: 200,
    rejected: 1,
    message: bad('span attribute "n" int_value "abc" is not an int64'),
  },
  { name: 'malformed protobuf', body: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), status: 400, message: /malformed protobuf ExportTraceServiceRequest/ },
  { name: 'malformed JSON', body: '{"resourceSpans": [', encoding: 'json', status: 400, message: /malformed JSON: / },
  { name: 'JSON of the wrong shape', body: '{"resourceSpans": "spans"}', encoding: 'json', status: 400, message: /malformed JSON ExportTraceServiceRequest: .*resourceSpans: array expected/ },
  { name: 'JSON that is not an object', body: '[1,2]', encoding: 'json', status: 400, message: /the body must be a JSON object/ },
  { name: 'gzip header on a plain body', body: 'not gzip', encoding: 'json', gzip: false, headers: { 'content-encoding': 'gzip' }, status: 400, message: /malformed gzip body/ },
  { name: 'unsupported media type', body: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, message: /unsupported media type "text\/plain": send application\/x-protobuf or application\/json/ },
  { name: 'unsupported content encoding', body: 'x', encoding: 'json', headers: { 'content-encoding': 'br' }, status: 415, message: /unsupported Content-Encoding "br"/ },
  { name: 'body over the limit', body: new Uint8Array(MAX_BODY + 1), status: 413, message: new RegExp(`request body of ${MAX_BODY + 1} bytes exceeds the limit of ${MAX_BODY} bytes`) },
  { name: 'body over the limit after gunzip', body: gzipSync(new Uint8Array(MAX_DECODED * 8)), headers: { 'content-encoding': 'gzip' }, status: 413, message: new RegExp(`decompressed request body exceeds the limit of ${MAX_DECODED} bytes`) },
  { name: 'missing bearer token', auth: null, status: 401, message: /missing bearer token/ },
  { name: 'wrong bearer token', auth: 'Bearer nope', status: 401, message: /invalid bearer token/ },
  { name: 'not a bearer header', auth: 'Basic dXNlcjpwYXNz', encoding: 'json', status: 401, message: /malformed Authorization header/ },
];

describe('POST /v1/traces rejects bad input', () => {
  test.each(cases)('$name → $status', async (c) => {
    const encoding = c.encoding ?? 'protobuf';
    const valid = jsonSpan({ name: 'good' });
    const spans = [valid, ...(c.bad ?? []).map((b) => jsonSpan({ name: 'bad', ...b }))];
    let body: Uint8Array | string =
      c.body ?? (encoding === 'json' ? JSON.stringify(jsonRequest(spans)) : encodeProtobufRequest(jsonRequest(spans)));
    const headers: Record<string, string> = {
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    };
    if (c.gzip) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    if (c.auth !== null) headers.authorization = c.auth ?? `Bearer ${TOKEN}`;
    Object.assign(headers, c.headers);

    // A copy typed on a plain ArrayBuffer, as fetch's BodyInit wants.
    const payload = typeof body === 'string' ? body : new Uint8Array(body);
    const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers, body: payload });
    expect(res.status).toBe(c.status);
    const raw = new Uint8Array(await res.arrayBuffer());
    const protobufReply = res.headers.get('content-type') === 'application/x-protobuf';
    expect(protobufReply).toBe(headers['content-type'] === 'application/x-protobuf');

    if (c.status === 200) {
      for (const span of spans.slice(1)) expect(await storedCount(span.traceId)).toBe(0);
      const partial = protobufReply
        ? decodeExportResponse(raw).partialSuccess
        : (JSON.parse(Buffer.from(raw).toString()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } }).partialSuccess;
      expect(Number(partial?.rejectedSpans)).toBe(c.rejected);
      expect(partial?.errorMessage).toMatch(c.message);
      expect(await storedCount(valid.traceId)).toBe(1);
    } else {
      const status = protobufReply ? decodeStatus(raw) : (JSON.parse(Buffer.from(raw).toString()) as { message: string });
      expect(status.message).toMatch(c.message);
      if (c.body === undefined) expect(await storedCount(valid.traceId)).toBe(0);
    }
    if (c.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  test('a body streamed without Content-Length is cut off at the limit', async () => {
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Bounded: stops after 4 × the limit whatever the server does.
        if (sent >= MAX_BODY * 4) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(`request body exceeds the limit of ${MAX_BODY} bytes`);
  });

  test('a request with only valid spans gets an empty response and every span stored', async () => {
    const traceId = randomTraceId();
    const spans = [jsonSpan({ traceId }), jsonSpan({ traceId }), jsonSpan({ traceId })];
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer test-token-2' },
      body: JSON.stringify(jsonRequest(spans)),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(await storedCount(traceId)).toBe(3);
  });

  test('the service is still up and counted every rejection by reason', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_trace_id"\} 3/);
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_span_id"\} 3/);
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_parent_span_id"\} 1/);
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_link_id"\} 1/);
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_timestamp"\} 4/);
    expect(metrics).toMatch(/llm_prism_ingest_spans_rejected_total\{reason="invalid_value"\} 3/);
    expect(metrics).toMatch(/llm_prism_ingest_requests_total\{status="401"\} 3/);
    expect(metrics).toMatch(/llm_prism_ingest_requests_total\{status="413"\} 3/);
  });
});

type Answer = { partialSuccess?: { rejectedSpans: string; errorMessage: string }; message?: string };

/** POSTs an OTLP/JSON request, gzipped (so that a thousand spans fit under the body limits). */
async function postJson(request: object): Promise<{ status: number; answer: Answer }> {
  const res = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${TOKEN}` },
    body: gzipSync(JSON.stringify(request)),
  });
  return { status: res.status, answer: (await res.json()) as Answer };
}

const NS_PER_DAY = 86_400n * 1_000_000_000n;

/** Spans of one trace, the i-th starting `i` days after 2025-01-01 UTC; LLM calls unless `bare`. */
function spansOnDays(days: number, bare = false): JsonSpan[] {
  const traceId = randomTraceId();
  const first = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n;
  return Array.from({ length: days }, (_, i) => {
    const start = first + BigInt(i) * NS_PER_DAY;
    const times = { startTimeUnixNano: start.toString(), endTimeUnixNano: (start + 1_000_000n).toString() };
    if (bare) return { traceId, spanId: randomSpanId(), name: 'd', ...times };
    return jsonSpan({ traceId, name: 'chat gpt-4o', kind: 3, ...times, attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }] });
  });
}

describe('values ClickHouse would refuse at insert', () => {
  test('spans starting on 150 different days are stored whole, in inserts of at most 10 days', async () => {
    // The premise: one insert of such rows is refused (max_partitions_per_insert_block = 100).
    const { rows } = otlpToRows(decodeJsonRequest(JSON.stringify(jsonRequest(spansOnDays(150)))));
    await expect(storage.insertSpans(rows)).rejects.toThrow(/partitions/i);

    const spans = spansOnDays(150);
    const traceId = spans[0]!.traceId;
    const { status, answer } = await postJson(jsonRequest(spans));
    expect(status).toBe(200);
    expect(answer).toEqual({});
    const [stored] = await select<{ n: string; days: string }>(
      `SELECT count() AS n, uniqExact(toDate(Timestamp)) AS days FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
      { t: traceId },
    );
    expect([Number(stored!.n), Number(stored!.days)]).toEqual([150, 150]);
    const [calls] = await select<{ n: string }>(`SELECT count() AS n FROM ${storage.database}.llm_calls WHERE TraceId = {t:String}`, { t: traceId });
    expect(Number(calls!.n)).toBe(150);
  });

  test(`spans starting on more than ${MAX_DAYS_PER_REQUEST} days: 400 naming the limit, nothing stored`, async () => {
    const spans = spansOnDays(MAX_DAYS_PER_REQUEST + 1, true);
    const { status, answer } = await postJson(jsonRequest(spans));
    expect(status).toBe(400);
    expect(answer.message).toBe(
      `spans of this request start on ${MAX_DAYS_PER_REQUEST + 1} different days (UTC); at most ${MAX_DAYS_PER_REQUEST} per request: send them in smaller requests`,
    );
    expect(await storedCount(spans[0]!.traceId)).toBe(0);
  });

  test('an LLM call at the latest time LLM Prism stores is stored and counted once; one nanosecond later is refused and nothing of it stored', async () => {
    // A span in 2106–2262 fits otel_traces' DateTime64(9) but not the DateTime rollups, TTLs and
    // duplicate checks: one such span had its call stored while the answer said refused.
    const call = { kind: 3, attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }] };
    const last = jsonSpan({ ...call, startTimeUnixNano: '4102444800000000000', endTimeUnixNano: '4102444800000000000' });
    const later = jsonSpan({ ...call, startTimeUnixNano: '4102444800000000001', endTimeUnixNano: '4102444800000000001' });
    const service = `latest-${randomTraceId().slice(0, 8)}`;
    for (let send = 0; send < 2; send++) {
      const { status, answer } = await postJson(jsonRequest([last, later], service));
      expect(status).toBe(200);
      expect(answer.partialSuccess).toEqual({
        rejectedSpans: '1',
        errorMessage: `1 span(s) rejected: span "work" (span_id ${later.spanId}): start_time_unix_nano 4102444800000000001 is after 2100-01-01 00:00:00.000000000 UTC, the latest time LLM Prism stores`,
      });
    }
    const db = storage.database;
    expect(await select(`SELECT toString(Timestamp) AS t, SpanId FROM ${db}.otel_traces WHERE ServiceName = {s:String}`, { s: service })).toEqual([
      { t: '2100-01-01 00:00:00.000000000', SpanId: last.spanId },
    ]);
    expect(await select(`SELECT SpanId FROM ${db}.llm_calls WHERE ServiceName = {s:String}`, { s: service })).toEqual([{ SpanId: last.spanId }]);
    expect(await select(`SELECT toString(Minute) AS m, toString(sum(Calls)) AS n FROM ${db}.llm_completion_counts WHERE ServiceName = {s:String} GROUP BY Minute`, { s: service })).toEqual([
      { m: '2100-01-01 00:00:00', n: '1' },
    ]);
  });

  test("an LLM call whose token count llm_calls cannot hold is refused, named, and nothing of it stored; the request's other call is", async () => {
    const call = (tokens: { intValue: string }) =>
      jsonSpan({
        kind: 3,
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.usage.input_tokens', value: tokens },
        ],
      });
    const bad = call({ intValue: '-5' });
    const good = call({ intValue: '12' });
    const service = `counts-${randomTraceId().slice(0, 8)}`;
    const { status, answer } = await postJson(jsonRequest([bad, good], service));
    expect(status).toBe(200);
    expect(answer.partialSuccess).toEqual({
      rejectedSpans: '1',
      errorMessage: `1 span(s) rejected: span "work" (span_id ${bad.spanId}): attribute gen_ai.usage.input_tokens "-5" is not a count llm_calls can hold (a whole number from 0 to 9007199254740991)`,
    });
    expect(await storedCount(bad.traceId)).toBe(0);
    expect(await select(`SELECT SpanId, toString(InputTokens) AS tokens FROM ${storage.database}.llm_calls WHERE ServiceName = {s:String}`, { s: service })).toEqual([
      { SpanId: good.spanId, tokens: '12' },
    ]);
  });

  test.each<[string, () => SpanExporter]>([
    ['exporter-trace-otlp-http (JSON)', () => new JsonExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } })],
    ['exporter-trace-otlp-proto', () => new ProtoExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } })],
  ])('%s: half an emoji (a lone surrogate) is stored as U+FFFD, and the export succeeds', async (_name, makeExporter) => {
    const memory = new InMemorySpanExporter();
    const service = `surrogate-${randomTraceId().slice(0, 8)}`;
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'host.note': 'x\ud83d' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const emoji = '😀'.slice(0, 1); // what String.prototype.slice leaves of a truncated emoji
    const span = provider.getTracer(`scope${emoji}`).startSpan(`chat ${emoji}`, { attributes: { [`key${emoji}`]: `value${emoji}`, list: [`item${emoji}`] } });
    span.addEvent(`event${emoji}`, { note: emoji });
    span.setStatus({ code: 2, message: `failed${emoji}` });
    span.end();
    const exported = await new Promise<number>((resolve) => makeExporter().export(memory.getFinishedSpans(), (result) => resolve(result.code)));
    expect(exported).toBe(0); // ExportResultCode.SUCCESS
    const rows = await select<Record<string, unknown>>(
      `SELECT SpanName, ScopeName, SpanAttributes, ResourceAttributes['host.note'] AS note, StatusMessage, Events.Name AS events, Events.Attributes AS eventAttributes
       FROM ${storage.database}.otel_traces WHERE ServiceName = {s:String}`,
      { s: service },
    );
    expect(rows).toEqual([
      {
        SpanName: 'chat \ufffd',
        ScopeName: 'scope\ufffd',
        SpanAttributes: { 'key\ufffd': 'value\ufffd', list: '["item\ufffd"]' },
        note: 'x\ufffd',
        StatusMessage: 'failed\ufffd',
        events: ['event\ufffd'],
        eventAttributes: [{ note: '\ufffd' }],
      },
    ]);
  });
});

describe('readiness', () => {
  test('/readyz answers 503 while storage is unreachable; /healthz still 200', async () => {
    // A ClickHouse server that is not there (the discard port): no connection is made until asked.
    const down = await openStorage({ url: 'http://127.0.0.1:9', migrate: false });
    const unready = await startIngest({ port: 0, host: '127.0.0.1', storage: down, tokens: [], log: () => {} });
    try {
      const ready = await fetch(`${unready.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('storage unreachable');
      expect((await fetch(`${unready.url}/healthz`)).status).toBe(200);
    } finally {
      await unready.close();
      await down.close();
    }
  });
});

describe('clients that stop sending', () => {
  /** A POST whose body never completes: headers and the first of `length` bytes. */
  async function partialUpload(url: string, length: number): Promise<Socket> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    socket.on('error', () => {});
    socket.write(`POST /v1/traces HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`);
    return socket;
  }

  test('one gone mid-upload (an exporter timing out) is counted as 499 and not logged as a failure of the service (it was a 500 and a stack trace)', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const socket = await partialUpload(server.url, 1000);
      await sleep(50);
      socket.destroy();
      await sleep(200);
    } finally {
      console.error = original;
    }
    expect(errors).toEqual([]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/llm_prism_ingest_requests_total\{status="499"\} 1/);
    expect(metrics).not.toMatch(/llm_prism_ingest_requests_total\{status="500"\}/);
  });

  test('one stalled mid-upload does not hold a shutdown: after the grace period its connection is cut', async () => {
    // The file's storage (chDB holds one data directory per process); a server given storage leaves it open.
    const stalling = await startIngest({ port: 0, host: '127.0.0.1', storage, tokens: [TOKEN], shutdownGraceMs: 300, log: () => {} });
    const socket = await partialUpload(stalling.url, 1000);
    const cut = once(socket, 'close');
    await sleep(100);
    const started = performance.now();
    // Before, close() waited for as long as the client stayed connected.
    const closed = await Promise.race([stalling.close().then(() => 'closed'), sleep(10_000).then(() => 'still waiting')]);
    expect(closed).toBe('closed');
    expect(performance.now() - started).toBeLessThan(3_000);
    await cut;
  });
});
