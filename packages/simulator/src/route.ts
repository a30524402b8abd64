import type { PromptCache } from './cache.ts';
import type { Emitter } from './emitter.ts';
import type { OutputTokens, ResolvedScenario } from './scenario.ts';
import type { PromptUsage, Provider } from './types.ts';

export type JsonObject = Record<string, unknown>;

/** Everything a provider needs to answer one accepted request. */
export interface Exchange {
  body: JsonObject;
  model: string;
  scenario: ResolvedScenario;
  prompt: PromptUsage;
  output: OutputTokens;
  /** Seconds since the epoch, for `created` fields. */
  created: number;
}

/** A request the provider would reject with 400 (the message is the provider's wording). */
export class BadRequest extends Error {}

/** One provider endpoint: how it reads a request and how it writes answers and errors. */
export interface Route {
  provider: Provider;
  /** `pathModel`: the model the path names (Gemini's `models/{model}`, an Azure OpenAI deployment). */
  model(body: JsonObject, pathModel: string | undefined): string;
  stream(body: JsonObject): boolean;
  /** Counts the prompt and runs it through the provider's cache model; may throw BadRequest. */
  prompt(body: JsonObject, cache: PromptCache): PromptUsage;
  /** Writes the stream; it sets `out.errorEvents` to the provider's mid-stream error. */
  writeStream(out: Emitter, ex: Exchange): Promise<void>;
  completeBody(ex: Exchange): unknown;
  errorBody(status: number, message?: string): unknown;
  /** Status of a non-streamed answer that fails with `failMode: 'error_event'`. */
  failStatus: number;
  headers(requestId: string, processingMs: number): Record<string, string>;
  /** A stream framed otherwise than SSE (Bedrock's AWS event stream): its content type, and each SSE event the writer sends, framed. */
  streamContentType?: string;
  frame?: (sseEvent: string) => Uint8Array;
}
