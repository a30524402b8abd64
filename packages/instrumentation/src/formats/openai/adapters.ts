/**
 * OpenAI's request shapes, Chat Completions and Responses: request parameters and payloads →
 * provider-neutral request info and events.
 * Wire shapes: as the simulator reproduces them (packages/simulator/src/providers/openai-*.ts).
 */
import type { LlmEvent, RequestInfo, SseEvent, Usage } from '../../internal-types.ts';
import { GEN_AI_OPERATION_NAME_VALUE_CHAT, GEN_AI_PROVIDER_NAME_VALUE_OPENAI } from '../../semconv.ts';
import { isObject, jsonSseEvents, nonEmpty, num, parseJson, requestInfo, str, type Json } from '../common.ts';
import type { Api } from '../format.ts';
import { chatSegments, responsesSegments } from './segments.ts';

/** A message `content` (string or content-part array) as semconv message parts. */
function contentParts(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: unknown) => {
    if (!isObject(part)) return { type: 'unknown' };
    const text = str(part.text);
    return text !== undefined ? { type: 'text', content: text } : { type: str(part.type) ?? 'unknown' };
  });
}

function chatInputMessages(messages: unknown): unknown[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  return messages.filter(isObject).map((m) => {
    const parts = contentParts(m.content);
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls.filter(isObject)) {
        const fn = isObject(call.function) ? call.function : {};
        parts.push({ type: 'tool_call', id: call.id, name: fn.name, arguments: fn.arguments });
      }
    }
    if (m.role === 'tool') return { role: 'tool', parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: m.content }] };
    return { role: m.role, parts };
  });
}

function responsesInputMessages(params: Json): unknown[] {
  const messages: unknown[] = [];
  const instructions = str(params.instructions);
  if (instructions !== undefined) messages.push({ role: 'system', parts: [{ type: 'text', content: instructions }] });
  const input = params.input;
  if (typeof input === 'string') messages.push({ role: 'user', parts: [{ type: 'text', content: input }] });
  else if (Array.isArray(input)) {
    for (const item of input.filter(isObject)) {
      if (item.type === 'function_call') messages.push({ role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.arguments }] });
      else if (item.type === 'function_call_output') messages.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: item.call_id, response: item.output }] });
      else messages.push({ role: str(item.role) ?? 'user', parts: contentParts(item.content) });
    }
  }
  return messages;
}

/** Both shapes: a chat, streamed when the parameters say `stream: true`. */
const chatRequestInfo = (params: unknown, baseURL: string | undefined): RequestInfo =>
  requestInfo(GEN_AI_PROVIDER_NAME_VALUE_OPENAI, GEN_AI_OPERATION_NAME_VALUE_CHAT, params, baseURL);

function chatUsage(u: Json): Usage {
  const prompt = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const completion = isObject(u.completion_tokens_details) ? u.completion_tokens_details : {};
  return {
    inputTokens: num(u.prompt_tokens),
    outputTokens: num(u.completion_tokens),
    // DeepSeek reports its cache reads as `prompt_cache_hit_tokens` (part of `prompt_tokens`).
    cacheReadTokens: num(prompt.cached_tokens) ?? num(u.prompt_cache_hit_tokens),
    reasoningTokens: num(completion.reasoning_tokens),
  };
}

function responsesUsage(u: Json): Usage {
  const input = isObject(u.input_tokens_details) ? u.input_tokens_details : {};
  const output = isObject(u.output_tokens_details) ? u.output_tokens_details : {};
  return {
    inputTokens: num(u.input_tokens),
    outputTokens: num(u.output_tokens),
    cacheReadTokens: num(input.cached_tokens),
    reasoningTokens: num(output.reasoning_tokens),
  };
}

/** `{"error": {...}}` (chat) or `{"type":"error", ...}` (Responses) → error type. */
function errorType(err: Json): string {
  return str(err.code) ?? str(err.type) ?? 'error';
}

function meta(body: Json): LlmEvent[] {
  const id = str(body.id);
  const model = str(body.model);
  return id !== undefined || model !== undefined ? [{ kind: 'responseMeta', id, model }] : [];
}

/** One choice of a chunk (`delta`) or of a completion (`message`). */
function chatChoiceEvents(choice: Json, message: unknown): LlmEvent[] {
  const events: LlmEvent[] = [];
  if (isObject(message)) {
    const text = nonEmpty(message.content);
    const refusal = nonEmpty(message.refusal);
    const reasoning = nonEmpty(message.reasoning_content) ?? nonEmpty(message.reasoning);
    if (text || refusal || reasoning) events.push({ kind: 'output', text, refusal, reasoning });
    if (Array.isArray(message.tool_calls)) {
      for (const [position, call] of message.tool_calls.entries()) {
        if (!isObject(call)) continue;
        const key = `${num(choice.index) ?? 0}:${num(call.index) ?? position}`;
        const fn = isObject(call.function) ? call.function : {};
        const name = nonEmpty(fn.name);
        if (name) events.push({ kind: 'toolCallStart', key, name, id: str(call.id) });
        const args = nonEmpty(fn.arguments);
        if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
      }
    }
  }
  const finish = str(choice.finish_reason);
  if (finish !== undefined) events.push({ kind: 'finish', reason: finish });
  return events;
}

