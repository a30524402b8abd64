import { AsyncLocalStorage } from 'node:async_hooks';
import type { Api } from './formats/format.ts';
import type { AttemptListener, CallListener, RequestTarget } from './internal-types.ts';

/**
 * Which call an HTTP request (undici or node:http) is an attempt of.
 *
 * The call whose SDK code is running is the `callScope` store, and a request created in it is
 * normally its attempt. But the async context a request is created in is not always its call's: a
 * fetch wrapper with a queue (a concurrency limiter in a custom `fetch`) sends a queued request
 * later, from whatever context releases the queue — typically the previous call's. So the scope
 * also keeps the calls whose SDK method is running, oldest first, with what each is doing on the
 * wire, and a request goes to:
 *
 * 1. the call in scope when that call expects an attempt (none sent yet, or its last one failed:
 *    the SDK's retry) — the usual case;
 * 2. else, when the request is an SDK's request to an LLM route (it carries the SDK's own headers:
 *    `x-stainless-*` for the Stainless SDKs, `x-goog-api-client` for `@google/genai`; or it was
 *    created in another SDK call's scope), a running SDK call of the route's API that expects one
 *    — the call in scope is answered or has its attempt in flight, so the request cannot be its.
 *    The request's body decides, once sent (a queue releases in any order: FIFO, LIFO, by
 *    priority): the oldest of them whose request carries the same input messages (wire-calls.ts
 *    `requestKey`, computed only then, once per call). A body that carries none of theirs is no
 *    attempt of theirs: an SDK the instrumentation does not patch (`beta.messages`, a second copy
 *    of a client) sent it, and it is a wire call of its own. When the body is not seen (a stream,
 *    too large, an answer or failure before it was sent), the oldest of them (a FIFO queue sends
 *    the oldest first);
 * 3. else the call in scope (today's rule: a non-LLM request of the SDK, a retry the tap did not
 *    see end).
 *
 * Tunnels are no attempts: the taps ignore `CONNECT` (a proxy's tunnel, whose `200` is the proxy's).
 */
interface CallState {
  /** Attempts created and not yet answered nor failed. */
  inFlight: number;
  /** An attempt answered with a success status. */
  answered: boolean;
}

const states = new WeakMap<CallListener, CallState>();
/** Calls whose SDK method is running (until its response promise settles), oldest first. */
const running = new Set<CallListener>();
/** Each SDK call's API and request key (its input messages, see rule 2), the key computed when first asked. */
const requests = new WeakMap<CallListener, { api: Api; key: () => string | undefined }>();

/**
 * What the call's request is and carries, for telling queued requests apart (rule 2); `key` runs
 * at most once, and is let go (with what it reads) once the call no longer runs.
 */
export function describeRequest(call: CallListener, api: Api, key: () => string | undefined): void {
  let known: { key: string | undefined } | undefined;
  requests.set(call, { api, key: () => (known ??= { key: key() }).key });
}

/** The call's SDK method settled or was answered: no queued request is its any more. */
function leave(call: CallListener): void {
  running.delete(call);
  // The scope object may outlive the call (a keep-alive socket created in it): keep no prompt.
  requests.delete(call);
}

function stateOf(call: CallListener): CallState {
  let state = states.get(call);
  if (!state) states.set(call, (state = { inFlight: 0, answered: false }));
  return state;
}

/** The call expects an attempt now: none in flight and none answered. */
function expecting(call: CallListener): boolean {
  const state = states.get(call);
  return state === undefined || (state.inFlight === 0 && !state.answered);
}

/** The promise that settles when the SDK method has its answer (openai's `APIPromise.responsePromise`), if any. */
function settledPromiseOf(result: unknown): Promise<unknown> | undefined {
  const p = (result as { responsePromise?: unknown } | null)?.responsePromise;
  if (p instanceof Promise) return p;
  return result instanceof Promise ? result : undefined;
}

