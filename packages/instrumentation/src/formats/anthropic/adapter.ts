/**
 * Anthropic Messages adapter: request parameters and payloads → provider-neutral events.
 * Wire shapes: as the simulator reproduces them (packages/simulator/src/providers/anthropic.ts).
 */
import type { LlmEvent, SseEvent, ToolType, Usage } from '../../internal-types.ts';
import { GEN_AI_OPERATION_NAME_VALUE_CHAT, GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC, GEN_AI_TOOL_TYPE_VALUE_EXTENSION, GEN_AI_TOOL_TYPE_VALUE_FUNCTION } from '../../semconv.ts';
import { badTokens, INVALID_SSE_EVENT, isObject, jsonSseEvents, nonEmpty, num, requestInfo, str, tokens, type Json } from '../common.ts';
import type { Api } from '../format.ts';
import { FragmentShape, fragmentDecoder } from '../scan.ts';
import { messagesSegments } from './segments.ts';

/** One request content block as a semconv message part. */
function inputPart(block: unknown): unknown {
  if (!isObject(block)) return { type: 'unknown' };
  switch (block.type) {
    case 'text':
      return { type: 'text', content: block.text };
    case 'tool_use':
      return { type: 'tool_call', id: block.id, name: block.name, arguments: block.input };
    case 'tool_result':
      return { type: 'tool_call_response', id: block.tool_use_id, response: block.content };
    default:
      return { type: str(block.type) ?? 'unknown' };
  }
}

function inputMessages(p: Json): unknown[] {
  const messages: unknown[] = [];
  const blocks = (content: unknown) => (typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : []);
  if (p.system !== undefined) messages.push({ role: 'system', parts: blocks(p.system).map(inputPart) });
  if (Array.isArray(p.messages)) {
    for (const m of p.messages.filter(isObject)) messages.push({ role: m.role, parts: blocks(m.content).map(inputPart) });
  }
  return messages;
}

/**
 * Anthropic reports cached tokens outside `input_tokens`; the GenAI total includes them. Usage
 * objects are cumulative (`message_delta` repeats the totals), so each one stands on its own.
 * `message_start` and a complete message carry the whole usage (a cache field they lack adds
 * nothing to the total, and is not reported); a `message_delta` may carry only some fields, so
 * its input total counts only when all are there.
 */
