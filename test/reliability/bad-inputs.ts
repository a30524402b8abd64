// Generated bad OTLP/HTTP requests. fast-check draws a small recipe (what to break, where); the
// request is built from it, so a failing case prints as a readable recipe, not megabytes of body.
// Valid bodies come from the official serializers (`@opentelemetry/otlp-transformer`) applied to
// spans of a real SDK TracerProvider; the mutations then break them.
import { gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import protobuf from 'protobufjs';

export type Encoding = 'protobuf' | 'json';
export const CONTENT_TYPE: Record<Encoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** Body cap the server under test runs with (`--max-body-bytes`); gunzip output is capped at 4×. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Replaced in place by invalid UTF-8 of the same length (so protobuf lengths stay right). */
const MARKER = 'UTF8-MARKER!';
const INVALID_UTF8 = [
  [0xff], // never valid
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // truncated sequence
  [0x80], // lone continuation byte
];

export type Recipe =
  | { kind: 'truncate'; encoding: Encoding; at: number }
  | { kind: 'bit-flip'; encoding: Encoding; bits: number[] }
  | { kind: 'random-bytes'; encoding: Encoding; bytes: Uint8Array }
  | { kind: 'deep-nesting'; encoding: Encoding; depth: number; shape: 'array' | 'kvlist' | 'mixed' }
  | { kind: 'huge-attribute'; encoding: Encoding; chars: number }
  | { kind: 'oversized'; encoding: Encoding; bytes: number; streamed: boolean }
  | { kind: 'invalid-utf8'; encoding: Encoding; sequence: number }
  | { kind: 'wrong-json-type'; path: number; value: fc.JsonValue }
  | { kind: 'gzip-bomb'; encoding: Encoding; megabytes: number }
  | { kind: 'bad-gzip'; encoding: Encoding; truncateAt: number | null }
  | { kind: 'content-type'; value: string }
  | { kind: 'content-encoding'; value: string };

export type Kind = Recipe['kind'];

/** The statuses each kind may get. */
export const ALLOWED: Record<Kind, readonly number[]> = {
  truncate: [200, 400],
  'bit-flip': [200, 400],
  'random-bytes': [200, 400],
  'deep-nesting': [200, 400],
  'huge-attribute': [200],
  oversized: [413],
  'invalid-utf8': [200, 400],
  'wrong-json-type': [200, 400],
  'gzip-bomb': [413],
  'bad-gzip': [400],
  'content-type': [415],
  'content-encoding': [415],
};

/** How ingest names a span it did not store, in `partial_success.error_message` or a 400. */
export const spanLabel = (span: ReadableSpan): string => `span ${JSON.stringify(span.name)} (span_id ${span.spanContext().spanId})`;

/** A message naming rejected spans: their count, then each as `span "<name>" (span_id <id>): <why>`. */
export const REJECTED_MESSAGE = /^\d+ span\(s\) rejected: span ".*" \(span_id [^)]+\): /;

/** What a clear error message for each status says. */
export const MESSAGE: Record<number, RegExp> = {
  // Or every span of the request refused, named as in partial_success (storage refused its values).
  400: new RegExp(`^(malformed (protobuf ExportTraceServiceRequest|JSON|gzip body)|${REJECTED_MESSAGE.source.slice(1)})`),
  413: /exceeds the limit of \d+ bytes/,
  415: /^unsupported (media type|Content-Encoding) .*: send /,
};

const encoding = fc.constantFrom<Encoding>('protobuf', 'json');

