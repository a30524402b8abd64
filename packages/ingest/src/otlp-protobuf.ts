// A protobuf ExportTraceServiceRequest read straight into the plain shape of types.ts: ids as hex,
// 64-bit integers as decimal text, every field at its default when absent (what protobufjs'
// decode + toObject gave, in half to a third of its time: it built messages, then copied them).
// Field numbers are those of opentelemetry-proto's trace.proto and common.proto.
// Unknown fields are skipped; a known field with the wrong wire type is malformed.
import type { OtlpAnyValue, OtlpEvent, OtlpKeyValue, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpTraceRequest } from './types.ts';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

export class ProtobufError extends Error {}

class Reader {
  readonly buf: Buffer;
  pos: number;
  /** The end of the message being read: nothing inside it may run past it. */
  limit: number;

  constructor(buf: Buffer) {
    this.buf = buf;
    this.pos = 0;
    this.limit = buf.length;
  }

  /** A varint's low 32 bits (unsigned); the rest of a longer varint is read and dropped. */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.limit) throw new ProtobufError('truncated varint');
      const b = buf[this.pos++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value >>> 0;
    }
    // Bits 35–69 of a 10-byte varint: beyond 32 bits, skipped.
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.limit) throw new ProtobufError('truncated varint');
      if ((buf[this.pos++] as number) < 0x80) return value >>> 0;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** A varint int64 as signed decimal text. */
  int64(): string {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) throw new ProtobufError('truncated varint');
      const b = buf[this.pos++] as number;
      if (i < 4) lo += (b & 0x7f) * 2 ** (7 * i);
      else if (i === 4) {
        lo += (b & 0x0f) * 2 ** 28;
        hi += (b & 0x7f) >> 4;
      } else hi += (b & 0x7f) * 2 ** (7 * i - 32);
      if (b < 0x80) {
        hi = hi >>> 0;
        if (hi === 0) return String(lo);
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      }
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** A fixed64 as unsigned decimal text. */
  fixed64(): string {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (hi < 0x200000) return String(hi * 2 ** 32 + lo);
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  double(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's end. */
  end(): number {
    const length = this.uint32();
    this.need(length);
    return this.pos + length;
  }

  string(): string {
    const end = this.end();
    const text = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  }

  hex(): string {
    const end = this.end();
    const text = this.buf.toString('hex', this.pos, end);
    this.pos = end;
    return text;
  }

  base64(): string {
    const end = this.end();
    const text = this.buf.toString('base64', this.pos, end);
    this.pos = end;
    return text;
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.uint32();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LEN) this.pos = this.end();
    else if (wireType === FIXED32) this.advance(4);
    else if (wireType === 3) {
      // A group, skipped to its end tag.
      for (;;) {
        const tag = this.uint32();
        if ((tag & 7) === 4) return;
        this.skip(tag & 7);
      }
    } else throw new ProtobufError(`invalid wire type ${wireType} at offset ${this.pos}`);
  }

  advance(bytes: number): void {
    this.need(bytes);
    this.pos += bytes;
  }

  need(bytes: number): void {
    if (this.pos + bytes > this.limit) throw new ProtobufError(`index out of range: ${this.pos} + ${bytes} > ${this.limit}`);
  }
}

/** Reads the fields of one message up to `end`, handing each (field, wire type) to `field`. */
function fields(r: Reader, end: number, message: string, field: (number: number, wireType: number) => boolean): void {
  const outer = r.limit;
  r.limit = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (number === 0) throw new ProtobufError(`${message}: field number 0 at offset ${r.pos}`);
    if (!field(number, wireType)) r.skip(wireType);
  }
  r.limit = outer;
}

function expect(wireType: number, want: number, message: string, number: number): void {
  if (wireType !== want) throw new ProtobufError(`${message} field ${number} has wire type ${wireType}, want ${want}`);
}

