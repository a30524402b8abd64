/**
 * What the instrumentation patches in each SDK, per version range. The method that starts one
 * model request lives in a different file depending on the release; each file is named with the
 * versions that define the class there (a later re-export of the same class under the old path
 * must not be patched twice).
 */
import type { Span } from '@opentelemetry/api';
import type { Provider } from './cache/index.ts';
import { sdkCallSpan } from './anthropic-tracing.ts';
import { anthropicMessages } from './providers/anthropic.ts';
import { geminiGenerateContent, geminiStreamGenerateContent } from './providers/gemini.ts';
import { openaiChat, openaiResponses } from './providers/openai.ts';
import type { ProviderAdapter } from './internal-types.ts';

export interface PatchTarget {
  /** Export that holds the resource class, e.g. `Completions`. */
  exportName: string;
  /** The prototype method that starts one model call. */
  methodName: string;
  adapter: ProviderAdapter;
  provider: Provider;
  /** The SDK method, as the prompt-cache classifier names request shapes. */
  method: string;
  /** The client's base URL, read from the resource instance. */
  baseURL(resource: unknown): unknown;
  /** A span the SDK itself passed down in the request options, to parent ours. */
  parentSpan?(options: unknown): Span | undefined;
  /** The resource belongs to an Azure client (openai `AzureOpenAI`): `gen_ai.provider.name` `azure.ai.openai`. */
  azureClient?(resource: unknown): boolean;
}

export interface SdkFile {
  /** Module path without extension (each shipped as CommonJS `.js` and ESM `.mjs`). */
  path: string;
  /** Releases in which this file defines the targets' classes. */
  versions: string[];
  targets: PatchTarget[];
}

export interface SdkDefinition {
  module: string;
  /** Every supported release (the README's table). */
  versions: string[];
  /** Classes exported by the package entry point (CommonJS or ESM, whichever the app loads). */
  main?: PatchTarget[];
  files: SdkFile[];
  extensions: string[];
  /** The SDK's own tracing module (its `resolveOpenTelemetryOptions`), see anthropic-tracing.ts. */
  sdkTracing?: string;
}

/** `_client.baseURL` of a Stainless resource (openai 4–7, `@anthropic-ai/sdk` 0.x–1.x). */
const stainlessBaseURL = (resource: unknown): unknown => (resource as { _client?: { baseURL?: unknown } })._client?.baseURL;

/** openai's `AzureOpenAI` (4.x–7.x) holds the `api-version` it sends as `apiVersion`; `OpenAI` has none. */
function isAzureOpenAI(resource: unknown): boolean {
  const client = (resource as { _client?: { apiVersion?: unknown } })._client;
  return typeof client?.apiVersion === 'string' && client.apiVersion !== '';
}

function geminiBaseURL(resource: unknown): unknown {
  const api = (resource as { apiClient?: { getBaseUrl?: () => unknown } }).apiClient;
  return typeof api?.getBaseUrl === 'function' ? api.getBaseUrl() : undefined;
}

const openaiCompletions: PatchTarget = { exportName: 'Completions', methodName: 'create', adapter: openaiChat, provider: 'openai', method: 'chat.completions.create', baseURL: stainlessBaseURL, azureClient: isAzureOpenAI };
const openaiResponsesCreate: PatchTarget = { exportName: 'Responses', methodName: 'create', adapter: openaiResponses, provider: 'openai', method: 'responses.create', baseURL: stainlessBaseURL, azureClient: isAzureOpenAI };
// `messages.stream()` and `messages.parse()` call `create`.
const anthropicCreate: PatchTarget = { exportName: 'Messages', methodName: 'create', adapter: anthropicMessages, provider: 'anthropic', method: 'messages.create', baseURL: stainlessBaseURL, parentSpan: sdkCallSpan };

export const SDKS: SdkDefinition[] = [
  {
    // 4.x requests go through node-fetch over node:http in Node (http-tap.ts), 5.x on through fetch.
    module: 'openai',
    versions: ['>=4.19.0 <8'],
    extensions: ['.js', '.mjs'],
    files: [
      { path: 'openai/resources/chat/completions', versions: ['>=4.19.0 <4.85.0'], targets: [openaiCompletions] },
      { path: 'openai/resources/chat/completions/completions', versions: ['>=4.85.0 <8'], targets: [openaiCompletions] },
      // The Responses API arrived in 4.87.0.
      { path: 'openai/resources/responses/responses', versions: ['>=4.87.0 <8'], targets: [openaiResponsesCreate] },
    ],
  },
  {
    // 0.14.0 made `client.messages` (with `messages.stream()`) generally available; before it the
    // Messages API was `client.beta.messages` only. < 0.50 uses node-fetch over node:http in Node.
    module: '@anthropic-ai/sdk',
    versions: ['>=0.14.0 <2'],
    extensions: ['.js', '.mjs'],
    files: [
      { path: '@anthropic-ai/sdk/resources/messages', versions: ['>=0.14.0 <0.33.0'], targets: [anthropicCreate] },
      { path: '@anthropic-ai/sdk/resources/messages/messages', versions: ['>=0.33.0 <2'], targets: [anthropicCreate] },
    ],
    sdkTracing: '@anthropic-ai/sdk/internal/tracing',
  },
  {
    // `generateContent(Stream)` are per-instance arrow functions; each model request (also within
    // automatic function calling and continuation) goes through these prototype methods.
    module: '@google/genai',
    versions: ['>=1.0.0 <4'],
    extensions: [],
    main: [
      { exportName: 'Models', methodName: 'generateContentInternal', adapter: geminiGenerateContent, provider: 'gemini', method: 'models.generateContent', baseURL: geminiBaseURL },
      { exportName: 'Models', methodName: 'generateContentStreamInternal', adapter: geminiStreamGenerateContent, provider: 'gemini', method: 'models.generateContentStream', baseURL: geminiBaseURL },
    ],
    files: [],
  },
];

/** A client's retry helper whose whole loop runs in a call group (call-group.ts). */
export interface RetryLoop {
  module: string;
  versions: string[];
  /** The exported factory: `retryWithExponentialBackoff(options)` returns `retry(f)`. */
  exportName: string;
}

export const RETRY_LOOPS: RetryLoop[] = [
  {
    // The Vercel AI SDK's retry loop (`maxRetries`): `ai` 6 imports it from provider-utils 4, `ai` 7
    // from provider-utils 5 (ESM only; import-in-the-middle wraps the named export). `ai` 5 bundles
    // its own copy of the loop (not exported): its retries are recognised as calls of their own.
    module: '@ai-sdk/provider-utils',
    versions: ['>=4.0.0 <6'],
    exportName: 'retryWithExponentialBackoff',
  },
];

/** A class whose method runs one whole retry loop per invocation, in a call group (call-group.ts). */
export interface RetryMethod {
  module: string;
  versions: string[];
  /** Module file without extension, and the extensions it ships with. */
  file: string;
  extensions: string[];
  exportName: string;
  /** The first of these the prototype defines is wrapped (older releases loop in `call`). */
  methods: string[];
}

export const RETRY_METHODS: RetryMethod[] = [
  {
    // LangChain.js chat models (`ChatOpenAI`, `ChatAnthropic`) send each request through their
    // AsyncCaller (p-retry, `maxRetries`, default 6) with the SDK's own retries off.
    module: '@langchain/core',
    versions: ['>=0.3.0 <2'],
    file: '@langchain/core/dist/utils/async_caller',
    extensions: ['.cjs', '.js'],
    exportName: 'AsyncCaller',
    methods: ['callWithRetries', 'call'],
  },
];
