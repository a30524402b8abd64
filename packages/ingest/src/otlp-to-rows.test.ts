import { describe, expect, test } from 'vitest';
import { anyValueAsString, MAX_ATTRIBUTE_DEPTH } from './attribute-string.ts';
import { encodeProtobufRequest } from '../test/otlp-messages.ts';
import { decodeProtobufRequest } from './otlp-codec.ts';
import { decodeJsonRequest } from './otlp-json.ts';
import { otlpToRows } from './otlp-to-rows.ts';
import type { OtlpAnyValue, RejectReason } from './types.ts';

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
    ['lone surrogate (half an emoji)', { stringValue: 'a\ud83d' }, 'a\ufffd'],
    ['lone surrogate in an array', { arrayValue: { values: [{ stringValue: '\udc00b' }] } }, '["\ufffdb"]'],
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

type Encoding = 'json' | 'protobuf';
const decode: Record<Encoding, (r: object) => ReturnType<typeof decodeJsonRequest>> = {
  json: (r) => decodeJsonRequest(JSON.stringify(r)),
  protobuf: (r) => decodeProtobufRequest(encodeProtobufRequest(r)),
};
const LABEL = 'span "chat gpt-4o" (span_id eee19b7ec3c1b174)';

type Editable = Record<string, unknown> & { attributes: { key: string; value: unknown }[]; events: Record<string, unknown>[]; links: Record<string, unknown>[] };

/** The request with a second, untouched span (span id …175) and its first span edited. */
function withSpan(edit: (span: Editable) => void): typeof request {
  const copy = structuredClone(request);
  const spans = copy.resourceSpans[0]!.scopeSpans[0]!.spans as unknown as Editable[];
  spans.push({ ...structuredClone(spans[0]!), spanId: 'EEE19B7EC3C1B175' });
  edit(spans[0]!);
  return copy;
}
const secondRow = { ...expectedRow, SpanId: 'eee19b7ec3c1b175' };
const attribute = (value: unknown) => (s: Editable) => s.attributes.push({ key: 'n', value });

describe('otlpToRows', () => {
  test('JSON and protobuf of one request give the same Collector-shaped row', () => {
    const fromJson = otlpToRows(decode.json(request));
    expect(fromJson).toEqual({ rows: [expectedRow], rejections: [] });
    expect(otlpToRows(decode.protobuf(request))).toEqual(fromJson);
  });

  test('a zero parent id is no parent; absent kind and status are Unspecified and Unset; null reads as absent', () => {
    const odd = withSpan((s) => Object.assign(s, { parentSpanId: '0000000000000000', kind: null, status: null, traceState: null }));
    for (const encoding of ['json', 'protobuf'] as const) {
      const { rows, rejections } = otlpToRows(decode[encoding](odd));
      expect(rejections).toEqual([]);
      expect(rows[0]).toEqual({ ...expectedRow, ParentSpanId: '', SpanKind: 'Unspecified', StatusCode: 'Unset', StatusMessage: '', TraceState: '' });
    }
  });

  test('the latest time LLM Prism stores (2100-01-01, storage LATEST_SPAN_TIME_NS) is stored exactly', () => {
    const last = withSpan((s) => Object.assign(s, { startTimeUnixNano: '4102444800000000000', endTimeUnixNano: '4102444800000000000' }));
    for (const encoding of ['json', 'protobuf'] as const) {
      const [row] = otlpToRows(decode[encoding](last)).rows;
      expect(row).toMatchObject({ Timestamp: '2100-01-01 00:00:00.000000000', Duration: 0 });
    }
  });
});

