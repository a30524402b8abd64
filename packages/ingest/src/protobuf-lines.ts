// The decode workers' fast path: an ExportTraceServiceRequest in protobuf straight to the
// JSONEachRow lines of its otel_traces rows, bytes to bytes, without the request's objects, the
// rows' objects and JSON.stringify of them (otlp-protobuf.ts → otlp-to-rows.ts → encodeTraceRows),
// whose allocation and garbage collection were most of a span's decoding cost. It takes only
// requests whose every span the slow path would store as plainly as it reads: text printable
// ASCII without `"` or `\` (so its JSON is its bytes), attribute values scalars or arrays of
// them (no `<`, `>`, `&` in those, which Go escapes; finite numbers), no duplicate or
// all-digit attribute keys (which a JS object would merge or reorder), no links, no scope
// attributes, valid ids, kinds and times, counts and durations llm_calls can hold, no `llm.measured_by`. For
// any other request it answers undefined and the slow path decodes it, with its rejections and
// messages. Its lines are byte for byte the slow path's (protobuf-lines.test.ts).
import { CALL_CHECKED_KEYS, callValueProblem, formatTimestamp, LATEST_SPAN_TIME_NS, MEASURED_BY, type EncodedRows } from '@llm-prism/storage/rows';
import { doubleAsString } from './attribute-string.ts';
import { I64, LEN, VARINT, Wire } from './otlp-protobuf.ts';
import { SPAN_KINDS, STATUS_CODES } from './otlp-to-rows.ts';

/** Rows per EncodedRows (one message to the main thread each). */
export const ROWS_PER_CHUNK = 1000;

const CLIENT = SPAN_KINDS.indexOf('Client');
/** The attribute that makes a client span a call span (isCallSpan), as bytes. */
const OPERATION_KEY = Buffer.from('gen_ai.operation.name', 'latin1');
/** A span another call span measures is not a call span (isCallSpan): the slow path's to tell. */
const MEASURED_KEY = Buffer.from(MEASURED_BY, 'latin1');

/** CALL_CHECKED_KEYS as bytes, by length: a count or duration that llm_calls cannot hold is the slow path's to refuse. */
const CHECKED_KEYS = new Map<number, Buffer[]>();
for (const key of CALL_CHECKED_KEYS) {
  const bytes = Buffer.from(key, 'latin1');
  CHECKED_KEYS.set(bytes.length, [...(CHECKED_KEYS.get(bytes.length) ?? []), bytes]);
}

/** The checked key at buf[start, end), if it is one. */
function checkedKey(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = CHECKED_KEYS.get(end - start);
  if (candidates === undefined) return undefined;
  for (const key of candidates) if (buf.compare(key, 0, key.length, start, end) === 0) return key.toString('latin1');
  return undefined;
}

/** The text the slow path stores for a checked value's AnyValue, when it is an int or a double. */
function numberText(w: Wire, start: number, end: number): string | undefined {
  if (start === end) return '';
  w.pos = start;
  const tag = w.uint32(end);
  if (tag >>> 3 === 3 && (tag & 7) === VARINT) return w.int64(end);
  if (tag >>> 3 === 4 && (tag & 7) === I64) return doubleAsString(w.double(end));
  return undefined;
}

/** Printable ASCII other than `"` and `\`: a byte JSON keeps as it is. */
const isPlain = (b: number): boolean => b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x5c;

/** Thrown inside when the request is not for the fast path; never leaves this module. */
class NotPlain extends Error {}
const NOT_PLAIN = new NotPlain();

