import { AsyncLocalStorage } from 'node:async_hooks';
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
 *    created in another SDK call's scope), the oldest running SDK call that expects one (a FIFO
 *    queue sends the oldest first) — the call in scope is answered or has its attempt in flight,
 *    so the request cannot be its;
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
      running.delete(store);
      throw err;
    }
    const settled = settledPromiseOf(result);
    if (settled) {
      const done = () => {
        running.delete(store);
      };
      settled.then(done, done); // a side branch: the SDK's promise is untouched
    } else {
      running.delete(store); // not a promise we know: the scope alone decides
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

/**
 * The SDK call a request created now is an attempt of (see above), or undefined when no SDK call
 * claims it. `llmRoute`: the request is a POST to an LLM API route. Call it where the request is created.
 */
export function sdkCallOfRequest(llmRoute: boolean, header: RequestTarget['header'] | undefined): CallListener | undefined {
  const scoped = callScope.getStore();
  if (scoped && expecting(scoped)) return scoped;
  if (llmRoute && (scoped !== undefined || sdkRequest(header))) {
    for (const call of running) if (call !== scoped && expecting(call)) return call;
  }
  return scoped;
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
    headers: (status, headers, t) => {
      close();
      if (status < 300) {
        state.answered = true;
        running.delete(call);
      }
      listener.headers(status, headers, t);
    },
    sent: (t) => listener.sent?.(t),
    sseEvent: (event, t) => listener.sseEvent(event, t),
    body: (text, t) => listener.body(text, t),
    end: (t) => listener.end(t),
    paused: (t) => listener.paused?.(t),
    resumed: (t) => listener.resumed?.(t),
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
