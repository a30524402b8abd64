/**
 * Gemini (`@google/genai`) adapters: generateContent / streamGenerateContent payloads →
 * provider-neutral events. Wire shapes: as the simulator reproduces them (packages/simulator/src/providers/gemini.ts).
 */
import type { LlmEvent, Usage } from '../../internal-types.ts';
import { GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT, GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI, GEN_AI_TOOL_TYPE_VALUE_EXTENSION, GEN_AI_TOOL_TYPE_VALUE_FUNCTION } from '../../semconv.ts';
import { argumentsText, badTokens, isObject, jsonSseEvents, nonEmpty, num, requestInfo, str, tokens, type Json } from '../common.ts';
import type { Api } from '../format.ts';
import { snapshotRequest } from '../../cache/index.ts';
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
  // Always `system`: the SDK sends a string or Part instruction as a Content of role `user`, and
  // the request read back from the wire must carry the same messages as the SDK's parameters.
  if (config.systemInstruction !== undefined) messages.push({ ...asMessage(config.systemInstruction, 'system'), role: 'system' });
  const contents = p.contents;
  if (Array.isArray(contents) && contents.every((c) => isObject(c) && Array.isArray(c.parts))) messages.push(...contents.map((c) => asMessage(c, 'user')));
  else if (contents !== undefined) messages.push(asMessage(contents, 'user'));
  return messages;
}

/**
 * `promptTokenCount` already includes `cachedContentTokenCount`; `candidatesTokenCount` excludes
 * the thoughts, which the GenAI output total includes. Reasoning is `thoughtsTokenCount` as sent
 * (absent when absent); the cache read is 0 when a prompt count came without one (documented).
 */
function usage(u: Json): Usage {
  const candidates = tokens(u.candidatesTokenCount);
  const thoughts = tokens(u.thoughtsTokenCount);
  const input = tokens(u.promptTokenCount);
  const outputKnown = (candidates !== undefined || thoughts !== undefined) && !badTokens(u.candidatesTokenCount) && !badTokens(u.thoughtsTokenCount);
  return {
    inputTokens: input,
    outputTokens: outputKnown ? (candidates ?? 0) + (thoughts ?? 0) : undefined,
    cacheReadTokens: tokens(u.cachedContentTokenCount) ?? (input === undefined || badTokens(u.cachedContentTokenCount) ? undefined : 0),
    reasoningTokens: thoughts,
  };
}

/** A function call streamed in parts (Vertex `streamFunctionCallArguments`): its key, name and arguments so far. */
interface OpenCall {
  key: string;
  name: string | undefined;
  args: Json;
}

/**
 * What the decoder of one streamed response remembers between chunks: each candidate's function
 * call whose parts are still coming (`willContinue: true`), and how many tool calls it has keyed.
 */
interface StreamState {
  open: Map<number, OpenCall>;
  keyed: number;
}

/** `$.a.b[0]["c"]` (RFC 9535, the shapes Vertex sends) → `['a', 'b', 0, 'c']`; undefined for anything else. */
function jsonPath(path: unknown): Array<string | number> | undefined {
  if (typeof path !== 'string' || !path.startsWith('$')) return undefined;
  const steps: Array<string | number> = [];
  const step = /\.([^.[\]]+)|\[(\d+)\]|\[(['"])(.*?)\3\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const m = step.exec(path);
    if (!m) return undefined;
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[4]!));
  }
  return steps.includes('__proto__') ? undefined : steps;
}

/** Adds `partialArgs` to the arguments so far: a string continued at the same path is appended to. */
function applyPartialArgs(args: Json, partial: unknown): void {
  if (!Array.isArray(partial)) return;
  for (const arg of partial.filter(isObject)) {
    const steps = jsonPath(arg.jsonPath);
    if (!steps || steps.length === 0) continue;
    let node: Record<string | number, unknown> = args;
    for (const [i, key] of steps.slice(0, -1).entries()) {
      const next = node[key];
      node = (isObject(next) || Array.isArray(next) ? next : (node[key] = typeof steps[i + 1] === 'number' ? [] : {})) as Record<string | number, unknown>;
    }
    const last = steps.at(-1)!;
    if (typeof arg.stringValue === 'string') node[last] = typeof node[last] === 'string' ? node[last] + arg.stringValue : arg.stringValue;
    else if (arg.numberValue !== undefined) node[last] = arg.numberValue;
    else if (arg.boolValue !== undefined) node[last] = arg.boolValue;
    else if (arg.nullValue !== undefined) node[last] = null;
  }
}

/**
 * A `functionCall` part. Whole (Gemini API) it is one tool call; streamed in parts (Vertex
 * `streamFunctionCallArguments`: the first part names it and says `willContinue`, the next carry
 * `partialArgs`, the last has no `willContinue`) the parts are one tool call, its arguments joined.
 */
