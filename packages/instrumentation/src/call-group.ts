/**
 * Call groups: a client's own retry loop runs in a group — the Vercel AI SDK's
 * `retryWithExponentialBackoff` (`@ai-sdk/provider-utils` 4–5, used by `ai` 6 and 7), whose requests
 * are recognised on the wire (wire-calls.ts), and LangChain.js's `AsyncCaller` (p-retry), whose
 * requests are patched SDK calls (`openai`, `@anthropic-ai/sdk`). The group makes them one call:
 *
 * - the first LLM request (or SDK call) in the group opens the call (under the context active then:
 *   the AI SDK's `doStream` / `doGenerate` span when its telemetry is on);
 * - a request (an SDK call) made while the group's call has failed and not been answered (an error status, a
 *   connection failure) is the retry: one more attempt of that call, inside `llm.queue`;
 * - a request made after the call was answered opens the next call (a new model request);
 * - the call ends with the response that answered it, or — when the loop gives up — with its last
 *   failure, at the moment the loop rejected;
 * - the application's abort ends the call at once (the SDK call's rejection, or the loop's, with an
 *   abort error), whatever the loop does next: a loop that does not know the SDK's abort error
 *   (LangChain's with `@anthropic-ai/sdk`) retries with the aborted signal, each try failing unsent,
 *   for up to a minute; those tries stay the ended call's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context } from '@opentelemetry/api';
import { boundToLlmContext } from './context.ts';
import type { CallListener } from './internal-types.ts';

/** A call a group can extend with retries (CallRecorder). */
export interface GroupableCall extends CallListener {
  /** The call failed (its last attempt) and no attempt answered: a new request is a retry. */
  awaitingRetry(): boolean;
  /** The client gave up: end the call with its last failure (no-op once ended). */
  gaveUp(error: unknown): void;
  /** The application aborted the call: it has ended, and what the loop still tries belongs to it. */
  abortedByApplication(): boolean;
}

export class CallGroup {
  #call: GroupableCall | undefined;

  /** The call a request (or an SDK call) started now retries, if any. */
  retrying(): GroupableCall | undefined {
    const call = this.#call;
    return call && (call.awaitingRetry() || call.abortedByApplication()) ? call : undefined;
  }

  /** A call recognised on the wire in this group. */
  opened(call: GroupableCall): void {
    this.#call = call;
  }

  /** The loop rejected: a call still waiting for its retry ends with its last failure. */
  failed(error: unknown): void {
    if (this.#call?.awaitingRetry()) this.#call.gaveUp(error);
  }
}

export const callGroup = new AsyncLocalStorage<CallGroup>();

/**
 * Runs `fn` (a whole retry loop) in a group (a new one by default); when its promise rejects, the
 * group's call still waiting for a retry ends with its last failure. The result is `fn`'s (same
 * value, same error).
 */
export function runInGroup<T>(fn: () => T, group = new CallGroup()): T {
  const result = callGroup.run(group, fn);
  if (result && typeof (result as { then?: unknown }).then === 'function') {
    // A side branch: the caller's promise and its rejection stay as they were.
    (result as unknown as PromiseLike<unknown>).then(undefined, (err: unknown) => {
      try {
        group.failed(err);
      } catch {
        // never reaches the application
      }
    });
  }
  return result;
}

/**
 * A method whose every invocation is one retry loop (LangChain's `AsyncCaller.callWithRetries`,
 * whose function argument is one try). The loop may run its tries in another invocation's async
 * context: with `maxConcurrency`, p-queue starts a queued loop from the one that settled before it,
 * which would make a queued call that loop's retry (and take its conversation and parent span). So
 * each try runs in this invocation's group, under the trace context and `withLlmContext` active
 * where the method was invoked; the application's own async context is left as the loop gives it.
 */
export function groupedMethod(original: (this: unknown, ...args: unknown[]) => unknown): (this: unknown, ...args: unknown[]) => unknown {
  return function retryLoopInGroup(this: unknown, ...args: unknown[]): unknown {
    const group = new CallGroup();
    const at = args.findIndex((arg) => typeof arg === 'function');
    if (at >= 0) {
      const tryOnce = args[at] as (this: unknown, ...a: unknown[]) => unknown;
      const traceContext = context.active();
      const inLlmContext = boundToLlmContext();
      args[at] = function tryInGroup(this: unknown, ...a: unknown[]): unknown {
        return callGroup.run(group, () => context.with(traceContext, () => inLlmContext(() => tryOnce.apply(this, a))));
      };
    }
    return runInGroup(() => original.apply(this, args), group);
  };
}

type RetryFn = (f: () => PromiseLike<unknown>) => Promise<unknown>;
type RetryFactory = (this: unknown, ...args: unknown[]) => RetryFn;

/**
 * `retryWithExponentialBackoff(options)` returns `retry(f)`; the wrapped factory's `retry` runs
 * the whole loop in a new group. The returned promise is the original's (same value, same error).
 */
export function groupedRetry(original: RetryFactory): RetryFactory {
  return function retryWithExponentialBackoff(this: unknown, ...args: unknown[]): RetryFn {
    const retry = original.apply(this, args);
    if (typeof retry !== 'function') return retry;
    return function retryInGroup(this: unknown, f: () => PromiseLike<unknown>): Promise<unknown> {
      return runInGroup(() => retry.call(this, f));
    };
  };
}
