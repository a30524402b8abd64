/**
 * Application context for LLM calls made inside a block of work: the conversation they belong to
 * (`gen_ai.conversation.id`, which also links turns for the prompt-cache classifier) and a route.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LlmContext {
  conversationId?: string | undefined;
  route?: string | undefined;
}

const storage = new AsyncLocalStorage<Readonly<LlmContext>>();

/** Runs `fn` with `ctx`; fields not given are inherited from an enclosing `withLlmContext`. */
export function withLlmContext<T>(ctx: LlmContext, fn: () => T): T {
  const merged: LlmContext = { ...storage.getStore() };
  if (ctx.conversationId !== undefined) merged.conversationId = ctx.conversationId;
  if (ctx.route !== undefined) merged.route = ctx.route;
  return storage.run(Object.freeze(merged), fn);
}

/** Runs a function later under the `withLlmContext` active now (none, if none is). */
export function boundToLlmContext(): <T>(fn: () => T) => T {
  const store = storage.getStore();
  return (fn) => (store === undefined ? storage.exit(fn) : storage.run(store, fn));
}

/** The context of the innermost enclosing `withLlmContext`, if any. */
export function currentLlmContext(): Readonly<LlmContext> | undefined {
  return storage.getStore();
}
