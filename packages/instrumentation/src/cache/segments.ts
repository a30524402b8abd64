/**
 * The cacheable prompt prefix of a request, reduced to hashed segments in the provider's order
 * (tools → system → messages). Each wire format (src/formats/) cuts its requests into segments;
 * breakpoints mark where the provider may store the prefix (explicit markers, or an implicit one
 * at the prompt's end).
 */
import { fingerprint } from './fingerprint.ts';

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

/** A cache marker of the request (Anthropic `cache_control`, OpenAI `prompt_cache_breakpoint`). */
export type Marker = { ttl?: CacheTtl | undefined } | null | undefined;

/**
 * One segment of `content`. `markers` are the keys of cache markers: they say where a prefix ends
 * and are not part of its content (moving a marker to the newest message must not change the
 * fingerprint of the messages before it). A `marker` makes the segment a breakpoint.
 */
export function prefixSegment(
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
