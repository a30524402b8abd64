/**
 * Taps undici's diagnostics_channel events so that every timestamp is the arrival time of bytes
 * from the network, whether or not (and whenever) the application reads the body.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import zlib from 'node:zlib';
import { diag } from '@opentelemetry/api';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { AttemptListener, CallListener } from './types.ts';

/** The call whose SDK code is running; undici requests created in it are its attempts. */
export const callScope = new AsyncLocalStorage<CallListener>();

/** Non-streamed bodies larger than this are not decoded (usage would be lost, nothing else). */
const MAX_BUFFERED_BODY = 8 * 1024 * 1024;

interface UndiciMessage {
  request: object;
  response?: { statusCode: number; headers: Buffer[] };
  chunk?: Buffer;
  error?: unknown;
}

function headerMap(raw: Buffer[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const prev = map.get(name);
    map.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return map;
}

type Decompressor = zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | zlib.ZstdDecompress;

function createDecompressor(encoding: string | undefined): Decompressor | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
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
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    case 'zstd':
      return zlib.zstdDecompressSync(body);
    default:
      return body;
  }
}

/** Decodes one response body and forwards it to the attempt's listener. */
class ResponseReader {
  readonly listener: AttemptListener;
  #sse: EventSourceParser | undefined;
  #decoder = new TextDecoder();
  #decompressor: Decompressor | undefined;
  #encoding: string | undefined;
  #buffered: Buffer[] | undefined;
  #bufferedBytes = 0;
  /** Arrival time of the bytes being parsed right now. */
  #arrival = 0;
  #ended = false;

  constructor(listener: AttemptListener) {
    this.listener = listener;
  }

  headers(status: number, headers: ReadonlyMap<string, string>, at: number): void {
    this.listener.headers(status, headers, at);
    this.#encoding = headers.get('content-encoding');
    if (/^text\/event-stream\b/i.test(headers.get('content-type') ?? '')) {
      this.#sse = createParser({
        onEvent: (e) => this.listener.sseEvent({ event: e.event, data: e.data }, this.#arrival),
      });
      this.#decompressor = createDecompressor(this.#encoding);
      // Decompressed output is attributed to the arrival of the latest compressed bytes.
      this.#decompressor?.on('data', (data: Buffer) => this.#guard(() => this.#feedSse(data)));
      this.#decompressor?.on('error', (err) => diag.debug('llm-prism: SSE decompression failed', err));
    } else {
      this.#buffered = [];
    }
  }

  chunk(chunk: Buffer, at: number): void {
    this.#arrival = at;
    if (this.#sse) {
      if (this.#decompressor) this.#decompressor.write(chunk);
      else this.#feedSse(chunk);
    } else if (this.#buffered) {
      this.#bufferedBytes += chunk.length;
      if (this.#bufferedBytes > MAX_BUFFERED_BODY) this.#buffered = undefined;
      else this.#buffered.push(chunk);
    }
  }

  end(at: number): void {
    if (this.#decompressor) {
      // The decompressor emits its last output asynchronously; end the attempt after it.
      this.#decompressor.once('end', () => this.#guard(() => this.#finish(at)));
      this.#decompressor.end();
      return;
    }
    this.#finish(at);
  }

  error(error: unknown, at: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#decompressor?.destroy();
    this.listener.error(error, at);
  }

  #feedSse(bytes: Buffer): void {
    this.#sse!.feed(this.#decoder.decode(bytes, { stream: true }));
  }

  #finish(at: number): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#buffered) {
      this.listener.body(decompressSync(this.#encoding, Buffer.concat(this.#buffered)).toString('utf8'), at);
    }
    this.listener.end(at);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      diag.debug('llm-prism: wire tap callback failed', err);
    }
  }
}

const readers = new WeakMap<object, ResponseReader>();

/** Runs a diagnostics_channel callback so that no failure of ours reaches the request. */
function safely(handler: (message: UndiciMessage, at: number) => void) {
  return (message: unknown) => {
    const at = performance.now();
    try {
      handler(message as UndiciMessage, at);
    } catch (err) {
      diag.debug('llm-prism: wire tap callback failed', err);
    }
  };
}

let installed = false;

/** Subscribes to undici's request events once per process. */
export function installWireTap(): void {
  if (installed) return;
  installed = true;
  diagnosticsChannel.subscribe(
    'undici:request:create',
    safely(({ request }, at) => {
      const call = callScope.getStore();
      if (call) readers.set(request, new ResponseReader(call.attempt(at)));
    }),
  );
  // From here on the async context may be another request's (keep-alive sockets): use the map.
  diagnosticsChannel.subscribe(
    'undici:request:headers',
    safely(({ request, response }, at) => {
      if (response) readers.get(request)?.headers(response.statusCode, headerMap(response.headers), at);
    }),
  );
  diagnosticsChannel.subscribe(
    'undici:request:bodyChunkReceived',
    safely(({ request, chunk }, at) => {
      if (chunk) readers.get(request)?.chunk(chunk, at);
    }),
  );
  diagnosticsChannel.subscribe(
    'undici:request:trailers',
    safely(({ request }, at) => readers.get(request)?.end(at)),
  );
  diagnosticsChannel.subscribe(
    'undici:request:error',
    safely(({ request, error }, at) => readers.get(request)?.error(error, at)),
  );
}