/** A growing output buffer; each chunk gets a buffer of its own (it is transferred to the main thread). */
class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** ASCII text that needs no JSON escaping (names, numbers, hex, already checked text). */
  text(s: string): void {
    this.room(s.length);
    // Short text byte by byte: Buffer#write's call costs more than copying a few dozen characters
    // (of a flat string: text made by concatenation is written in its parts, or made once).
    if (s.length > 256) {
      this.at += this.buf.write(s, this.at, 'latin1');
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** Bytes made once (the line's fixed parts). */
  lit(bytes: Uint8Array): void {
    this.room(bytes.length);
    if (bytes.length > 64) this.buf.set(bytes, this.at);
    else for (let i = 0; i < bytes.length; i++) this.buf[this.at + i] = bytes[i] as number;
    this.at += bytes.length;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** `src[start, end)` as a JSON string: its bytes in quotes (see `plain`). */
  jsonString(src: Buffer, start: number, end: number): void {
    this.byte(0x22);
    this.plain(src, start, end);
    this.byte(0x22);
  }

  /** `src[start, end)` when each byte is printable ASCII other than `"` and `\`, which JSON keeps as it is. */
  plain(src: Buffer, start: number, end: number): void {
    this.room(end - start);
    const buf = this.buf;
    let at = this.at;
    for (let i = start; i < end; i++) {
      const b = src[i] as number;
      if (!isPlain(b)) throw NOT_PLAIN;
      buf[at++] = b;
    }
    this.at = at;
  }
}

/** A length-delimited field's bounds. */
interface Range {
  start: number;
  end: number;
}

/** The field's bounds, `w` moved past it. */
function range(w: Wire, end: number): Range {
  const stop = w.length(end);
  const r = { start: w.pos, end: stop };
  w.pos = stop;
  return r;
}

/** The field's start and end onto `list`, `w` moved past it. */
function pushRange(w: Wire, end: number, list: number[]): void {
  const stop = w.length(end);
  list.push(w.pos, stop);
  w.pos = stop;
}

function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** A fixed64 time the schema holds, set (not 0); else not for the fast path. */
function time(w: Wire, end: number): bigint {
  if (w.pos + 8 > end) throw w.outOfRange(8, end);
  const ns = w.buf.readBigUInt64LE(w.pos);
  w.pos += 8;
  if (ns === 0n || ns > LATEST_SPAN_TIME_NS) throw NOT_PLAIN;
  return ns;
}

/**
 * Slots of a small hash set of the attribute keys of one map: a key whose hash is already there is
 * a duplicate (or, rarely, another key of the same hash): either way, not for the fast path.
 */
const SLOTS = 256;
const seen = new Int32Array(SLOTS);
/** The hash of the key in each slot `seen` marks. */
const keyHashes = new Int32Array(SLOTS);
let seenMark = 0;

/**
 * Writes the map of the KeyValue messages in `list` (start and end of each, in order: numbers, not
 * an object per attribute) as JSON; returns whether the `gen_ai.operation.name` attribute is set
 * to a non-empty value.
 */
function attributeMap(w: Wire, list: number[], out: Out): boolean {
  // A new mark per map instead of clearing the slots: a slot belongs to this map when it holds it.
  if (++seenMark === 0x7fffffff) {
    seen.fill(0);
    seenMark = 1;
  }
  let operation = false;
  out.byte(0x7b);
  for (let k = 0; k < list.length; k += 2) {
    const kvEnd = list[k + 1] as number;
    let keyStart = 0;
    let keyEnd = 0;
    let valueStart = -1;
    let valueEnd = -1;
    w.pos = list[k] as number;
    while (w.pos < kvEnd) {
      const tag = w.uint32(kvEnd);
      const n = tag >>> 3;
      const t = tag & 7;
      if (n === 1 && t === LEN) {
        keyEnd = w.length(kvEnd);
        keyStart = w.pos;
        w.pos = keyEnd;
      } else if (n === 2 && t === LEN) {
        valueEnd = w.length(kvEnd);
        valueStart = w.pos;
        w.pos = valueEnd;
      } else throw NOT_PLAIN;
    }
    const buf = w.buf;
    // An all-digit key is an array index to a JS object, which JSON.stringify would put first.
    let digits = keyEnd > keyStart;
    let hash = 0x811c9dc5;
    for (let i = keyStart; i < keyEnd; i++) {
      const b = buf[i] as number;
      if (b < 0x30 || b > 0x39) digits = false;
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    if (digits) throw NOT_PLAIN;
    let slot = (hash >>> 0) % SLOTS;
    // Linear probing over slots this map holds; a full table (over 256 keys) is not plain either.
    for (let probes = 0; seen[slot] === seenMark; probes++) {
      if (probes === SLOTS) throw NOT_PLAIN;
      if (keyHashes[slot] === hash) throw NOT_PLAIN;
      slot = (slot + 1) % SLOTS;
    }
    seen[slot] = seenMark;
    keyHashes[slot] = hash;
    if (keyEnd - keyStart === MEASURED_KEY.length && buf.compare(MEASURED_KEY, 0, MEASURED_KEY.length, keyStart, keyEnd) === 0) throw NOT_PLAIN;
    const checked = checkedKey(buf, keyStart, keyEnd);
    if (checked !== undefined && valueStart >= 0 && callValueProblem(checked, numberText(w, valueStart, valueEnd) ?? '-') !== undefined) throw NOT_PLAIN;
    if (k > 0) out.byte(0x2c);
    out.jsonString(buf, keyStart, keyEnd);
    out.byte(0x3a);
    const empty = valueStart < 0 ? true : scalar(w, valueStart, valueEnd, out);
    if (!empty && keyEnd - keyStart === OPERATION_KEY.length && buf.compare(OPERATION_KEY, 0, OPERATION_KEY.length, keyStart, keyEnd) === 0) operation = true;
    if (valueStart < 0) out.text('""');
  }
  out.byte(0x7d);
  return operation;
}

const TRUE = Buffer.from('"true"');
const FALSE = Buffer.from('"false"');

function quoted(out: Out, text: string): void {
  out.byte(0x22);
  out.text(text);
  out.byte(0x22);
}

/** Writes an AnyValue of one scalar as the Collector's text; returns whether that text is empty. */
function scalar(w: Wire, start: number, end: number, out: Out): boolean {
  w.pos = start;
  if (start === end) {
    out.text('""');
    return true;
  }
  const tag = w.uint32(end);
  const n = tag >>> 3;
  const t = tag & 7;
  let empty = false;
  if (n === 1 && t === LEN) {
    const stop = w.length(end);
    empty = stop === w.pos;
    out.jsonString(w.buf, w.pos, stop);
    w.pos = stop;
  } else if (n === 2 && t === VARINT) out.lit(w.uint32(end) !== 0 ? TRUE : FALSE);
  else if (n === 3 && t === VARINT) quoted(out, w.int64(end));
  else if (n === 4 && t === I64) quoted(out, doubleAsString(w.double(end)));
  else if (n === 5 && t === LEN) array(w, range(w, end), out);
  else throw NOT_PLAIN;
  // One field only: a second would make the slow path pick by its own order, not the wire's.
  if (w.pos !== end) throw NOT_PLAIN;
  return empty;
}

/**
 * An ArrayValue of scalars as the Collector's text (Go's json.Marshal of it, e.g. `["stop"]`) in a
 * JSON string. Its strings must need no escaping in either JSON, nor Go's of `<`, `>`, `&`; its
 * numbers be finite (Go fails on the others: the slow path stores '').
 */
function array(w: Wire, r: Range, out: Out): void {
  out.text('"[');
  let first = true;
  w.pos = r.start;
  while (w.pos < r.end) {
    const tag = w.uint32(r.end);
    if (tag >>> 3 !== 1 || (tag & 7) !== LEN) throw NOT_PLAIN;
    const item = w.length(r.end);
    if (!first) out.byte(0x2c);
    first = false;
    // One field of the four scalars: an empty AnyValue is Go's null, not for the fast path.
    const itemTag = w.pos < item ? w.uint32(item) : 0;
    const n = itemTag >>> 3;
    const t = itemTag & 7;
    if (n === 1 && t === LEN) {
      const stop = w.length(item);
      for (let i = w.pos; i < stop; i++) {
        const b = w.buf[i] as number;
        if (b === 0x3c || b === 0x3e || b === 0x26) throw NOT_PLAIN;
      }
      out.text('\\"');
      out.plain(w.buf, w.pos, stop);
      out.text('\\"');
      w.pos = stop;
    } else if (n === 2 && t === VARINT) out.text(w.uint32(item) !== 0 ? 'true' : 'false');
    else if (n === 3 && t === VARINT) out.text(w.int64(item));
    else if (n === 4 && t === I64) {
      const d = w.double(item);
      if (!Number.isFinite(d)) throw NOT_PLAIN;
      out.text(Object.is(d, -0) ? '-0' : String(d));
    } else throw NOT_PLAIN;
    if (w.pos !== item) throw NOT_PLAIN;
  }
  out.text(']"');
}

/** What a resource gives each of its spans: its attributes' JSON and its service name. */
interface Resource {
  json: string;
  serviceName: string;
}

function resource(w: Wire, r: Range | undefined): Resource {
  if (r === undefined) return { json: '{}', serviceName: '' };
  const attributes: number[] = [];
  w.pos = r.start;
  while (w.pos < r.end) {
    const tag = w.uint32(r.end);
    if (tag >>> 3 === 1 && (tag & 7) === LEN) pushRange(w, r.end, attributes);
    else w.skip(tag & 7, r.end);
  }
  const out = new Out(256);
  attributeMap(w, attributes, out);
  const json = out.buf.toString('latin1', 0, out.at);
  // service.name's text, read back from the map just written (its keys are unique and plain); an
  // array's text holds escaped quotes, and is left to the slow path.
  const service = /"service\.name":"((?:[^"\\]|\\.)*)"/.exec(json)?.[1] ?? '';
  if (service.includes('\\')) throw NOT_PLAIN;
  return { json, serviceName: service };
}

/** What a resource and scope give each of their spans. */
interface Scope {
  serviceName: string;
  /** The line from the service name's text to the span attributes' key, the same for all their spans. */
  tail: Uint8Array;
}

function scope(w: Wire, r: Range | undefined, res: Resource): Scope {
  let name = '';
  let version = '';
  if (r !== undefined) {
    w.pos = r.start;
    while (w.pos < r.end) {
      const tag = w.uint32(r.end);
      const n = tag >>> 3;
      const t = tag & 7;
      if (n === 1 && t === LEN) name = plainText(w, range(w, r.end));
      else if (n === 2 && t === LEN) version = plainText(w, range(w, r.end));
      else if (n === 3) throw NOT_PLAIN;
      else w.skip(t, r.end);
    }
  }
  const tail = `${res.serviceName}","ResourceAttributes":${res.json},"ScopeName":"${name}","ScopeVersion":"${version}","SpanAttributes":`;
  return { serviceName: res.serviceName, tail: Buffer.from(tail, 'latin1') };
}

const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
/** The fixed parts of a line, in otlp-to-rows.ts's key order. */
const LINE = {
  timestamp: bytes('{"Timestamp":"'),
  traceId: bytes('","TraceId":"'),
  spanId: bytes('","SpanId":"'),
  parentSpanId: bytes('","ParentSpanId":"'),
  traceState: bytes('","TraceState":'),
  empty: bytes('""'),
  spanName: bytes(',"SpanName":"'),
  kind: SPAN_KINDS.map((kind) => bytes(`","SpanKind":"${kind}","ServiceName":"`)),
  duration: bytes(',"Duration":'),
  status: STATUS_CODES.map((code) => bytes(`,"StatusCode":"${code}","StatusMessage":`)),
  noEvents: bytes(',"Events.Timestamp":[],"Events.Name":[],"Events.Attributes":[]'),
  noLinks: bytes(',"Links.TraceId":[],"Links.SpanId":[],"Links.TraceState":[],"Links.Attributes":[]}\n'),
};

/** Text that needs no escaping, as a string; else not for the fast path. */
function plainText(w: Wire, r: Range): string {
  for (let i = r.start; i < r.end; i++) if (!isPlain(w.buf[i] as number)) throw NOT_PLAIN;
  return w.buf.toString('latin1', r.start, r.end);
}

/** Rows being written into chunks of ROWS_PER_CHUNK. */
class Chunks {
  done: EncodedRows[] = [];
  out!: Out;
  ends: number[] = [];
  Timestamp: string[] = [];
  TraceId: string[] = [];
  SpanId: string[] = [];
  SpanName: string[] = [];
  ServiceName: string[] = [];
  callSpan: number[] = [];
  readonly #size: number;
  /** `size`: bytes a chunk's buffer starts with (it grows when short). */
  constructor(size: number) {
    this.#size = size;
    this.#open();
  }

  #open(): void {
    this.out = new Out(this.#size);
    this.ends = [];
    this.Timestamp = [];
    this.TraceId = [];
    this.SpanId = [];
    this.SpanName = [];
    this.ServiceName = [];
    this.callSpan = [];
  }

  /** The row just written ends here. */
  row(): void {
    this.ends.push(this.out.at);
    if (this.ends.length === ROWS_PER_CHUNK) this.close();
  }

  close(): void {
    if (this.ends.length === 0) return;
    this.done.push({
      bytes: new Uint8Array(this.out.buf.buffer as ArrayBuffer, this.out.buf.byteOffset, this.out.at),
      ends: Uint32Array.from(this.ends),
      Timestamp: this.Timestamp,
      TraceId: this.TraceId,
      SpanId: this.SpanId,
      SpanName: this.SpanName,
      ServiceName: this.ServiceName,
      callSpan: Uint8Array.from(this.callSpan),
    });
    this.#open();
  }
}

interface Event {
  time: string;
  name: Range | undefined;
  attributes: number[];
}

function event(w: Wire, r: Range): Event {
  const e: Event = { time: '', name: undefined, attributes: [] };
  let ns = 0n;
  w.pos = r.start;
  while (w.pos < r.end) {
    const tag = w.uint32(r.end);
    const n = tag >>> 3;
    const t = tag & 7;
    if (n === 1 && t === I64) ns = time(w, r.end);
    else if (n === 2 && t === LEN) e.name = range(w, r.end);
    else if (n === 3 && t === LEN) pushRange(w, r.end, e.attributes);
    else w.skip(t, r.end);
  }
  if (ns === 0n) throw NOT_PLAIN;
  e.time = formatTimestamp(ns);
  return e;
}

/** Writes one span's line, in the key order of otlp-to-rows.ts's row (what JSON.stringify gives). */
function span(w: Wire, end: number, sc: Scope, chunks: Chunks): void {
  let traceId: Range | undefined;
  let spanId: Range | undefined;
  let parentId: Range | undefined;
  let traceState: Range | undefined;
  let name: Range | undefined;
  let status: Range | undefined;
  let kind = 0;
  let start = 0n;
  let stop = 0n;
  const attributes: number[] = [];
  const events: Range[] = [];
  while (w.pos < end) {
    const tag = w.uint32(end);
    const n = tag >>> 3;
    const t = tag & 7;
    if (t === LEN) {
      if (n === 1) traceId = range(w, end);
      else if (n === 2) spanId = range(w, end);
      else if (n === 3) traceState = range(w, end);
      else if (n === 4) parentId = range(w, end);
      else if (n === 5) name = range(w, end);
      else if (n === 9) pushRange(w, end, attributes);
      else if (n === 11) events.push(range(w, end));
      else if (n === 13) throw NOT_PLAIN;
      else if (n === 15) status = range(w, end);
      else w.skip(t, end);
    } else if (n === 6 && t === VARINT) kind = w.uint32(end) | 0;
    else if (n === 7 && t === I64) start = time(w, end);
    else if (n === 8 && t === I64) stop = time(w, end);
    else w.skip(t, end);
  }
  const buf = w.buf;
  if (traceId === undefined || traceId.end - traceId.start !== 16 || allZero(buf, traceId.start, traceId.end)) throw NOT_PLAIN;
  if (spanId === undefined || spanId.end - spanId.start !== 8 || allZero(buf, spanId.start, spanId.end)) throw NOT_PLAIN;
  const parent = parentId === undefined || allZero(buf, parentId.start, parentId.end) ? '' : parentId.end - parentId.start === 8 ? buf.toString('hex', parentId.start, parentId.end) : undefined;
  if (parent === undefined) throw NOT_PLAIN;
  if (LINE.kind[kind] === undefined || start === 0n || stop === 0n || stop < start) throw NOT_PLAIN;
  let statusCode = 0;
  let statusMessage: Range | undefined;
  if (status !== undefined) {
    w.pos = status.start;
    while (w.pos < status.end) {
      const tag = w.uint32(status.end);
      const n = tag >>> 3;
      const t = tag & 7;
      if (n === 2 && t === LEN) statusMessage = range(w, status.end);
      else if (n === 3 && t === VARINT) statusCode = w.uint32(status.end) | 0;
      else w.skip(t, status.end);
    }
  }
  if (LINE.status[statusCode] === undefined) throw NOT_PLAIN;

  const out = chunks.out;
  const timestamp = formatTimestamp(start);
  const trace = buf.toString('hex', traceId.start, traceId.end);
  const id = buf.toString('hex', spanId.start, spanId.end);
  const spanName = name === undefined ? '' : plainText(w, name);
  out.lit(LINE.timestamp);
  out.text(timestamp);
  out.lit(LINE.traceId);
  out.text(trace);
  out.lit(LINE.spanId);
  out.text(id);
  out.lit(LINE.parentSpanId);
  out.text(parent);
  out.lit(LINE.traceState);
  if (traceState === undefined) out.lit(LINE.empty);
  else out.jsonString(buf, traceState.start, traceState.end);
  out.lit(LINE.spanName);
  out.text(spanName);
  out.lit(LINE.kind[kind] as Uint8Array);
  out.lit(sc.tail);
  const operation = attributeMap(w, attributes, out);
  const duration = stop - start;
  out.lit(LINE.duration);
  if (duration <= BigInt(Number.MAX_SAFE_INTEGER)) out.text(String(duration));
  else quoted(out, String(duration));
  out.lit(LINE.status[statusCode] as Uint8Array);
  if (statusMessage === undefined) out.lit(LINE.empty);
  else out.jsonString(buf, statusMessage.start, statusMessage.end);
  if (events.length === 0) out.lit(LINE.noEvents);
  else {
    const list = events.map((r) => event(w, r));
    out.text(`,"Events.Timestamp":[${list.map((e) => `"${e.time}"`).join(',')}],"Events.Name":[`);
    list.forEach((e, i) => {
      if (i > 0) out.byte(0x2c);
      if (e.name === undefined) out.text('""');
      else out.jsonString(buf, e.name.start, e.name.end);
    });
    out.text('],"Events.Attributes":[');
    list.forEach((e, i) => {
      if (i > 0) out.byte(0x2c);
      attributeMap(w, e.attributes, out);
    });
    out.byte(0x5d);
  }
  out.lit(LINE.noLinks);

  chunks.Timestamp.push(timestamp);
  chunks.TraceId.push(trace);
  chunks.SpanId.push(id);
  chunks.SpanName.push(spanName);
  chunks.ServiceName.push(sc.serviceName);
  chunks.callSpan.push(kind === CLIENT && operation ? 1 : 0);
  chunks.row();
}

/**
 * The fields of a ResourceSpans or ScopeSpans message `r`: its field 1 (the resource or scope,
 * the last one when repeated, as otlp-protobuf.ts keeps it) and every field 2 (its scope spans or
 * spans).
 */
function headAndItems(w: Wire, r: Range): { head: Range | undefined; items: Range[] } {
  let head: Range | undefined;
  const items: Range[] = [];
  w.pos = r.start;
  while (w.pos < r.end) {
    const t = w.uint32(r.end);
    if (t >>> 3 === 1 && (t & 7) === LEN) head = range(w, r.end);
    else if (t >>> 3 === 2 && (t & 7) === LEN) items.push(range(w, r.end));
    else w.skip(t & 7, r.end);
  }
  return { head, items };
}

/**
 * The rows of a protobuf request as JSON lines, in chunks of ROWS_PER_CHUNK rows; undefined when
 * it is not a plain request (see the top of this file) or not well-formed: the slow path decides.
 */
export function protobufToLines(body: Uint8Array): EncodedRows[] | undefined {
  const w = new Wire(body);
  const end = body.byteLength;
  // Lines take about 2.3 bytes per byte of request (the resource repeated on every row); a chunk
  // of 1000 realistic spans about 1 MB.
  const chunks = new Chunks(Math.min(3 * end + 1024, ROWS_PER_CHUNK * 1024));
  try {
    while (w.pos < end) {
      const tag = w.uint32(end);
      if (tag >>> 3 !== 1 || (tag & 7) !== LEN) {
        w.skip(tag & 7, end);
        continue;
      }
      const rs = range(w, end);
      // The resource applies to all the message's spans wherever it is: found first.
      const { head: res, items: scopeSpans } = headAndItems(w, rs);
      const r = resource(w, res);
      for (const ss of scopeSpans) {
        const { head: sc, items: spans } = headAndItems(w, ss);
        const s = scope(w, sc, r);
        for (const sp of spans) {
          w.pos = sp.start;
          span(w, sp.end, s, chunks);
        }
      }
      w.pos = rs.end;
    }
  } catch {
    // Not plain, or malformed: the slow path reads it again and says what is wrong.
    return undefined;
  }
  chunks.close();
  return chunks.done;
}
