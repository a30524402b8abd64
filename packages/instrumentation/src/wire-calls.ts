/**
 * LLM calls recognised on the wire, whatever the client (plain `fetch`, the Vercel AI SDK,
 * LangChain.js, any HTTP library on undici or node:http): a request created **outside** any
 * patched SDK call's scope that is a POST to an LLM API route (a wire format's, formats/) with a body
 * of that API's request shape becomes a call of its own, with that one request as its single
 * attempt. Inside an SDK call (`callScope` set) the request is that call's attempt and nothing
 * here runs, so no call is counted twice.
 *
 * The taps (wire-tap.ts for undici, http-tap.ts for node:http) find a candidate when the request
 * is created — the call starts then, under the context active then — and confirm it from the body
 * (undici: the request's body, synchronously; node:http: the bytes the client wrote, at `end()`),
 * or, when the body cannot be seen (a stream), from the response's content type.
 */
import { context, createContextKey, type Context } from '@opentelemetry/api';
import { callGroup, type CallGroup } from './call-group.ts';
import { callScope, QueuedRequest, sdkCallOfRequest, trackedAttempt, tunnelMethod } from './call-scope.ts';
import { currentLlmContext, type LlmContext } from './context.ts';
import { EVENT_STREAM_TYPE } from './event-stream.ts';
import type { AttemptListener, CallListener, RequestTarget } from './internal-types.ts';
import { isObject, type Json } from './formats/common.ts';
import type { Api } from './formats/format.ts';
import { wireRoute, type WireRoute } from './formats/index.ts';

/** A call recognised on the wire, as the instrumentation opens it. */
export interface WireCall {
  route: WireRoute;
  /** The body as the SDK method's parameters; undefined when the body could not be seen. */
  params: Json | undefined;
  /** The request body as sent (parsed JSON); undefined when not seen. */
  body: unknown;
  stream: boolean;
  target: RequestTarget & { url: URL };
  /** When the request was created (`performance.now()`): the call's start. */
  startTime: number;
  /** The context active when the request was created: the call span's parent. */
  parentContext: Context;
  /** The application's `withLlmContext` when the request was created. */
  app: Readonly<LlmContext> | undefined;
  /** The client's retry loop the request was made in (call-group.ts): its retries are attempts of this call. */
  group?: CallGroup;
}

/** Opens a call for a request recognised on the wire; undefined to leave it alone. Never throws. */
export type WireCallStarter = (call: WireCall) => CallListener | undefined;

/** A request that may be an LLM call: POST to an LLM route, outside any SDK call. */
export interface WireCandidate {
  route: WireRoute;
  target: RequestTarget & { url: URL };
  startTime: number;
  parentContext: Context;
  app: Readonly<LlmContext> | undefined;
  group: CallGroup | undefined;
  starter: WireCallStarter;
}

/** Request bodies larger than this are not parsed: the call is then recognised from the response. */
export const MAX_PARSED_BODY = 8 * 1024 * 1024;

/** The key `@opentelemetry/core`'s `suppressTracing` sets (its exporters send under it). */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** Starters of the enabled instances that recognise wire calls, oldest first; the first one serves. */
const starters: WireCallStarter[] = [];

/** Registers an instance's starter while it is enabled; the returned function unregisters it (idempotent). */
export function registerWireCallStarter(starter: WireCallStarter): () => void {
  starters.push(starter);
  return () => {
    const i = starters.indexOf(starter);
    if (i >= 0) starters.splice(i, 1);
  };
}

/**
 * An SDK call's request that its body assigns (call-scope.ts, rule 2: several running calls wait
 * for one): the tap hands over the body once sent, or undefined when it was not seen.
 */
export interface QueuedAttempt {
  /** The attempt of the call whose request the body carries (undefined: nobody's). */
  assign(body: Uint8Array | string | undefined): AttemptListener | undefined;
}

/** What a request created now is to the instrumentation (see ownerOfRequest). */
export type RequestOwner =
  | { call: CallListener; candidate?: undefined; queued?: undefined }
  | { call?: undefined; candidate: WireCandidate; queued?: undefined }
  | { call?: undefined; candidate?: undefined; queued: QueuedAttempt }
  | undefined;

/**
 * What a request of `api` carries, to tell queued requests apart (call-scope.ts): its input
 * messages as JSON, the same from an SDK method's parameters and from the body it sent. O(prompt):
 * asked only when several calls wait for one request, once per call and request.
 */