function usage(u: Json, whole: boolean): Usage {
  const cacheRead = tokens(u.cache_read_input_tokens);
  const cacheWrite = tokens(u.cache_creation_input_tokens);
  const input = tokens(u.input_tokens);
  const details = isObject(u.output_tokens_details) ? u.output_tokens_details : {};
  const complete = (whole || (cacheRead !== undefined && cacheWrite !== undefined)) && !badTokens(u.cache_read_input_tokens) && !badTokens(u.cache_creation_input_tokens);
  return {
    inputTokens: input !== undefined && complete ? input + (cacheRead ?? 0) + (cacheWrite ?? 0) : undefined,
    outputTokens: tokens(u.output_tokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: tokens(details.thinking_tokens),
  };
}

function errorEvent(body: Json): LlmEvent[] {
  const err = isObject(body.error) ? body.error : {};
  return [{ kind: 'error', type: str(err.type) ?? 'error', message: str(err.message) }];
}

/** The tool-call blocks and who runs their tool: the application, or Anthropic (web search, code execution, the MCP connector). */
const TOOL_BLOCKS: ReadonlyMap<unknown, ToolType> = new Map([
  ['tool_use', GEN_AI_TOOL_TYPE_VALUE_FUNCTION],
  ['server_tool_use', GEN_AI_TOOL_TYPE_VALUE_EXTENSION],
  ['mcp_tool_use', GEN_AI_TOOL_TYPE_VALUE_EXTENSION],
]);

/** A content block as it starts (streamed) or as it is (complete message); `key` is its index. */
function blockEvents(block: Json, key: string): LlmEvent[] {
  const type = TOOL_BLOCKS.get(block.type);
  if (type) {
    const events: LlmEvent[] = [{ kind: 'toolCallStart', key, name: str(block.name) ?? '', id: str(block.id), type }];
    // A streamed tool_use starts with `input: {}`; its arguments follow as input_json_delta.
    const input = isObject(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : undefined;
    if (input) events.push({ kind: 'toolCallDelta', key, arguments: input });
    return events;
  }
  const text = block.type === 'text' ? nonEmpty(block.text) : undefined;
  const reasoning = block.type === 'thinking' ? nonEmpty(block.thinking) : undefined;
  return text || reasoning ? [{ kind: 'output', text, reasoning }] : [];
}

function deltaEvents(delta: Json, key: string): LlmEvent[] {
  switch (delta.type) {
    case 'text_delta': {
      const text = nonEmpty(delta.text);
      return text ? [{ kind: 'output', text }] : [];
    }
    case 'thinking_delta': {
      const reasoning = nonEmpty(delta.thinking);
      return reasoning ? [{ kind: 'output', reasoning }] : [];
    }
    case 'input_json_delta': {
      const args = nonEmpty(delta.partial_json);
      return args ? [{ kind: 'toolCallDelta', key, arguments: args }] : [];
    }
    default:
      // signature_delta and citations_delta carry no model output.
      return [];
  }
}

/** A complete Message object (non-streamed answer). */
function messageEvents(message: Json): LlmEvent[] {
  const events: LlmEvent[] = [{ kind: 'responseMeta', id: str(message.id), model: str(message.model) }];
  if (Array.isArray(message.content)) {
    message.content.forEach((block: unknown, i) => {
      if (isObject(block)) events.push(...blockEvents(block, String(i)));
    });
  }
  if (isObject(message.usage)) events.push({ kind: 'usage', usage: usage(message.usage, true) });
  const stop = str(message.stop_reason);
  if (stop !== undefined) events.push({ kind: 'finish', reason: stop });
  return events;
}

function streamEvents(data: Json): LlmEvent[] {
  const key = String(num(data.index) ?? 0);
  switch (data.type) {
    case 'message_start': {
      const message = isObject(data.message) ? data.message : {};
      const events: LlmEvent[] = [{ kind: 'responseMeta', id: str(message.id), model: str(message.model) }];
      // Its output count is a placeholder (1) until message_delta's: a stream cut short before that
      // has no output count rather than a made-up one.
      if (isObject(message.usage)) events.push({ kind: 'usage', usage: { ...usage(message.usage, true), outputTokens: undefined, reasoningTokens: undefined } });
      return events;
    }
    case 'content_block_start':
      return isObject(data.content_block) ? blockEvents(data.content_block, key) : [];
    case 'content_block_delta':
      return isObject(data.delta) ? deltaEvents(data.delta, key) : [];
    case 'message_delta': {
      const events: LlmEvent[] = [];
      const stop = isObject(data.delta) ? str(data.delta.stop_reason) : undefined;
      if (stop !== undefined) events.push({ kind: 'finish', reason: stop });
      if (isObject(data.usage)) events.push({ kind: 'usage', usage: usage(data.usage, false) });
      return events;
    }
    case 'error':
      return errorEvent(data);
    default:
      // ping, content_block_stop, message_stop
      return [];
  }
}

/** Events every release of the SDK parses (and throws on): it skips pings, events without a type, and (before 0.50) names it does not know. */
const PARSED_EVENTS = new Set(['message_start', 'message_delta', 'message_stop', 'content_block_start', 'content_block_delta', 'content_block_stop']);

const streamedEvents = (event: SseEvent): LlmEvent[] => {
  const events = jsonSseEvents(event, streamEvents);
  if (events[0] !== INVALID_SSE_EVENT) return events;
  // An error event the SDK throws as an APIError whatever its data; other events it may skip unread.
  if (event.event === 'error') return [{ kind: 'error', type: 'error', message: event.data.slice(0, 200) }];
  return PARSED_EVENTS.has(event.event ?? '') ? events : [];
};

export const anthropicMessages: Api = {
  method: 'messages.create',
  requestInfo: (params, baseURL) => requestInfo(GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC, GEN_AI_OPERATION_NAME_VALUE_CHAT, params, baseURL),
  inputMessages,
  segments: messagesSegments,
  streamEvents: streamedEvents,
  // Captured content needs every fragment's text: then every event is parsed.
  streamDecoder: (captureContent) => (captureContent ? streamedEvents : fragmentDecoder(streamedEvents, new FragmentShape('"text":"'))),
  bodyEvents(body: unknown): LlmEvent[] {
    if (!isObject(body)) return [];
    if (body.type === 'error') return errorEvent(body);
    return messageEvents(body);
  },
};
