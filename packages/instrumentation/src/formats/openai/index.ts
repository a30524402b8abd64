/**
 * The OpenAI wire format: Chat Completions and Responses, spoken by OpenAI, Azure OpenAI and every
 * OpenAI-compatible server (Groq, DeepSeek, vLLM, Ollama, LiteLLM, …).
 */
import type { RequestTarget } from '../../internal-types.ts';
import { GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI, GEN_AI_PROVIDER_NAME_VALUE_OPENAI } from '../../semconv.ts';
import { isObject, stainlessBaseURL } from '../common.ts';
import type { PatchTarget, Route, WireFormat } from '../format.ts';
import { openaiChat, openaiResponses } from './adapters.ts';

/** openai's `AzureOpenAI` (4.x–7.x) holds the `api-version` it sends as `apiVersion`; `OpenAI` has none. */
function isAzureOpenAI(resource: unknown): boolean {
  const client = (resource as { _client?: { apiVersion?: unknown } })._client;
  return typeof client?.apiVersion === 'string' && client.apiVersion !== '';
}

/** Azure OpenAI's request shape, on whatever host serves it (a proxy, a private endpoint, a test server). */
function looksAzure(url: URL | undefined, target: RequestTarget): boolean {
  if (target.azureClient) return true;
  if (!url) return false;
  return /\/openai\/deployments\/[^/]+\//.test(url.pathname) || url.searchParams.has('api-version');
}

const completions: PatchTarget = { exportName: 'Completions', methodName: 'create', api: openaiChat, baseURL: stainlessBaseURL, azureClient: isAzureOpenAI };
const responsesCreate: PatchTarget = { exportName: 'Responses', methodName: 'create', api: openaiResponses, baseURL: stainlessBaseURL, azureClient: isAzureOpenAI };

const isString = (v: unknown): v is string => typeof v === 'string';

const chat: Route = {
  api: openaiChat,
  params: (body) => (isObject(body) && Array.isArray(body.messages) && (body.model === undefined || isString(body.model)) ? body : undefined),
};

const responses: Route = {
  api: openaiResponses,
  params: (body) =>
    isObject(body) && (body.model === undefined || isString(body.model)) && (isString(body.input) || Array.isArray(body.input) || isObject(body.prompt) || isString(body.previous_response_id))
      ? body
      : undefined,
};

const MINUTE = 60_000;

export const openai: WireFormat<'openai'> = {
  id: 'openai',
  // An OpenAI-compatible server of unknown name is `openai`, unless the request has Azure's shape.
  ownerName: (url, target) => (looksAzure(url, target) ? GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI : GEN_AI_PROVIDER_NAME_VALUE_OPENAI),
  sdks: [
    {
      // 4.x requests go through node-fetch over node:http in Node (http-tap.ts), 5.x on through fetch.
      module: 'openai',
      versions: ['>=4.19.0 <8'],
      extensions: ['.js', '.mjs'],
      files: [
        { path: 'openai/resources/chat/completions', versions: ['>=4.19.0 <4.85.0'], targets: [completions] },
        { path: 'openai/resources/chat/completions/completions', versions: ['>=4.85.0 <8'], targets: [completions] },
        // The Responses API arrived in 4.87.0.
        { path: 'openai/resources/responses/responses', versions: ['>=4.87.0 <8'], targets: [responsesCreate] },
      ],
    },
  ],
  // POST `…/chat/completions` (OpenAI, Azure `/openai/deployments/{d}/chat/completions`, every OpenAI-compatible server), `…/responses`.
  route: (path) => (path.endsWith('/chat/completions') ? chat : path.endsWith('/responses') ? responses : undefined),
  // `x-ratelimit-{field}-{kind}`, also sent by OpenAI-compatible providers.
  rateLimit: { prefix: 'x-ratelimit-', header: (field, kind) => `x-ratelimit-${field}-${kind}`, generic: true },
  // Implicit caching of the whole prompt; reads come in blocks of 128 tokens.
  cache: { ttlMs: 5 * MINUTE, minTokens: 1024, readGranularity: 128, explicit: false },
};
