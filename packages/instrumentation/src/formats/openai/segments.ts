/**
 * OpenAI's cacheable prompt prefix (Chat Completions, Responses): tools → system → messages, with
 * the explicit `prompt_cache_breakpoint` markers and the implicit breakpoint at the prompt's end.
 */
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ResponseCreateParams } from 'openai/resources/responses/responses';
import { prefixSegment, type Marker, type PrefixSegment } from '../../cache/index.ts';
import { eachRecord, isObject, type Json } from '../common.ts';

const MARKERS: ReadonlySet<string> = new Set(['prompt_cache_breakpoint']);

/**
 * The implicit breakpoint at the end unless `prompt_cache_options.mode` is `explicit`. A request
 * with `prompt_cache_options` or explicit breakpoints (gpt-5.6 and later) gives each breakpoint
 * without a `ttl` of its own the request's, which defaults to `30m` (openai's API reference);
 * without either, the provider's default lifetime applies.
 */
function withImplicitBreakpoint(segs: PrefixSegment[], options: { mode?: string | undefined; ttl?: '30m' | '12h' | undefined } | undefined): PrefixSegment[] {
  const requestTtl = options || segs.some((seg) => seg.breakpoint) ? (options?.ttl ?? '30m') : undefined;
  const last = segs.at(-1);
  if (last && options?.mode !== 'explicit') last.breakpoint = true;
  if (requestTtl) for (const seg of segs) if (seg.breakpoint) seg.ttl ??= requestTtl;
  return segs;
}

/** The last `prompt_cache_breakpoint` among a message's content parts (one segment per message). */
function marker(content: unknown): Marker {
  if (!Array.isArray(content)) return undefined;
  return content.findLast((part: unknown) => isObject(part) && isObject(part.prompt_cache_breakpoint))
    ?.prompt_cache_breakpoint;
}

export function chatSegments(params: Json): PrefixSegment[] {
  const p = params as Partial<ChatCompletionCreateParams>;
  const segs: PrefixSegment[] = [];
  if (Array.isArray(p.tools) && p.tools.length > 0) segs.push(prefixSegment('tools', p.tools, MARKERS));
  eachRecord(p.messages, (m, i) => {
    const kind = m.role === 'system' || m.role === 'developer' ? 'system' : 'message';
    segs.push(prefixSegment(kind, m, MARKERS, i, marker(m.content)));
  });
  return withImplicitBreakpoint(segs, p.prompt_cache_options);
}

export function responsesSegments(params: Json): PrefixSegment[] {
  const p = params as Partial<ResponseCreateParams>;
  const segs: PrefixSegment[] = [];
  if (Array.isArray(p.tools) && p.tools.length > 0) segs.push(prefixSegment('tools', p.tools, MARKERS));
  if (p.instructions) segs.push(prefixSegment('system', p.instructions, MARKERS));
  if (typeof p.input === 'string') {
    // The API reads a bare string as one user message.
    segs.push(prefixSegment('message', { role: 'user', content: p.input }, MARKERS, 0));
  } else {
    eachRecord(p.input, (item, i) => {
      const kind = item.role === 'system' || item.role === 'developer' ? 'system' : 'message';
      segs.push(prefixSegment(kind, item, MARKERS, i, marker(item.content)));
    });
  }
  return withImplicitBreakpoint(segs, p.prompt_cache_options);
}
