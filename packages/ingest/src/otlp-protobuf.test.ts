// The wire-format reader against protobufjs's generated decoder (what ingest used before): the
// same request object, field for field, for what the official exporter sends and for every kind
// of value, id, time and unknown field; truncated bodies fail in both.
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, test } from 'vitest';
import { encodeProtobufRequest, traceV1 } from '../test/otlp-messages.ts';
import { readTraceRequest } from './otlp-protobuf.ts';
import { otlpToRows } from './otlp-to-rows.ts';
import type { OtlpTraceRequest } from './types.ts';

const { ExportTraceServiceRequest } = traceV1;

/**
 * protobufjs decode + toObject (longs and bytes as text, defaults, arrays), ids as hex. Of a plain
 * Uint8Array, as the decode workers received bodies: of a Buffer protobufjs would read text with
 * Node's decoder instead of its own (three U+FFFD for half an emoji where its own keeps the lone
 * surrogate that otlp-to-rows makes one U+FFFD).
 */
function reference(body: Uint8Array): OtlpTraceRequest {
  const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(new Uint8Array(body)), { longs: String, enums: Number, bytes: String, defaults: true, arrays: true }) as OtlpTraceRequest;
  const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        span.traceId = hex(span.traceId);
        span.spanId = hex(span.spanId);
        span.parentSpanId = hex(span.parentSpanId);
        for (const link of span.links) {
          link.traceId = hex(link.traceId);
          link.spanId = hex(link.spanId);
        }
      }
    }
  }
  return request;
}

/** Only what types.ts declares (the fields otlp-to-rows reads), in a comparable form. */
function declared(request: OtlpTraceRequest): unknown {
  const kvs = (list: { key: string; value: unknown }[]) => list.map((kv) => ({ key: kv.key, value: kv.value }));
  return request.resourceSpans.map((rs) => ({
    resource: rs.resource && { attributes: kvs(rs.resource.attributes) },
    scopeSpans: rs.scopeSpans.map((ss) => ({
      scope: ss.scope && { name: ss.scope.name, version: ss.scope.version, attributes: kvs(ss.scope.attributes) },
      spans: ss.spans.map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        traceState: s.traceState,
        parentSpanId: s.parentSpanId,
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: s.startTimeUnixNano,
        endTimeUnixNano: s.endTimeUnixNano,
        attributes: kvs(s.attributes),
        events: s.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: kvs(e.attributes) })),
        links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState, attributes: kvs(l.attributes) })),
        status: s.status && { message: s.status.message, code: s.status.code },
      })),
    })),
  }));
}

function expectSame(body: Uint8Array): void {
  expect(declared(readTraceRequest(body))).toEqual(declared(reference(body)));
}

