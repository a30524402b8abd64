/**
 * What the prompt cache needs of a request, kept at call start without delaying the request.
 *
 * The application may change its params object once the SDK method returned (push the answer
 * onto `messages`, edit a message for the next turn), so the request as called must be kept; but
 * cutting it into segments (canonical JSON and SHA-256 of the whole prompt) costs O(prompt bytes)
 * — ~20 ms per MiB — and would delay the call's start and the request itself. `snapshotRequest`
 * instead copies only the structure (plain objects and arrays) and shares every string and
 * every other value: strings are immutable, so the copy is O(objects in the request), not
 * O(bytes) — a 4 MiB prompt in one message is a handful of objects. The segments are computed
 * from the copy later, when the call is classified (`lazySegments`), off the request's path.
 *
 * Not covered: a class instance, typed array or Date inside the params that the application
 * mutates in place after the call (kept by reference; the SDK's JSON body sees it the same way
 * only if it was serialised before the mutation).
 */
import type { PrefixSegment } from './segments.ts';

/** Deeper than any request; bounds a cyclic params object (which JSON.stringify rejects anyway). */
const MAX_DEPTH = 64;

export function snapshotRequest(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = snapshotRequest(value[i], depth + 1);
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  // Class instances (files, streams, Dates, typed arrays) by reference: their shape is theirs.
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = snapshotRequest((value as Record<string, unknown>)[key], depth + 1);
  return copy;
}

/** `compute` run once, on first use (at classification), and its result kept. */
export function lazySegments(compute: () => PrefixSegment[]): () => PrefixSegment[] {
  let segments: PrefixSegment[] | undefined;
  return () => (segments ??= compute());
}
