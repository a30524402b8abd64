export type Provider = 'openai' | 'anthropic' | 'gemini';

/** Provider-neutral finish reason; each provider module maps it to its own value. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'refusal';

export interface ToolCallSpec {
  name: string;
  /** JSON text of the arguments, streamed in `fragments` pieces. */
  arguments: string;
  fragments?: number;
}

export interface Scenario {
  /** Delay before response headers are sent. */
  queueMs?: number;
  /** After headers and the structural events, delay before the first output chunk. */
  prefillMs?: number;
  /** Text output chunks. */
  chunks?: number;
  /** Delay between consecutive output chunks (thinking, text and tool-argument fragments). */
  chunkIntervalMs?: number;
  /** Tokens per text/thinking chunk; each token is a 4-character word. */
  tokensPerChunk?: number;
  /** Streamed after the text. */
  toolCalls?: ToolCallSpec[];
  /** Reasoning chunks before the text. */
  thinkingChunks?: number;
  finishReason?: FinishReason;
  /** Fail the stream once this many output chunks were sent. */
  failAfterChunks?: number;
  failMode?: 'error_event' | 'drop';
  /** The first `count` attempts of a logical request are answered with this error. */
  httpErrors?: { status: 429 | 500 | 503 | 529; count: number; retryAfterS?: number };
  /** Rate-limit headers on every response (OpenAI and Anthropic). */
  rateLimit?: {
    requestsLimit?: number;
    requestsRemaining?: number;
    tokensLimit?: number;
    tokensRemaining?: number;
  };
  /** Anthropic `ping` events during prefill. */
  pings?: boolean;
}

export interface ProviderCacheOptions {
  /** Time to live of an entry, refreshed on every hit (Anthropic: the 5-minute tier). */
  ttlMs?: number;
  /** Entries kept per provider; the least recently used is evicted beyond it. */
  capacity?: number;
  /** Prefixes shorter than this many tokens are never cached. */
  minTokens?: number;
}

/** Top-level fields apply to every provider; the per-provider objects override them. */
export interface CacheOptions extends ProviderCacheOptions {
  openai?: ProviderCacheOptions;
  anthropic?: ProviderCacheOptions;
  gemini?: ProviderCacheOptions;
  /** Milliseconds; lets tests advance time for TTL expiry. */
  clock?: () => number;
}

export interface RequestLogEntry {
  provider: Provider;
  path: string;
  model: string;
  /** 0-based attempt number within one logical request (SDK retries count up). */
  attempt: number;
  status: number;
  /** performance.timeOrigin + performance.now(), in ms. */
  receivedAt: number;
}

/** Token accounting of one prompt, provider-neutral (`input` excludes cache reads and writes). */
export interface PromptUsage {
  /** All prompt tokens, cached or not. */
  total: number;
  cacheRead: number;
  /** Tokens written to the cache, by TTL tier (only Anthropic writes explicitly). */
  cacheWrite5m: number;
  cacheWrite1h: number;
}
