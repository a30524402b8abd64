/**
 * The wire tap for clients built on `node:http` (node-fetch: openai 4 and `@anthropic-ai/sdk` < 0.50
 * in Node), with the same arrival-time semantics as the undici tap in wire-tap.ts:
 *
 * - `http.client.request.created` is published synchronously at the end of the `ClientRequest`
 *   constructor, so the AsyncLocalStorage store is the caller's: a request created in a call's
 *   scope is one attempt of that call. (`http.client.request.start`, published when the request has
 *   been sent, stands in on a Node without `created`.)
 * - `http.client.response.finish` is published in the HTTP parser's `parserOnIncomingClient`, once
 *   the response headers arrived and before the parser pushes any body byte into the
 *   `IncomingMessage`. There the tap wraps that one instance's `push` (the parser hands every
 *   de-chunked body piece to it as it arrives, `null` when the message is complete) and `_destroy`
 *   (dropped connection, abort). Nothing else changes: no listener is added, flowing mode and
 *   backpressure stay the application's, the original methods run with the original arguments and
 *   their results are returned, and the wrappers remove themselves when the body ended.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { diag } from '@opentelemetry/api';
import { callScope } from './call-scope.ts';
import { headerMap, ResponseReader } from './response-reader.ts';

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

const readers = new WeakMap<ClientRequest, ResponseReader>();
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

function bind(request: ClientRequest, at: number): void {
  const call = callScope.getStore();
  if (call && !readers.has(request)) readers.set(request, new ResponseReader(call.attempt(at)));
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
    if (!done) {
      if (chunk === null) {
        restore();
        guard(() => reader.end(at));
      } else if (Buffer.isBuffer(chunk)) {
        guard(() => reader.chunk(chunk, at));
      }
    }
    return Reflect.apply(push, this, args) as boolean;
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

/** Runs a diagnostics_channel callback so that no failure of ours reaches the request. */
function safely(handler: (message: HttpMessage, at: number) => void) {
  return (message: unknown) => {
    const at = performance.now();
    try {
      handler(message as HttpMessage, at);
    } catch (err) {
      diag.debug('llm-prism: node:http tap callback failed', err);
    }
  };
}

/** A diagnostics_channel subscription: the channel's name and the listener the tap subscribes to it. */
export type ChannelSubscription = readonly [name: string, onMessage: (message: unknown) => void];

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
    }),
  ],
  // From here on the async context may be another request's (keep-alive sockets): use the map.
  [
    'http.client.response.finish',
    safely(({ request, response }, at) => {
      const reader = readers.get(request);
      if (!reader || !response) return;
      reader.headers(response.statusCode ?? 0, headerMap(response.rawHeaders), at);
      observe(request, response, reader);
    }),
  ],
  // Failures before the response (refused, reset, timed out, aborted); later ones reach _destroy too.
  [
    'http.client.request.error',
    safely(({ request, error }, at) => {
      const reader = readers.get(request);
      if (reader) guard(() => reader.error(failureOf(request, error), at));
    }),
  ],
];