export const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), encoding, at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('bit-flip' as const), encoding, bits: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('random-bytes' as const), encoding, bytes: fc.uint8Array({ maxLength: 2048 }) }),
  fc.record({
    kind: fc.constant('deep-nesting' as const),
    encoding,
    depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 20_000 })),
    shape: fc.constantFrom('array' as const, 'kvlist' as const, 'mixed' as const),
  }),
  fc.record({ kind: fc.constant('huge-attribute' as const), encoding, chars: fc.integer({ min: 10_000, max: MAX_BODY_BYTES - 16_384 }) }),
  fc.record({
    kind: fc.constant('oversized' as const),
    encoding,
    bytes: fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }),
    streamed: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('invalid-utf8' as const), encoding, sequence: fc.nat({ max: INVALID_UTF8.length - 1 }) }),
  fc.record({ kind: fc.constant('wrong-json-type' as const), path: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('gzip-bomb' as const), encoding, megabytes: fc.constantFrom(16, 128) }),
  fc.record({ kind: fc.constant('bad-gzip' as const), encoding, truncateAt: fc.option(fc.double({ min: 0, max: 0.95, noNaN: true })) }),
  fc.record({
    kind: fc.constant('content-type' as const),
    value: fc.oneof(
      fc.constantFrom('', 'text/plain', 'application/protobuf', 'application/grpc', 'application/x-www-form-urlencoded', 'application/json5', 'multipart/form-data'),
      fc.stringMatching(/^[a-z]{1,12}\/[a-z0-9.+-]{1,20}$/),
    ),
  }),
  fc.record({
    kind: fc.constant('content-encoding' as const),
    value: fc.oneof(fc.constantFrom('br', 'deflate', 'zstd', 'compress', 'x-gzip', 'gzip, br'), fc.stringMatching(/^[a-z0-9-]{1,16}$/)),
  }),
).filter((r) => !(r.kind === 'content-type' && /^application\/(x-protobuf|json)$/.test(r.value)))
  .filter((r) => !(r.kind === 'content-encoding' && /^(gzip|identity)$/.test(r.value)));

/** Real SDK spans: a `chat` call with GenAI attributes and a child, carrying the UTF-8 marker. */
export function sdkSpans(service: string, extra: Record<string, string> = {}): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('bad-input');
  const call = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.usage.input_tokens': 120,
      'llm.ttft_ms': 321.5,
      'gen_ai.response.finish_reasons': ['stop'],
      marker: MARKER,
      ...extra,
    },
  });
  tracer.startSpan('llm.ttft', {}).end();
  call.addEvent('first chunk', { index: 0 });
  call.end();
  return memory.getFinishedSpans();
}

export function serialize(spans: ReadableSpan[], enc: Encoding): Uint8Array {
  const body = (enc === 'protobuf' ? ProtobufTraceSerializer : JsonTraceSerializer).serializeRequest(spans);
  if (!body) throw new Error('serializer returned nothing');
  return body;
}

export interface BadRequest {
  headers: Record<string, string>;
  /** One buffer (sent with Content-Length) or chunks (sent chunked, without it). */
  body: Uint8Array | Uint8Array[];
  /** Headers first; the body only if no answer came within this time. */
  holdBodyMs?: number;
}

const bombs = new Map<number, Uint8Array>();
function bomb(megabytes: number): Uint8Array {
  let b = bombs.get(megabytes);
  if (!b) bombs.set(megabytes, (b = gzipSync(Buffer.alloc(megabytes * 1024 * 1024), { level: 9 })));
  return b;
}

/** Every path to a value in a JSON document, parents before children. */
function jsonPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...keys.flatMap((k) => jsonPaths((value as Record<string | number, unknown>)[k], [...prefix, k]))];
}

