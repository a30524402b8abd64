/**
 * Every attribute, metric, span and event name the instrumentation emits, as constants
 * (docs/conventions.md explains each; a test checks that every value here is listed there).
 *
 * - `gen_ai.*`: OpenTelemetry GenAI semantic conventions. They are still incubating, so they are
 *   copied here instead of being imported from `@opentelemetry/semantic-conventions/incubating`,
 *   whose names may change in any minor release. Names follow that package's
 *   (`ATTR_GEN_AI_REQUEST_MODEL` = `gen_ai.request.model`).
 * - `error.type`, `server.*`, `http.response.status_code`: stable conventions, the same values as
 *   `@opentelemetry/semantic-conventions` exports (copied so the package has no dependency on it).
 * - `llm.*`: LLM Prism's own phase, stream, retry, rate-limit and prompt-cache attributes.
 */

// ---- GenAI semantic conventions (incubating) ------------------------------------------------

/** `chat` or `generate_content`. */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
/** `openai`, `anthropic`, `gcp.gemini`, `azure.ai.openai`, `groq`, … (see provider-name.ts). */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id' as const;
/** string[], exactly as the provider sent them. */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons' as const;
/** Seconds (`llm.ttft_ms` ÷ 1000). */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk' as const;
/** All prompt tokens, cached ones included. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens' as const;
/**
 * Same value as `gen_ai.usage.cache_creation.input_tokens`, under the name some backends read.
 * Not a semantic-conventions name.
 */
export const ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = 'gen_ai.usage.cache_write.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens' as const;
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;
/** Opt-in content capture only (JSON string). */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages' as const;
/** Opt-in content capture only (JSON string). */
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages' as const;
/** On `llm.tool_call` spans. */
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name' as const;
/** On `llm.tool_call` spans. */
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id' as const;
/** On `llm.tool_call` spans: `function` (client-side tool, run by the application) or `extension` (server-side tool, run by the provider). */
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type' as const;
/** On `gen_ai.client.token.usage` points: `input` or `output`. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type' as const;

export const GEN_AI_TOOL_TYPE_VALUE_FUNCTION = 'function' as const;
export const GEN_AI_TOOL_TYPE_VALUE_EXTENSION = 'extension' as const;
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat' as const;
export const GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT = 'generate_content' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_OPENAI = 'openai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC = 'anthropic' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI = 'gcp.gemini' as const;
// Further well-known `gen_ai.provider.name` values, named from the request's host, path and headers (provider-name.ts).
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI = 'azure.ai.openai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE = 'azure.ai.inference' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI = 'gcp.vertex_ai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK = 'aws.bedrock' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_GROQ = 'groq' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK = 'deepseek' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_X_AI = 'x_ai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI = 'mistral_ai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY = 'perplexity' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_COHERE = 'cohere' as const;
export const GEN_AI_TOKEN_TYPE_VALUE_INPUT = 'input' as const;
export const GEN_AI_TOKEN_TYPE_VALUE_OUTPUT = 'output' as const;

/** Histogram, seconds. */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
/** Histogram, seconds. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk' as const;
/** Histogram, seconds. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK = 'gen_ai.client.operation.time_per_output_chunk' as const;
/** Histogram, `{token}`. */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;

// ---- Stable semantic conventions --------------------------------------------------------------

export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
/** On `llm.http.attempt` events. */
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code' as const;

// ---- LLM Prism: spans and events --------------------------------------------------------------

