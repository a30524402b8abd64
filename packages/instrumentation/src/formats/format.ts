/**
 * What a provider wire format brings to the instrumentation: one module object per folder of
 * src/formats/, registered in ./index.ts. The core (instrumentation.ts, wire-calls.ts,
 * provider-name.ts, rate-limit.ts, the cache tracker) knows providers only through it.
 */
import type { Span } from '@opentelemetry/api';
import type { CacheModel, PrefixSegment } from '../cache/index.ts';
import type { ProviderAdapter, RequestTarget } from '../internal-types.ts';
import type { Json } from './common.ts';

/** One request shape of a format: an SDK method and the HTTP route of the same request share it. */
export interface Api extends ProviderAdapter {
  /** The SDK method, as the hooks name the request (`chat.completions.create`). */
  method: string;
  /** The request's messages for `gen_ai.input.messages` (semconv shape); asked only when content capture is on. */
  inputMessages(params: Json): unknown[] | undefined;
  /** The cacheable prompt prefix of the request parameters, as the provider orders it; malformed parts are skipped. */
  segments(params: Json): PrefixSegment[];
  /** What of an SDK call's parameters is kept, at its start, for `segments` at its end (default: snapshotRequest, a structural copy). */
  snapshot?(params: unknown): unknown;
}

export interface PatchTarget {
  /** Export that holds the resource class, e.g. `Completions`. */
  exportName: string;
  /** The prototype method that starts one model call. */
  methodName: string;
  /**
   * The public method the application calls, when it is an own property each instance's
   * constructor assigns (`@google/genai`'s `generateContent`) that reaches `methodName` only after
   * work of the SDK's own: the first call made under it starts on its entry (call-entry.ts).
   */
  entryName?: string;
  api: Api;
  /** The client's base URL, read from the resource instance. */
  baseURL(resource: unknown): unknown;
  /** A span the SDK itself passed down in the request options, to parent ours. */
  parentSpan?(options: unknown): Span | undefined;
  /** The resource belongs to an Azure client (openai `AzureOpenAI`): `gen_ai.provider.name` `azure.ai.openai`. */
  azureClient?(resource: unknown): boolean;
  /**
   * The abort signal the application passed, for an SDK that aborts requests of its own too (a
   * timeout through an AbortController): an abort error is then the application's only when this
   * signal fired, and otherwise the SDK's timeout.
   */
  applicationSignal?(params: unknown): AbortSignal | undefined;
  /**
   * The SDK reads every non-streamed answer with `response.json()`, whatever its status or content
   * type (`@google/genai`): an answer that is not JSON, an empty one too, fails the call. Otherwise
   * the Stainless rule applies (see CallRecorderOptions.parsesEveryAnswer).
   */
  parsesEveryAnswer?: boolean;
}

export interface SdkFile {
  /** Module path without extension (each shipped as CommonJS `.js` and ESM `.mjs`). */
  path: string;
  /** Releases in which this file defines the targets' classes. */
  versions: string[];
  targets: PatchTarget[];
}

/** An export of the SDK's own tracing module that is wrapped so the SDK does not trace each call a second time. */
export interface SdkTracing {
  /** Module path without extension. */
  path: string;
  exportName: string;
  wrap(original: unknown): unknown;
}

/** What the instrumentation patches in one SDK, per version range. */
export interface SdkDefinition {
  module: string;
  /** Every supported release (the README's table). */
  versions: string[];
  /** Classes exported by the package entry point (CommonJS or ESM, whichever the app loads). */
  main?: PatchTarget[];
  files: SdkFile[];
  extensions: string[];
  sdkTracing?: SdkTracing;
}

/** A request recognised on the wire by its path (wire-calls.ts). */
export interface Route {
  api: Api;
  /** Streaming decided by the path (Gemini), else by the body's `stream` or the response. */
  stream?: boolean;
  /** The model named by the path (Gemini). */
  pathModel?: string;
  /**
   * The request body as the SDK method's parameters, or undefined when the body is not a request
   * of this API (then the request is no LLM call).
   */
  params(body: unknown): Json | undefined;
}

/** How a provider names its rate-limit headers (→ `llm.ratelimit.*`, rate-limit.ts). */
export interface RateLimitScheme {
  /** Every header of the scheme starts so. */
  prefix: string;
  /** The header of one field (`limit`, `remaining`, `reset`) of one kind (`requests`, `tokens`, `input-tokens`, `output-tokens`). */
  header(field: string, kind: string): string;
  /** Sent by servers of other formats too: a format's own scheme wins when both are present. */
  generic?: boolean;
}

export interface WireFormat<Id extends string = string> {
  /** The provider id: the prompt cache's key, the wire route's and the SDK patch's format. */
  id: Id;
  /**
   * `gen_ai.provider.name` of a request in this format that no host or gateway rule names
   * (provider-name.ts): the format's owner, or what the request's shape says.
   */
  ownerName(url: URL | undefined, target: RequestTarget): string;
  sdks: SdkDefinition[];
  /** The route of a POST to `path` (no trailing slash, any prefix, no query), if it is one of this format's. */
  route(path: string): Route | undefined;
  rateLimit?: RateLimitScheme;
  cache: CacheModel;
}
