/**
 * The wire tap for clients built on `node:http` (node-fetch: openai 4 and `@anthropic-ai/sdk` < 0.50
 * in Node), with the same arrival-time semantics as the undici tap in wire-tap.ts:
 *
 * - `http.client.request.created` is published synchronously at the end of the `ClientRequest`
 *   constructor, so the AsyncLocalStorage store is the caller's: a request created in a call's
 *   scope is one attempt of that call. (`http.client.request.start`, published when the request has
 *   been sent, stands in on a Node without `created`.)
 * - `http.client.request.start` comes once the request has its socket: the request is on the wire
 *   then, or at the socket's `connect` (`secureConnect`) when it is still connecting (whenOnWire);
 *   that ends the call's client set-up (`llm.client_setup`).
 * - `http.client.response.finish` is published in the HTTP parser's `parserOnIncomingClient`, once
 *   the response headers arrived and before the parser pushes any body byte into the
 *   `IncomingMessage`. There the tap wraps that one instance's `push` (the parser hands every
 *   de-chunked body piece to it as it arrives, `null` when the message is complete) and `_destroy`
 *   (dropped connection, abort). Nothing else changes: no listener is added, flowing mode and
 *   backpressure stay the application's, the original methods run with the original arguments and
 *   their results are returned, and the wrappers remove themselves when the body ended. A `push`
 *   that returns false (the response's buffer is full: node:http pauses the socket until the
 *   application reads) is reported to the reader as backpressure.
 * - A request created outside every SDK call's scope that may be an LLM call (wire-calls.ts) has
 *   its `write` and `end` wrapped on the instance in the same way: the originals run first with
 *   the same arguments, the bytes are copied, and at `end()` the body says whether the request is
 *   a call (the wrappers are then removed). An answer arriving first decides by its content type.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { diag } from '@opentelemetry/api';
import { callScope, trackedAttempt, tunnelMethod } from './call-scope.ts';
import type { RequestTarget } from './internal-types.ts';
import { RawHeaders, ResponseReader } from './response-reader.ts';
import { safely as safelyOnChannel, type ChannelSubscription } from './tap-channel.ts';
import { TapRequests, type PendingOwner, type PendingRequest } from './tap-requests.ts';
import { MAX_PARSED_BODY, ownerOfRequest, startFromBody, startFromResponse } from './wire-calls.ts';

interface HttpMessage {
  request: ClientRequest;
  response?: IncomingMessage;
  error?: unknown;
}

/** The `IncomingMessage` methods the parser and the stream machinery call on the instance. */
interface Observed {
  push: (chunk: unknown, encoding?: BufferEncoding) => boolean;
  _destroy: (error: Error | null, callback: (error?: Error | null) => void) => void;
}

/** Requests announced by `http.client.request.created`: `start` must not bind them again. */
const announced = new WeakSet<ClientRequest>();

/** Runs tap code so that no failure of ours reaches the request, outside any call's scope. */
function guard(fn: () => void): void {
  try {
    // Ending a span may export it over HTTP right here: that request belongs to no call.
    callScope.exit(fn);
  } catch (err) {
    diag.debug('llm-prism: node:http tap callback failed', err);
  }
}

function abortError(cause: unknown): Error {
  const error = new Error('The request was aborted', { cause });
  error.name = 'AbortError';
  return error;
}

/** node:http reports an application's `request.abort()` as a connection reset: say it was an abort. */
function failureOf(request: ClientRequest, error: unknown): unknown {
  return (request as { aborted?: boolean }).aborted === true ? abortError(error) : (error ?? new Error('aborted'));
}

/** The request's URL (scheme, `Host` header or host, path) and a lookup of the headers it will send. */
function targetOf(request: ClientRequest): { url: URL | undefined; header: RequestTarget['header'] } {
  const header = (name: string): string | undefined => {
    const value = request.getHeader(name);
    return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);
  };
  let url: URL | undefined;
  try {
    const r = request as ClientRequest & { protocol?: string; host?: string };
    const host = header('host') ?? r.host;
    url = host ? new URL(request.path, `${r.protocol ?? 'http:'}//${host}`) : undefined;
  } catch {
    url = undefined;
  }
  return { url, header };
}