/** Call start → first output chunk (streamed calls with output). */
export const SPAN_NAME_LLM_TTFT = 'llm.ttft' as const;
/** Call start → the first attempt's request on the wire (client start-up: SDK preparation, DNS, connect, TLS). */
export const SPAN_NAME_LLM_CLIENT_SETUP = 'llm.client_setup' as const;
/** End of `llm.client_setup` → response headers of the answering attempt. */
export const SPAN_NAME_LLM_QUEUE = 'llm.queue' as const;
/** First → last output chunk (streamed calls with output). */
export const SPAN_NAME_LLM_DECODE = 'llm.decode' as const;
/** A streamed tool call; the span is named `llm.tool_call {gen_ai.tool.name}`. */
export const SPAN_NAME_LLM_TOOL_CALL = 'llm.tool_call' as const;
/**
 * Call start → the moment the call was seen still without output at its TTFT deadline: exported
 * then, while the call goes on (a hang report; ttft-deadline.ts).
 */
export const SPAN_NAME_LLM_TTFT_DEADLINE = 'llm.ttft_deadline' as const;
/** One HTTP attempt, an event on `llm.queue`. */
export const EVENT_LLM_HTTP_ATTEMPT = 'llm.http.attempt' as const;

// ---- LLM Prism: call span attributes ----------------------------------------------------------

/** ms: call start → the first attempt's request on the wire. */
export const ATTR_LLM_CLIENT_SETUP_MS = 'llm.client_setup_ms' as const;
/** ms: request on the wire → response headers of the answering attempt. */
export const ATTR_LLM_QUEUE_MS = 'llm.queue_ms' as const;
/** ms: call start → first output chunk. */
export const ATTR_LLM_TTFT_MS = 'llm.ttft_ms' as const;
/** ms: `llm.ttft_ms − llm.client_setup_ms − llm.queue_ms`. */
export const ATTR_LLM_PREFILL_MS = 'llm.prefill_ms' as const;
/** ms: first → last output chunk. */
export const ATTR_LLM_DECODE_MS = 'llm.decode_ms' as const;
/** ms: sum of streamed tool-call block durations. */
export const ATTR_LLM_TOOL_CALL_MS = 'llm.tool_call_ms' as const;
export const ATTR_LLM_STREAM_CHUNKS = 'llm.stream.chunks' as const;
export const ATTR_LLM_STREAM_GAP_P50_MS = 'llm.stream.gap_p50_ms' as const;
export const ATTR_LLM_STREAM_GAP_P95_MS = 'llm.stream.gap_p95_ms' as const;
export const ATTR_LLM_STREAM_GAP_MAX_MS = 'llm.stream.gap_max_ms' as const;
export const ATTR_LLM_DECODE_TOKENS_PER_SECOND = 'llm.decode.tokens_per_second' as const;
/**
 * true when the response's socket was paused because the application had not read the body (the
 * client's buffer, ~64 KiB, was full): arrivals after that are bounded by the application's reads.
 * Absent otherwise.
 */
export const ATTR_LLM_STREAM_BACKPRESSURE = 'llm.stream.backpressure' as const;
/** ms: call start → the first pause (the arrival of the chunk that filled the buffer). */
export const ATTR_LLM_STREAM_BACKPRESSURE_START_MS = 'llm.stream.backpressure_start_ms' as const;
/** ms: summed pauses, each from the chunk that filled the buffer to the next arrival (or the end). */
export const ATTR_LLM_STREAM_BACKPRESSURE_MS = 'llm.stream.backpressure_ms' as const;
/** On `llm.ttft` / `llm.decode`: true when the phase ends after a pause, so it measures the application's reads. */
export const ATTR_LLM_READ_PACED = 'llm.read_paced' as const;
/** true when the call had no output at its TTFT deadline and its `llm.ttft_deadline` span was exported; absent otherwise. */
export const ATTR_LLM_TTFT_DEADLINE_EXCEEDED = 'llm.ttft_deadline_exceeded' as const;
/**
 * Set on another instrumentation's GenAI CLIENT span around or inside an LLM Prism call span
 * (`@ai-sdk/otel`'s `chat` span, the Anthropic SDK's own span): the LLM Prism call span's id. That
 * span measures the model request, so storage takes it as the call, not both.
 */
