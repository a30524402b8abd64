/**
 * One HTTP response as the wire taps see it (wire-tap.ts: undici; http-tap.ts: node:http), decoded
 * at the arrival of its bytes: decompression, SSE parsing, JSON bodies buffered to their end.
 */
import zlib from 'node:zlib';
import { diag } from '@opentelemetry/api';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { BULK_VALUE, BulkSkimmer, SseBulkFilter, withoutBulk } from './bulk.ts';
import { EVENT_STREAM_TYPE, EventStreamReader } from './event-stream.ts';
import type { AttemptListener, ResponseHeaders } from './internal-types.ts';
import { endsWithBlankLine, wholeEvents } from './sse-whole-events.ts';

/** Non-streamed bodies larger than this are not decoded (usage would be lost, nothing else). */
const MAX_BUFFERED_BODY = 8 * 1024 * 1024;
/**
 * A non-streamed body is kept as it arrives up to this size and rid of its bulk at its end (one
 * search for the bulk keys' names, usually all it takes); a larger one is skimmed as it arrives
 * from there on, so its bulk is never held.
 */
const UNSKIMMED_BODY = 64 * 1024;

const latin1 = (v: Buffer | string): string => (typeof v === 'string' ? v : v.toString('latin1'));

/**
 * Response headers as the raw `[name, value, name, value, …]` list either transport hands over
 * (undici: Buffers; node:http: strings), looked up by lower-case name, repeated headers joined with
 * `, `. Decoded only as far as asked: the names once, at the first lookup, and the values looked up
 * (an answer carries some twenty headers; the instrumentation reads a handful).
 */
export class RawHeaders implements ResponseHeaders {
  readonly #raw: ReadonlyArray<Buffer | string>;
  #names: string[] | undefined;

  constructor(raw: ReadonlyArray<Buffer | string>) {
    this.#raw = raw;
  }

  #lowerCaseNames(): string[] {
    if (this.#names) return this.#names;
    const raw = this.#raw;
    const names: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) names.push(latin1(raw[i]!).toLowerCase());
    return (this.#names = names);
  }

  get(name: string): string | undefined {
    const names = this.#lowerCaseNames();
    let value: string | undefined;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name) continue;
      const v = latin1(this.#raw[2 * i + 1]!);
      value = value === undefined ? v : `${value}, ${v}`;
    }
    return value;
  }

  keys(): Iterable<string> {
    return new Set(this.#lowerCaseNames());
  }
}

type Decompressor = zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | zlib.ZstdDecompress;

/**
 * Decompression that keeps what arrived when the body stops early: a gzip or deflate body without
 * its trailer (or a brotli one cut short), which fetch tolerates and hands to the application,
 * gives its output instead of an error, as undici's own decompression does.
 */
const TOLERANT_ZLIB: zlib.ZlibOptions = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const TOLERANT_BROTLI: zlib.BrotliOptions = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

function createDecompressor(encoding: string | undefined): Decompressor | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip(TOLERANT_ZLIB);
    case 'deflate':
      return zlib.createInflate(TOLERANT_ZLIB);
    case 'br':
      return zlib.createBrotliDecompress(TOLERANT_BROTLI);
    case 'zstd':
      return zlib.createZstdDecompress();
    default:
      return undefined;
  }
}

function decompressSync(encoding: string | undefined, body: Buffer): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, TOLERANT_ZLIB);
    case 'deflate':
      // Some servers send raw deflate (no zlib header), which fetch decodes too.
      try {
        return zlib.inflateSync(body, TOLERANT_ZLIB);
      } catch {
        return zlib.inflateRawSync(body, TOLERANT_ZLIB);
      }
    case 'br':
      return zlib.brotliDecompressSync(body, TOLERANT_BROTLI);
    case 'zstd':
      return zlib.zstdDecompressSync(body);
    default:
      return body;
  }
}

/**
 * Once a stream's chunks are counted on their bytes (its first output is behind it), up to this
 * many chunks, or bytes, wait and are handed on together: each chunk alone would run the whole
 * path cold between the SDK's own work on it, many together run it warm. Their arrival times are
 * kept; anything that ends or pauses the body, or ends the call, hands them on first.
 */
const BATCH_CHUNKS = 32;
const BATCH_BYTES = 64 * 1024;

/** What a reader reports to once its call has ended. */
const RELEASED: AttemptListener = { headers() {}, sseEvent() {}, body() {}, end() {}, error() {} };

/**
 * Decodes one response body as it arrives and forwards it to the attempt's listener: SSE events
 * (after decompression) with the arrival time of their last byte, other bodies whole at their end.
 * Both transports (undici and node:http) feed it the same way.
 */