describe('a span whose values are not valid OTLP or do not fit the schema is refused, named, and the rest kept', () => {
  const BOTH: Encoding[] = ['json', 'protobuf'];
  const JSON_ONLY: Encoding[] = ['json'];
  const cases: [string, Encoding[], (s: Editable) => void, RejectReason, string][] = [
    ['start time not a number', JSON_ONLY, (s) => (s.startTimeUnixNano = 'abc'), 'invalid_timestamp', 'start_time_unix_nano "abc" is not a uint64'],
    ['start time missing', BOTH, (s) => delete s.startTimeUnixNano, 'invalid_timestamp', 'start_time_unix_nano is missing (0)'],
    ['start time negative (before 1970)', JSON_ONLY, (s) => (s.startTimeUnixNano = '-1'), 'invalid_timestamp', 'start_time_unix_nano -1 is out of the uint64 range'],
    ['start time beyond uint64', JSON_ONLY, (s) => (s.startTimeUnixNano = '18446744073709551616'), 'invalid_timestamp', 'start_time_unix_nano 18446744073709551616 is out of the uint64 range'],
    [
      'start time after 2100-01-01 (in DateTime64(9), not in the DateTime rollups and TTLs)',
      BOTH,
      (s) => Object.assign(s, { startTimeUnixNano: '4102444800000000001', endTimeUnixNano: '4102444800000000002' }),
      'invalid_timestamp',
      'start_time_unix_nano 4102444800000000001 is after 2100-01-01 00:00:00.000000000 UTC, the latest time LLM Prism stores',
    ],
    [
      'end time after 2100-01-01',
      BOTH,
      (s) => (s.endTimeUnixNano = '4102444800000000001'),
      'invalid_timestamp',
      'end_time_unix_nano 4102444800000000001 is after 2100-01-01 00:00:00.000000000 UTC, the latest time LLM Prism stores',
    ],
    [
      'start time after 2262-04-11 (DateTime64(9))',
      BOTH,
      (s) => Object.assign(s, { startTimeUnixNano: '9223372036854775808', endTimeUnixNano: '9223372036854775809' }),
      'invalid_timestamp',
      'start_time_unix_nano 9223372036854775808 is after 2100-01-01 00:00:00.000000000 UTC, the latest time LLM Prism stores',
    ],
    ['end before start', BOTH, (s) => (s.endTimeUnixNano = '1763900000123456788'), 'invalid_timestamp', 'end_time_unix_nano 1763900000123456788 is before start_time_unix_nano 1763900000123456789'],
    ['end missing', BOTH, (s) => delete s.endTimeUnixNano, 'invalid_timestamp', 'end_time_unix_nano is missing (0)'],
    ['event time missing', BOTH, (s) => (s.events[0]!.timeUnixNano = '0'), 'invalid_timestamp', 'event 0 time_unix_nano is missing (0)'],
    ['event time after 2100', BOTH, (s) => (s.events[0]!.timeUnixNano = '18000000000000000000'), 'invalid_timestamp', 'event 0 time_unix_nano 18000000000000000000 is after 2100-01-01 00:00:00.000000000 UTC, the latest time LLM Prism stores'],
    ['span kind 9', BOTH, (s) => (s.kind = 9), 'invalid_value', 'kind 9 is not a SpanKind (0–5)'],
    ['span kind -1', BOTH, (s) => (s.kind = -1), 'invalid_value', 'kind -1 is not a SpanKind (0–5)'],
    [
      'unknown span kind name',
      JSON_ONLY,
      (s) => (s.kind = 'SPAN_KIND_NOPE'),
      'invalid_value',
      'kind "SPAN_KIND_NOPE" is not one of SPAN_KIND_UNSPECIFIED, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER or its number',
    ],
    ['status code 3', BOTH, (s) => (s.status = { code: 3 }), 'invalid_value', 'status code 3 is not a StatusCode (0–2)'],
    ['int attribute not a number', JSON_ONLY, attribute({ intValue: 'abc' }), 'invalid_value', 'span attribute "n" int_value "abc" is not an int64'],
    ['int attribute with a fraction', JSON_ONLY, attribute({ intValue: 1.5 }), 'invalid_value', 'span attribute "n" int_value 1.5 is not an int64'],
    ['int attribute beyond int64', JSON_ONLY, attribute({ intValue: '9223372036854775808' }), 'invalid_value', 'span attribute "n" int_value 9223372036854775808 is out of the int64 range'],
    ['double attribute not a number', JSON_ONLY, attribute({ doubleValue: 'abc' }), 'invalid_value', 'span attribute "n" double_value "abc" is not a double'],
    ['bool attribute as text', JSON_ONLY, attribute({ boolValue: 'true' }), 'invalid_value', 'span attribute "n" bool_value "true" is not true or false'],
    ['bytes attribute not base64', JSON_ONLY, attribute({ bytesValue: '!!' }), 'invalid_value', 'span attribute "n" bytes_value "!!" is not base64'],
    ['an unknown field named like an Object method, and a bad value', JSON_ONLY, attribute({ toString: 1, constructor: 2, boolValue: 1 }), 'invalid_value', 'span attribute "n" bool_value 1 is not true or false'],
    ['two values in one AnyValue', JSON_ONLY, attribute({ stringValue: 'a', intValue: '1' }), 'invalid_value', 'span attribute "n" sets both stringValue and intValue'],
    ['int nested in a map, not a number', JSON_ONLY, attribute({ kvlistValue: { values: [{ key: 'k', value: { intValue: 'x' } }] } }), 'invalid_value', 'span attribute "n" int_value "x" is not an int64'],
    ['event attribute not a number', JSON_ONLY, (s) => (s.events[0]!.attributes = [{ key: 'a', value: { intValue: 'x' } }]), 'invalid_value', 'event 0 attribute "a" int_value "x" is not an int64'],
    ['trace state not text', JSON_ONLY, (s) => (s.traceState = 5), 'invalid_value', 'trace_state 5 is not a string'],
    ['events not a list', JSON_ONLY, (s) => (s.events = { name: 'e' } as never), 'invalid_value', 'events an object is not a list'],
    ['link trace id not text', JSON_ONLY, (s) => (s.links[0]!.traceId = 7), 'invalid_link_id', 'link 0 trace_id 7 is not a string'],
    ['link span id of 2 bytes', BOTH, (s) => (s.links[0]!.spanId = 'abcd'), 'invalid_link_id', 'link 0 span_id has 2 bytes, want 8'],
  ];
  test.each(cases.flatMap(([name, encodings, ...rest]) => encodings.map((e) => [`${name} (${e})`, e, ...rest] as const)))(
    '%s',
    (_name, encoding, edit, reason, problem) => {
      expect(otlpToRows(decode[encoding](withSpan(edit)))).toEqual({ rows: [secondRow], rejections: [{ reason, message: `${LABEL}: ${problem}` }] });
    },
  );

  test('a name that is not text: the span is named by its id alone', () => {
    const { rejections } = otlpToRows(decode.json(withSpan((s) => (s.name = 5))));
    expect(rejections).toEqual([{ reason: 'invalid_value', message: 'span "" (span_id eee19b7ec3c1b174): name 5 is not a string' }]);
  });

  test('a bad resource attribute refuses every span of the resource; a bad scope every span of the scope', () => {
    const badResource = withSpan(() => {});
    badResource.resourceSpans[0]!.resource.attributes.push({ key: 'host.cpus', value: { intValue: 'eight' } } as never);
    expect(otlpToRows(decode.json(badResource)).rejections).toEqual([
      { reason: 'invalid_value', message: `${LABEL}: resource attribute "host.cpus" int_value "eight" is not an int64` },
      { reason: 'invalid_value', message: 'span "chat gpt-4o" (span_id eee19b7ec3c1b175): resource attribute "host.cpus" int_value "eight" is not an int64' },
    ]);
    const badScope = withSpan(() => {});
    (badScope.resourceSpans[0]!.scopeSpans[0]!.scope as Record<string, unknown>).version = 1;
    const { rows, rejections } = otlpToRows(decode.json(badScope));
    expect(rows).toEqual([]);
    expect(rejections.map((r) => r.message)).toEqual([`${LABEL}: scope version 1 is not a string`, 'span "chat gpt-4o" (span_id eee19b7ec3c1b175): scope version 1 is not a string']);
  });

  test('a span id that is not hex is quoted as received', () => {
    const { rejections } = otlpToRows(decode.json(withSpan((s) => (s.spanId = 'not-hex'))));
    expect(rejections).toEqual([{ reason: 'invalid_span_id', message: 'span "chat gpt-4o" (span_id "not-hex"): span_id is not hex ("not-hex")' }]);
  });
});

