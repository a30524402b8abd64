/**
 * Gemini (`@google/genai`) adapters: generateContent / streamGenerateContent payloads →
 * provider-neutral events. Wire shapes: as the simulator reproduces them (packages/simulator/src/providers/gemini.ts).
 */
import type { LlmEvent, Usage } from '../../internal-types.ts';
import { GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT, GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI } from '../../semconv.ts';
import { isObject, jsonSseEvents, nonEmpty, num, requestInfo, str, type Json } from '../common.ts';
import type { Api } from '../format.ts';
import { generateContentSegments } from './segments.ts';

function part(p: unknown): unknown {
  if (typeof p === 'string') return { type: 'text', content: p };
  if (!isObject(p)) return { type: 'unknown' };
  if (typeof p.text === 'string') return { type: p.thought === true ? 'reasoning' : 'text', content: p.text };
  if (isObject(p.functionCall)) return { type: 'tool_call', id: p.functionCall.id, name: p.functionCall.name, arguments: p.functionCall.args };
  if (isObject(p.functionResponse)) return { type: 'tool_call_response', id: p.functionResponse.id, response: p.functionResponse.response };
  return { type: 'unknown' };
}

/** `contents` in any form the SDK accepts (string, part, part list, Content list) → messages. */
function inputMessages(p: Json): unknown[] {
  const messages: unknown[] = [];
  const config = isObject(p.config) ? p.config : {};
  const asMessage = (c: unknown, role: string) =>
    isObject(c) && Array.isArray(c.parts) ? { role: str(c.role) ?? role, parts: c.parts.map(part) } : { role, parts: (Array.isArray(c) ? c : [c]).map(part) };
  if (config.systemInstruction !== undefined) messages.push(asMessage(config.systemInstruction, 'system'));
  const contents = p.contents;
  if (Array.isArray(contents) && contents.every((c) => isObject(c) && Array.isArray(c.parts))) messages.push(...contents.map((c) => asMessage(c, 'user')));
  else if (contents !== undefined) messages.push(asMessage(contents, 'user'));
  return messages;
}

/**
 * `promptTokenCount` already includes `cachedContentTokenCount`; `candidatesTokenCount` excludes
 * the thoughts, which the GenAI output total includes.
 */
function usage(u: Json): Usage {
  const candidates = num(u.candidatesTokenCount);
  const thoughts = num(u.thoughtsTokenCount);
  return {
    inputTokens: num(u.promptTokenCount),
    outputTokens: candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0),
    cacheReadTokens: num(u.cachedContentTokenCount) ?? (num(u.promptTokenCount) === undefined ? undefined : 0),
    reasoningTokens: thoughts ?? (candidates === undefined ? undefined : 0),
  };
}

/** One GenerateContentResponse: a streamed chunk or the whole answer. */
function responseEvents(body: Json): LlmEvent[] {
  if (isObject(body.error)) {
    const err = body.error;
    return [{ kind: 'error', type: str(err.status) ?? String(num(err.code) ?? 'error'), message: str(err.message) }];
  }
  const events: LlmEvent[] = [];
  const id = str(body.responseId);
  const model = str(body.modelVersion);
  if (id !== undefined || model !== undefined) events.push({ kind: 'responseMeta', id, model });
  for (const [c, candidate] of (Array.isArray(body.candidates) ? body.candidates : []).entries()) {
    if (!isObject(candidate)) continue;
    const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const p of parts.filter(isObject)) {
      const text = nonEmpty(p.text);
      if (text) events.push(p.thought === true ? { kind: 'output', reasoning: text } : { kind: 'output', text });
      if (isObject(p.functionCall)) {
        // Gemini sends each function call whole, in one part.
        const call = p.functionCall;
        const key = str(call.id) ?? `${num(candidate.index) ?? c}:${str(call.name) ?? ''}`;
        events.push({ kind: 'toolCallStart', key, name: str(call.name) ?? '', id: str(call.id) });
        events.push({ kind: 'toolCallDelta', key, arguments: JSON.stringify(call.args ?? {}) });
      }
    }
    const finish = str(candidate.finishReason);
    if (finish !== undefined) events.push({ kind: 'finish', reason: finish });
  }
  // Streamed chunks carry a running usageMetadata: the last one counts.
  if (isObject(body.usageMetadata)) events.push({ kind: 'usage', usage: usage(body.usageMetadata) });
  return events;
}

function api(method: string, stream: boolean): Api {
  return {
    method,
    requestInfo: (params, baseURL) => requestInfo(GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI, GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT, params, baseURL, stream),
    inputMessages,
    segments: generateContentSegments,
    streamEvents: (event) => jsonSseEvents(event, responseEvents),
    bodyEvents: (body) => (isObject(body) ? responseEvents(body) : []),
  };
}

/**
 * A REST request body (`{contents, systemInstruction, tools, generationConfig, …}`, as any client
 * sends it to `…/models/{model}:generateContent`) as the SDK's parameters (`{model, contents,
 * config: {systemInstruction, tools, …}}`), the shape the request info, input messages and prompt-cache segments read.
 */
export function geminiParamsFromBody(model: string, body: Json): Json {
  const { contents, generationConfig, ...config } = body;
  return { model, contents, config: { ...(isObject(generationConfig) ? generationConfig : {}), ...config } };
}

/** `models.generateContent` (one JSON answer) and `models.generateContentStream` (SSE). */
export const geminiGenerateContent = api('models.generateContent', false);
export const geminiStreamGenerateContent = api('models.generateContentStream', true);
