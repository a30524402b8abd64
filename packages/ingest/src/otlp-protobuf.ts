// An ExportTraceServiceRequest read straight from the protobuf wire format into the plain shape
// otlp-to-rows.ts converts (types.ts), ids as lower-case hex: what protobufjs `decode`, `toObject`
// (options in otlp-codec.ts) and the base64 → hex id mapping gave, without their intermediate
// message objects, Long values and base64 round trip of every id. Those were ~14 µs of the ~25 µs
// a span took to decode, convert and encode, most of it garbage collection. Fields otlp-to-rows
// does not read (dropped counts, flags, schema URLs) are skipped like unknown ones; text beyond ASCII is
// decoded by protobufjs's own UTF-8 reader, so lone surrogates come out as they did. Values nested
// deeper than otlp-to-rows accepts are not read further (no stack overflow): the span is refused
// for that attribute, as it was.
import protobuf from 'protobufjs';
import { MAX_ATTRIBUTE_DEPTH } from './attribute-string.ts';
import { emptySpan, type OtlpAnyValue, type OtlpEvent, type OtlpKeyValue, type OtlpLink, type OtlpResourceSpans, type OtlpScopeSpans, type OtlpSpan, type OtlpTraceRequest } from './types.ts';

const utf8 = protobuf.util.utf8 as unknown as { read(buffer: Uint8Array, start: number, end: number): string };

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

/** A cursor over one body; every read checks the end of the message it is in. */
export class Wire {
  readonly buf: Buffer;
  pos = 0;
  constructor(body: Uint8Array) {
    this.buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /** protobufjs's message for a read past the end, which clients have seen since. */
  outOfRange(length: number, end: number): RangeError {
    return new RangeError(`index out of range: ${this.pos} + ${length} > ${end}`);
  }

  /** A varint's low 32 bits, unsigned (protobufjs `uint32`: lengths, tags, enums via `| 0`). */
  uint32(end: number): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= end) throw this.outOfRange(1, end);
      const byte = this.buf[this.pos++] as number;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    throw new Error('invalid varint encoding');
  }

  /** An int64 varint as signed decimal text (protobufjs `longs: String`). */
  int64(end: number): string {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= end) throw this.outOfRange(1, end);
      const byte = this.buf[this.pos++] as number;
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 0x80) {
        if (hi === 0) return String(lo >>> 0);
        return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
      }
    }
    throw new Error('invalid varint encoding');
  }

  /** A fixed64 as unsigned decimal text. */
  fixed64(end: number): string {
    if (this.pos + 8 > end) throw this.outOfRange(8, end);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    // Exact as a double below 2^53.
    if (hi < 0x200000) return String(hi * 0x100000000 + lo);
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  double(end: number): number {
    if (this.pos + 8 > end) throw this.outOfRange(8, end);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's end (its start is `pos`). */
  length(end: number): number {
    const length = this.uint32(end);
    if (this.pos + length > end) throw this.outOfRange(length, end);
    return this.pos + length;
  }

  string(end: number): string {
    const stop = this.length(end);
    // ASCII (keys and nearly all values) is its bytes as Latin-1, read natively; other text goes
    // through protobufjs's reader, so ill-formed UTF-8 still comes out as it always has.
    let at = this.pos;
    while (at < stop && (this.buf[at] as number) < 0x80) at++;
    const text = stop === this.pos ? '' : at === stop ? this.buf.toString('latin1', this.pos, stop) : utf8.read(this.buf, this.pos, stop);
    this.pos = stop;
    return text;
  }

  hex(end: number): string {
    const stop = this.length(end);
    const text = this.buf.toString('hex', this.pos, stop);
    this.pos = stop;
    return text;
  }

  base64(end: number): string {
    const stop = this.length(end);
    const text = this.buf.toString('base64', this.pos, stop);
    this.pos = stop;
    return text;
  }

  /** Passes over a field of another wire type than expected, or unknown. */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case VARINT:
        this.uint32(end);
        return;
      case I64:
        if (this.pos + 8 > end) throw this.outOfRange(8, end);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.length(end);
        return;
      case SGROUP:
        for (;;) {
          const tag = this.uint32(end);
          if ((tag & 7) === EGROUP) return;
          this.skip(tag & 7, end);
        }
      case I32:
        if (this.pos + 4 > end) throw this.outOfRange(4, end);
        this.pos += 4;
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

/** Calls `field(number, wireType)` for each field of the message ending at `end`. */
export function fields(w: Wire, end: number, field: (number: number, wireType: number) => boolean): void {
  while (w.pos < end) {
    const tag = w.uint32(end);
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (!field(number, wireType)) w.skip(wireType, end);
  }
}

/** An attribute's value; `depth` 1 is the attribute's own. */
function anyValue(w: Wire, end: number, depth: number): OtlpAnyValue {
  const value: OtlpAnyValue = {};
  fields(w, end, (n, t) => {
    if (n === 1 && t === LEN) value.stringValue = w.string(end);
    else if (n === 2 && t === VARINT) value.boolValue = w.uint32(end) !== 0;
    else if (n === 3 && t === VARINT) value.intValue = w.int64(end);
    else if (n === 4 && t === I64) value.doubleValue = w.double(end);
    else if (n === 5 && t === LEN) value.arrayValue = { values: values(w, w.length(end), depth, anyValue) };
    else if (n === 6 && t === LEN) value.kvlistValue = { values: values(w, w.length(end), depth, keyValue) };
    else if (n === 7 && t === LEN) value.bytesValue = w.base64(end);
    else return false;
    return true;
  });
  return value;
}

/**
 * The repeated field 1 of an ArrayValue or KeyValueList ending at `end`, at `depth`. Past
 * MAX_ATTRIBUTE_DEPTH it is left empty: an array or map that deep is refused whatever it holds.
 */
function values<T>(w: Wire, end: number, depth: number, item: (w: Wire, end: number, depth: number) => T): T[] {
  const list: T[] = [];
  if (depth > MAX_ATTRIBUTE_DEPTH) {
    w.pos = end;
    return list;
  }
  fields(w, end, (n, t) => {
    if (n !== 1 || t !== LEN) return false;
    list.push(item(w, w.length(end), depth + 1));
    return true;
  });
  w.pos = end;
  return list;
}

function keyValue(w: Wire, end: number, depth = 1): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '', value: null };
  fields(w, end, (n, t) => {
    if (n === 1 && t === LEN) kv.key = w.string(end);
    else if (n === 2 && t === LEN) kv.value = anyValue(w, w.length(end), depth);
    else return false;
    return true;
  });
  return kv;
}

