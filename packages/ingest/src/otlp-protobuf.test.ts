// The hand-written protobuf reader against protobufjs' generated decoder (decode + toObject with
// defaults, ids to hex), the reader ingest used before: the same plain request for every value kind,
// for real SDK batches, and for fields a newer proto adds; a clear error for bytes that are not one.
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import protobuf from 'protobufjs';
import protoRoot from 'otlp-proto-root/build/src/generated/root.js';
import { describe, expect, test } from 'vitest';
import { spanFactory } from '../../../bench/ingest/spans.ts';
import { decodeProtobufRequest, encodeProtobufRequest, MalformedPayloadError } from './otlp-codec.ts';
import { readTraceRequest } from './otlp-protobuf.ts';
import type { OtlpKeyValue, OtlpTraceRequest } from './types.ts';

interface Generated {
  decode(reader: Uint8Array): object;
  toObject(message: object, options: protobuf.IConversionOptions): object;
}
const ExportTraceServiceRequest = (protoRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Generated } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** protobufjs' reading, in the shape of types.ts (fields types.ts does not name dropped). */
function reference(body: Uint8Array): object {
  const object = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, enums: Number, bytes: String, defaults: true, arrays: true }) as OtlpTraceRequest;
  const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');
  const kvs = (list: OtlpKeyValue[]) => list.map((kv) => ({ key: kv.key, value: kv.value }));
  return {
    resourceSpans: object.resourceSpans.map((rs) => ({
      resource: rs.resource && { attributes: kvs(rs.resource.attributes) },
      scopeSpans: rs.scopeSpans.map((ss) => ({
        scope: ss.scope && { name: ss.scope.name, version: ss.scope.version, attributes: kvs(ss.scope.attributes) },
        spans: ss.spans.map((s) => ({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          traceState: s.traceState,
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: kvs(s.attributes),
          events: s.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: kvs(e.attributes) })),
          links: s.links.map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), traceState: l.traceState, attributes: kvs(l.attributes) })),
          status: s.status && { message: s.status.message, code: s.status.code },
        })),
      })),
    })),
  };
}

const every = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'n', value: { intValue: '7' } }] },
      scopeSpans: [
        {
          scope: { name: 'scope', version: '1.2.3', attributes: [{ key: 's', value: { boolValue: true } }] },
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              parentSpanId: '00f067aa0ba902b7',
              traceState: 'k=v',
              name: 'chat é 😀',
              kind: 3,
              startTimeUnixNano: '1764590400123456789',
              endTimeUnixNano: '18446744073709551615',
              attributes: [
                { key: 'str', value: { stringValue: '' } },
                { key: 'neg', value: { intValue: '-9007199254740993' } },
                { key: 'min', value: { intValue: '-9223372036854775808' } },
                { key: 'max', value: { intValue: '9223372036854775807' } },
                { key: 'small', value: { intValue: '-1' } },
                { key: 'big', value: { intValue: '4294967296' } },
                { key: 'double', value: { doubleValue: -0.1 } },
                { key: 'nan', value: { doubleValue: Number.NaN } },
                { key: 'false', value: { boolValue: false } },
                { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 255]).toString('base64') } },
                { key: 'array', value: { arrayValue: { values: [{ stringValue: 'a' }, { arrayValue: { values: [] } }, {}] } } },
                { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { kvlistValue: { values: [] } } }, { key: 'none' }] } } },
                { key: 'unset' },
              ],
              events: [{ timeUnixNano: '1764590400123456790', name: 'llm.http.attempt', attributes: [{ key: 'llm.attempt', value: { intValue: '1' } }] }, {}],
              links: [{ traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', traceState: 't', attributes: [{ key: 'l', value: { doubleValue: 2 } }] }],
              status: { code: 2, message: 'boom' },
            },
            { traceId: '', spanId: '' },
            { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203332', status: {}, kind: 5 },
          ],
        },
        { spans: [] },
      ],
    },
    {},
  ],
};

describe('readTraceRequest', () => {
  test('reads every field and value kind as protobufjs did, defaults included', () => {
    const body = encodeProtobufRequest(every);
    expect(readTraceRequest(body)).toEqual(reference(body));
  });

  test('reads OTel SDK batches (the benchmark\'s spans) as protobufjs did', () => {
    const body = ProtobufTraceSerializer.serializeRequest(spanFactory('parity').batch()) as Uint8Array;
    const read = readTraceRequest(body);
    expect(read.resourceSpans[0]?.scopeSpans[0]?.spans).toHaveLength(512);
    expect(read).toEqual(reference(body));
  });

  test('skips fields it does not know (a newer proto), of every wire type', () => {
    const known = encodeProtobufRequest(every);
    // Field 9 of the request: a varint, a fixed64, bytes and a fixed32, before and after the spans.
    const unknown = Uint8Array.from([0x48, 0x96, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x4a, 2, 0xaa, 0xbb, 0x4d, 1, 2, 3, 4]);
    const body = Buffer.concat([unknown, known, unknown]);
    expect(readTraceRequest(body)).toEqual(reference(known));
  });

  test.each([
    ['truncated', Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), /index out of range/],
    ['a span field of the wrong wire type', Uint8Array.from([0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01]), /Span field 1 has wire type 0, want 2/],
    ['a field that runs past its message', Uint8Array.from([0x0a, 0x02, 0x12, 0x05, 0, 0, 0, 0, 0]), /index out of range: 4 \+ 5 > 4/],
    ['wire type 7', Uint8Array.from([0x17]), /invalid wire type 7/],
  ])('refuses %s bytes with a message saying why', (_name, body, message) => {
    expect(() => decodeProtobufRequest(body)).toThrow(MalformedPayloadError);
    expect(() => decodeProtobufRequest(body)).toThrow(message);
  });
});
