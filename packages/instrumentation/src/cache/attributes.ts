import type { Attributes } from '@opentelemetry/api';
import { ATTR_LLM_CACHE_BREAK_AT, ATTR_LLM_CACHE_MISS_REASON, ATTR_LLM_CACHE_PREFIX_HASH, ATTR_LLM_CACHE_STATE, ATTR_LLM_PROMPT_HASH } from '../semconv.ts';
import type { CacheClassification } from './tracker.ts';

/** The `llm.cache.*` span attributes and `llm.prompt.hash` of docs/conventions.md for one classification. */
export function cacheAttributes(c: CacheClassification): Attributes {
  const attrs: Attributes = { [ATTR_LLM_CACHE_STATE]: c.state, [ATTR_LLM_CACHE_PREFIX_HASH]: c.prefixHash, [ATTR_LLM_PROMPT_HASH]: c.promptHash };
  if (c.missReason) attrs[ATTR_LLM_CACHE_MISS_REASON] = c.missReason;
  if (c.breakAt) attrs[ATTR_LLM_CACHE_BREAK_AT] = c.breakAt;
  return attrs;
}