function anyValue(r: Reader, end: number): OtlpAnyValue {
  const value: OtlpAnyValue = {};
  fields(r, end, 'AnyValue', (n, w) => {
    switch (n) {
      case 1:
        expect(w, LEN, 'AnyValue', n);
        value.stringValue = r.string();
        return true;
      case 2:
        expect(w, VARINT, 'AnyValue', n);
        value.boolValue = r.uint32() !== 0;
        return true;
      case 3:
        expect(w, VARINT, 'AnyValue', n);
        value.intValue = r.int64();
        return true;
      case 4:
        expect(w, FIXED64, 'AnyValue', n);
        value.doubleValue = r.double();
        return true;
      case 5:
        expect(w, LEN, 'AnyValue', n);
        value.arrayValue = { values: valueList(r, r.end(), anyValue) };
        return true;
      case 6:
        expect(w, LEN, 'AnyValue', n);
        value.kvlistValue = { values: valueList(r, r.end(), keyValue) };
        return true;
      case 7:
        expect(w, LEN, 'AnyValue', n);
        value.bytesValue = r.base64();
        return true;
      default:
        return false;
    }
  });
  return value;
}

/** ArrayValue / KeyValueList: `repeated … values = 1`. */
function valueList<T>(r: Reader, end: number, item: (r: Reader, end: number) => T): T[] {
  const values: T[] = [];
  fields(r, end, 'value list', (n, w) => {
    if (n !== 1) return false;
    expect(w, LEN, 'value list', n);
    values.push(item(r, r.end()));
    return true;
  });
  return values;
}

function keyValue(r: Reader, end: number): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '', value: null };
  fields(r, end, 'KeyValue', (n, w) => {
    if (n === 1) {
      expect(w, LEN, 'KeyValue', n);
      kv.key = r.string();
    } else if (n === 2) {
      expect(w, LEN, 'KeyValue', n);
      kv.value = anyValue(r, r.end());
    } else return false;
    return true;
  });
  return kv;
}

function event(r: Reader, end: number): OtlpEvent {
  const e: OtlpEvent = { timeUnixNano: '0', name: '', attributes: [] };
  fields(r, end, 'Event', (n, w) => {
    if (n === 1) {
      expect(w, FIXED64, 'Event', n);
      e.timeUnixNano = r.fixed64();
    } else if (n === 2) {
      expect(w, LEN, 'Event', n);
      e.name = r.string();
    } else if (n === 3) {
      expect(w, LEN, 'Event', n);
      e.attributes.push(keyValue(r, r.end()));
    } else return false;
    return true;
  });
  return e;
}

function link(r: Reader, end: number): OtlpLink {
  const l: OtlpLink = { traceId: '', spanId: '', traceState: '', attributes: [] };
  fields(r, end, 'Link', (n, w) => {
    if (n === 1) {
      expect(w, LEN, 'Link', n);
      l.traceId = r.hex();
    } else if (n === 2) {
      expect(w, LEN, 'Link', n);
      l.spanId = r.hex();
    } else if (n === 3) {
      expect(w, LEN, 'Link', n);
      l.traceState = r.string();
    } else if (n === 4) {
      expect(w, LEN, 'Link', n);
      l.attributes.push(keyValue(r, r.end()));
    } else return false;
    return true;
  });
  return l;
}

function status(r: Reader, end: number): { message: string; code: number } {
  const s = { message: '', code: 0 };
  fields(r, end, 'Status', (n, w) => {
    if (n === 2) {
      expect(w, LEN, 'Status', n);
      s.message = r.string();
    } else if (n === 3) {
      expect(w, VARINT, 'Status', n);
      s.code = r.uint32() | 0;
    } else return false;
    return true;
  });
  return s;
}

