/** How a call ended, in the `llm.outcome` vocabulary of docs/conventions.md. */

import type { LlmOutcome } from './types.ts';

export type Outcome = LlmOutcome;

// Finish / stop reasons of every supported provider, as each sends them.
const TRUNCATED = new Set(['length', 'max_tokens', 'max_output_tokens', 'MAX_TOKENS', 'model_context_window_exceeded']);
const FILTERED = new Set(['content_filter', 'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);
const REFUSED = new Set(['refusal']);

/** The outcome implied by the finish reasons of a call that completed on the wire. */
export function outcomeOfFinish(reasons: readonly string[]): Outcome | undefined {
  if (reasons.some((r) => FILTERED.has(r))) return 'filtered';
  if (reasons.some((r) => REFUSED.has(r))) return 'refused';
  if (reasons.some((r) => TRUNCATED.has(r))) return 'truncated';
  return undefined;
}

/** True for the errors fetch and the SDKs raise when the application aborts a request. */
export function isAbortError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'AbortError' || error.constructor.name === 'APIUserAbortError';
}

/** `error.type` for a failure: the HTTP status when there is one, else a code or class name. */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '_OTHER';
  const { status, code } = error as { status?: unknown; code?: unknown };
  if (typeof status === 'number') return String(status);
  if (typeof code === 'string' && code.length > 0) return code;
  return error instanceof Error ? error.constructor.name : '_OTHER';
}