/** A pending request's body bytes the client wrote (copies), until `end()`; `restore` takes the observers off. */
type Pending = PendingRequest & {
  written: Buffer[];
  bytes: number;
  restore: () => void;
};
const requests = new TapRequests<ClientRequest, Pending>((p) => p.restore());
const { readers, pending } = requests;

/** A chunk as `write()` / `end()` take it (string with its encoding, or bytes); anything else is not body. */
function bytesOf(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return undefined;
}

/**
 * Observes what the client writes into a candidate request: `write` and `end` of this one instance
 * are wrapped to copy the body (never delayed, never changed: the originals run first with the
 * same arguments and their results are returned); at `end()` the body decides.
 */
function observeBody(request: ClientRequest, owner: PendingOwner): void {
  type Write = (...args: unknown[]) => unknown;
  const target = request as unknown as { write: Write; end: Write };
  const write = target.write;
  const end = target.end;
  const p: Pending = { ...owner, written: [], bytes: 0, restore: () => {} };
  if (typeof write !== 'function' || typeof end !== 'function') {
    if (p.queued) requests.assignQueued(request, p, undefined);
    return;
  }
  const copy = (chunk: unknown, encoding: unknown) =>
    guard(() => {
      const bytes = typeof chunk === 'function' ? undefined : bytesOf(chunk, encoding);
      if (!bytes) return;
      p.bytes += bytes.length;
      if (p.bytes > MAX_PARSED_BODY) p.written = [];
      else p.written.push(bytes);
    });
  function observedWrite(this: unknown, ...args: unknown[]): unknown {
    const result = Reflect.apply(write, this, args);
    copy(args[0], args[1]);
    return result;
  }
  function observedEnd(this: unknown, ...args: unknown[]): unknown {
    const result = Reflect.apply(end, this, args);
    if (pending.get(request) === p) {
      copy(args[0], args[1]);
      if (p.queued) guard(() => requests.assignQueued(request, p, p.written.length > 0 ? Buffer.concat(p.written) : undefined));
      // A body too large to parse waits for the response to say what it is.
      else if (p.written.length > 0 || p.bytes === 0) guard(() => requests.bindWireCall(request, p, startFromBody(p.candidate, Buffer.concat(p.written))));
    }
    return result;
  }
  p.restore = () => {
    if (target.write === observedWrite) delete (target as Partial<typeof target>).write;
    if (target.end === observedEnd) delete (target as Partial<typeof target>).end;
  };
  const define = (name: 'write' | 'end', value: unknown) =>
    Object.defineProperty(request, name, { value, writable: true, configurable: true, enumerable: false });
  define('write', observedWrite);
  define('end', observedEnd);
  pending.set(request, p);
}

function bind(request: ClientRequest, at: number): void {
  if (readers.has(request) || pending.has(request) || tunnelMethod(request.method)) return;
  const { url, header } = targetOf(request);
  const owner = ownerOfRequest(request.method, url, header, at);
  if (owner?.call) readers.set(request, new ResponseReader(trackedAttempt(owner.call, at, { url, header })));
  // Outside any SDK call: an LLM call of its own when its route and body say so (wire-calls.ts);
  // a queued SDK request: the attempt of the call whose request its body carries.
  else if (owner) observeBody(request, owner.queued ? { queued: owner.queued } : { candidate: owner.candidate });
}

/** The request went onto the wire at `at`: its attempt's client set-up ends. */
function onWire(request: ClientRequest, at: number): void {
  const p = pending.get(request);
  if (p) p.onWireAt ??= at;
  else readers.get(request)?.sent(at);
}

/**
 * `http.client.request.start` comes once the request has its socket, and node:http writes the
 * headers to it at once; a socket still connecting (TLS: still in its handshake) holds them until
 * it is connected, so the request is on the wire at its `connect` (`secureConnect`). A one-time
 * listener for that event is all that is added: it changes nothing for the socket.
 */
