/**
 * OpenAI's request shapes, Chat Completions and Responses: request parameters and payloads →
 * provider-neutral request info and events.
 * Wire shapes: as the simulator reproduces them (packages/simulator/src/providers/openai-*.ts).
 */
import type { LlmEvent, RequestInfo, SseEvent, ToolType, Usage } from '../../internal-types.ts';
import { GEN_AI_OPERATION_NAME_VALUE_CHAT, GEN_AI_PROVIDER_NAME_VALUE_OPENAI, GEN_AI_TOOL_TYPE_VALUE_EXTENSION, GEN_AI_TOOL_TYPE_VALUE_FUNCTION } from '../../semconv.ts';
import { argumentsText, isObject, jsonSseEvents, nonEmpty, num, requestInfo, str, tokens, type Json } from '../common.ts';
import type { Api } from '../format.ts';
import { FragmentShape, fragmentDecoder } from '../scan.ts';
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
    inputTokens: tokens(u.prompt_tokens),
    outputTokens: tokens(u.completion_tokens),
    // DeepSeek reports its cache reads as `prompt_cache_hit_tokens` (part of `prompt_tokens`).
    cacheReadTokens: tokens(prompt.cached_tokens) ?? tokens(u.prompt_cache_hit_tokens),
    reasoningTokens: tokens(completion.reasoning_tokens),
  };
}

function responsesUsage(u: Json): Usage {
  const input = isObject(u.input_tokens_details) ? u.input_tokens_details : {};
  const output = isObject(u.output_tokens_details) ? u.output_tokens_details : {};
  return {
    inputTokens: tokens(u.input_tokens),
    outputTokens: tokens(u.output_tokens),
    cacheReadTokens: tokens(input.cached_tokens),
    reasoningTokens: tokens(output.reasoning_tokens),
  };
}

/**
 * `{"error": {...}}` (chat) or `{"type":"error", ...}` (Responses) → error type. Gateways relaying an
 * upstream failure put its HTTP status in `code` as a number (OpenRouter: `{"code": 502, …}`).
 */
function errorType(err: Json): string {
  return str(err.code) ?? (num(err.code) !== undefined ? String(err.code) : undefined) ?? str(err.type) ?? 'error';
}

function meta(body: Json): LlmEvent[] {
  const id = str(body.id);
  const model = str(body.model);
  return id !== undefined || model !== undefined ? [{ kind: 'responseMeta', id, model }] : [];
}

/**
 * One choice of a chunk (`delta`) or of a completion (`message`). Tool calls are functions
 * (`function{name, arguments}`) or custom tools (`custom{name, input}`), both run by the application.
 */
function chatChoiceEvents(choice: Json, position: number, message: unknown): LlmEvent[] {
  const events: LlmEvent[] = [];
  const index = num(choice.index) ?? position;
  if (isObject(message)) {
    const text = nonEmpty(message.content);
    const refusal = nonEmpty(message.refusal);
    const reasoning = nonEmpty(message.reasoning_content) ?? nonEmpty(message.reasoning);
    if (text || refusal || reasoning) events.push({ kind: 'output', text, refusal, reasoning, choice: index });
    if (Array.isArray(message.tool_calls)) {
      for (const [n, call] of message.tool_calls.entries()) {
        if (!isObject(call)) continue;
        const key = `${index}:${num(call.index) ?? n}`;
        const custom = isObject(call.custom) ? call.custom : undefined;
        const fn = custom ?? (isObject(call.function) ? call.function : {});
        const name = nonEmpty(fn.name);
        if (name) events.push({ kind: 'toolCallStart', key, name, id: str(call.id), type: GEN_AI_TOOL_TYPE_VALUE_FUNCTION, choice: index });
        const args = nonEmpty(custom ? custom.input : fn.arguments);
        if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
      }
    }
  }
  const finish = str(choice.finish_reason);
  if (finish !== undefined) events.push({ kind: 'finish', reason: finish, choice: index });
  return events;
}