function functionCallEvents(call: Json, candidate: number, key: () => string, state: StreamState | undefined): LlmEvent[] {
  const name = nonEmpty(call.name);
  const open = state?.open.get(candidate);
  const continues = call.willContinue === true;
  if (open && (name === undefined || name === open.name) && (call.id === undefined || call.id === open.key)) {
    if (isObject(call.args)) Object.assign(open.args, call.args);
    applyPartialArgs(open.args, call.partialArgs);
    if (!continues) state!.open.delete(candidate);
    return [{ kind: 'toolCallDelta', key: open.key, arguments: continues ? '' : JSON.stringify(open.args) }];
  }
  const id = str(call.id);
  const callKey = id ?? key();
  const args: Json = isObject(call.args) ? { ...call.args } : {};
  applyPartialArgs(args, call.partialArgs);
  if (state && continues) state.open.set(candidate, { key: callKey, name, args });
  return [
    { kind: 'toolCallStart', key: callKey, name: name ?? '', id, type: GEN_AI_TOOL_TYPE_VALUE_FUNCTION, choice: candidate },
    { kind: 'toolCallDelta', key: callKey, arguments: state && continues ? '' : JSON.stringify(args) },
  ];
}

/** A server-side tool's part: `executableCode` (code execution) or `toolCall` (Google Search, URL context, Maps). */
function serverToolEvents(p: Json, candidate: number, newKey: () => string): LlmEvent[] {
  const code = isObject(p.executableCode) ? p.executableCode : undefined;
  const call = code ?? (isObject(p.toolCall) ? p.toolCall : undefined);
  if (!call) return [];
  const name = code ? 'code_execution' : (str(call.toolType) ?? 'tool');
  const args = argumentsText(code ? code.code : call.args);
  const key = newKey();
  const events: LlmEvent[] = [{ kind: 'toolCallStart', key, name, id: str(call.id), type: GEN_AI_TOOL_TYPE_VALUE_EXTENSION, choice: candidate }];
  if (args) events.push({ kind: 'toolCallDelta', key, arguments: args });
  return events;
}

/** One GenerateContentResponse: a streamed chunk (with its decoder's state) or the whole answer. */
function responseEvents(body: Json, state?: StreamState): LlmEvent[] {
  if (isObject(body.error)) {
    const err = body.error;
    return [{ kind: 'error', type: str(err.status) ?? String(num(err.code) ?? 'error'), message: str(err.message) }];
  }
  const events: LlmEvent[] = [];
  const id = str(body.responseId);
  const model = str(body.modelVersion);
  if (id !== undefined || model !== undefined) events.push({ kind: 'responseMeta', id, model });
  for (const [position, candidate] of (Array.isArray(body.candidates) ? body.candidates : []).entries()) {
    if (!isObject(candidate)) continue;
    const c = num(candidate.index) ?? position;
    const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const [j, p] of parts.entries()) {
      if (!isObject(p)) continue;
      // A tool call's key: unique in the answer (a streamed one's parts come in separate chunks).
      const key = (): string => (state ? `${c}:#${state.keyed++}` : `${c}:${j}`);
      const text = nonEmpty(p.text);
      if (text) events.push(p.thought === true ? { kind: 'output', reasoning: text, choice: c } : { kind: 'output', text, choice: c });
      if (isObject(p.functionCall)) events.push(...functionCallEvents(p.functionCall, c, key, state));
      else events.push(...serverToolEvents(p, c, key));
    }
    const finish = str(candidate.finishReason);
    if (finish !== undefined) events.push({ kind: 'finish', reason: finish, choice: c });
  }
  // Streamed chunks carry a running usageMetadata: the last one counts.
  if (isObject(body.usageMetadata)) events.push({ kind: 'usage', usage: usage(body.usageMetadata) });
  return events;
}

/**
 * The parameters' structure, but `config.tools` by reference: while it builds the request the SDK
 * rewrites the application's function declarations in place (`tTool`: schema types upper-cased,
 * `additionalProperties` dropped, a `$schema` one moved to `parametersJsonSchema`), so at the call's
 * end they are as sent — on the first call as on every later one with the same tools. A copy taken
 * at the first call's start would hash its tools apart from the next call's (`prefix_changed`
 * at `tools` for an unchanged prompt).
 */
function snapshotParams(params: unknown): unknown {
  if (!isObject(params) || !isObject(params.config) || params.config.tools === undefined) return snapshotRequest(params);
  const { tools, ...config } = params.config;
  const snapshot = snapshotRequest({ ...params, config }) as Json;
  (snapshot.config as Json).tools = tools;
  return snapshot;
}

function api(method: string, stream: boolean): Api {
  return {
    method,
    requestInfo: (params, baseURL) => requestInfo(GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI, GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT, params, baseURL, stream),
    inputMessages,
    segments: generateContentSegments,
    snapshot: snapshotParams,
    // One chunk alone: a function call streamed in parts needs the decoder below.
    streamEvents: (event) => jsonSseEvents(event, (data) => responseEvents(data)),
    streamDecoder() {
      const state: StreamState = { open: new Map(), keyed: 0 };
      return (event) => jsonSseEvents(event, (data) => responseEvents(data, state));
    },
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
