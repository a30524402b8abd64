import type { Attributes } from '@opentelemetry/api';
import type { CacheClassification } from './tracker.ts';

/** The `llm.cache.*` span attributes of docs/conventions.md for one classification. */
export function cacheAttributes(c: CacheClassification): Attributes {
  const attrs: Attributes = { 'llm.cache.state': c.state, 'llm.cache.prefix_hash': c.prefixHash };
  if (c.missReason) attrs['llm.cache.miss_reason'] = c.missReason;
  if (c.breakAt) attrs['llm.cache.break_at'] = c.breakAt;
  return attrs;
}
