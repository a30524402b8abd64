// The fast path against the slow one (readTraceRequest → otlpToRows → encodeTraceRows): for every
// request it takes, the same lines byte for byte and the same columns; every request it leaves
// (text to escape, values to format as JSON, duplicate keys, links, invalid spans, cut bodies) is
// left whole to the slow path, which stores or refuses it as before.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { encodeTraceRows, type EncodedRows } from '@llm-prism/storage/rows';
import { describe, expect, test } from 'vitest';
import { encodeProtobufRequest } from '../test/otlp-messages.ts';
import { readTraceRequest } from './otlp-protobuf.ts';
import { otlpToRows } from './otlp-to-rows.ts';
import { protobufToLines, ROWS_PER_CHUNK } from './protobuf-lines.ts';
import type { OtlpKeyValue, OtlpTraceRequest } from './types.ts';

/** The columns of chunks as one (ends made absolute), for comparison with one EncodedRows. */
function joined(chunks: EncodedRows[]) {
  let offset = 0;
  const ends: number[] = [];
  for (const c of chunks) {
    for (const end of c.ends) ends.push(offset + end);
    offset += c.bytes.byteLength;
  }
  return {
    text: Buffer.concat(chunks.map((c) => c.bytes)).toString('utf8'),
    ends,
    Timestamp: chunks.flatMap((c) => c.Timestamp),
    TraceId: chunks.flatMap((c) => c.TraceId),
    SpanId: chunks.flatMap((c) => c.SpanId),
    SpanName: chunks.flatMap((c) => c.SpanName),
    ServiceName: chunks.flatMap((c) => c.ServiceName),
    callSpan: chunks.flatMap((c) => [...c.callSpan]),
  };
}

/** Whether the fast path took `body`; when it did, its lines and columns are the slow path's. */
function sameAsSlowPath(body: Uint8Array): boolean {
  const fast = protobufToLines(body);
  if (fast === undefined) return false;
  for (const chunk of fast) expect(chunk.ends.length).toBeLessThanOrEqual(ROWS_PER_CHUNK);
  const slow = otlpToRows(readTraceRequest(body));
  expect(slow.rejections).toEqual([]);
  expect(joined(fast)).toEqual(joined([encodeTraceRows(slow.rows)]));
  return true;
}

/** Spans as the official exporter sends them, with all it makes that the fast path takes. */
function sdkBody(spans: number): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'pod-1', 'host.cpus': 8 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@llm-prism/test', '1.2.3');
  const other = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'search' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('plain');
  for (let i = 0; i < spans; i++) {
    const server = tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, attributes: { 'http.route': '/chat', 'http.response.status_code': 200 } });
    const call = tracer.startSpan(`chat gpt-4o ${i}`, {
      kind: i % 4 === 3 ? SpanKind.INTERNAL : SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': i % 5 === 0 ? '' : 'chat',
        'gen_ai.usage.input_tokens': 1912 + i,
        'llm.negative': -5 - i,
        'llm.big': 2 ** 40 + i,
        'llm.ttft_ms': 412.5 + i,
        'llm.tiny': 1e-7 * (i + 1),
        'llm.huge': 1.5e300,
        'gen_ai.request.stream': i % 2 === 0,
        'llm.empty': '',
        'llm.punctuation': "a/b <c> & 'd' {e} [f]",
        'gen_ai.response.finish_reasons': i % 2 === 0 ? ['stop'] : ['stop', 'length'],
        'llm.ints': [1, -2, 2 ** 40 + i],
        'llm.doubles': [1.5, -0, 1e21],
        'llm.flags': [true, false],
        'llm.none': [],
      },
    });
    call.addEvent('llm.http.attempt', { 'llm.attempt': i, 'http.response.status_code': 429 });
    if (i % 2 === 0) call.addEvent('llm.first_chunk');
    call.setStatus(i % 3 === 0 ? { code: SpanStatusCode.ERROR, message: 'rate limited' } : { code: SpanStatusCode.OK });
    call.end();
    server.end();
    if (i % 7 === 0) other.startSpan('lookup', { kind: SpanKind.PRODUCER }).end();
  }
  const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (body === undefined) throw new Error('the serializer returned nothing');
  return body;
}

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

