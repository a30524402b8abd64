/**
 * Public SDK methods that are own properties of each instance, not prototype methods:
 * `@google/genai`'s `models.generateContent(Stream)` are arrow functions the `Models` constructor
 * assigns, which call the prototype methods the instrumentation patches
 * (`generateContent(Stream)Internal`) only after work of the SDK's own (awaiting callable tools'
 * declarations, MCP set-up, parameter transforms). The call must start when the application calls:
 * a setter on the prototype catches the constructor's assignment and stores a wrapper that notes
 * the entry time; the first patched call made under it starts then (later ones — the SDK's
 * automatic function calling or continuation turns — start on their own entry).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Entry {
  /** `performance.now()` when the application called the public method. */
  at: number;
  taken: boolean;
}

const entries = new AsyncLocalStorage<Entry>();
/** The accessors installed here, so that one is neither installed twice nor removed if not ours. */
const installed = new WeakSet<object>();

/** The entry time of the public method running, for the first patched call made under it (once). */
export function takeEntryTime(): number | undefined {
  const entry = entries.getStore();
  if (!entry || entry.taken) return undefined;
  entry.taken = true;
  return entry.at;
}

/** The method with its entry time noted; its arguments, `this`, result and errors unchanged. */
function timedEntry(method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function entry(this: unknown, ...args: unknown[]): unknown {
    return entries.run({ at: performance.now(), taken: false }, () => Reflect.apply(method, this, args));
  };
}

/**
 * Catches the constructor's `this[name] = fn` (an assignment, so an inherited setter runs) on
 * instances made from now on: the instance gets `fn` wrapped as a plain own property.
 */
export function patchEntry(proto: object, name: string): void {
  // Already ours, or the name is a prototype member of this release: nothing to catch.
  if (Object.getOwnPropertyDescriptor(proto, name)) return;
  function set(this: object, value: unknown): void {
    Object.defineProperty(this, name, {
      value: typeof value === 'function' ? timedEntry(value as (...args: unknown[]) => unknown) : value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  installed.add(set);
  Object.defineProperty(proto, name, { set, get: () => undefined, enumerable: false, configurable: true });
}

/** Removes the setter: instances made from now on get the SDK's method unwrapped. */
export function unpatchEntry(proto: object, name: string): void {
  const current = Object.getOwnPropertyDescriptor(proto, name);
  if (current?.set && installed.has(current.set)) delete (proto as Record<string, unknown>)[name];
}