/** A request whose one attribute nests AnyValue arrays / kvlists `depth` levels deep. */
function deepBody(enc: Encoding, depth: number, shape: 'array' | 'kvlist' | 'mixed', base: Uint8Array): Uint8Array {
  const level = (i: number) => (shape === 'mixed' ? (i % 2 ? 'array' : 'kvlist') : shape);
  if (enc === 'json') {
    // Built as text: JSON.stringify of a 20 000-deep object would itself overflow the stack.
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < depth; i++) {
      value = level(i) === 'array' ? `{"arrayValue":{"values":[${value}]}}` : `{"kvlistValue":{"values":[{"key":"k${i}","value":${value}}]}}`;
    }
    const doc = JSON.parse(Buffer.from(base).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { attributes: unknown[] }[] }[] }[] };
    doc.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({ key: 'deep', value: 'DEEP' });
    return Buffer.from(JSON.stringify(doc).replace('"DEEP"', value));
  }
  // protobufjs' fork/ldelim nests length-delimited fields without copying (linear in depth) and
  // without recursion. Field numbers from opentelemetry/proto/common/v1/common.proto: AnyValue
  // string_value 1, array_value 5, kvlist_value 6; ArrayValue.values 1; KeyValueList.values 1;
  // KeyValue key 1, value 2. The deep value is one extra KeyValue appended to the first span
  // (span.attributes is field 9 of Span; ExportTraceServiceRequest.resource_spans 1,
  // ResourceSpans.scope_spans 2, ScopeSpans.spans 2).
  const w = protobuf.Writer.create();
  let open = 5;
  w.uint32((1 << 3) | 2).fork(); // resource_spans
  w.uint32((2 << 3) | 2).fork(); // scope_spans
  w.uint32((2 << 3) | 2).fork(); // spans
  w.uint32((1 << 3) | 2).bytes(Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex')); // trace_id
  w.uint32((2 << 3) | 2).bytes(Buffer.from('b7ad6b7169203331', 'hex')); // span_id
  w.uint32((5 << 3) | 2).string('deep'); // name
  w.uint32((9 << 3) | 2).fork(); // attributes: KeyValue
  w.uint32((1 << 3) | 2).string('deep');
  w.uint32((2 << 3) | 2).fork(); // value: AnyValue
  for (let i = 0; i < depth; i++) {
    if (level(i) === 'array') {
      w.uint32((5 << 3) | 2).fork(); // array_value
      w.uint32((1 << 3) | 2).fork(); // values[0]: AnyValue
      open += 2;
    } else {
      w.uint32((6 << 3) | 2).fork(); // kvlist_value
      w.uint32((1 << 3) | 2).fork(); // values[0]: KeyValue
      w.uint32((1 << 3) | 2).string(`k${i}`);
      w.uint32((2 << 3) | 2).fork(); // value: AnyValue
      open += 3;
    }
  }
  w.uint32((1 << 3) | 2).string('leaf');
  while (open-- > 0) w.ldelim();
  return w.finish();
}

/** Builds the request a recipe describes from the valid `base` bodies. */
export function buildRequest(r: Recipe, base: Record<Encoding, Uint8Array>): BadRequest {
  const headersFor = (enc: Encoding, extra: Record<string, string> = {}) => ({ 'content-type': CONTENT_TYPE[enc], ...extra });
  switch (r.kind) {
    case 'truncate': {
      const b = base[r.encoding];
      return { headers: headersFor(r.encoding), body: b.subarray(0, Math.floor(r.at * b.length)) };
    }
    case 'bit-flip': {
      const b = Uint8Array.from(base[r.encoding]);
      for (const bit of r.bits) b[Math.floor(bit / 8) % b.length]! ^= 1 << bit % 8;
      return { headers: headersFor(r.encoding), body: b };
    }
    case 'random-bytes':
      return { headers: headersFor(r.encoding), body: r.bytes };
    case 'deep-nesting':
      return { headers: headersFor(r.encoding), body: deepBody(r.encoding, r.depth, r.shape, base.json) };
    case 'huge-attribute':
      return { headers: headersFor(r.encoding), body: serialize(sdkSpans('bad-input-huge', { huge: 'h'.repeat(r.chars) }), r.encoding) };
    case 'oversized': {
      const body = new Uint8Array(r.bytes).fill(0x0a);
      if (!r.streamed) return { headers: headersFor(r.encoding), body, holdBodyMs: 2_000 };
      // No Content-Length: the cap must hold while the body is read.
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < body.length; at += 65_536) chunks.push(body.subarray(at, at + 65_536));
      return { headers: headersFor(r.encoding), body: chunks };
    }
    case 'invalid-utf8': {
      const b = Buffer.from(base[r.encoding]);
      const at = b.indexOf(MARKER);
      const seq = INVALID_UTF8[r.sequence]!;
      for (let i = 0; i < MARKER.length; i++) b[at + i] = seq[i % seq.length]!;
      return { headers: headersFor(r.encoding), body: b };
    }
    case 'wrong-json-type': {
      const doc = JSON.parse(Buffer.from(base.json).toString('utf8')) as unknown;
      const paths = jsonPaths(doc);
      const path = paths[r.path % paths.length]!;
      let replaced: unknown = r.value;
      if (path.length > 0) {
        const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], doc);
        (parent as Record<string | number, unknown>)[path.at(-1)!] = r.value;
        replaced = doc;
      }
      return { headers: headersFor('json'), body: Buffer.from(JSON.stringify(replaced)) };
    }
    case 'gzip-bomb':
      return { headers: headersFor(r.encoding, { 'content-encoding': 'gzip' }), body: bomb(r.megabytes) };
    case 'bad-gzip': {
      const gz = gzipSync(base[r.encoding]);
      // Truncated gzip, or the plain body labelled gzip.
      const body = r.truncateAt === null ? base[r.encoding] : gz.subarray(0, Math.floor(r.truncateAt * gz.length));
      return { headers: headersFor(r.encoding, { 'content-encoding': 'gzip' }), body };
    }
    case 'content-type':
      return { headers: r.value ? { 'content-type': r.value } : {}, body: base.protobuf };
    case 'content-encoding':
      return { headers: headersFor('protobuf', { 'content-encoding': r.value }), body: base.protobuf };
  }
}