export class ResponseReader {
  listener: AttemptListener;
  /** An event stream: its bytes are SSE (`#sseParser`, made when first needed). */
  #sse = false;
  #sseParser: SseBulkFilter | undefined;
  /** An AWS event stream (Bedrock): its messages' events go to the listener as SSE events do. */
  #eventStream: EventStreamReader | undefined;
  /** A non-streamed body's bulk filter (bulk.ts): drops what no attribute needs before the body is decoded. */
  #skimmer: BulkSkimmer | undefined;
  /** A non-streamed body not compressed: skimmed once past UNSKIMMED_BODY. */
  #skimsBody = false;
  #decompressor: Decompressor | undefined;
  #encoding: string | undefined;
  #buffered: Buffer[] | undefined;
  #bufferedBytes = 0;
  /** The SSE bytes fed so far end an event: the parser holds nothing (true before the first). */
  #eventBoundary = true;
  /** Arrival time of the bytes being parsed right now. */
  #arrival = 0;
  #ended = false;
  /** The socket was paused by backpressure and no byte arrived since. */
  #paused = false;
  /** Chunks may wait in `#batch` (see BATCH_CHUNKS): an uncompressed stream whose chunks are counted on their bytes. */
  #batching = false;
  #batch: Buffer[] = [];
  #batchTimes: number[] = [];
  #batchBytes = 0;

