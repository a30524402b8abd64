/**
 * Taps the HTTP clients' diagnostics_channel events so that every timestamp is the arrival time of
 * bytes from the network, whether or not (and whenever) the application reads the body: undici's
 * (Node's `fetch`, which the current SDKs use) here, `node:http`'s (node-fetch, which openai 4 and
 * `@anthropic-ai/sdk` < 0.50 use in Node) in http-tap.ts. Both feed a ResponseReader per attempt.
 *
 * `undici:client:sendHeaders` (the request's headers written to a connected socket) is when the
 * request is on the wire: the end of the call's client set-up (`llm.client_setup`).
 *
 * A request an SDK call sends is an attempt of that call: the one in scope, or the running call a
 * queued request was sent for (call-scope.ts); a proxy's `CONNECT` tunnel is nobody's. One created outside
 * every call's scope may be an LLM call of its own (wire-calls.ts): undici publishes the body's
 * bytes as it sends them (`bodyChunkSent`; undici 6: the request's `onBodySent`), the tap copies
 * them and judges the request at `bodySent`, or by the answer when the body was not seen.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { callScope, trackedAttempt, tunnelMethod } from './call-scope.ts';
import { parseURL } from './formats/common.ts';
import { HTTP_TAP_SUBSCRIPTIONS } from './http-tap.ts';
import { safely as safelyOnChannel, type ChannelSubscription } from './tap-channel.ts';
import type { RequestTarget } from './internal-types.ts';
import { RawHeaders, ResponseReader } from './response-reader.ts';
import { TapRequests, type PendingRequest } from './tap-requests.ts';
import { PACKAGE_VERSION } from './version.ts';
import { MAX_PARSED_BODY, ownerOfRequest, registerWireCallStarter, startFromBody, startFromResponse, type WireCallStarter } from './wire-calls.ts';

export { callScope } from './call-scope.ts';

interface UndiciMessage {
  request: object;
  response?: { statusCode: number; headers: Buffer[] };
  chunk?: Buffer;
  error?: unknown;
}

/** What the tap reads of an undici request when it is created. */
interface UndiciRequest {
  method?: string;
  origin?: string | URL;
  path?: string;
  /** `[name, value, …]` (undici 7) or `name: value\r\n…` (older releases). */
  headers?: unknown;
}

/** A pending request's body bytes sent so far (copies), until the body was sent. */
type Pending = PendingRequest & {
  sent: Buffer[];
  bytes: number;
};
const requests = new TapRequests<object, Pending>();
const { readers, pending } = requests;

/** The undici tap's listeners: arrival time first, failures of ours never reach the request. */
const safely = (handler: (message: UndiciMessage, at: number) => void) => safelyOnChannel('wire tap', handler);

/**
 * Node 22 bundles undici 6, which has no `bodyChunkReceived` (nor `bodyChunkSent`) channel: there
 * the tap wraps the request's `onBodySent`. Body chunks received come through the `onData` wrapper
 * on every undici (tapOnData).
 */
const BODY_CHUNK_CHANNEL = Number(process.versions.undici?.split('.')[0]) >= 7;
/** Requests whose chunks come through the `onData` wrapper: the `bodyChunkReceived` channel skips them. */
const wrapped = new WeakSet<object>();
/** Requests whose sent body chunks come through the `onBodySent` wrapper (undici 6, no `bodyChunkSent` channel). */
const wrappedSent = new WeakSet<object>();

/** The request's URL and a header lookup over its headers as undici holds them. */
function targetOf(request: UndiciRequest): { url: URL | undefined; header: RequestTarget['header'] } {
  const { origin, path } = request;
  const url = origin !== undefined && typeof path === 'string' ? parseURL(path, String(origin)) : undefined;
  const raw = request.headers;
  // undici 7's list: its names lower-cased once, at the first lookup (a request is looked up several
  // times), again if headers were added since.
  let names: string[] | undefined;
  const header = (name: string): string | undefined => {
    if (Array.isArray(raw)) {
      if (names?.length !== raw.length) names = raw.map((v: unknown, i) => (i % 2 === 0 ? String(v).toLowerCase() : ''));
      for (let i = 0; i + 1 < raw.length; i += 2) if (names[i] === name) return String(raw[i + 1]);
    } else if (typeof raw === 'string') {
      for (const line of raw.split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
      }
    }
    return undefined;
  };
  return { url, header };
}

