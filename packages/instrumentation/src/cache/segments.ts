/**
 * The cacheable prompt prefix of a request, as each provider orders it (tools → system → messages),
 * reduced to hashed segments. Breakpoints mark where a provider may store the prefix: Anthropic's
 * and OpenAI's explicit markers, plus the implicit one OpenAI and Gemini place at the prompt's end.
 */
import type { MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateContentParameters } from '@google/genai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ResponseCreateParams } from 'openai/resources/responses/responses';
import { fingerprint } from './fingerprint.ts';

export type Provider = 'openai' | 'anthropic' | 'gemini';

/** Lifetimes a request can ask for: Anthropic `cache_control.ttl`, OpenAI `prompt_cache_breakpoint.ttl`. */
export type CacheTtl = '5m' | '1h' | '30m' | '12h';

export interface PrefixSegment {
  kind: 'tools' | 'system' | 'message';
  /** Position in the request's list (`messages`, `input`, `contents`, `system` blocks, `tools`). */
  index?: number;
  hash: string;
  tokens: number;
  /** The provider may cache the prefix ending with this segment. */
  breakpoint?: boolean;
  /** Lifetime the request asked for at this breakpoint; absent means the provider default. */
  ttl?: CacheTtl;
}

/**
 * Segments of the request `params` exactly as the application passed them to the SDK method
 * `operation` (e.g. `chat.completions.create`, `responses.create`, `messages.create`,
 * `models.generateContent`). For OpenAI an operation naming `responses` selects the Responses
 * shape, anything else Chat Completions. Malformed parts are skipped: never an error.
 */
export function segmentsFor(provider: Provider, operation: string, params: unknown): PrefixSegment[] {
  if (!isRecord(params)) return [];
  switch (provider) {
    case 'openai':
      return operation.includes('responses')
        ? openaiResponses(params as Partial<ResponseCreateParams>)
        : openaiChat(params as Partial<ChatCompletionCreateParams>);
    case 'anthropic':
      return anthropicMessages(params as Partial<MessageCreateParams>);
    case 'gemini':
      return geminiGenerateContent(params as Partial<GenerateContentParameters>);
  }
}

// Cache markers say where a prefix ends; they are not part of its content (moving a marker to the
// newest message must not change the fingerprint of the messages before it).
const OPENAI_MARKERS: ReadonlySet<string> = new Set(['prompt_cache_breakpoint']);
const ANTHROPIC_MARKERS: ReadonlySet<string> = new Set(['cache_control']);
const NO_MARKERS: ReadonlySet<string> = new Set();

type Marker = { ttl?: CacheTtl | undefined } | null | undefined;

function segment(
  kind: PrefixSegment['kind'],
  content: unknown,
  markers: ReadonlySet<string>,
  index?: number,
  marker?: Marker,
): PrefixSegment {
  const seg: PrefixSegment = { kind, ...fingerprint(content, markers) };
  if (index !== undefined) seg.index = index;
  if (marker) {
    seg.breakpoint = true;
    if (marker.ttl) seg.ttl = marker.ttl;
  }
  return seg;
}

/** OpenAI: an implicit breakpoint at the end unless `prompt_cache_options.mode` is `explicit`. */
function withOpenAIImplicitBreakpoint(segs: PrefixSegment[], options: { mode?: string | undefined; ttl?: '30m' | '12h' | undefined } | undefined): PrefixSegment[] {
  const last = segs.at(-1);
  if (last && options?.mode !== 'explicit' && !last.breakpoint) {
    last.breakpoint = true;
    if (options?.ttl) last.ttl = options.ttl;
  }
  return segs;
}

/** The last `prompt_cache_breakpoint` among a message's content parts (one segment per message). */
function openaiMarker(content: unknown): Marker {
  if (!Array.isArray(content)) return undefined;
  return content.findLast((part: unknown) => isRecord(part) && isRecord(part.prompt_cache_breakpoint))
    ?.prompt_cache_breakpoint;
}

