/**
 * Anthropic's cacheable prompt prefix (Messages): tools → system → messages, with its
 * `cache_control` markers; one segment per tool, system block and message content block, so that
 * segment boundaries do not depend on where the application put its markers.
 */
import type { MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';
import { prefixSegment, type Marker, type PrefixSegment } from '../../cache/index.ts';
import { eachRecord, isObject, type Json } from '../common.ts';

const MARKERS: ReadonlySet<string> = new Set(['cache_control']);

/** Anthropic content: a string is one text block. */
function textBlocks(content: unknown): unknown {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

export function messagesSegments(params: Json): PrefixSegment[] {
  const p = params as Partial<MessageCreateParams>;
  const segs: PrefixSegment[] = [];
  const block = (kind: PrefixSegment['kind'], content: unknown, index: number, b: unknown): void => {
    segs.push(prefixSegment(kind, content, MARKERS, index, isObject(b) ? (b.cache_control as Marker) : undefined));
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
