// Every bad input of POST /v1/traces against a running server on real chDB: status, message, and
// that the valid spans of the same request were stored.
import { gzipSync } from 'node:zlib';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeExportResponse, decodeStatus, encodeProtobufRequest } from './otlp-codec.ts';
import { startIngest, type IngestServer } from './server.ts';
import { jsonRequest, jsonSpan, randomTraceId, type JsonSpan } from '../test/requests.ts';

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

async function storedCount(traceId: string): Promise<number> {
  const result = await storage.client.query({
    query: `SELECT count() AS n FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
    query_params: { t: traceId },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string }>();
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

const cases: Case[] = [
  { name: 'trace id of 15 bytes (protobuf)', bad: [{ traceId: hex(15) }], status: 200, rejected: 1, message: /span "bad": trace_id has 15 bytes, want 16/ },
  { name: 'span id of 9 bytes (protobuf, gzip)', bad: [{ spanId: hex(9) }], gzip: true, status: 200, rejected: 1, message: /span_id has 9 bytes, want 8/ },
  { name: 'empty span id (protobuf)', bad: [{ spanId: '' }], status: 200, rejected: 1, message: /span_id is empty/ },
  { name: 'all-zero trace id (JSON)', bad: [{ traceId: '0'.repeat(32) }], encoding: 'json', status: 200, rejected: 1, message: /trace_id is all zeros/ },
  { name: 'span id not hex (JSON)', bad: [{ spanId: 'zzzzzzzzzzzzzzzz' }], encoding: 'json', status: 200, rejected: 1, message: /span_id is not hex/ },
  { name: 'parent span id of 4 bytes (JSON, gzip)', bad: [{ parentSpanId: hex(4) }], encoding: 'json', gzip: true, status: 200, rejected: 1, message: /parent_span_id has 4 bytes, want 8/ },
  {
    name: 'link with a short trace id, and a second bad span (JSON)',
    bad: [{ links: [{ traceId: hex(3), spanId: hex(8) }] }, { traceId: hex(17) }],
    encoding: 'json',
    status: 200,
    rejected: 2,
    message: /2 span\(s\) rejected: span "bad": link trace_id has 3 bytes, want 16; span "bad": trace_id has 17 bytes/,
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
    expect(metrics).toMatch(/llm_prism_ingest_requests_total\{status="401"\} 3/);
    expect(metrics).toMatch(/llm_prism_ingest_requests_total\{status="413"\} 3/);
  });
});