  /**
   * The listener may say when its call has ended (call-recorder.ts): the reader then lets go of it
   * and of its own buffers, so a body that never ends (a stream the application dropped while
   * undici holds its paused socket) retains nothing of the call; and it hands on a batch before.
   */
  constructor(listener: AttemptListener) {
    this.listener = listener;
    listener.onRelease?.(() => this.#release());
    listener.onDrain?.(() => this.#drain());
  }

  headers(status: number, headers: ResponseHeaders, at: number): void {
    this.listener.headers(status, headers, at);
    this.#encoding = headers.get('content-encoding');
    const type = headers.get('content-type') ?? '';
    if (EVENT_STREAM_TYPE.test(type)) {
      this.#eventStream = new EventStreamReader();
    } else if (/^text\/event-stream\b/i.test(type) || (this.listener.streamRequested === true && status >= 200 && status < 300 && !/\bjson\b/i.test(type))) {
      this.#sse = true;
      this.#decompressor = createDecompressor(this.#encoding);
      // Decompressed output is attributed to the arrival of the latest compressed bytes.
      this.#decompressor?.on('data', (data: Buffer) => this.#guard(() => this.#feedSse(data)));
      // A corrupt body stops the decoding, never the call: its end or failure still ends it (end()).
      this.#decompressor?.on('error', (err) => diag.debug('llm-prism: SSE decompression failed', err));
    } else {
      this.#buffered = [];
      // A compressed body is skimmed once decompressed, at its end.
      this.#skimsBody = !this.#encoding || this.#encoding.trim().toLowerCase() === 'identity';
    }
  }

  /** The request went onto the wire (AttemptListener.sent). */
  sent(at: number): void {
    if (!this.#ended) this.#guard(() => this.listener.sent?.(at));
  }

  chunk(chunk: Buffer, at: number): void {
    if (this.#ended) return;
    if (this.#batching && !this.#paused) {
      this.#batch.push(chunk);
      this.#batchTimes.push(at);
      this.#batchBytes += chunk.length;
      if (this.#batch.length >= BATCH_CHUNKS || this.#batchBytes >= BATCH_BYTES) this.#drain();
      return;
    }
    this.#take(chunk, at);
  }

  /** The chunks held back, handed on in order with their arrival times. */
  #drain(): void {
    const chunks = this.#batch;
    if (chunks.length === 0) return;
    const times = this.#batchTimes;
    this.#batch = [];
    this.#batchTimes = [];
    this.#batchBytes = 0;
    for (let i = 0; i < chunks.length && !this.#ended; i++) this.#take(chunks[i]!, times[i]!);
  }

  #take(chunk: Buffer, at: number): void {
    this.#arrival = at;
    if (this.#paused) {
      this.#paused = false;
      this.#guard(() => this.listener.resumed?.(at));
    }
    if (this.#eventStream) {
      this.#readEventStream(chunk);
    } else if (this.#sse) {
      if (this.#decompressor) {
        if (!this.#decompressor.destroyed) this.#decompressor.write(chunk);
      }
      else this.#feedSse(chunk);
    } else if (this.#buffered) {
      if (this.#skimsBody && !this.#skimmer && this.#bufferedBytes + chunk.length > UNSKIMMED_BODY) this.#skimFromHere();
      if (this.#skimmer) this.#skimmer.push(chunk);
      else this.#keep(chunk);
    }
  }

  /** An event stream's whole messages, as events; a malformed one ends the reading (its end or failure still ends the attempt). */
  #readEventStream(chunk: Buffer): void {
    let events;
    try {
      events = this.#eventStream!.push(chunk);
    } catch (err) {
      diag.debug('llm-prism: AWS event stream not decoded', err);
      this.#eventStream = undefined;
      return;
    }
    for (const event of events) this.#guard(() => this.listener.sseEvent(event, this.#arrival));
  }

  /** The body would outgrow UNSKIMMED_BODY: what was kept goes through a skimmer, and what comes from now on. */
  #skimFromHere(): void {
    const kept = this.#buffered ?? [];
    this.#buffered = [];
    this.#bufferedBytes = 0;
    const skimmer = new BulkSkimmer((bytes) => this.#keep(bytes));
    this.#skimmer = skimmer;
    for (const bytes of kept) skimmer.push(bytes);
  }

  /** Body bytes held until the body ends (without their bulk when not compressed). */
  #keep(bytes: Buffer): void {
    if (!this.#buffered) return;
    this.#bufferedBytes += bytes.length;
    if (this.#bufferedBytes > MAX_BUFFERED_BODY) this.#buffered = undefined;
    else this.#buffered.push(bytes);
  }

  /**
   * The chunk that arrived at `at` filled the client's buffer: the socket is paused until the
   * application reads (the next chunk's arrival marks the resume).
   */
  paused(at: number): void {
    if (this.#ended || this.#paused) return;
    this.#drain();
    this.#paused = true;
    this.#guard(() => this.listener.paused?.(at));
  }

  end(at: number): void {
    if (this.#ended) return;
    this.#drain();
    const decompressor = this.#decompressor;
    if (decompressor && !decompressor.destroyed) {
      // The decompressor emits its last output asynchronously; end the attempt after it, or after
      // its failure (a body cut short) with what it gave.
      const finish = () => this.#guard(() => this.#finish(at));
      decompressor.once('end', finish);
      decompressor.once('error', finish);
      decompressor.once('close', finish);
      decompressor.end();
      return;
    }
    this.#finish(at);
  }

  error(error: unknown, at: number): void {
    if (this.#ended) return;
    this.#drain();
    const listener = this.listener;
    this.#release();
    listener.error(error, at);
  }

  /** Nothing more to report: the buffers, parser and decompressor go, and the listener with them. */
  #release(): void {
    this.#ended = true;
    this.#decompressor?.destroy();
    this.#decompressor = undefined;
    this.#sse = false;
    this.#sseParser = undefined;
    this.#eventStream = undefined;
    this.#skimmer = undefined;
    this.#buffered = undefined;
    this.#batch = [];
    this.#batchTimes = [];
    this.listener = RELEASED;
  }

  /**
   * SSE bytes go to the parser through the bulk filter: the bulk is never copied or decoded. A
   * chunk of whole events goes first to the listener, which may account for it from its bytes
   * (the fragments of a stream whose facts are known): then it is not decoded at all; else, when
   * its events are simple and short (no bulk), they are read from its bytes, without the text
   * decoder and the parser (which hold nothing between whole events).
   */
  #feedSse(bytes: Buffer): void {
    const whole = endsWithBlankLine(bytes);
    if (whole && this.#eventBoundary && this.#takenWhole(bytes)) {
      this.#batching = this.#decompressor === undefined;
      return;
    }
    if (whole && this.#eventBoundary && this.#shortEvents(bytes)) return;
    this.#eventBoundary = whole;
    (this.#sseParser ??= this.#parser()).push(bytes);
  }

  /**
   * The text decoder and SSE parser behind the bulk filter, made at the first chunk that needs
   * them: a stream that arrives as whole short events never does.
   */
  #parser(): SseBulkFilter {
    const sse: EventSourceParser = createParser({
      onEvent: (e) => this.listener.sseEvent({ event: e.event, data: e.data }, this.#arrival),
    });
    const decoder = new TextDecoder();
    return new SseBulkFilter((bytes) => sse.feed(decoder.decode(bytes, { stream: true })));
  }

  #shortEvents(bytes: Buffer): boolean {
    const events = wholeEvents(bytes, BULK_VALUE);
    if (!events) return false;
    for (const event of events) this.listener.sseEvent(event, this.#arrival);
    return true;
  }

  #takenWhole(bytes: Buffer): boolean {
    try {
      return this.listener.sseChunk?.(bytes, this.#arrival) === true;
    } catch (err) {
      diag.debug('llm-prism: wire tap callback failed', err);
      return false;
    }
  }

  #finish(at: number): void {
    if (this.#ended) return;
    const listener = this.listener;
    const buffered = this.#buffered;
    const skimmed = this.#skimmer !== undefined;
    const compressed = !this.#skimsBody;
    this.#release();
    if (buffered) {
      let text: string | undefined;
      try {
        const bytes = Buffer.concat(buffered);
        text = (skimmed ? bytes : withoutBulk(compressed ? decompressSync(this.#encoding, bytes) : bytes)).toString('utf8');
      } catch (err) {
        // The client's own decompression fails on it too: the application gets no answer.
        diag.debug('llm-prism: response body decompression failed', err);
      }
      this.#guard(() => listener.body(text, at));
    }
    listener.end(at);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      diag.debug('llm-prism: wire tap callback failed', err);
    }
  }
}