function chatPayloadEvents(body: unknown, messageField: 'delta' | 'message'): LlmEvent[] {
  if (!isObject(body)) return [];
  if (isObject(body.error)) return [{ kind: 'error', type: errorType(body.error), message: str(body.error.message) }];
  const events = meta(body);
  if (Array.isArray(body.choices)) {
    body.choices.forEach((choice: unknown, position) => {
      if (isObject(choice)) events.push(...chatChoiceEvents(choice, position, choice[messageField]));
    });
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

/** A Responses output item that is a tool call: the tool's name, who runs it, and its arguments. */
interface ToolItem {
  name: string;
  type: ToolType;
  arguments?: unknown;
}

const FUNCTION = GEN_AI_TOOL_TYPE_VALUE_FUNCTION;
const EXTENSION = GEN_AI_TOOL_TYPE_VALUE_EXTENSION;

/**
 * Every Responses output item type that is a tool call. Built-in tools are named after their
 * `tools[].type`; the image a generation call returns (`result`) is output, not arguments.
 */
const TOOL_ITEMS: ReadonlyMap<unknown, (item: Json) => ToolItem> = new Map<string, (item: Json) => ToolItem>([
  ['function_call', (i) => ({ name: str(i.name) ?? '', type: FUNCTION, arguments: i.arguments })],
  ['custom_tool_call', (i) => ({ name: str(i.name) ?? '', type: FUNCTION, arguments: i.input })],
  ['local_shell_call', (i) => ({ name: 'local_shell', type: FUNCTION, arguments: i.action })],
  ['shell_call', (i) => ({ name: 'shell', type: FUNCTION, arguments: i.action })],
  ['apply_patch_call', (i) => ({ name: 'apply_patch', type: FUNCTION, arguments: i.operation })],
  ['computer_call', (i) => ({ name: 'computer', type: FUNCTION, arguments: i.action ?? i.actions })],
  ['tool_search_call', (i) => ({ name: 'tool_search', type: i.execution === 'client' ? FUNCTION : EXTENSION, arguments: i.arguments })],
  ['web_search_call', (i) => ({ name: 'web_search', type: EXTENSION, arguments: i.action })],
  ['file_search_call', (i) => ({ name: 'file_search', type: EXTENSION, arguments: i.queries })],
  ['code_interpreter_call', (i) => ({ name: 'code_interpreter', type: EXTENSION, arguments: i.code })],
  ['image_generation_call', () => ({ name: 'image_generation', type: EXTENSION })],
  ['mcp_call', (i) => ({ name: str(i.name) ?? '', type: EXTENSION, arguments: i.arguments })],
]);

/** The argument deltas of the streamed tool items, each with the item's `item_id`. */
const TOOL_DELTAS: ReadonlySet<unknown> = new Set([
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.mcp_call_arguments.delta',
  'response.code_interpreter_call_code.delta',
  'response.shell_call_command.delta',
]);

/** A tool-call item as it starts (`response.output_item.added`) or whole (a complete Response); `key` its item id. */
function toolItemEvents(item: Json, key: string): LlmEvent[] {
  const tool = TOOL_ITEMS.get(item.type)?.(item);
  if (!tool) return [];
  // The call id the application answers with (`call_id`); server-side tools have only the item id.
  const events: LlmEvent[] = [{ kind: 'toolCallStart', key, name: tool.name, id: str(item.call_id) ?? str(item.id), type: tool.type }];
  const args = nonEmpty(argumentsText(tool.arguments));
  if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
  return events;
}

function responsesOutputItemEvents(item: Json, position: number): LlmEvent[] {
  const events: LlmEvent[] = toolItemEvents(item, str(item.id) ?? str(item.call_id) ?? String(position));
  if (item.type === 'message' && Array.isArray(item.content)) {
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
  if (TOOL_DELTAS.has(data.type)) return delta ? [{ kind: 'toolCallDelta', key: str(data.item_id) ?? '', arguments: delta }] : [];
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
    case 'response.output_item.added':
      return isObject(data.item) ? toolItemEvents(data.item, str(data.item.id) ?? '') : [];
    case 'response.output_item.done': {
      // The whole item: a server-side tool's arguments (a web search's query) arrive only here.
      const item = isObject(data.item) ? data.item : {};
      const tool = TOOL_ITEMS.get(item.type)?.(item);
      const args = tool && nonEmpty(argumentsText(tool.arguments));
      return args ? [{ kind: 'toolCallArguments', key: str(item.id) ?? '', arguments: args }] : [];
    }
    case 'response.completed':
      // Complete by the event itself, whatever the Response says of its status (it may send none).
      return [{ kind: 'completed' }, ...(isObject(data.response) ? responseStateEvents(data.response) : [])];
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

const chatDeltaEvents = (data: Json): LlmEvent[] => chatPayloadEvents(data, 'delta');

function chatStreamEvents(event: SseEvent): LlmEvent[] {
  return jsonSseEvents(event, chatDeltaEvents);
}

export const openaiChat: Api = {
  method: 'chat.completions.create',
  requestInfo: chatRequestInfo,
  inputMessages: (params) => chatInputMessages(params.messages),
  segments: chatSegments,
  streamEvents: chatStreamEvents,
  // Captured content needs every fragment's text: then every chunk is parsed.
  streamDecoder: (captureContent) => (captureContent ? chatStreamEvents : fragmentDecoder(chatStreamEvents, new FragmentShape('"content":"', ['obfuscation']))),
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
    if (Array.isArray(body.output)) {
      body.output.forEach((item: unknown, position) => {
        if (isObject(item)) events.push(...responsesOutputItemEvents(item, position));
      });
    }
    events.push(...responseStateEvents(body));
    return events;
  },
};