export const ATTR_LLM_MEASURED_BY = 'llm.measured_by' as const;
/** See the `LLM_OUTCOME_VALUE_*` constants. */
export const ATTR_LLM_OUTCOME = 'llm.outcome' as const;
export const ATTR_LLM_ATTEMPTS = 'llm.attempts' as const;
export const ATTR_LLM_RETRIES = 'llm.retries' as const;
export const ATTR_LLM_RATE_LIMITED_ATTEMPTS = 'llm.rate_limited_attempts' as const;
export const ATTR_LLM_RATELIMIT_REQUESTS_LIMIT = 'llm.ratelimit.requests.limit' as const;
export const ATTR_LLM_RATELIMIT_REQUESTS_REMAINING = 'llm.ratelimit.requests.remaining' as const;
export const ATTR_LLM_RATELIMIT_REQUESTS_RESET_S = 'llm.ratelimit.requests.reset_s' as const;
export const ATTR_LLM_RATELIMIT_TOKENS_LIMIT = 'llm.ratelimit.tokens.limit' as const;
export const ATTR_LLM_RATELIMIT_TOKENS_REMAINING = 'llm.ratelimit.tokens.remaining' as const;
export const ATTR_LLM_RATELIMIT_TOKENS_RESET_S = 'llm.ratelimit.tokens.reset_s' as const;
export const ATTR_LLM_RATELIMIT_INPUT_TOKENS_LIMIT = 'llm.ratelimit.input_tokens.limit' as const;
export const ATTR_LLM_RATELIMIT_INPUT_TOKENS_REMAINING = 'llm.ratelimit.input_tokens.remaining' as const;
export const ATTR_LLM_RATELIMIT_INPUT_TOKENS_RESET_S = 'llm.ratelimit.input_tokens.reset_s' as const;
export const ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_LIMIT = 'llm.ratelimit.output_tokens.limit' as const;
export const ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING = 'llm.ratelimit.output_tokens.remaining' as const;
export const ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_RESET_S = 'llm.ratelimit.output_tokens.reset_s' as const;
/** 0–1: min(remaining ÷ limit) over every limit kind present. */
export const ATTR_LLM_RATELIMIT_HEADROOM = 'llm.ratelimit.headroom' as const;
/** `hit`, `partial`, `write`, `miss`, `none`. */
export const ATTR_LLM_CACHE_STATE = 'llm.cache.state' as const;
/** `cold`, `expired`, `evicted`, `prefix_changed`. */
export const ATTR_LLM_CACHE_MISS_REASON = 'llm.cache.miss_reason' as const;
/** `tools`, `system`, `messages[3]`. */
export const ATTR_LLM_CACHE_BREAK_AT = 'llm.cache.break_at' as const;
export const ATTR_LLM_CACHE_PREFIX_HASH = 'llm.cache.prefix_hash' as const;
/** Fingerprint of the whole prompt: the duplicate-call check of docs/cost.md. */
export const ATTR_LLM_PROMPT_HASH = 'llm.prompt.hash' as const;
/** Set by the application with `withLlmContext({ route })`. */
export const ATTR_LLM_ROUTE = 'llm.route' as const;

// ---- LLM Prism: `llm.http.attempt` event attributes -------------------------------------------

/** 1-based attempt number. */
export const ATTR_LLM_ATTEMPT = 'llm.attempt' as const;
/** The `retry-after` header, in seconds. */
export const ATTR_LLM_RETRY_AFTER_S = 'llm.retry_after_s' as const;

// ---- LLM Prism: `llm.outcome` values ----------------------------------------------------------

export const LLM_OUTCOME_VALUE_SUCCESS = 'success' as const;
export const LLM_OUTCOME_VALUE_TRUNCATED = 'truncated' as const;
export const LLM_OUTCOME_VALUE_REFUSED = 'refused' as const;
export const LLM_OUTCOME_VALUE_FILTERED = 'filtered' as const;
export const LLM_OUTCOME_VALUE_ERROR = 'error' as const;
export const LLM_OUTCOME_VALUE_ABORTED = 'aborted' as const;