function whenOnWire(request: ClientRequest, at: number): void {
  if (!readers.has(request) && !pending.has(request)) return;
  const socket = request.socket as (ClientRequest['socket'] & { encrypted?: boolean; _secureEstablished?: boolean }) | null;
  if (!socket) return; // not seen going out: the attempt's set-up ends at its creation (call-recorder.ts)
  const later = (event: string) => socket.once(event, () => guard(() => onWire(request, performance.now())));
  if (socket.encrypted === true && socket._secureEstablished === false) later('secureConnect');
  else if (socket.connecting) later('connect');
  else onWire(request, at);
}

/** Wraps `push` and `_destroy` of one response so the reader sees its body as it arrives. */
function observe(request: ClientRequest, response: IncomingMessage, reader: ResponseReader): void {
  const target = response as unknown as Observed;
  const push = target.push;
  const destroy = target._destroy;
  if (typeof push !== 'function' || typeof destroy !== 'function') return;
  let done = false;
  const restore = () => {
    done = true;
    if (target.push === observedPush) delete (target as Partial<Observed>).push;
    if (target._destroy === observedDestroy) delete (target as Partial<Observed>)._destroy;
  };
  function observedPush(this: IncomingMessage, ...args: Parameters<Observed['push']>): boolean {
    const at = performance.now();
    const [chunk] = args;
    const body = !done && Buffer.isBuffer(chunk);
    if (!done) {
      if (chunk === null) {
        restore();
        guard(() => reader.end(at));
      } else if (body) {
        guard(() => reader.chunk(chunk, at));
      }
    }
    const result = Reflect.apply(push, this, args) as boolean;
    // false: the response's buffer is over its highWaterMark, node:http pauses the socket.
    if (body && result === false && !done) guard(() => reader.paused(at));
    return result;
  }
  function observedDestroy(this: IncomingMessage, ...args: Parameters<Observed['_destroy']>): void {
    const at = performance.now();
    if (!done) {
      restore();
      guard(() => reader.error(failureOf(request, args[0]), at));
    }
    Reflect.apply(destroy, this, args);
  }
  const define = (name: keyof Observed, value: unknown) =>
    Object.defineProperty(response, name, { value, writable: true, configurable: true, enumerable: false });
  define('push', observedPush);
  define('_destroy', observedDestroy);
}

/** The node:http tap's listeners: arrival time first, failures of ours never reach the request. */
const safely = (handler: (message: HttpMessage, at: number) => void) => safelyOnChannel('node:http tap', handler);

/** node:http's client events and the tap's listeners, subscribed by the wire tap (wire-tap.ts). */
export const HTTP_TAP_SUBSCRIPTIONS: readonly ChannelSubscription[] = [
  [
    'http.client.request.created',
    safely(({ request }, at) => {
      announced.add(request);
      bind(request, at);
    }),
  ],
  [
    'http.client.request.start',
    safely(({ request }, at) => {
      if (!announced.has(request)) bind(request, at);
      whenOnWire(request, at);
    }),
  ],
  // From here on the async context may be another request's (keep-alive sockets): use the map.
  [
    'http.client.response.finish',
    safely(({ request, response }, at) => {
      const p = pending.get(request);
      const headers = response && new RawHeaders(response.rawHeaders);
      // The body was not seen (or not ended yet): the answer's content type decides (a queued request: the rule's fallback).
      if (p?.queued) guard(() => requests.assignQueued(request, p, undefined));
      else if (p && headers) guard(() => requests.bindWireCall(request, p, startFromResponse(p.candidate, headers.get('content-type'))));
      const reader = readers.get(request);
      if (!reader || !response || !headers) return;
      reader.headers(response.statusCode ?? 0, headers, at);
      observe(request, response, reader);
    }),
  ],
  // Failures before the response (refused, reset, timed out, aborted); later ones reach _destroy too.
  [
    'http.client.request.error',
    safely(({ request, error }, at) => {
      const p = pending.get(request);
      // A queued request failed before its body was sent: still an attempt of one waiting call.
      if (p?.queued) guard(() => requests.assignQueued(request, p, undefined));
      else if (p) requests.bindWireCall(request, p, undefined); // failed before anything said it was an LLM call
      const reader = readers.get(request);
      if (reader) guard(() => reader.error(failureOf(request, error), at));
    }),
  ],
];
