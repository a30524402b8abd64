// OTLP/JSON ExportTraceServiceRequest → the decoded-request shape of types.ts, read by hand instead
// of protobufjs `fromObject`, which coerces whatever it is given (an int64 "abc" becomes 0, a kind
// "SPAN_KIND_NOPE" becomes 0) and knows only lowerCamelCase keys. Read as the Collector's pdata
// unmarshaler reads it: lowerCamelCase or snake_case keys, 64-bit integers as decimal strings or
// JSON numbers (numbers beyond 2^53 keep their exact digits), enums as integers or names, bytes as
// base64. A value that is not a valid OTLP value marks its span invalid (every span of its
// resource or scope when it sits there), so only that span is refused; only a body that is not an
// ExportTraceServiceRequest at all (its resourceSpans / scopeSpans / spans not lists of objects)
// is malformed. Ranges shared with protobuf (timestamps, enum values, ids) are checked by otlp-to-rows.
import { AttributeTooDeepError, MAX_ATTRIBUTE_DEPTH } from './attribute-string.ts';
import { MalformedPayloadError } from './otlp-codec.ts';
import type {
  OtlpAnyValue,
  OtlpEvent,
  OtlpKeyValue,
  OtlpLink,
  OtlpResourceSpans,
  OtlpScopeSpans,
  OtlpSpan,
  OtlpTraceRequest,
  RejectReason,
  SpanProblem,
} from './types.ts';
import { emptySpan } from './types.ts';

type JsonObject = Record<string, unknown>;

/** A value of one span (or of its resource or scope) that is not valid OTLP/JSON. */
class InvalidValue extends Error {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A number token of 16+ digits outside a string (approximately): only then is JSON.parse's source needed. */
const LONG_NUMBER = /[:,[]\s*-?\d{16}/;
const INTEGER_SOURCE = /^-?\d+$/;

function parse(text: string): unknown {
  if (!LONG_NUMBER.test(text)) return JSON.parse(text);
  // Integers beyond 2^53 become their exact digits, as text (a reviver is ~8× slower: only here).
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER_SOURCE.test(context.source)
      ? context.source
      : value,
  );
}

const toSnakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const snakeCase = new Map<string, string>();

/** A field by its lowerCamelCase or snake_case name; null reads as absent, as in protobuf JSON. */
function get(object: JsonObject, key: string): unknown {
  if (Object.hasOwn(object, key) && object[key] !== null) return object[key];
  let snake = snakeCase.get(key);
  if (snake === undefined) snakeCase.set(key, (snake = toSnakeCase(key)));
  return Object.hasOwn(object, snake) && object[snake] !== null ? object[snake] : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value as a message shows it: short, and naming its type when it is not a scalar. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  return String(value);
}

function invalid(field: string, value: unknown, want: string, reason: RejectReason = 'invalid_value'): InvalidValue {
  return new InvalidValue(reason, `${field} ${shown(value)} is not ${want}`);
}

function text(value: unknown, field: string, reason?: RejectReason): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  throw invalid(field, value, 'a string', reason);
}

function object(value: unknown, field: string): JsonObject {
  if (isObject(value)) return value;
  throw invalid(field, value, 'an object');
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  throw invalid(field, value, 'a list');
}

/** int64 (`signed`) or uint64, as canonical decimal text. */
function integer(value: unknown, field: string, signed: boolean, reason: RejectReason = 'invalid_value'): string {
  if (value === undefined) return '0';
  const want = signed ? 'an int64' : 'a uint64';
  let digits: string | undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalid(field, value, want, reason);
    // Plain digits beyond 2^53 arrive as text (see parse): this one was written with an exponent
    // and may have lost digits. (Exponents are fine below 2^53, as protobuf's JSON mapping allows.)
    if (!Number.isSafeInteger(value)) throw new InvalidValue(reason, `${field} ${value} is not exact: write 64-bit integers beyond 2^53 as plain digits`);
    digits = String(value);
  } else if (typeof value === 'string' && INTEGER_SOURCE.test(value)) {
    digits = value;
  } else {
    throw invalid(field, value, want, reason);
  }
  const n = BigInt(digits);
  if (n < (signed ? INT64_MIN : 0n) || n > (signed ? INT64_MAX : UINT64_MAX)) {
    throw new InvalidValue(reason, `${field} ${digits} is out of the ${signed ? 'int64' : 'uint64'} range`);
  }
  return n.toString();
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const SPECIAL_DOUBLES: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