// Storage poison: requests every decoder accepts whose values ClickHouse refuses at insert (or
// that only a spread over many partitions makes hard to insert), built from real SDK spans by the
// official serializers. Each request holds a `chat` call and its children; one place carries the
// poison. What ingest must do with each is the test's oracle, not the recipe's.

/** Whole seconds OTLP's uint64 nanoseconds can carry, less one (2554-07-21): room for an end time. */
const MAX_UNIX_SECONDS = 18_446_744_072;

export type PoisonPlace = 'span-name' | 'attribute-value' | 'attribute-key' | 'event-name' | 'status-message' | 'resource-attribute' | 'scope-name';

export type PoisonRecipe =
  /** A UTF-16 code unit of a surrogate pair without its partner (half an emoji from `slice`). */
  | { kind: 'lone-surrogate'; encoding: Encoding; place: PoisonPlace; unit: number; at: 'start' | 'middle' | 'end' }
  /**
   * A start or event time past 2100-01-01, the latest time LLM Prism stores (2106–2262 fit
   * DateTime64(9) but not the DateTime rollups, TTLs and duplicate checks), within uint64.
   */
  | { kind: 'far-future'; encoding: Encoding; what: 'start' | 'event'; unixSeconds: number }
  /** Spans spread over more days than ClickHouse's 100 partitions per insert. */
  | { kind: 'many-days'; encoding: Encoding; days: number; stepDays: number }
  /** Sizes at the edges: a 600 KB value, 2 000 attributes, a duration near the uint64 maximum. */
  | { kind: 'huge'; encoding: Encoding; what: 'value' | 'attributes' | 'duration' };

export const poisonRecipe: fc.Arbitrary<PoisonRecipe> = fc.oneof(
  fc.record({
    kind: fc.constant('lone-surrogate' as const),
    // Mostly JSON: the protobuf serializer writes a lone surrogate as U+FFFD (TextEncoder), so only
    // OTLP/JSON carries one to ingest ("\ud83d").
    encoding: fc.constantFrom<Encoding>('json', 'json', 'json', 'protobuf'),
    place: fc.constantFrom<PoisonPlace>('span-name', 'attribute-value', 'attribute-key', 'event-name', 'status-message', 'resource-attribute', 'scope-name'),
    // Mostly high surrogates (the half ClickHouse refuses), some low ones (which it stores); ingest
    // makes both well-formed (U+FFFD) before storage.
    unit: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0xd800, max: 0xdbff }) }, { weight: 1, arbitrary: fc.integer({ min: 0xdc00, max: 0xdfff }) }),
    at: fc.constantFrom('start' as const, 'middle' as const, 'end' as const),
  }),
  fc.record({
    kind: fc.constant('far-future' as const),
    encoding,
    what: fc.constantFrom('start' as const, 'event' as const),
    unixSeconds: fc.integer({ min: Date.UTC(2100, 0, 1) / 1000 + 1, max: MAX_UNIX_SECONDS }),
  }),
  fc.record({ kind: fc.constant('many-days' as const), encoding, days: fc.integer({ min: 101, max: 260 }), stepDays: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('huge' as const), encoding, what: fc.constantFrom('value' as const, 'attributes' as const, 'duration' as const) }),
);