function openaiChat(p: Partial<ChatCompletionCreateParams>): PrefixSegment[] {
  const segs: PrefixSegment[] = [];
  if (Array.isArray(p.tools) && p.tools.length > 0) segs.push(segment('tools', p.tools, OPENAI_MARKERS));
  eachRecord(p.messages, (m, i) => {
    const kind = m.role === 'system' || m.role === 'developer' ? 'system' : 'message';
    segs.push(segment(kind, m, OPENAI_MARKERS, i, openaiMarker(m.content)));
  });
  return withOpenAIImplicitBreakpoint(segs, p.prompt_cache_options);
}

function openaiResponses(p: Partial<ResponseCreateParams>): PrefixSegment[] {
  const segs: PrefixSegment[] = [];
  if (Array.isArray(p.tools) && p.tools.length > 0) segs.push(segment('tools', p.tools, OPENAI_MARKERS));
  if (p.instructions) segs.push(segment('system', p.instructions, OPENAI_MARKERS));
  if (typeof p.input === 'string') {
    // The API reads a bare string as one user message.
    segs.push(segment('message', { role: 'user', content: p.input }, OPENAI_MARKERS, 0));
  } else {
    eachRecord(p.input, (item, i) => {
      const kind = item.role === 'system' || item.role === 'developer' ? 'system' : 'message';
      segs.push(segment(kind, item, OPENAI_MARKERS, i, openaiMarker(item.content)));
    });
  }
  return withOpenAIImplicitBreakpoint(segs, p.prompt_cache_options);
}

/**
 * Anthropic: one segment per tool, system block and message content block, so that segment
 * boundaries do not depend on where the application put its `cache_control` markers.
 */
function anthropicMessages(p: Partial<MessageCreateParams>): PrefixSegment[] {
  const segs: PrefixSegment[] = [];
  const block = (kind: PrefixSegment['kind'], content: unknown, index: number, b: unknown): void => {
    segs.push(segment(kind, content, ANTHROPIC_MARKERS, index, isRecord(b) ? (b.cache_control as Marker) : undefined));
  };
  eachRecord(p.tools, (tool, i) => block('tools', tool, i, tool));
  // A string and a single text block are the same prompt to the API.
  eachRecord(textBlocks(p.system), (b, i) => block('system', b, i, b));
  eachRecord(p.messages, (m, i) => {
    eachRecord(textBlocks(m.content), (b) => block('message', { role: m.role, block: b }, i, b));
  });
  // Top-level `cache_control` marks the last cacheable block.
  const last = segs.at(-1);
  if (last && p.cache_control && !last.breakpoint) {
    last.breakpoint = true;
    if (p.cache_control.ttl) last.ttl = p.cache_control.ttl;
  }
  return segs;
}

function geminiGenerateContent(p: Partial<GenerateContentParameters>): PrefixSegment[] {
  const segs: PrefixSegment[] = [];
  const config = p.config ?? {};
  if (Array.isArray(config.tools) && config.tools.length > 0) segs.push(segment('tools', config.tools, NO_MARKERS));
  if (config.systemInstruction !== undefined) segs.push(segment('system', geminiContent(config.systemInstruction), NO_MARKERS));
  geminiContents(p.contents).forEach((c, i) => segs.push(segment('message', c, NO_MARKERS, i)));
  // Implicit caching: the whole prompt is a candidate prefix.
  const last = segs.at(-1);
  if (last) last.breakpoint = true;
  return segs;
}

/** The SDK's own normalisation (tContent): a part or part list becomes one user Content. */
function geminiContent(value: unknown): unknown {
  if (isRecord(value) && Array.isArray(value.parts)) return value;
  const parts = (Array.isArray(value) ? value : [value]).map((part: unknown) => (typeof part === 'string' ? { text: part } : part));
  return { role: 'user', parts };
}

/** The SDK's tContents: a list of Contents stays as is; a list of parts is one user Content. */
function geminiContents(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && value.length > 0 && isRecord(value[0]) && Array.isArray(value[0].parts)) return value;
  return [geminiContent(value)];
}

/** Anthropic content: a string is one text block. */
function textBlocks(content: unknown): unknown {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** Calls `fn` for each object in `list` with its index in `list`; anything else is skipped. */
function eachRecord(list: unknown, fn: (item: Record<string, unknown>, index: number) => void): void {
  if (Array.isArray(list)) list.forEach((item: unknown, i) => isRecord(item) && fn(item, i));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