/** One span with `attributes`, changed by `change`, as protobuf. */
function oneSpan(attributes: OtlpKeyValue[] = [], change: (request: OtlpTraceRequest & Record<string, any>) => void = () => {}): Uint8Array {
  const request = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [{ scope: { name: 'scope', version: '1', attributes: [] }, spans: [{ traceId: TRACE, spanId: SPAN, name: 'x', kind: 3, startTimeUnixNano: '1767225600000000000', endTimeUnixNano: '1767225600500000000', attributes }] }],
      },
    ],
  };
  change(request as never);
  return encodeProtobufRequest(request as never);
}

describe('protobufToLines', () => {
  test('spans of the official exporter: the slow path\'s lines and columns, call spans marked', () => {
    const body = sdkBody(60);
    expect(sameAsSlowPath(body)).toBe(true);
    const rows = joined(protobufToLines(body)!);
    expect(rows.callSpan.filter((c) => c === 1).length).toBeGreaterThan(0);
    expect(new Set(rows.ServiceName)).toEqual(new Set(['checkout', 'search']));
  });

  test(`a large request comes in chunks of ${ROWS_PER_CHUNK} rows, each in a buffer of its own`, () => {
    const body = sdkBody(1100);
    expect(sameAsSlowPath(body)).toBe(true);
    const chunks = protobufToLines(body)!;
    expect(chunks.map((c) => c.ends.length)).toEqual([1000, 1000, 200 + 158]);
    expect(new Set(chunks.map((c) => c.bytes.buffer)).size).toBe(chunks.length);
  });

  test('scalar values of every kind and edge: ints at their extremes, -0, NaN and infinities, empty and missing values, an empty key, a numeric service.name', () => {
    const body = oneSpan(
      [
        { key: 'min', value: { intValue: '-9223372036854775808' } },
        { key: 'max', value: { intValue: '9223372036854775807' } },
        { key: 'two^32', value: { intValue: '4294967296' } },
        { key: 'minus zero', value: { doubleValue: -0 } },
        { key: 'nan', value: { doubleValue: Number.NaN } },
        { key: 'inf', value: { doubleValue: Number.NEGATIVE_INFINITY } },
        { key: 'false', value: { boolValue: false } },
        { key: 'no value', value: null },
        { key: 'empty value', value: {} },
        { key: '', value: { stringValue: 'empty key' } },
        { key: '1a', value: { stringValue: 'not an index' } },
      ],
      (r) => {
        r.resourceSpans[0]!.resource!.attributes = [{ key: 'service.name', value: { intValue: '7' } }];
        Object.assign(r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, { parentSpanId: '0000000000000000', traceState: 'vendor=1', status: { code: 2, message: 'boom' } });
      },
    );
    expect(sameAsSlowPath(body)).toBe(true);
    expect(joined(protobufToLines(body)!).ServiceName).toEqual(['7']);
  });

  test.each<[string, Uint8Array]>([
    ['text beyond ASCII', oneSpan([{ key: 'k', value: { stringValue: 'é' } }])],
    ['a quote', oneSpan([{ key: 'k', value: { stringValue: 'say "hi"' } }])],
    ['a backslash in a key', oneSpan([{ key: 'a\\b', value: { stringValue: 'v' } }])],
    ['a control character in a name', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name = 'a\nb'))],
    ['a map value', oneSpan([{ key: 'k', value: { kvlistValue: { values: [] } } }])],
    ['a bytes value', oneSpan([{ key: 'k', value: { bytesValue: 'AQI=' } }])],
    ['an array of text with a character Go escapes', oneSpan([{ key: 'k', value: { arrayValue: { values: [{ stringValue: 'a<b' }] } } }])],
    ['an array holding NaN', oneSpan([{ key: 'k', value: { arrayValue: { values: [{ doubleValue: Number.NaN }] } } }])],
    ['an array in an array', oneSpan([{ key: 'k', value: { arrayValue: { values: [{ arrayValue: { values: [] } }] } } }])],
    ['an array holding an empty value', oneSpan([{ key: 'k', value: { arrayValue: { values: [{}] } } }])],
    ['an array as service.name', oneSpan([], (r) => (r.resourceSpans[0]!.resource!.attributes = [{ key: 'service.name', value: { arrayValue: { values: [{ stringValue: 'a' }] } } }]))],
    ['a duplicate key', oneSpan([{ key: 'k', value: { stringValue: 'a' } }, { key: 'k', value: { stringValue: 'b' } }])],
    ['an all-digit key', oneSpan([{ key: 'b', value: { stringValue: 'a' } }, { key: '12', value: { stringValue: 'b' } }])],
    ['a link', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.links = [{ traceId: TRACE, spanId: SPAN, traceState: '', attributes: [] }]))],
    ['scope attributes', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.scope!.attributes = [{ key: 'k', value: { stringValue: 'v' } }]))],
    ['an all-zero trace id', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId = '0'.repeat(32)))],
    ['a short span id', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId = 'abcd'))],
    ['a parent id of 4 bytes', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.parentSpanId = '01020304'))],
    ['an end before the start', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.endTimeUnixNano = '1'))],
    ['no start time', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.startTimeUnixNano = '0'))],
    ['a kind out of range', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.kind = 9))],
    ['a status code out of range', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.status = { code: 7, message: '' }))],
    ['an event without a time', oneSpan([], (r) => (r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.events = [{ timeUnixNano: '0', name: 'e', attributes: [] }]))],
    ['a start after 2100', oneSpan([], (r) => Object.assign(r.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, { startTimeUnixNano: '4102444800000000001', endTimeUnixNano: '4102444800000000001' }))],
    ['a negative token count', oneSpan([{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.usage.input_tokens', value: { intValue: '-5' } }])],
    ['a fraction of a token', oneSpan([{ key: 'gen_ai.usage.output_tokens', value: { doubleValue: 12.7 } }])],
    ['retries beyond UInt16', oneSpan([{ key: 'llm.retries', value: { intValue: '65536' } }])],
    ['a count as text', oneSpan([{ key: 'llm.stream.chunks', value: { stringValue: '12' } }])],
    ['a negative TTFT', oneSpan([{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'llm.ttft_ms', value: { doubleValue: -5000 } }])],
    ['an infinite decode', oneSpan([{ key: 'llm.decode_ms', value: { doubleValue: Number.POSITIVE_INFINITY } }])],
    ['a duration as text', oneSpan([{ key: 'llm.queue_ms', value: { stringValue: '12' } }])],
    ['a call span another call span measures', oneSpan([{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'llm.measured_by', value: { stringValue: 'b7ad6b7169203331' } }])],
  ])('%s: left to the slow path', (_, body) => {
    expect(protobufToLines(body)).toBeUndefined();
    // Which stores or refuses it as ever, by itself.
    expect(() => otlpToRows(readTraceRequest(body))).not.toThrow();
  });

  test('counts and durations llm_calls can hold (whole numbers within their columns, as ints or integral doubles; finite times from 0) stay on the fast path', () => {
    const body = oneSpan([
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: String(Number.MAX_SAFE_INTEGER) } },
      { key: 'gen_ai.usage.output_tokens', value: { doubleValue: 12 } },
      { key: 'llm.attempts', value: { intValue: '65535' } },
      { key: 'llm.stream.chunks', value: { intValue: '0' } },
      { key: 'llm.ttft_ms', value: { doubleValue: 812.5 } },
      { key: 'llm.prefill_ms', value: { doubleValue: -0.001 } },
      { key: 'llm.queue_ms', value: { intValue: '0' } },
    ]);
    expect(sameAsSlowPath(body)).toBe(true);
    expect(joined(protobufToLines(body)!).callSpan).toEqual([1]);
  });

  test('a body cut anywhere: left to the slow path where that fails it, the same lines where it does not (a cut between two resources)', () => {
    const body = Buffer.from(sdkBody(8));
    let whole = 0;
    for (let cut = 1; cut < body.length; cut++) {
      const part = body.subarray(0, cut);
      let slowFails = false;
      try {
        readTraceRequest(part);
      } catch {
        slowFails = true;
      }
      if (slowFails) expect(protobufToLines(part), `cut at ${cut}`).toBeUndefined();
      else if (sameAsSlowPath(part)) whole++;
    }
    expect(whole).toBeGreaterThan(0);
  });
});
