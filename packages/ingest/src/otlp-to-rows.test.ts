import { describe, expect, test } from 'vitest';
import { anyValueAsString, MAX_ATTRIBUTE_DEPTH } from './attribute-string.ts';
import { decodeJsonRequest, decodeProtobufRequest, encodeProtobufRequest } from './otlp-codec.ts';
import { otlpToRows } from './otlp-to-rows.ts';
import type { OtlpAnyValue } from './types.ts';

describe('attribute values as pdata AsString() writes them', () => {
  test.each<[string, OtlpAnyValue, string]>([
    ['string', { stringValue: 'a<b' }, 'a<b'],
    ['int', { intValue: '-9007199254740993' }, '-9007199254740993'],
    ['double', { doubleValue: 0.1 }, '0.1'],
    ['integral double', { doubleValue: 3 }, '3'],
    ['tiny double', { doubleValue: 1e-7 }, '1e-7'],
    ['huge double', { doubleValue: 1e21 }, '1e+21'],
    ['negative zero', { doubleValue: -0 }, '-0'],
    ['NaN', { doubleValue: Number.NaN }, 'json: unsupported value: NaN'],
    ['bool false', { boolValue: false }, 'false'],
    ['bytes', { bytesValue: 'AQID' }, 'AQID'],
    [
      'array',
      { arrayValue: { values: [{ stringValue: 'stop' }, { intValue: '2' }, { boolValue: true }, { doubleValue: 1.5 }] } },
      '["stop",2,true,1.5]',
    ],
    [
      'map (keys sorted, HTML escaped)',
      { kvlistValue: { values: [{ key: 'z', value: { stringValue: '<&>' } }, { key: 'a', value: { arrayValue: { values: [] } } }] } },
      '{"a":[],"z":"\\u003c\\u0026\\u003e"}',
    ],
    ['array holding NaN (json.Marshal fails)', { arrayValue: { values: [{ doubleValue: Number.NaN }] } }, ''],
  ])('%s', (_name, value, text) => {
    expect(anyValueAsString(value)).toBe(text);
  });
});

const request = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.cpus', value: { intValue: 8 } }] },
      scopeSpans: [
        {
          scope: { name: '@llm-prism/instrumentation', version: '0.1.0' },
          spans: [
            {
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'EEE19B7EC3C1B174',
              parentSpanId: 'EEE19B7EC3C1B173',
              traceState: 'vendor=1',
              name: 'chat gpt-4o',
              kind: 3,
              startTimeUnixNano: '1763900000123456789',
              endTimeUnixNano: '1763900002623456790',
              attributes: [
                { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
                { key: 'llm.ttft_ms', value: { doubleValue: 412.5 } },
                { key: 'gen_ai.request.stream', value: { boolValue: true } },
              ],
              events: [{ timeUnixNano: '1763900000000000001', name: 'llm.http.attempt', attributes: [{ key: 'llm.attempt', value: { intValue: '1' } }] }],
              links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceState: '', attributes: [{ key: 'k', value: { stringValue: 'v' } }] }],
              status: { code: 2, message: 'boom' },
            },
          ],
        },
      ],
    },
  ],
};

const expectedRow = {
  Timestamp: '2025-11-23 12:13:20.123456789',
  TraceId: '5b8efff798038103d269b633813fc60c',
  SpanId: 'eee19b7ec3c1b174',
  ParentSpanId: 'eee19b7ec3c1b173',
  TraceState: 'vendor=1',
  SpanName: 'chat gpt-4o',
  SpanKind: 'Client',
  ServiceName: 'checkout',
  ResourceAttributes: { 'service.name': 'checkout', 'host.cpus': '8' },
  ScopeName: '@llm-prism/instrumentation',
  ScopeVersion: '0.1.0',
  SpanAttributes: { 'gen_ai.response.finish_reasons': '["stop"]', 'llm.ttft_ms': '412.5', 'gen_ai.request.stream': 'true' },
  Duration: 2_500_000_001,
  StatusCode: 'Error',
  StatusMessage: 'boom',
  'Events.Timestamp': ['2025-11-23 12:13:20.000000001'],
  'Events.Name': ['llm.http.attempt'],
  'Events.Attributes': [{ 'llm.attempt': '1' }],
  'Links.TraceId': ['0af7651916cd43dd8448eb211c80319c'],
  'Links.SpanId': ['b7ad6b7169203331'],
  'Links.TraceState': [''],
  'Links.Attributes': [{ k: 'v' }],
};

describe('otlpToRows', () => {
  test('JSON and protobuf of one request give the same Collector-shaped row', () => {
    const fromJson = otlpToRows(decodeJsonRequest(JSON.stringify(request)));
    const fromProtobuf = otlpToRows(decodeProtobufRequest(encodeProtobufRequest(request)));
    expect(fromJson).toEqual({ rows: [expectedRow], rejections: [] });
    expect(fromProtobuf).toEqual(fromJson);
  });

  test('an end before the start is a zero duration; a zero parent id is no parent', () => {
    const span = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const odd = structuredClone(request);
    Object.assign(odd.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, {
      endTimeUnixNano: '1',
      parentSpanId: '0000000000000000',
      kind: 0,
      status: undefined,
    });
    const [row] = otlpToRows(decodeJsonRequest(JSON.stringify(odd))).rows;
    expect(row).toMatchObject({ Duration: 0, ParentSpanId: '', SpanKind: 'Unspecified', StatusCode: 'Unset', SpanName: span.name });
  });
});

describe('attribute nesting depth', () => {
  const nested = (depth: number): OtlpAnyValue => {
    let value: OtlpAnyValue = { stringValue: 'leaf' };
    for (let i = 0; i < depth; i++) value = { arrayValue: { values: [value] } };
    return value;
  };
  const withAttribute = (value: OtlpAnyValue) => {
    const copy = structuredClone(request);
    copy.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({ key: 'deep', value } as never);
    return copy;
  };

  test(`a value nested ${MAX_ATTRIBUTE_DEPTH} levels deep is stored as JSON`, () => {
    const { rows, rejections } = otlpToRows(decodeJsonRequest(JSON.stringify(withAttribute(nested(MAX_ATTRIBUTE_DEPTH)))));
    expect(rejections).toEqual([]);
    expect(rows[0]!.SpanAttributes.deep).toBe(`${'['.repeat(MAX_ATTRIBUTE_DEPTH)}"leaf"${']'.repeat(MAX_ATTRIBUTE_DEPTH)}`);
  });

  test('one level deeper rejects only that span, naming the attribute', () => {
    const req = decodeJsonRequest(JSON.stringify(withAttribute(nested(MAX_ATTRIBUTE_DEPTH + 1))));
    const { rows, rejections } = otlpToRows(req);
    expect(rows).toEqual([]);
    expect(rejections).toEqual([
      { reason: 'attribute_too_deep', message: `span "chat gpt-4o": span attribute "deep" nests arrays/maps deeper than ${MAX_ATTRIBUTE_DEPTH} levels` },
    ]);
  });

  // Thousands of levels over HTTP, protobuf and JSON: test/reliability/deep-nesting.test.ts.
});