function double(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (Object.hasOwn(SPECIAL_DOUBLES, value)) return SPECIAL_DOUBLES[value]!;
    if (JSON_NUMBER.test(value)) return Number(value);
  }
  throw invalid(field, value, 'a double');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard or URL-safe base64, padded or not, as the standard padded text pdata prints. */
function bytes(value: unknown, field: string): string {
  if (typeof value === 'string') {
    const standard = value.replace(/-/g, '+').replace(/_/g, '/');
    if (BASE64.test(standard) && standard.replace(/=+$/, '').length % 4 !== 1) return Buffer.from(standard, 'base64').toString('base64');
  }
  throw invalid(field, value, 'base64');
}

function enumValue(value: unknown, field: string, names: readonly string[]): number {
  if (value === undefined) return 0;
  // Integers out of range are refused by otlp-to-rows, for protobuf alike.
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  const index = typeof value === 'string' ? names.indexOf(value) : -1;
  if (index >= 0) return index;
  throw invalid(field, value, `one of ${names.join(', ')} or its number`);
}

// AnyValue's oneof, by either spelling.
const VALUE_FIELDS = new Map<string, keyof OtlpAnyValue>();
for (const key of ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const) {
  VALUE_FIELDS.set(key, key).set(toSnakeCase(key), key);
}

/** `where` owns the attribute ('span', 'resource', 'event 0', …); `key` is the attribute's, at any depth. */
function anyValue(value: unknown, where: string, key: string, depth: number): OtlpAnyValue | null {
  if (value === undefined) return null;
  const field = `${where} attribute ${JSON.stringify(key)}`;
  const o = object(value, field);
  let found: keyof OtlpAnyValue | undefined;
  for (const name of Object.keys(o)) {
    const which = VALUE_FIELDS.get(name);
    if (which === undefined || o[name] === null) continue;
    if (found !== undefined && found !== which) throw new InvalidValue('invalid_value', `${field} sets both ${found} and ${which}`);
    found = which;
  }
  if (found === undefined) return {};
  const v = get(o, found);
  switch (found) {
    case 'stringValue':
      return { stringValue: text(v, `${field} string_value`) };
    case 'boolValue':
      if (typeof v !== 'boolean') throw invalid(`${field} bool_value`, v, 'true or false');
      return { boolValue: v };
    case 'intValue':
      return { intValue: integer(v, `${field} int_value`, true) };
    case 'doubleValue':
      return { doubleValue: double(v, `${field} double_value`) };
    case 'bytesValue':
      return { bytesValue: bytes(v, `${field} bytes_value`) };
    case 'arrayValue':
    case 'kvlistValue': {
      // The limit attribute-string applies to protobuf, checked while reading so that a value
      // nested thousands deep never exhausts the stack.
      if (depth > MAX_ATTRIBUTE_DEPTH) throw new InvalidValue('attribute_too_deep', `${where} ${new AttributeTooDeepError(key).message}`);
      const values = list(get(object(v, field), 'values'), `${field} values`);
      return found === 'arrayValue'
        ? { arrayValue: { values: values.map((item) => anyValue(item, where, key, depth + 1) ?? {}) } }
        : {
            kvlistValue: {
              values: values.map((item) => {
                const kv = object(item, field);
                return { key: text(get(kv, 'key'), `${field} key`), value: anyValue(get(kv, 'value'), where, key, depth + 1) };
              }),
            },
          };
    }
  }
}

function attributes(value: unknown, where: string): OtlpKeyValue[] {
  return list(value, `${where} attributes`).map((item, i) => {
    const o = object(item, `${where} attributes[${i}]`);
    const key = text(get(o, 'key'), `${where} attributes[${i}] key`);
    return { key, value: anyValue(get(o, 'value'), where, key, 1) };
  });
}

function event(value: unknown, i: number): OtlpEvent {
  const where = `event ${i}`;
  const o = object(value, where);
  return {
    timeUnixNano: integer(get(o, 'timeUnixNano'), `${where} time_unix_nano`, false, 'invalid_timestamp'),
    name: text(get(o, 'name'), `${where} name`),
    attributes: attributes(get(o, 'attributes'), where),
  };
}

function link(value: unknown, i: number): OtlpLink {
  const where = `link ${i}`;
  const o = object(value, where);
  return {
    traceId: text(get(o, 'traceId'), `${where} trace_id`, 'invalid_link_id'),
    spanId: text(get(o, 'spanId'), `${where} span_id`, 'invalid_link_id'),
    traceState: text(get(o, 'traceState'), `${where} trace_state`),
    attributes: attributes(get(o, 'attributes'), where),
  };
}