class CallScope extends AsyncLocalStorage<CallListener> {
  /** Runs an SDK method in the call's scope; the call is running until the method's promise settles. */
  override run<R, TArgs extends unknown[]>(store: CallListener, callback: (...args: TArgs) => R, ...args: TArgs): R {
    running.delete(store); // a retry of the client's loop runs the call again: now the newest
    running.add(store);
    let result: R;
    try {
      result = super.run(store, callback, ...args);
    } catch (err) {
      leave(store);
      throw err;
    }
    const settled = settledPromiseOf(result);
    if (settled) {
      const done = () => {
        leave(store);
      };
      settled.then(done, done); // a side branch: the SDK's promise is untouched
    } else {
      leave(store); // not a promise we know: the scope alone decides
    }
    return result;
  }
}

/** The call whose SDK code is running; see above for the requests that are its attempts. */
export const callScope = new CallScope();

/** A request the SDKs build: their own headers say so. */
function sdkRequest(header: RequestTarget['header'] | undefined): boolean {
  return header !== undefined && (header('x-stainless-retry-count') !== undefined || header('x-stainless-lang') !== undefined || header('x-goog-api-client') !== undefined);
}

/** The running SDK calls of `api` other than `scoped` that expect an attempt, oldest first. */
function waiting(scoped: CallListener | undefined, api: Api): CallListener[] {
  const calls: CallListener[] = [];
  for (const call of running) if (call !== scoped && requests.get(call)?.api === api && expecting(call)) calls.push(call);
  return calls;
}

/** An SDK's request created while running calls of its API expect an attempt: its body decides whose it is (rule 2). */
export class QueuedRequest {
  readonly #scoped: CallListener | undefined;
  readonly #api: Api;
  constructor(scoped: CallListener | undefined, api: Api) {
    this.#scoped = scoped;
    this.#api = api;
  }

  /**
   * The call the request is an attempt of, given the key of the body it sent (undefined: not
   * seen); undefined when the body carries no waiting call's request (whose key is known).
   */
  owner(bodyKey: string | undefined): CallListener | undefined {
    const calls = waiting(this.#scoped, this.#api);
    if (calls.length === 0) return this.#scoped;
    if (bodyKey === undefined) return calls[0];
    const keyOf = (call: CallListener) => requests.get(call)?.key();
    return calls.find((call) => keyOf(call) === bodyKey) ?? calls.find((call) => keyOf(call) === undefined);
  }
}

/**
 * The SDK call a request created now is an attempt of (see above), a QueuedRequest when its body
 * must decide, or undefined when no SDK call claims it. `routeApi`: the API of the LLM route the
 * request POSTs to (undefined: none). Call it where the request is created.
 */
export function sdkCallOfRequest(routeApi: Api | undefined, header: RequestTarget['header'] | undefined): CallListener | QueuedRequest | undefined {
  const scoped = callScope.getStore();
  if (scoped && expecting(scoped)) return scoped;
  if (routeApi === undefined || (scoped === undefined && !sdkRequest(header))) return scoped;
  return waiting(scoped, routeApi).length > 0 ? new QueuedRequest(scoped, routeApi) : scoped;
}

/**
 * The call's attempt, followed so that the scope knows whether the call still expects one: in
 * flight from its creation until its answer's headers or its failure.
 */
export function trackedAttempt(call: CallListener, at: number, target?: RequestTarget): AttemptListener {
  const listener = call.attempt(at, target);
  const state = stateOf(call);
  state.inFlight++;
  let open = true;
  const close = () => {
    if (open) {
      open = false;
      state.inFlight--;
    }
  };
  return {
    streamRequested: listener.streamRequested,
    headers: (status, headers, t) => {
      close();
      if (status < 300) {
        state.answered = true;
        leave(call);
      }
      listener.headers(status, headers, t);
    },
    // The body's callbacks as they are (bound): a stream's chunks pass through no extra call.
    sent: listener.sent?.bind(listener),
    sseEvent: listener.sseEvent.bind(listener),
    sseChunk: listener.sseChunk?.bind(listener),
    body: listener.body.bind(listener),
    end: listener.end.bind(listener),
    paused: listener.paused?.bind(listener),
    resumed: listener.resumed?.bind(listener),
    onRelease: listener.onRelease?.bind(listener),
    onDrain: listener.onDrain?.bind(listener),
    error: (error, t) => {
      close();
      listener.error(error, t);
    },
  };
}

/** Methods that are no request to an endpoint: a proxy tunnel (its `200` is the proxy's) — never an attempt. */
export function tunnelMethod(method: string | undefined): boolean {
  return method?.toUpperCase() === 'CONNECT';
}
