// What exporters rely on the Collector's OTLP receiver for, against a running server on real chDB:
// snake_case OTLP/JSON stored, 64-bit JSON numbers stored digit for digit, a non-string
// service.name stored as its text, and 405 with Allow for other methods on /v1/traces.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeStatus } from '../test/otlp-messages.ts';
import { startIngest, type IngestServer } from './server.ts';
import { jsonRequest, jsonSpan, randomSpanId, randomTraceId } from '../test/requests.ts';

let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, storage, host: '127.0.0.1', log: () => {} });
});

afterAll(async () => {
  await server?.close();
  await storage?.close();
});

async function select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await storage.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

/** POSTs a JSON body as text (so that numbers keep the digits written); the status and answer. */
async function postJson(body: string): Promise<{ status: number; answer: unknown }> {
  const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, answer: await res.json() };
}

describe('snake_case OTLP/JSON, as the Collector accepts it', () => {
  test('is stored column for column like its lowerCamelCase spelling', async () => {
    const traceId = randomTraceId();
    const spanId = randomSpanId();
    const body = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake' } }, { key: 'host.cpus', value: { int_value: '8' } }] },
          scope_spans: [
            {
              scope: { name: 'snake-scope', version: '2.0.0' },
              spans: [
                {
                  trace_id: traceId,
                  span_id: spanId,
                  parent_span_id: 'eee19b7ec3c1b173',
                  trace_state: 'vendor=1',
                  name: 'chat gpt-4o',
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: '1763900000123456789',
                  end_time_unix_nano: '1763900002623456790',
                  attributes: [
                    { key: 'gen_ai.operation.name', value: { string_value: 'chat' } },
                    { key: 'gen_ai.response.finish_reasons', value: { array_value: { values: [{ string_value: 'stop' }] } } },
                    { key: 'llm.ttft_ms', value: { double_value: 412.5 } },
                    { key: 'gen_ai.request.stream', value: { bool_value: true } },
                    { key: 'blob', value: { bytes_value: 'AQID' } },
                    { key: 'meta', value: { kvlist_value: { values: [{ key: 'b', value: { int_value: 2 } }, { key: 'a', value: { string_value: 'x' } }] } } },
                  ],
                  events: [{ time_unix_nano: '1763900000000000001', name: 'llm.http.attempt', attributes: [{ key: 'llm.attempt', value: { int_value: '1' } }] }],
                  links: [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_state: 'l=1', attributes: [{ key: 'k', value: { string_value: 'v' } }] }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(await postJson(body)).toEqual({ status: 200, answer: {} });
    const rows = await select<Record<string, unknown>>(`SELECT * FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`, { t: traceId });
    expect(rows).toEqual([
      {
        Timestamp: '2025-11-23 12:13:20.123456789',
        TraceId: traceId,
        SpanId: spanId,
        ParentSpanId: 'eee19b7ec3c1b173',
        TraceState: 'vendor=1',
        SpanName: 'chat gpt-4o',
        SpanKind: 'Client',
        ServiceName: 'snake',
        ResourceAttributes: { 'service.name': 'snake', 'host.cpus': '8' },
        ScopeName: 'snake-scope',
        ScopeVersion: '2.0.0',
        SpanAttributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.response.finish_reasons': '["stop"]',
          'llm.ttft_ms': '412.5',
          'gen_ai.request.stream': 'true',
          blob: 'AQID',
          meta: '{"a":"x","b":2}',
        },
        Duration: expect.anything(),
        StatusCode: 'Error',
        StatusMessage: 'boom',
        'Events.Timestamp': ['2025-11-23 12:13:20.000000001'],
        'Events.Name': ['llm.http.attempt'],
        'Events.Attributes': [{ 'llm.attempt': '1' }],
        'Links.TraceId': ['0af7651916cd43dd8448eb211c80319c'],
        'Links.SpanId': ['b7ad6b7169203331'],
        'Links.TraceState': ['l=1'],
        'Links.Attributes': [{ k: 'v' }],
      },
    ]);
    expect(Number(rows[0]!.Duration)).toBe(2_500_000_001);
    // And the LLM call derived from it, as from any span.
    const [call] = await select<{ n: string }>(`SELECT count() AS n FROM ${storage.database}.llm_calls WHERE TraceId = {t:String}`, { t: traceId });
    expect(Number(call!.n)).toBe(1);
  });
});

describe('64-bit integers sent as JSON numbers', () => {
  test('keep every digit beyond 2^53, in attributes and timestamps', async () => {
    const span = jsonSpan({ attributes: [{ key: 'n', value: { intValue: 'N' } }, { key: 'min', value: { intValue: 'MIN' } }] });
    const body = JSON.stringify(jsonRequest([span]))
      .replace('"N"', '9007199254740993')
      .replace('"MIN"', '-9223372036854775808')
      .replace(`"startTimeUnixNano":"${span.startTimeUnixNano}"`, '"startTimeUnixNano":1763900000123456789')
      .replace(`"endTimeUnixNano":"${span.endTimeUnixNano}"`, '"endTimeUnixNano":1763900000123456791');
    expect(body).toContain('"intValue":9007199254740993');
    expect(await postJson(body)).toEqual({ status: 200, answer: {} });
    const rows = await select<{ Timestamp: string; Duration: string; n: string; min: string }>(
      `SELECT Timestamp, Duration, SpanAttributes['n'] AS n, SpanAttributes['min'] AS min FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
      { t: span.traceId },
    );
    expect(rows.map((r) => ({ ...r, Duration: Number(r.Duration) }))).toEqual([
      { Timestamp: '2025-11-23 12:13:20.123456789', Duration: 2, n: '9007199254740993', min: '-9223372036854775808' },
    ]);
  });

  test('beyond int64, or written with an exponent, refuse the span with a message', async () => {
    const good = jsonSpan();
    const over = jsonSpan({ name: 'over', attributes: [{ key: 'n', value: { intValue: 'OVER' } }] });
    const exponent = jsonSpan({ name: 'exponent', attributes: [{ key: 'n', value: { intValue: 'EXP' } }] });
    const body = JSON.stringify(jsonRequest([good, over, exponent])).replace('"OVER"', '9223372036854775808').replace('"EXP"', '1.2e17');
    expect(await postJson(body)).toEqual({
      status: 200,
      answer: {
        partialSuccess: {
          rejectedSpans: '2',
          errorMessage:
            `2 span(s) rejected: span "over" (span_id ${over.spanId}): span attribute "n" int_value 9223372036854775808 is out of the int64 range; ` +
            `span "exponent" (span_id ${exponent.spanId}): span attribute "n" int_value 120000000000000000 is not exact: write 64-bit integers beyond 2^53 as plain digits`,
        },
      },
    });
    const [stored] = await select<{ n: string }>(`SELECT count() AS n FROM ${storage.database}.otel_traces WHERE has({t:Array(String)}, TraceId)`, {
      t: [good.traceId, over.traceId, exponent.traceId],
    });
    expect(Number(stored!.n)).toBe(1);
  });
});

describe('a service.name that is not a string', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['int', { intValue: '42' }, '42'],
    ['bool', { boolValue: true }, 'true'],
    ['double', { doubleValue: 2.5 }, '2.5'],
  ])('%s: stored as its text, like the Collector', async (_type, value, text) => {
    const span = jsonSpan();
    const request = jsonRequest([span]) as { resourceSpans: { resource: { attributes: { value: unknown }[] } }[] };
    request.resourceSpans[0]!.resource.attributes[0]!.value = value;
    expect(await postJson(JSON.stringify(request))).toEqual({ status: 200, answer: {} });
    const rows = await select<{ ServiceName: string }>(`SELECT ServiceName FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`, { t: span.traceId });
    expect(rows).toEqual([{ ServiceName: text }]);
  });
});

describe('other methods on /v1/traces', () => {
  test.each(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'])('%s → 405 with Allow: POST', async (method) => {
    const res = await fetch(`${server.url}/v1/traces`, { method, headers: { 'content-type': 'application/x-protobuf' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    if (method !== 'HEAD') {
      expect(res.headers.get('content-type')).toBe('application/x-protobuf');
      expect(decodeStatus(new Uint8Array(await res.arrayBuffer()))).toEqual({ code: 12, message: `${method} method not allowed on /v1/traces: send POST` });
    }
  });

  test('other paths stay 404', async () => {
    expect((await fetch(`${server.url}/v1/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