describe("an LLM call span's counts are refused unless llm_calls can hold them as sent", () => {
  const call = (key: string, value: unknown) => (s: Editable) =>
    s.attributes.push({ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key, value });
  const refused = (key: string, text: string, limit: number) =>
    `attribute ${key} ${JSON.stringify(text)} is not a count llm_calls can hold (a whole number from 0 to ${limit})`;
  const TOKENS = Number.MAX_SAFE_INTEGER;
  test.each<[string, string, unknown, string, number]>([
    ['negative input tokens', 'gen_ai.usage.input_tokens', { intValue: '-5' }, '-5', TOKENS],
    ['cache reads beyond 2^53', 'gen_ai.usage.cache_read.input_tokens', { doubleValue: 1e20 }, '100000000000000000000', TOKENS],
    ['a fraction of an output token', 'gen_ai.usage.output_tokens', { doubleValue: 12.7 }, '12.7', TOKENS],
    ['tokens as words', 'gen_ai.usage.completion_tokens', { stringValue: 'lots' }, 'lots', TOKENS],
    ['NaN cache writes', 'gen_ai.usage.cache_creation.input_tokens', { doubleValue: Number.NaN }, 'json: unsupported value: NaN', TOKENS],
    ['negative retries', 'llm.retries', { intValue: '-3' }, '-3', 65_535],
    ['attempts beyond UInt16', 'llm.attempts', { intValue: '65536' }, '65536', 65_535],
    ['negative chunks', 'llm.stream.chunks', { intValue: '-1' }, '-1', 4_294_967_295],
  ])('%s', (_name, key, value, text, limit) => {
    for (const encoding of ['json', 'protobuf'] as const) {
      // JSON.stringify sends NaN as null (absent): the protobuf encoding carries it.
      if (encoding === 'json' && Number.isNaN((value as { doubleValue?: number }).doubleValue)) continue;
      expect(otlpToRows(decode[encoding](withSpan(call(key, value))))).toEqual({
        rows: [secondRow],
        rejections: [{ reason: 'invalid_value', message: `${LABEL}: ${refused(key, text, limit)}` }],
      });
    }
  });

  test('counts at their limits, integral doubles and numeric text are stored; so is any count on a span that is not a call', () => {
    const counts = (s: Editable) =>
      s.attributes.push(
        { key: 'gen_ai.usage.input_tokens', value: { intValue: String(Number.MAX_SAFE_INTEGER) } },
        { key: 'gen_ai.usage.output_tokens', value: { doubleValue: 12 } },
        { key: 'gen_ai.usage.prompt_tokens', value: { stringValue: '7' } },
        { key: 'llm.attempts', value: { intValue: '65535' } },
        { key: 'llm.stream.chunks', value: { intValue: '4294967295' } },
        { key: 'gen_ai.usage.reasoning.output_tokens', value: { stringValue: '' } },
      );
    for (const encoding of ['json', 'protobuf'] as const) {
      const asCall = withSpan((s) => (call('gen_ai.usage.cache_read.input_tokens', { intValue: '0' })(s), counts(s)));
      expect(otlpToRows(decode[encoding](asCall)).rejections).toEqual([]);
      const notACall = withSpan((s) => s.attributes.push({ key: 'gen_ai.usage.input_tokens', value: { intValue: '-5' } }));
      expect(otlpToRows(decode[encoding](notACall)).rows[0]!.SpanAttributes['gen_ai.usage.input_tokens']).toBe('-5');
    }
  });
});