describe('readTraceRequest reads what protobufjs read', () => {
  test('spans from the official exporter (attributes of every type, events, links, status)', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.cpus': 8 }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('scope-a', '1.2.3');
    const parent = tracer.startSpan('POST /chat', { kind: SpanKind.SERVER });
    const linked = parent.spanContext();
    for (let i = 0; i < 20; i++) {
      const span = tracer.startSpan(`chat gpt-4o ${i} ✓`, {
        kind: SpanKind.CLIENT,
        links: [{ context: linked, attributes: { why: 'retry', n: i } }],
        attributes: {
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1912 + i,
          'llm.negative': -5 - i,
          'llm.big': 2 ** 40 + i,
          'llm.ttft_ms': 412.5 + i,
          'gen_ai.request.stream': i % 2 === 0,
          'gen_ai.response.finish_reasons': ['stop', 'length'],
          'llm.ints': [1, -2, 3],
          'llm.flags': [true, false],
          'llm.text': 'é 漢字 😀',
        },
      });
      span.addEvent('llm.http.attempt', { 'llm.attempt': i, 'http.response.status_code': 429 });
      span.setStatus(i % 3 === 0 ? { code: SpanStatusCode.ERROR, message: 'rate limited' } : { code: SpanStatusCode.OK });
      span.end();
    }
    parent.end();
    const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
    expect(body).toBeDefined();
    expectSame(body!);
    expect(readTraceRequest(body!).resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(21);
  });

  test('values the JS SDK does not make: maps, bytes, nested arrays, int64 and uint64 extremes, empty and missing parts, a lone surrogate', () => {
    const body = encodeProtobufRequest({
      resourceSpans: [
        { resource: null, scopeSpans: [{ scope: null, spans: [{ traceId: '', spanId: '', name: '' }] }] },
        {
          resource: { attributes: [{ key: 'service.name', value: { intValue: '7' } }, { key: 'empty', value: null }] },
          scopeSpans: [
            {
              scope: { name: 's', version: '', attributes: [{ key: 'k', value: { stringValue: 'v' } }] },
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  parentSpanId: '0000000000000000',
                  traceState: 'vendor=1',
                  name: 'half an emoji \ud83d',
                  kind: 5,
                  startTimeUnixNano: '18446744073709551615',
                  endTimeUnixNano: '9007199254740993',
                  attributes: [
                    { key: 'map', value: { kvlistValue: { values: [{ key: 'z', value: { stringValue: '<&>' } }, { key: 'a', value: { arrayValue: { values: [] } } }] } } },
                    { key: 'bytes', value: { bytesValue: 'AQID/w==' } },
                    { key: 'nested', value: { arrayValue: { values: [{ arrayValue: { values: [{ doubleValue: -0 }, { doubleValue: Number.NaN }] } }] } } },
                    { key: 'min', value: { intValue: '-9223372036854775808' } },
                    { key: 'max', value: { intValue: '9223372036854775807' } },
                    { key: 'minus one', value: { intValue: '-1' } },
                    { key: 'two^32', value: { intValue: '4294967296' } },
                    { key: 'no value', value: {} },
                    { key: '', value: { boolValue: false } },
                  ],
                  events: [{ timeUnixNano: '0', name: '', attributes: [] }],
                  links: [{ traceId: 'ab', spanId: '', traceState: '', attributes: [] }],
                  status: { message: '', code: 7 },
                },
              ],
            },
          ],
        },
      ],
    });
    expectSame(body);
  });

  test('unknown fields of every wire type are skipped', () => {
    const known = encodeProtobufRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x' }] }] }] });
    // Field 99 as varint, 64-bit, length-delimited and 32-bit, then a group (field 98), before the request's own field.
    const unknown = Uint8Array.from([0x98, 0x06, 0x96, 0x01, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9a, 0x06, 2, 0xaa, 0xbb, 0x9d, 0x06, 1, 2, 3, 4, 0x93, 0x06, 0x08, 0x01, 0x94, 0x06]);
    const body = Buffer.concat([unknown, known]);
    expectSame(body);
    expect(readTraceRequest(body).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toBe('x');
  });

  test.each([1000, 8000])('a value nested %i deep: its span is refused as too deep, the other stored (protobufjs overflowed the stack at some thousands)', (depth) => {
    // Built by hand: protobufjs's encoder (encodeProtobufRequest) overflows the stack first.
    const varint = (n: number) => {
      const bytes: number[] = [];
      for (; n >= 0x80; n = Math.floor(n / 128)) bytes.push((n % 128) | 0x80);
      bytes.push(n);
      return Buffer.from(bytes);
    };
    const field = (number: number, bytes: Uint8Array) => Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
    const text = (number: number, value: string) => field(number, Buffer.from(value));
    const hex = (number: number, value: string) => field(number, Buffer.from(value, 'hex'));
    const fixed64 = (number: number, value: number) => Buffer.concat([varint((number << 3) | 1), Buffer.from(new BigUint64Array([BigInt(value)]).buffer)]);
    let deep: Buffer = text(1, 'bottom');
    for (let i = 0; i < depth; i++) deep = i % 2 === 0 ? field(5, field(1, deep)) : field(6, field(1, Buffer.concat([text(1, `k${i}`), field(2, deep)])));
    const span = (spanId: string, value: Buffer) =>
      field(2, Buffer.concat([hex(1, '5b8efff798038103d269b633813fc60c'), hex(2, spanId), text(5, 'x'), fixed64(7, 1), fixed64(8, 2), field(9, Buffer.concat([text(1, 'k'), field(2, value)]))]));
    const body = field(1, field(2, Buffer.concat([span('eee19b7ec3c1b174', deep), span('eee19b7ec3c1b175', text(1, 'ok'))])));
    const ours = otlpToRows(readTraceRequest(body));
    if (depth === 1000) expect(ours).toEqual(otlpToRows(reference(body)));
    else expect(() => reference(body)).toThrow(/call stack/);
    expect(ours.rows.map((r) => r.SpanId)).toEqual(['eee19b7ec3c1b175']);
    expect(ours.rejections.map((r) => r.reason)).toEqual(['attribute_too_deep']);
  });

  test('a body cut anywhere fails, as it did', () => {
    const body = encodeProtobufRequest({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x', startTimeUnixNano: '1', attributes: [{ key: 'k', value: { doubleValue: 1 } }] }] }] }],
    });
    for (let cut = 1; cut < body.length; cut++) {
      const part = body.subarray(0, cut);
      let theirs: unknown;
      try {
        theirs = declared(reference(part));
      } catch {
        theirs = 'throws';
      }
      let ours: unknown;
      try {
        ours = declared(readTraceRequest(part));
      } catch {
        ours = 'throws';
      }
      expect(ours, `cut at ${cut}`).toEqual(theirs);
    }
    const bad = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    // protobufjs reads on to the end of the body; this reader stops at the length that overruns it.
    expect(() => reference(bad)).toThrow(/^index out of range: 6 \+ 8 > 6$/);
    expect(() => readTraceRequest(bad)).toThrow(/^index out of range: 5 \+ 33554431 > 6$/);
  });
});
