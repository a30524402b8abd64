/**
 * Call groups: a client's own retry loop (the Vercel AI SDK's `retryWithExponentialBackoff`,
 * `@ai-sdk/provider-utils` 4–5, used by `ai` 6 and 7) runs in a group. Requests of the loop are
 * recognised on the wire (wire-calls.ts), and the group makes them one call:
 *
 * - the first LLM request recognised in the group opens the call (under the context active then:
 *   the AI SDK's `doStream` / `doGenerate` span when its telemetry is on);
 * - a request made while the group's call has failed and not been answered (an error status, a
 *   connection failure) is the retry: one more attempt of that call, inside `llm.queue`;
 * - a request made after the call was answered opens the next call (a new model request);
 * - the call ends with the response that answered it, or — when the loop gives up — with its last
 *   failure, at the moment the loop rejected.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallListener } from './internal-types.ts';

/** A call a group can extend with retries (CallRecorder). */
export interface GroupableCall extends CallListener {
  /** The call failed (its last attempt) and no attempt answered: a new request is a retry. */
  awaitingRetry(): boolean;
  /** The client gave up: end the call with its last failure (no-op once ended). */
  gaveUp(error: unknown): void;
}

export class CallGroup {
  #call: GroupableCall | undefined;

  /** The call a request created now retries, if any. */
  retrying(): CallListener | undefined {
    return this.#call?.awaitingRetry() ? this.#call : undefined;
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
      const group = new CallGroup();
      const result = callGroup.run(group, () => retry.call(this, f));
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        // A side branch: the caller's promise and its rejection stay as they were.
        (result as Promise<unknown>).then(undefined, (err: unknown) => {
          try {
            group.failed(err);
          } catch {
            // never reaches the application
          }
        });
      }
      return result;
    };
  };
}
