/**
 * The LLM API routes the wire tap recognises in requests made outside any SDK call (wire-calls.ts):
 * by method and path, at any host and under any path prefix, then by the request body's shape.
 * Each route names the adapter that decodes its answers — the same adapters the SDK patches use.
 */
import type { Provider as WireFormat } from '../cache/index.ts';
import type { ProviderAdapter } from '../internal-types.ts';
import { anthropicMessages } from './anthropic.ts';
import { isObject, type Json } from './common.ts';
import { geminiGenerateContent, geminiParamsFromBody, geminiStreamGenerateContent } from './gemini.ts';
import { openaiChat, openaiResponses } from './openai.ts';

export interface WireRoute {
  format: WireFormat;
  /** The SDK method with the same request shape (hook info, prompt-cache segments). */
  method: string;
  adapter: ProviderAdapter;
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

const isString = (v: unknown): v is string => typeof v === 'string';

const chat: WireRoute = {
  format: 'openai',
  method: 'chat.completions.create',
  adapter: openaiChat,
  params: (body) => (isObject(body) && Array.isArray(body.messages) && (body.model === undefined || isString(body.model)) ? body : undefined),
};

const responses: WireRoute = {
  format: 'openai',
  method: 'responses.create',
  adapter: openaiResponses,
  params: (body) =>
    isObject(body) && (body.model === undefined || isString(body.model)) && (isString(body.input) || Array.isArray(body.input) || isObject(body.prompt) || isString(body.previous_response_id))
      ? body
      : undefined,
};

const messages: WireRoute = {
  format: 'anthropic',
  method: 'messages.create',
  adapter: anthropicMessages,
  params: (body) => (isObject(body) && isString(body.model) && Array.isArray(body.messages) ? body : undefined),
};

function gemini(model: string, stream: boolean): WireRoute {
  return {
    format: 'gemini',
    method: stream ? 'models.generateContentStream' : 'models.generateContent',
    adapter: stream ? geminiStreamGenerateContent : geminiGenerateContent,
    stream,
    pathModel: model,
    params: (body) => (isObject(body) && body.contents !== undefined ? geminiParamsFromBody(model, body) : undefined),
  };
}

/** `…/models/{model}:generateContent`, `…:streamGenerateContent` (AI Studio `v1`/`v1beta`, Vertex AI `publishers/google/models/…`). */
const GEMINI_PATH = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/**
 * The route of a request, from its method and path alone (any host, any prefix; the query is
 * ignored): POST `…/chat/completions` (OpenAI, Azure `/openai/deployments/{d}/chat/completions`,
 * every OpenAI-compatible server), `…/responses`, `…/messages` (Anthropic), Gemini's
 * `…/models/{model}:(stream)generateContent`. Anything else is undefined.
 */
export function wireRoute(method: string | undefined, pathname: string): WireRoute | undefined {
  if (method?.toUpperCase() !== 'POST') return undefined;
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (path.endsWith('/chat/completions')) return chat;
  if (path.endsWith('/responses')) return responses;
  if (path.endsWith('/messages')) return messages;
  const g = GEMINI_PATH.exec(path);
  if (g) {
    let model = g[1]!;
    try {
      model = decodeURIComponent(model);
    } catch {
      // keep it as sent
    }
    return gemini(model, g[2] === 'streamGenerateContent');
  }
  return undefined;
}