/** A message whose attributes are field `number`; `other` reads its other fields. */
function attributesOf(w: Wire, end: number, number: number, other: (n: number, t: number) => boolean): OtlpKeyValue[] {
  const attributes: OtlpKeyValue[] = [];
  fields(w, end, (n, t) => {
    if (n === number && t === LEN) {
      const stop = w.length(end);
      attributes.push(keyValue(w, stop));
      w.pos = stop;
      return true;
    }
    return other(n, t);
  });
  return attributes;
}

function event(w: Wire, end: number): OtlpEvent {
  const e: OtlpEvent = { timeUnixNano: '0', name: '', attributes: [] };
  e.attributes = attributesOf(w, end, 3, (n, t) => {
    if (n === 1 && t === I64) e.timeUnixNano = w.fixed64(end);
    else if (n === 2 && t === LEN) e.name = w.string(end);
    else return false;
    return true;
  });
  return e;
}

function link(w: Wire, end: number): OtlpLink {
  const l: OtlpLink = { traceId: '', spanId: '', traceState: '', attributes: [] };
  l.attributes = attributesOf(w, end, 4, (n, t) => {
    if (n === 1 && t === LEN) l.traceId = w.hex(end);
    else if (n === 2 && t === LEN) l.spanId = w.hex(end);
    else if (n === 3 && t === LEN) l.traceState = w.string(end);
    else return false;
    return true;
  });
  return l;
}

function status(w: Wire, end: number): { message: string; code: number } {
  const s = { message: '', code: 0 };
  fields(w, end, (n, t) => {
    if (n === 2 && t === LEN) s.message = w.string(end);
    else if (n === 3 && t === VARINT) s.code = w.uint32(end) | 0;
    else return false;
    return true;
  });
  return s;
}

/** A nested message: `read` it up to its end, then continue after it. */
function nested<T>(w: Wire, end: number, read: (w: Wire, end: number) => T): T {
  const stop = w.length(end);
  const value = read(w, stop);
  w.pos = stop;
  return value;
}

function span(w: Wire, end: number): OtlpSpan {
  const s: OtlpSpan = emptySpan();
  s.attributes = attributesOf(w, end, 9, (n, t) => {
    if (t === LEN) {
      if (n === 1) s.traceId = w.hex(end);
      else if (n === 2) s.spanId = w.hex(end);
      else if (n === 3) s.traceState = w.string(end);
      else if (n === 4) s.parentSpanId = w.hex(end);
      else if (n === 5) s.name = w.string(end);
      else if (n === 11) s.events.push(nested(w, end, event));
      else if (n === 13) s.links.push(nested(w, end, link));
      else if (n === 15) s.status = nested(w, end, status);
      else return false;
    } else if (n === 6 && t === VARINT) s.kind = w.uint32(end) | 0;
    else if (n === 7 && t === I64) s.startTimeUnixNano = w.fixed64(end);
    else if (n === 8 && t === I64) s.endTimeUnixNano = w.fixed64(end);
    else return false;
    return true;
  });
  return s;
}

function scopeSpans(w: Wire, end: number): OtlpScopeSpans {
  const ss: OtlpScopeSpans = { scope: null, spans: [] };
  fields(w, end, (n, t) => {
    if (n === 1 && t === LEN) {
      const scope = { name: '', version: '', attributes: [] as OtlpKeyValue[] };
      const stop = w.length(end);
      scope.attributes = attributesOf(w, stop, 3, (sn, st) => {
        if (sn === 1 && st === LEN) scope.name = w.string(stop);
        else if (sn === 2 && st === LEN) scope.version = w.string(stop);
        else return false;
        return true;
      });
      ss.scope = scope;
    } else if (n === 2 && t === LEN) ss.spans.push(nested(w, end, span));
    else return false;
    return true;
  });
  return ss;
}

function resourceSpans(w: Wire, end: number): OtlpResourceSpans {
  const rs: OtlpResourceSpans = { resource: null, scopeSpans: [] };
  fields(w, end, (n, t) => {
    if (n === 1 && t === LEN) {
      const stop = w.length(end);
      rs.resource = { attributes: attributesOf(w, stop, 1, () => false) };
    } else if (n === 2 && t === LEN) rs.scopeSpans.push(nested(w, end, scopeSpans));
    else return false;
    return true;
  });
  return rs;
}

/** Throws (RangeError, Error) on a body that is not a well-formed ExportTraceServiceRequest. */
export function readTraceRequest(body: Uint8Array): OtlpTraceRequest {
  const w = new Wire(body);
  const end = body.byteLength;
  const request: OtlpTraceRequest = { resourceSpans: [] };
  fields(w, end, (n, t) => {
    if (n !== 1 || t !== LEN) return false;
    request.resourceSpans.push(nested(w, end, resourceSpans));
    return true;
  });
  return request;
}