/** One body chunk sent for a pending request (copied: undici may reuse the buffer). */
function bodyChunkSent(request: object, chunk: unknown): void {
  const p = pending.get(request);
  if (!p || !(chunk instanceof Uint8Array || typeof chunk === 'string')) return;
  const copy = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
  p.bytes += copy.length;
  if (p.bytes > MAX_PARSED_BODY) p.sent = [];
  else p.sent.push(copy);
}

/** undici 6: wraps the request's `onBodySent` (called with each body chunk written) on this instance. */
function tapOnBodySent(request: object): void {
  const target = request as { onBodySent?: (this: unknown, chunk: unknown) => unknown };
  const original = target.onBodySent;
  if (typeof original !== 'function') return;
  wrappedSent.add(request);
  const onChunk = safely(({ chunk }) => bodyChunkSent(request, chunk));
  target.onBodySent = function onBodySent(this: unknown, chunk: unknown): unknown {
    onChunk({ request, chunk: chunk as Buffer });
    return original.call(this, chunk);
  };
}

/**
 * Wraps the request's `onData` on this instance (every undici: 6 has no `bodyChunkReceived`
 * channel, and only the handler's answer says whether the socket is paused). undici calls it with
 * the body bytes as they come off the socket, and pauses the socket when it returns false (the
 * response body's buffer is full until the application reads): that is reported as backpressure.
 * The original runs with the same arguments and its result (or exception) is returned unchanged.
 */
function tapOnData(request: object): boolean {
  const target = request as { onData?: (this: unknown, chunk: Buffer) => unknown };
  const original = target.onData;
  if (typeof original !== 'function') return false;
  wrapped.add(request);
  let at = 0;
  // The request's reader, once it has one (set once: at creation, or when the request is judged).
  let reader: ResponseReader | undefined;
  const onPaused = safely(() => (reader ??= readers.get(request))?.paused(at));
  // Runs for every body chunk: no object or closure made per chunk, one lookup per request.
  target.onData = function onData(this: unknown, chunk: Buffer): unknown {
    at = performance.now();
    try {
      (reader ??= readers.get(request))?.chunk(chunk, at);
    } catch (err) {
      diag.debug('llm-prism: wire tap callback failed', err);
    }
    const result = original.call(this, chunk);
    if (result === false) onPaused({ request });
    return result;
  };
  return true;
}

/** A body chunk from the `bodyChunkReceived` channel (undici releases whose `onData` the tap does not wrap). */
const chunkReceived = safely(({ request, chunk }, at) => {
  if (chunk) readers.get(request)?.chunk(chunk, at);
});

/** undici's request events and the tap's listeners. */
const UNDICI_SUBSCRIPTIONS: readonly ChannelSubscription[] = [
  [
    'undici:request:create',
    safely(({ request }, at) => {
      const { method } = request as UndiciRequest;
      if (tunnelMethod(method)) return; // a proxy's tunnel: its 200 is the proxy's, not the provider's
      const { url, header } = targetOf(request as UndiciRequest);
      const owner = ownerOfRequest(method, url, header, at);
      if (!owner) return;
      if (owner.call) {
        readers.set(request, new ResponseReader(trackedAttempt(owner.call, at, { url, header })));
      } else {
        // Outside any SDK call: an LLM call of its own when its route and body say so (wire-calls.ts);
        // a queued SDK request: the attempt of the call whose request its body carries.
        pending.set(request, owner.queued ? { queued: owner.queued, sent: [], bytes: 0 } : { candidate: owner.candidate, sent: [], bytes: 0 });
        if (!BODY_CHUNK_CHANNEL) tapOnBodySent(request);
      }
      // Every undici: the wrapper sees the chunks and whether they paused the socket (the channel
      // stands in only where `onData` cannot be wrapped).
      if (!tapOnData(request)) subscribeChunkChannel();
    }),
  ],
  // The request's headers written to a connected socket: it is on the wire (client set-up ends).
  [
    'undici:client:sendHeaders',
    safely(({ request }, at) => {
      const p = pending.get(request);
      if (p) p.onWireAt ??= at;
      else readers.get(request)?.sent(at);
    }),
  ],
  [
    'undici:request:bodyChunkSent',
    safely(({ request, chunk }) => {
      if (!wrappedSent.has(request)) bodyChunkSent(request, chunk);
    }),
  ],
  [
    'undici:request:bodySent',
    safely(({ request }) => {
      const p = pending.get(request);
      if (p?.queued) return requests.assignQueued(request, p, p.sent.length > 0 ? Buffer.concat(p.sent) : undefined);
      // A body too large to parse waits for the response to say what it is.
      if (!p || p.sent.length === 0) return;
      requests.bindWireCall(request, p, callScope.exit(() => startFromBody(p.candidate, Buffer.concat(p.sent))));
    }),
  ],
  // From here on the async context may be another request's (keep-alive sockets): use the map.
  [
    'undici:request:headers',
    safely(({ request, response }, at) => {
      if (!response) return;
      const p = pending.get(request);
      if (!p && !readers.has(request)) return; // not a request of ours: nothing to decode
      const headers = new RawHeaders(response.headers);
      // A body not seen (or not yet sent): the answer's content type decides (a queued request: the rule's fallback).
      if (p?.queued) requests.assignQueued(request, p, undefined);
      else if (p) requests.bindWireCall(request, p, callScope.exit(() => startFromResponse(p.candidate, headers.get('content-type'))));
      readers.get(request)?.headers(response.statusCode, headers, at);
    }),
  ],
  ['undici:request:trailers', safely(({ request }, at) => readers.get(request)?.end(at))],
  [
    'undici:request:error',
    safely(({ request, error }, at) => {
      const p = pending.get(request);
      // A queued request failed before its body was sent: still an attempt of one waiting call.
      if (p?.queued) requests.assignQueued(request, p, undefined);
      else pending.delete(request); // failed before anything said it was an LLM call
      readers.get(request)?.error(error, at);
    }),
  ],
];