describe("an LLM call span's phase durations are refused unless finite and not negative", () => {
  const call = (attributes: unknown[]) => (s: Editable) => s.attributes.push({ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, ...(attributes as never[]));
  test.each<[string, string, unknown, string, number]>([
    ['a negative TTFT', 'llm.ttft_ms', { doubleValue: -5000 }, '-5000', 0],
    ['a negative first-chunk time in seconds', 'gen_ai.response.time_to_first_chunk', { doubleValue: -3.5 }, '-3.5', 0],
    ['a decode of minus a billion ms', 'llm.decode_ms', { intValue: '-1000000000' }, '-1000000000', 0],
    ['an infinite queue', 'llm.queue_ms', { doubleValue: Number.POSITIVE_INFINITY }, 'json: unsupported value: +Inf', 0],
    ['a gap as words', 'llm.stream.gap_max_ms', { stringValue: 'slow' }, 'slow', 0],
    ['a prefill below the rounding of its three terms', 'llm.prefill_ms', { doubleValue: -0.5 }, '-0.5', -0.001],
  ])('%s', (_name, key, value, text, floor) => {
    for (const encoding of ['json', 'protobuf'] as const) {
      // JSON.stringify sends Infinity as null (absent): the protobuf encoding carries it.
      if (encoding === 'json' && !Number.isFinite((value as { doubleValue?: number }).doubleValue ?? 0)) continue;
      expect(otlpToRows(decode[encoding](withSpan(call([{ key, value }]))))).toEqual({
        rows: [secondRow],
        rejections: [{ reason: 'invalid_value', message: `${LABEL}: attribute ${key} ${JSON.stringify(text)} is not a duration (a finite number from ${floor} on)` }],
      });
    }
  });

  test('durations of zero and more, and a prefill a microsecond below zero, are stored; so is any duration on a span that is not a call', () => {
    const times = [
      { key: 'llm.ttft_ms', value: { doubleValue: 812.125 } },
      { key: 'gen_ai.response.time_to_first_chunk', value: { doubleValue: 0.812125 } },
      { key: 'llm.queue_ms', value: { intValue: '0' } },
      { key: 'llm.prefill_ms', value: { doubleValue: -0.001 } },
      { key: 'llm.decode_ms', value: { stringValue: '1500.5' } },
    ];
    for (const encoding of ['json', 'protobuf'] as const) {
      expect(otlpToRows(decode[encoding](withSpan(call(times)))).rejections).toEqual([]);
      const notACall = withSpan((s) => s.attributes.push({ key: 'llm.ttft_ms', value: { doubleValue: -5 } }));
      expect(otlpToRows(decode[encoding](notACall)).rows[0]!.SpanAttributes['llm.ttft_ms']).toBe('-5');
    }
  });
});

describe('text is stored well-formed', () => {
  test('lone UTF-16 surrogates (\\ud83d in JSON) become U+FFFD in every stored string', () => {
    const half = '\ud83d';
    const copy = structuredClone(request) as typeof request & Record<string, never>;
    const rs = copy.resourceSpans[0]!;
    rs.resource.attributes.push({ key: `res${half}`, value: { stringValue: `v${half}` } } as never);
    rs.scopeSpans[0]!.scope = { name: `scope${half}`, version: `1${half}` };
    const span = rs.scopeSpans[0]!.spans[0]! as unknown as Editable;
    Object.assign(span, { name: `chat${half}`, traceState: `t=${half}`, status: { code: 2, message: `boom${half}` } });
    span.attributes.push({ key: `k${half}`, value: { arrayValue: { values: [{ stringValue: `x${half}` }] } } });
    Object.assign(span.events[0]!, { name: `e${half}`, attributes: [{ key: 'a', value: { stringValue: `\udc00` } }] });
    Object.assign(span.links[0]!, { traceState: `l${half}`, attributes: [{ key: 'b', value: { kvlistValue: { values: [{ key: `m${half}`, value: { stringValue: 'v' } }] } } }] });
    const text = JSON.stringify(copy);
    expect(text).toContain('\\ud83d'); // what exporter-trace-otlp-http sends: JSON.stringify escapes the lone half
    const { rows, rejections } = otlpToRows(decodeJsonRequest(text));
    expect(rejections).toEqual([]);
    const row = rows[0]!;
    expect(row).toMatchObject({
      SpanName: 'chat\ufffd',
      TraceState: 't=\ufffd',
      ScopeName: 'scope\ufffd',
      ScopeVersion: '1\ufffd',
      StatusMessage: 'boom\ufffd',
      'Events.Name': ['e\ufffd'],
      'Events.Attributes': [{ a: '\ufffd' }],
      'Links.TraceState': ['l\ufffd'],
      'Links.Attributes': [{ b: '{"m\ufffd":"v"}' }],
    });
    expect(row.ResourceAttributes[`res\ufffd`]).toBe('v\ufffd');
    expect(row.SpanAttributes[`k\ufffd`]).toBe('["x\ufffd"]');
    expect(JSON.stringify(row)).not.toMatch(/\\ud[89a-f]/);
  });

  test('an attribute named "__proto__" is kept like any other', () => {
    const copy = withSpan(attribute({ stringValue: 'x' }));
    (copy.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes as { key: string }[]).at(-1)!.key = '__proto__';
    const [row] = otlpToRows(decode.json(copy)).rows;
    expect(Object.entries(row!.SpanAttributes)).toContainEqual(['__proto__', 'x']);
  });
});

/** Every object key of a request in snake_case, as the Collector's JSON unmarshaler also accepts. */
function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCase(v)]));
}