export function requestKey(api: Api, params: unknown): string | undefined {
  try {
    return isObject(params) ? JSON.stringify(api.inputMessages(params) ?? null) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a request created now belongs, its route looked up once. First the call it is an attempt
 * of: the SDK call it carries the request of (call-scope.ts: the call in scope, or the running SDK
 * call a queued request was sent for — `queued` when several wait and the body must say which), else the call of the client's retry loop (call-group.ts)
 * that failed and waits for this retry. Otherwise, outside every SDK call's scope, a wire-call
 * candidate: a POST to an LLM route with tracing not suppressed and an instance recognising wire
 * calls. Call it synchronously where the request is created (the async context is the
 * application's); a tunnel (`CONNECT`) belongs to nothing.
 */
export function ownerOfRequest(method: string | undefined, url: URL | undefined, header: RequestTarget['header'], at: number): RequestOwner {
  if (tunnelMethod(method)) return undefined;
  const route = url ? wireRoute(method, url.pathname) : undefined;
  const sdkCall = sdkCallOfRequest(route?.api, header);
  if (sdkCall instanceof QueuedRequest) {
    const queued = sdkCall;
    const target = { url, header };
    // Its body may carry no waiting call's request: then it is a wire call of its own.
    const own = route && url && callScope.getStore() === undefined ? wireCandidate(route, url, header, at) : undefined;
    return {
      queued: {
        assign(body) {
          const params = body === undefined ? undefined : route?.params(parseBody(body));
          const call = queued.owner(params && route ? requestKey(route.api, params) : undefined);
          if (call) return trackedAttempt(call, at, target);
          const wire = own && body !== undefined ? callScope.exit(() => startFromBody(own, body)) : undefined;
          return wire?.attempt(own!.startTime, own!.target);
        },
      },
    };
  }
  if (sdkCall) return { call: sdkCall };
  // Only an LLM request is a retry or a wire call (not, say, a span export made meanwhile).
  if (!url || !route) return undefined;
  const group = callGroup.getStore();
  if (group && starters[0] && !suppressed()) {
    const retried = group.retrying();
    if (retried) return { call: retried };
  }
  if (callScope.getStore() !== undefined) return undefined;
  const candidate = wireCandidate(route, url, header, at);
  return candidate && { candidate };
}

const suppressed = (): boolean => context.active().getValue(SUPPRESS_TRACING_KEY) === true;

/**
 * A wire-call candidate for a POST to an LLM route made now: undefined when no instance
 * recognises wire calls or tracing is suppressed. The context and `withLlmContext` are the
 * application's where the request is created.
 */
function wireCandidate(route: WireRoute, url: URL, header: RequestTarget['header'], at: number): WireCandidate | undefined {
  const starter = starters[0];
  if (!starter || suppressed()) return undefined;
  return { route, target: { url, header }, startTime: at, parentContext: context.active(), app: currentLlmContext(), group: callGroup.getStore(), starter };
}

/** A JSON object body, or undefined (not JSON, not an object, too large to parse). */
function parseBody(bytes: Uint8Array | string): unknown {
  if (bytes.length > MAX_PARSED_BODY) return undefined;
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!/^\s*\{/.test(text.slice(0, 64))) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Opens the call when the body is a request of the candidate's API; else undefined (no LLM call). */
export function startFromBody(candidate: WireCandidate, bytes: Uint8Array | string): CallListener | undefined {
  const body = parseBody(bytes);
  const params = candidate.route.params(body);
  if (!params) return undefined;
  return candidate.starter({
    route: candidate.route,
    params,
    body,
    stream: candidate.route.stream ?? params.stream === true,
    target: candidate.target,
    startTime: candidate.startTime,
    parentContext: candidate.parentContext,
    app: candidate.app,
    group: candidate.group,
  });
}

/**
 * Opens the call of a request whose body could not be seen, from its response: an SSE or JSON
 * answer of the candidate's route is the call (model from the answer); anything else is not. An
 * AWS event stream (Bedrock's) counts as SSE: the reader takes its events as such.
 */
export function startFromResponse(candidate: WireCandidate, contentType: string | undefined): CallListener | undefined {
  const sse = /^text\/event-stream\b/i.test(contentType ?? '') || EVENT_STREAM_TYPE.test(contentType ?? '');
  if (!sse && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType ?? '')) return undefined;
  return candidate.starter({
    route: candidate.route,
    params: undefined,
    body: undefined,
    stream: candidate.route.stream ?? sse,
    target: candidate.target,
    startTime: candidate.startTime,
    parentContext: candidate.parentContext,
    app: candidate.app,
    group: candidate.group,
  });
}