/**
 * Every body chunk of every undici request in the process (the application's other traffic too)
 * is published here, an object made for each while anyone listens: subscribed only once a request
 * of ours could not have its `onData` wrapped, and its time taken only for such a request.
 */
const CHUNK_CHANNEL: ChannelSubscription = [
  'undici:request:bodyChunkReceived',
  (message: unknown) => {
    const request = (message as UndiciMessage | undefined)?.request;
    if (request !== undefined && !wrapped.has(request) && readers.has(request)) chunkReceived(message);
  },
];
let chunkChannel = false;

function subscribeChunkChannel(): void {
  if (chunkChannel || holders === 0) return;
  chunkChannel = true;
  diagnosticsChannel.subscribe(...CHUNK_CHANNEL);
}

const SUBSCRIPTIONS = [...UNDICI_SUBSCRIPTIONS, ...HTTP_TAP_SUBSCRIPTIONS];

/** How many holders (enabled instrumentation instances) currently need the tap. */
let holders = 0;

/** A copy of this package loaded in the process: where it was loaded from, and its version. */
export interface PackageCopy {
  readonly url: string;
  readonly version: string;
}
/**
 * The copy whose tap holds the process, on a registry every copy sees. A second copy (a
 * dependency's own install, a monorepo's duplicate) has its own call scope: the first copy's SDK
 * calls are unknown to it, so its tap would record each of their requests again as a call of its own.
 */
const TAP_OWNER = Symbol.for('@llm-prism/instrumentation:wire-tap-owner');
/** This copy: the folder its modules load from (a package's `dist/`), its version. */
export const THIS_COPY: PackageCopy = Object.freeze({ url: new URL('.', import.meta.url).href, version: PACKAGE_VERSION });
const registry = globalThis as { [TAP_OWNER]?: PackageCopy };

/**
 * Subscribes to undici's and node:http's request events while at least one holder needs them:
 * every enabled instrumentation instance holds the tap once, so disabling one does not blind
 * another, and the last `release()` unsubscribes every channel. The tap serves every call in
 * scope whichever instance started it. `wireCalls` opens the calls recognised on the wire while
 * this hold lasts (the oldest holder's serves). `release` is idempotent. Only one copy of the
 * package holds the tap at a time: while another does, this returns that copy and subscribes nothing.
 */
export function acquireWireTap(wireCalls?: WireCallStarter): (() => void) | { heldBy: PackageCopy } {
  const owner = registry[TAP_OWNER];
  if (owner !== undefined && owner !== THIS_COPY) return { heldBy: owner };
  if (holders++ === 0) {
    registry[TAP_OWNER] = THIS_COPY;
    for (const [name, onMessage] of SUBSCRIPTIONS) diagnosticsChannel.subscribe(name, onMessage);
  }
  const unregister = wireCalls && registerWireCallStarter(wireCalls);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    unregister?.();
    if (--holders === 0) {
      for (const [name, onMessage] of SUBSCRIPTIONS) diagnosticsChannel.unsubscribe(name, onMessage);
      if (chunkChannel) diagnosticsChannel.unsubscribe(...CHUNK_CHANNEL);
      chunkChannel = false;
      delete registry[TAP_OWNER];
    }
  };
}