describe('Collector parity for OTLP/JSON', () => {
  test('snake_case keys, enum names and 64-bit JSON numbers give the same row', () => {
    const span = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const named = structuredClone(request);
    Object.assign(named.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, { kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR', message: 'boom' } });
    const text = JSON.stringify(snakeCase(named)).replace(/"(start_time_unix_nano|end_time_unix_nano|time_unix_nano)":"(\d+)"/g, '"$1":$2');
    expect(text).toContain('"resource_spans":[{"resource":{"attributes"');
    expect(text).toContain(`"start_time_unix_nano":${span.startTimeUnixNano},`);
    expect(otlpToRows(decodeJsonRequest(text))).toEqual({ rows: [expectedRow], rejections: [] });
  });

  test('int64 JSON numbers beyond 2^53 keep every digit; beyond int64 they are refused', () => {
    const text = (n: string) => JSON.stringify(withSpan(attribute({ intValue: 0 }))).replace('{"intValue":0}', `{"intValue":${n}}`);
    const [row] = otlpToRows(decodeJsonRequest(text('9007199254740993'))).rows;
    expect(row!.SpanAttributes.n).toBe('9007199254740993');
    expect(otlpToRows(decodeJsonRequest(text('-9223372036854775808'))).rows[0]!.SpanAttributes.n).toBe('-9223372036854775808');
    expect(otlpToRows(decodeJsonRequest(text('9223372036854775808'))).rejections[0]!.message).toBe(
      `${LABEL}: span attribute "n" int_value 9223372036854775808 is out of the int64 range`,
    );
    // An exponent may hide digits beyond 2^53: refused rather than rounded; below, it is exact.
    expect(otlpToRows(decodeJsonRequest(text('1.2e17'))).rejections[0]!.message).toBe(
      `${LABEL}: span attribute "n" int_value 120000000000000000 is not exact: write 64-bit integers beyond 2^53 as plain digits`,
    );
    expect(otlpToRows(decodeJsonRequest(text('1.5e3'))).rows[0]!.SpanAttributes.n).toBe('1500');
  });

  test.each<[string, unknown, string]>([
    ['int', { intValue: '42' }, '42'],
    ['bool', { boolValue: true }, 'true'],
    ['double', { doubleValue: 1.5 }, '1.5'],
    ['array', { arrayValue: { values: [{ stringValue: 'a' }] } }, '["a"]'],
  ])('a %s service.name is stored as its text', (_kind, value, serviceName) => {
    const copy = structuredClone(request);
    copy.resourceSpans[0]!.resource.attributes[0]!.value = value as never;
    for (const encoding of ['json', 'protobuf'] as const) {
      const [row] = otlpToRows(decode[encoding](copy)).rows;
      expect(row).toMatchObject({ ServiceName: serviceName, ResourceAttributes: { 'service.name': serviceName } });
    }
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

  test.each(['json', 'protobuf'] as const)(`%s: a value nested ${MAX_ATTRIBUTE_DEPTH} levels deep is stored as JSON`, (encoding) => {
    const { rows, rejections } = otlpToRows(decode[encoding](withAttribute(nested(MAX_ATTRIBUTE_DEPTH))));
    expect(rejections).toEqual([]);
    expect(rows[0]!.SpanAttributes.deep).toBe(`${'['.repeat(MAX_ATTRIBUTE_DEPTH)}"leaf"${']'.repeat(MAX_ATTRIBUTE_DEPTH)}`);
  });

  test.each(['json', 'protobuf'] as const)('%s: one level deeper rejects only that span, naming the attribute', (encoding) => {
    const { rows, rejections } = otlpToRows(decode[encoding](withAttribute(nested(MAX_ATTRIBUTE_DEPTH + 1))));
    expect(rows).toEqual([]);
    expect(rejections).toEqual([
      { reason: 'attribute_too_deep', message: `${LABEL}: span attribute "deep" nests arrays/maps deeper than ${MAX_ATTRIBUTE_DEPTH} levels` },
    ]);
  });

  // Thousands of levels over HTTP, protobuf and JSON: test/reliability/deep-nesting.test.ts.
});