function chatPayloadEvents(body: unknown, messageField: 'delta' | 'message'): LlmEvent[] {
  if (!isObject(body)) return [];
  if (isObject(body.error)) return [{ kind: 'error', type: errorType(body.error), message: str(body.error.message) }];
  const events = meta(body);
  if (Array.isArray(body.choices)) {
    for (const choice of body.choices.filter(isObject)) events.push(...chatChoiceEvents(choice, choice[messageField]));
  }
  if (isObject(body.usage)) events.push({ kind: 'usage', usage: chatUsage(body.usage) });
  return events;
}

/** Terminal state of a Response object (completed / incomplete / failed), streamed or not. */
function responseStateEvents(response: Json): LlmEvent[] {
  const events = meta(response);
  if (isObject(response.usage)) events.push({ kind: 'usage', usage: responsesUsage(response.usage) });
  const incomplete = isObject(response.incomplete_details) ? str(response.incomplete_details.reason) : undefined;
  // Responses has no finish_reason; its status (or the incomplete reason) is what the provider sent.
  const reason = incomplete ?? str(response.status);
  if (reason !== undefined && reason !== 'in_progress' && reason !== 'queued') events.push({ kind: 'finish', reason });
  if (response.status === 'failed') {
    const err = isObject(response.error) ? response.error : {};
    events.push({ kind: 'error', type: errorType(err) === 'error' ? 'response.failed' : errorType(err), message: str(err.message) });
  }
  return events;
}

function responsesOutputItemEvents(item: Json): LlmEvent[] {
  const events: LlmEvent[] = [];
  if (item.type === 'function_call') {
    const key = str(item.id) ?? str(item.call_id) ?? '';
    events.push({ kind: 'toolCallStart', key, name: str(item.name) ?? '', id: str(item.call_id) });
    const args = nonEmpty(item.arguments);
    if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
  } else if (item.type === 'message' && Array.isArray(item.content)) {
    for (const part of item.content.filter(isObject)) {
      const text = part.type === 'output_text' ? nonEmpty(part.text) : undefined;
      const refusal = part.type === 'refusal' ? nonEmpty(part.refusal) : undefined;
      if (text || refusal) events.push({ kind: 'output', text, refusal });
    }
  } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
    for (const part of item.summary.filter(isObject)) {
      const reasoning = nonEmpty(part.text);
      if (reasoning) events.push({ kind: 'output', reasoning });
    }
  }
  return events;
}

function responsesStreamEvents(data: Json): LlmEvent[] {
  const delta = nonEmpty(data.delta);
  switch (data.type) {
    case 'response.created':
    case 'response.in_progress':
      return isObject(data.response) ? meta(data.response) : [];
    case 'response.output_text.delta':
      return delta ? [{ kind: 'output', text: delta }] : [];
    case 'response.refusal.delta':
      return delta ? [{ kind: 'output', refusal: delta }] : [];
    case 'response.reasoning_text.delta':
    case 'response.reasoning_summary_text.delta':
      return delta ? [{ kind: 'output', reasoning: delta }] : [];
    case 'response.output_item.added': {
      const item = isObject(data.item) ? data.item : {};
      if (item.type !== 'function_call') return [];
      const key = str(item.id) ?? '';
      const events: LlmEvent[] = [{ kind: 'toolCallStart', key, name: str(item.name) ?? '', id: str(item.call_id) }];
      const args = nonEmpty(item.arguments);
      if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
      return events;
    }
    case 'response.function_call_arguments.delta':
      return delta ? [{ kind: 'toolCallDelta', key: str(data.item_id) ?? '', arguments: delta }] : [];
    case 'response.completed':
    case 'response.incomplete':
    case 'response.failed':
      return isObject(data.response) ? responseStateEvents(data.response) : [];
    case 'error': {
      const err = isObject(data.error) ? data.error : data;
      return [{ kind: 'error', type: errorType(err), message: str(err.message) }];
    }
    default:
      return [];
  }
}

export const openaiChat: Api = {
  method: 'chat.completions.create',
  requestInfo: chatRequestInfo,
  inputMessages: (params) => chatInputMessages(params.messages),
  segments: chatSegments,
  streamEvents(event: SseEvent): LlmEvent[] {
    if (event.data === '[DONE]') return [];
    return chatPayloadEvents(parseJson(event.data), 'delta');
  },
  bodyEvents: (body) => chatPayloadEvents(body, 'message'),
};

export const openaiResponses: Api = {
  method: 'responses.create',
  requestInfo: chatRequestInfo,
  inputMessages: responsesInputMessages,
  segments: responsesSegments,
  streamEvents: (event) => jsonSseEvents(event, responsesStreamEvents),
  bodyEvents(body: unknown): LlmEvent[] {
    if (!isObject(body)) return [];
    if (isObject(body.error) && body.object !== 'response') return [{ kind: 'error', type: errorType(body.error), message: str(body.error.message) }];
    const events: LlmEvent[] = [];
    if (Array.isArray(body.output)) for (const item of body.output.filter(isObject)) events.push(...responsesOutputItemEvents(item));
    events.push(...responseStateEvents(body));
    return events;
  },
};