function span(r: Reader, end: number): OtlpSpan {
  const s: OtlpSpan = {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: null,
  };
  fields(r, end, 'Span', (n, w) => {
    switch (n) {
      case 1:
        expect(w, LEN, 'Span', n);
        s.traceId = r.hex();
        return true;
      case 2:
        expect(w, LEN, 'Span', n);
        s.spanId = r.hex();
        return true;
      case 3:
        expect(w, LEN, 'Span', n);
        s.traceState = r.string();
        return true;
      case 4:
        expect(w, LEN, 'Span', n);
        s.parentSpanId = r.hex();
        return true;
      case 5:
        expect(w, LEN, 'Span', n);
        s.name = r.string();
        return true;
      case 6:
        expect(w, VARINT, 'Span', n);
        s.kind = r.uint32() | 0;
        return true;
      case 7:
        expect(w, FIXED64, 'Span', n);
        s.startTimeUnixNano = r.fixed64();
        return true;
      case 8:
        expect(w, FIXED64, 'Span', n);
        s.endTimeUnixNano = r.fixed64();
        return true;
      case 9:
        expect(w, LEN, 'Span', n);
        s.attributes.push(keyValue(r, r.end()));
        return true;
      case 11:
        expect(w, LEN, 'Span', n);
        s.events.push(event(r, r.end()));
        return true;
      case 13:
        expect(w, LEN, 'Span', n);
        s.links.push(link(r, r.end()));
        return true;
      case 15:
        expect(w, LEN, 'Span', n);
        s.status = status(r, r.end());
        return true;
      default:
        return false;
    }
  });
  return s;
}

/** Resource and InstrumentationScope: the attributes (and a scope's name and version). */
function scope(r: Reader, end: number): { name: string; version: string; attributes: OtlpKeyValue[] } {
  const sc = { name: '', version: '', attributes: [] as OtlpKeyValue[] };
  fields(r, end, 'InstrumentationScope', (n, w) => {
    if (n === 1) {
      expect(w, LEN, 'InstrumentationScope', n);
      sc.name = r.string();
    } else if (n === 2) {
      expect(w, LEN, 'InstrumentationScope', n);
      sc.version = r.string();
    } else if (n === 3) {
      expect(w, LEN, 'InstrumentationScope', n);
      sc.attributes.push(keyValue(r, r.end()));
    } else return false;
    return true;
  });
  return sc;
}

function resource(r: Reader, end: number): { attributes: OtlpKeyValue[] } {
  const res = { attributes: [] as OtlpKeyValue[] };
  fields(r, end, 'Resource', (n, w) => {
    if (n !== 1) return false;
    expect(w, LEN, 'Resource', n);
    res.attributes.push(keyValue(r, r.end()));
    return true;
  });
  return res;
}

function scopeSpans(r: Reader, end: number): OtlpScopeSpans {
  const ss: OtlpScopeSpans = { scope: null, spans: [] };
  fields(r, end, 'ScopeSpans', (n, w) => {
    if (n === 1) {
      expect(w, LEN, 'ScopeSpans', n);
      ss.scope = scope(r, r.end());
    } else if (n === 2) {
      expect(w, LEN, 'ScopeSpans', n);
      ss.spans.push(span(r, r.end()));
    } else return false;
    return true;
  });
  return ss;
}

function resourceSpans(r: Reader, end: number): OtlpResourceSpans {
  const rs: OtlpResourceSpans = { resource: null, scopeSpans: [] };
  fields(r, end, 'ResourceSpans', (n, w) => {
    if (n === 1) {
      expect(w, LEN, 'ResourceSpans', n);
      rs.resource = resource(r, r.end());
    } else if (n === 2) {
      expect(w, LEN, 'ResourceSpans', n);
      rs.scopeSpans.push(scopeSpans(r, r.end()));
    } else return false;
    return true;
  });
  return rs;
}

/** Throws ProtobufError for bytes that are not an ExportTraceServiceRequest (RangeError when nested beyond the stack). */
export function readTraceRequest(body: Uint8Array): OtlpTraceRequest {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const r = new Reader(buf);
  const request: OtlpTraceRequest = { resourceSpans: [] };
  fields(r, buf.length, 'ExportTraceServiceRequest', (n, w) => {
    if (n !== 1) return false;
    expect(w, LEN, 'ExportTraceServiceRequest', n);
    request.resourceSpans.push(resourceSpans(r, r.end()));
    return true;
  });
  return request;
}