/** Reads one span; a value that is not valid leaves the span marked `invalid`. */
function span(o: JsonObject): OtlpSpan {
  const s: OtlpSpan = emptySpan();
  // For the message, should another value be invalid.
  const name = get(o, 'name');
  const spanId = get(o, 'spanId');
  if (typeof name === 'string') s.name = name;
  if (typeof spanId === 'string') s.spanId = spanId;
  try {
    s.name = text(name, 'name');
    s.spanId = text(spanId, 'span_id', 'invalid_span_id');
    s.traceId = text(get(o, 'traceId'), 'trace_id', 'invalid_trace_id');
    s.parentSpanId = text(get(o, 'parentSpanId'), 'parent_span_id', 'invalid_parent_span_id');
    s.traceState = text(get(o, 'traceState'), 'trace_state');
    s.kind = enumValue(get(o, 'kind'), 'kind', SPAN_KIND_NAMES);
    s.startTimeUnixNano = integer(get(o, 'startTimeUnixNano'), 'start_time_unix_nano', false, 'invalid_timestamp');
    s.endTimeUnixNano = integer(get(o, 'endTimeUnixNano'), 'end_time_unix_nano', false, 'invalid_timestamp');
    s.attributes = attributes(get(o, 'attributes'), 'span');
    s.events = list(get(o, 'events'), 'events').map(event);
    s.links = list(get(o, 'links'), 'links').map(link);
    const status = get(o, 'status');
    if (status !== undefined) {
      const so = object(status, 'status');
      s.status = { message: text(get(so, 'message'), 'status message'), code: enumValue(get(so, 'code'), 'status code', STATUS_CODE_NAMES) };
    }
  } catch (err) {
    s.invalid = problemOf(err);
  }
  return s;
}

function problemOf(err: unknown, prefix = ''): SpanProblem {
  if (!(err instanceof InvalidValue)) throw err;
  return { reason: err.reason, problem: `${prefix}${err.message}` };
}

/** The envelope: a list of objects, or the whole body is malformed. */
function envelopeList(parent: JsonObject, key: string, path: string): JsonObject[] {
  const value = get(parent, key);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new MalformedPayloadError(`malformed JSON ExportTraceServiceRequest: ${path}: array expected, got ${shown(value)}`);
  value.forEach((item, i) => {
    if (!isObject(item)) throw new MalformedPayloadError(`malformed JSON ExportTraceServiceRequest: ${path}[${i}]: object expected, got ${shown(item)}`);
  });
  return value as JsonObject[];
}

/** Decodes an `application/json` ExportTraceServiceRequest (OTLP/JSON, or its snake_case spelling). */
export function decodeJsonRequest(body: string): OtlpTraceRequest {
  let parsed: unknown;
  try {
    parsed = parse(body);
  } catch (err) {
    throw new MalformedPayloadError(`malformed JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new MalformedPayloadError('malformed JSON ExportTraceServiceRequest: the body must be a JSON object');
  const resourceSpans: OtlpResourceSpans[] = [];
  envelopeList(parsed, 'resourceSpans', 'resourceSpans').forEach((rs, r) => {
    const out: OtlpResourceSpans = { resource: null, scopeSpans: [] };
    let resourceProblem: SpanProblem | undefined;
    try {
      const resource = get(rs, 'resource');
      if (resource !== undefined) out.resource = { attributes: attributes(get(object(resource, 'resource'), 'attributes'), 'resource') };
    } catch (err) {
      resourceProblem = problemOf(err);
    }
    envelopeList(rs, 'scopeSpans', `resourceSpans[${r}].scopeSpans`).forEach((ss, s) => {
      const scopeOut: OtlpScopeSpans = { scope: null, spans: [] };
      let scopeProblem: SpanProblem | undefined;
      try {
        const scope = get(ss, 'scope');
        if (scope !== undefined) {
          const so = object(scope, 'scope');
          scopeOut.scope = {
            name: text(get(so, 'name'), 'scope name'),
            version: text(get(so, 'version'), 'scope version'),
            attributes: attributes(get(so, 'attributes'), 'scope'),
          };
        }
      } catch (err) {
        scopeProblem = problemOf(err);
      }
      for (const item of envelopeList(ss, 'spans', `resourceSpans[${r}].scopeSpans[${s}].spans`)) {
        const decoded = span(item);
        const inherited = resourceProblem ?? scopeProblem;
        if (inherited) decoded.invalid = inherited;
        scopeOut.spans.push(decoded);
      }
      out.scopeSpans.push(scopeOut);
    });
    resourceSpans.push(out);
  });
  return { resourceSpans };
}
