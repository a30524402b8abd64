import type { PromptBlock } from '../cache.ts';
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../route.ts';
import { contentTokens, jsonTokens, MESSAGE_OVERHEAD_TOKENS } from '../tokens.ts';

/** A chat message or Responses input item: overhead + content + its tool calls (as JSON). */
export function messageBlock(message: JsonObject): PromptBlock {
  if (!('content' in message)) return { content: message, tokens: MESSAGE_OVERHEAD_TOKENS + jsonTokens(message) };
  const toolCalls = message.tool_calls === undefined ? 0 : jsonTokens(message.tool_calls);
  return { content: message, tokens: MESSAGE_OVERHEAD_TOKENS + contentTokens(message.content) + toolCalls };
}

/**
 * The body's `model`; on an Azure OpenAI deployment path the deployment, which selects the model
 * there (Azure ignores the body's `model`, which its clients may leave out).
 */
export function openaiModel(body: JsonObject, deployment: string | undefined): string {
  return deployment ?? String(body.model ?? '');
}

export function toolBlocks(tools: unknown): PromptBlock[] {
  return Array.isArray(tools) ? tools.map((tool) => ({ content: tool, tokens: jsonTokens(tool) })) : [];
}

const ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  404: { type: 'invalid_request_error', code: 'unknown_url', message: 'Unknown request URL.' },
  429: {
    type: 'requests',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests. Please try again later.',
  },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  503: { type: 'server_error', code: 'service_unavailable', message: 'The engine is currently overloaded.' },
  529: { type: 'server_error', code: 'overloaded', message: 'The server is overloaded.' },
};

export function openaiError(status: number, message?: string): { error: JsonObject } {
  const known = ERRORS[status] ?? ERRORS[500]!;
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

export function openaiHeaders(requestId: string, processingMs: number): Record<string, string> {
  return {
    'x-request-id': requestId,
    'openai-processing-ms': String(Math.round(processingMs)),
    'openai-version': '2020-10-01',
  };
}

/** Random padding the real API adds to stream chunks (`stream_options.include_obfuscation`). */
export function obfuscation(): string {
  return randomBytes(8).toString('base64url').slice(0, 2 + Math.floor(Math.random() * 9));
}
