/**
 * Taps the HTTP clients' diagnostics_channel events so that every timestamp is the arrival time of
 * bytes from the network, whether or not (and whenever) the application reads the body: undici's
 * (Node's `fetch`, which the current SDKs use) here, `node:http`'s (node-fetch, which openai 4 and
 * `@anthropic-ai/sdk` < 0.50 use in Node) in http-tap.ts. Both feed a ResponseReader per attempt.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { callScope } from './call-scope.ts';
import { HTTP_TAP_SUBSCRIPTIONS, type ChannelSubscription } from './http-tap.ts';
import { headerMap, ResponseReader } from './response-reader.ts';

export { callScope } from './call-scope.ts';

interface UndiciMessage {
  request: object;
  response?: { statusCode: number; headers: Buffer[] };
  chunk?: Buffer;
  error?: unknown;
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

/**
 * Node 22 bundles undici 6, which has no `bodyChunkReceived` channel. There the tap wraps the
 * request's `onData`, which undici calls as body bytes come off the socket (where undici 7
 * publishes that channel), so arrival times hold on both.
 */
const BODY_CHUNK_CHANNEL = Number(process.versions.undici?.split('.')[0]) >= 7;
/** Requests whose chunks come through the wrapper: an npm `undici` 7 there still publishes the channel. */
const wrapped = new WeakSet<object>();

function tapOnData(request: object): void {
  const target = request as { onData?: (this: unknown, chunk: Buffer) => unknown };
  const original = target.onData;
  if (typeof original !== 'function') return;
  wrapped.add(request);
  const onChunk = safely(({ chunk }, at) => {
    if (chunk) readers.get(request)?.chunk(chunk, at);
  });
  target.onData = function onData(this: unknown, chunk: Buffer): unknown {
    onChunk({ request, chunk });
    return original.call(this, chunk);
  };
}

/** undici's request events and the tap's listeners. */
const UNDICI_SUBSCRIPTIONS: readonly ChannelSubscription[] = [
  [
    'undici:request:create',
    safely(({ request }, at) => {
      const call = callScope.getStore();
      if (!call) return;
      readers.set(request, new ResponseReader(call.attempt(at)));
      if (!BODY_CHUNK_CHANNEL) tapOnData(request);
    }),
  ],
  // From here on the async context may be another request's (keep-alive sockets): use the map.
  [
    'undici:request:headers',
    safely(({ request, response }, at) => {
      if (response) readers.get(request)?.headers(response.statusCode, headerMap(response.headers), at);
    }),
  ],
  [
    'undici:request:bodyChunkReceived',
    safely(({ request, chunk }, at) => {
      if (chunk && !wrapped.has(request)) readers.get(request)?.chunk(chunk, at);
    }),
  ],
  ['undici:request:trailers', safely(({ request }, at) => readers.get(request)?.end(at))],
  ['undici:request:error', safely(({ request, error }, at) => readers.get(request)?.error(error, at))],
];

const SUBSCRIPTIONS = [...UNDICI_SUBSCRIPTIONS, ...HTTP_TAP_SUBSCRIPTIONS];

/** How many holders (enabled instrumentation instances) currently need the tap. */
let holders = 0;

/**
 * Subscribes to undici's and node:http's request events while at least one holder needs them:
 * every enabled instrumentation instance holds the tap once, so disabling one does not blind
 * another, and the last `release()` unsubscribes every channel. The tap serves every call in
 * scope whichever instance started it. `release` is idempotent.
 */
export function acquireWireTap(): () => void {
  if (holders++ === 0) {
    for (const [name, onMessage] of SUBSCRIPTIONS) diagnosticsChannel.subscribe(name, onMessage);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) {
      for (const [name, onMessage] of SUBSCRIPTIONS) diagnosticsChannel.unsubscribe(name, onMessage);
    }
  };
}