function withUnit(text: string, unit: number, at: 'start' | 'middle' | 'end'): string {
  const c = String.fromCharCode(unit);
  if (at === 'start') return `${c}${text}`;
  if (at === 'end') return `${text}${c}`;
  const mid = Math.floor(text.length / 2);
  return `${text.slice(0, mid)}${c}${text.slice(mid)}`;
}

export interface PoisonRequest {
  headers: Record<string, string>;
  body: Uint8Array;
  /** The request's spans, for finding them in otel_traces afterwards. */
  spans: ReadableSpan[];
  /** A lone surrogate's text as it must be stored: made well-formed, the surrogate now U+FFFD. */
  repaired?: string;
}

/** Builds the request a poison recipe describes; span names say which request they belong to. */
export function buildPoison(r: PoisonRecipe, service: string, label: string): PoisonRequest {
  const memory = new InMemorySpanExporter();
  let repaired: string | undefined;
  const poisoned = (text: string, place: PoisonPlace) => {
    if (r.kind !== 'lone-surrogate' || r.place !== place) return text;
    repaired = withUnit(text, 0xfffd, r.at);
    return withUnit(text, r.unit, r.at);
  };
  const resource: Record<string, string> = { 'service.name': service };
  if (r.kind === 'lone-surrogate' && r.place === 'resource-attribute') resource['host.name'] = poisoned('build-7', 'resource-attribute');
  const provider = new TracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer(poisoned('poison-scope', 'scope-name'));
  const nowSeconds = Math.floor(Date.now() / 1000);

  if (r.kind === 'many-days') {
    // One request, one span per `stepDays` days going back from today.
    for (let d = 0; d < r.days; d++) {
      const start = (nowSeconds - d * r.stepDays * 86_400) * 1000;
      tracer.startSpan(`${label} day ${d}`, { startTime: start }).end(start + 5);
    }
  } else {
    const attributes: Record<string, string | number> = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' };
    attributes[poisoned('poison.key', 'attribute-key')] = poisoned('cut text', 'attribute-value');
    if (r.kind === 'huge' && r.what === 'value') attributes['huge'] = 'v'.repeat(600_000);
    if (r.kind === 'huge' && r.what === 'attributes') for (let i = 0; i < 2_000; i++) attributes[`a.${i}`] = i;
    const farFuture: [number, number] | undefined = r.kind === 'far-future' ? [r.unixSeconds, 0] : undefined;
    const start = r.kind === 'far-future' && r.what === 'start' ? farFuture : r.kind === 'huge' && r.what === 'duration' ? [0, 1] as [number, number] : undefined;
    const call = tracer.startSpan(poisoned(`${label} chat`, 'span-name'), { kind: SpanKind.CLIENT, attributes, ...(start ? { startTime: start } : {}) });
    tracer.startSpan(`${label} child`).end();
    call.addEvent(poisoned('first chunk', 'event-name'), { index: 0 }, r.kind === 'far-future' && r.what === 'event' ? farFuture : undefined);
    if (r.kind === 'lone-surrogate' && r.place === 'status-message') call.setStatus({ code: 2, message: poisoned('upstream said', 'status-message') });
    const end: [number, number] | undefined =
      r.kind === 'huge' && r.what === 'duration' ? [MAX_UNIX_SECONDS, 0] : r.kind === 'far-future' && r.what === 'start' ? [r.unixSeconds + 1, 0] : undefined;
    call.end(end);
    tracer.startSpan(`${label} after`).end();
  }
  const spans = memory.getFinishedSpans();
  return { headers: { 'content-type': CONTENT_TYPE[r.encoding] }, body: serialize(spans, r.encoding), spans, ...(repaired === undefined ? {} : { repaired }) };
}
