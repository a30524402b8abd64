/**
 * The package's public types: the instrumentation's configuration and what its hooks receive.
 * Everything the wire tap, the provider adapters and the recorder share internally lives in
 * internal-types.ts and is not exported.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { ProviderId } from './formats/ids.ts';

/** What the `requestHook` learns about a call, right after its span started and before the SDK sends anything. */
export interface LlmRequestHookInfo {
  /** `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`, `azure.ai.openai`, `groq`, … (docs/conventions.md). */
  provider: string;
  /** `gen_ai.operation.name`: `chat` (OpenAI, Anthropic) or `generate_content` (Gemini). */
  operation: string;
  /**
   * The SDK method that started the call: `chat.completions.create`, `responses.create`,
   * `messages.create`, `models.generateContent` or `models.generateContentStream` (the helpers
   * built on them, such as `messages.stream()`, report the method they call).
   */
  method: string;
  /** `gen_ai.request.model`: the `model` request parameter as passed. */
  model: string | undefined;
  /** `gen_ai.request.stream`. */
  stream: boolean;
  /**
   * The request parameters exactly as the application passed them to the SDK method. Read them;
   * do not modify them (the SDK has not serialized them yet). For a call recognised on the wire:
   * the request body as sent (parsed JSON), or undefined when the body could not be seen.
   */
  params: unknown;
  /**
   * `wire` when a request made outside the patched SDKs (plain `fetch`, another client) was
   * recognised as an LLM call by its route and body (`method` then names the SDK method with the
   * same request shape); absent when a patched SDK method started the call.
   */
  source?: 'wire';
}

/** How a call ended (`llm.outcome`; docs/conventions.md). */
export type LlmOutcome = 'success' | 'truncated' | 'refused' | 'filtered' | 'error' | 'aborted';

/** Token usage as the provider reported it; absent fields were not reported. */
export interface LlmTokenUsage {
  /** All prompt tokens, cached ones included (`gen_ai.usage.input_tokens`). */
  inputTokens?: number;
  /** Output tokens, reasoning included (`gen_ai.usage.output_tokens`). */
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/**
 * What the `responseHook` learns about a finished call: called once per call, when the response
 * body has arrived completely, the call failed for good (after the SDK's retries) or was aborted —
 * after every attribute and the status are set on the span and right before it ends.
 */
export interface LlmResponseHookInfo {
  /** The same object the request hook received. */
  request: LlmRequestHookInfo;
  outcome: LlmOutcome;
  /** `error.type`, set when the outcome is `error`. */
  errorType?: string;
  /** The failure the SDK saw (final HTTP error, dropped connection, abort), if any. */
  error?: unknown;
  /** Finish reasons exactly as the provider sent them (`gen_ai.response.finish_reasons`). */
  finishReasons: string[];
  usage: LlmTokenUsage;
  /** Call start → end in milliseconds (the call span's duration). */
  durationMs: number;
  /** The call span's attributes at this point (`gen_ai.*`, `llm.*`; see the `ATTR_*` constants). */
  attributes: Readonly<Attributes>;
}

/** Adds to the call span when a call starts. Runs synchronously inside the SDK method; keep it cheap. */
export type LlmRequestHook = (span: Span, info: LlmRequestHookInfo) => void;

/** Adds to the call span when a call ends, before the span ends. */
export type LlmResponseHook = (span: Span, info: LlmResponseHookInfo) => void;

/** The prompt-cache classifier's view of the providers (`llm.cache.*`). */
export interface PromptCacheOptions {
  /**
   * TTLs in ms: each provider's default (5 min each) and the lifetimes a request can ask for
   * (Anthropic `cache_control.ttl: "1h"`; `30m`, `12h`), by provider id (`openai`, `anthropic`,
   * `gemini`) or lifetime; a number sets every provider's default.
   */
  ttlMs?: number | Partial<Record<ProviderId | '30m' | '1h' | '12h', number>>;
  /** Smallest prefix the provider caches, in estimated tokens, by provider id; a number sets every provider's. Default 1024 for every provider. */
  minTokens?: number | Partial<Record<ProviderId, number>>;
  /** Bound of the classifier's memory (prefixes and conversations). Default 100 000. */
  maxPrefixes?: number;
}

export interface LlmPrismInstrumentationConfig extends InstrumentationConfig {
  /**
   * Record prompt and completion text (`gen_ai.input.messages` / `gen_ai.output.messages`).
   * Default: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` as read when the
   * instrumentation is constructed, else false. A value given here wins over the environment.
   */
  captureMessageContent?: boolean;
  /** See {@link PromptCacheOptions}. */
  promptCache?: PromptCacheOptions;
  /**
   * Recognise LLM calls made outside the patched SDKs (plain `fetch`, the Vercel AI SDK,
   * LangChain.js, any client on undici or node:http) by their route and request body. Default:
   * true unless `LLM_PRISM_WIRE_CALLS=false` was set when the instrumentation was constructed; a
   * value given here wins over the environment.
   */
  wireCalls?: boolean;
  /**
   * Hangs made visible while they hang: a call that has had no output (streamed: no first output
   * chunk; not streamed: no answer) this many milliseconds after it started exports an
   * `llm.ttft_deadline` span at once, which the SLO rollups count as a bad TTFT (and completion)
   * event for every threshold below the wait (docs/slo.md, "Hangs"). Set it at least as large as
   * the largest TTFT threshold of the SLOs that watch the service; `0` turns the reports off.
   * Default: `LLM_PRISM_TTFT_DEADLINE_MS` as read when the instrumentation is constructed, else
   * 60 000 (one minute). A value given here wins over the environment; an unusable one (negative,
   * not a number, over 2^31 − 1) is reported through `diag` and the default is used.
   */
  ttftDeadlineMs?: number;
  /**
   * Called with each call span right after it started, before the SDK sends the request. Failures
   * are caught and logged (`diag`); they never reach the application or the span.
   */
  requestHook?: LlmRequestHook;
  /**
   * Called with each call span right before it ends, with the call's outcome. Failures are caught
   * and logged (`diag`); the span still ends and the SDK's result is untouched.
   */
  responseHook?: LlmResponseHook;
}
