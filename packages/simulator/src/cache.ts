import { createHash } from 'node:crypto';
import type { CacheOptions, PromptUsage, Provider, ProviderCacheOptions } from './types.ts';

/** One cacheable segment of a prompt, in provider order (tools → system → messages). */
export interface PromptBlock {
  /** What the block holds; hashed, never stored. */
  content: unknown;
  tokens: number;
  /** Anthropic `cache_control` breakpoint on this block, with its TTL tier. */
  breakpoint?: '5m' | '1h';
}

interface Entry {
  /** Chain hash after each block of the cached prefix: equal hashes mean equal prefixes. */
  chain: string[];
  /** Cumulative tokens after each block. */
  tokens: number[];
  ttlMs: number;
  expiresAt: number;
}

const MINUTE = 60_000;
const DEFAULT_TTL_MS: Record<Provider, number> = { openai: 5 * MINUTE, anthropic: 5 * MINUTE, gemini: 5 * MINUTE };
const ANTHROPIC_1H_TTL_MS = 60 * MINUTE;
const DEFAULT_CAPACITY = 10_000;
const DEFAULT_MIN_TOKENS = 1024;

/**
 * The simulated prompt cache of all three providers. Entries live per provider in insertion
 * order, which doubles as LRU order (a hit re-inserts its entry).
 */
export class PromptCache {
  readonly #options: CacheOptions;
  readonly #clock: () => number;
  readonly #entries: Record<Provider, Map<string, Entry>> = {
    openai: new Map(),
    anthropic: new Map(),
    gemini: new Map(),
  };

  constructor(options: CacheOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Entries currently held (expired ones included until they are next looked at). */
  get size(): number {
    return this.#entries.openai.size + this.#entries.anthropic.size + this.#entries.gemini.size;
  }

  clear(): void {
    this.evictAll();
  }

  /** Drops every entry of one provider (or all): what a provider-side eviction looks like. */
  evictAll(provider?: Provider): void {
    for (const p of provider ? [provider] : (Object.keys(this.#entries) as Provider[])) this.#entries[p].clear();
  }

  /**
   * Automatic prefix caching (OpenAI, Gemini implicit): the longest prefix shared with a live
   * entry is read; the whole prompt is then stored as an entry.
   */
  automatic(provider: 'openai' | 'gemini', blocks: PromptBlock[]): PromptUsage {
    const { chain, tokens } = chainOf(blocks);
    const total = tokens.at(-1) ?? 0;
    const cfg = this.#config(provider);
    const entries = this.#live(provider);
    let read = 0;
    let readKey: string | undefined;
    for (const [key, entry] of entries) {
      const shared = sharedBlocks(entry.chain, chain);
      const sharedTokens = shared > 0 ? (tokens[shared - 1] ?? 0) : 0;
      if (sharedTokens > read && sharedTokens >= cfg.minTokens) {
        read = sharedTokens;
        readKey = key;
      }
    }
    if (readKey !== undefined) this.#touch(provider, readKey);
    const fullKey = chain.at(-1);
    if (fullKey !== undefined && total >= cfg.minTokens) {
      this.#store(provider, fullKey, { chain, tokens, ttlMs: cfg.ttlMs, expiresAt: 0 });
    }
    return { total, cacheRead: read, cacheWrite5m: 0, cacheWrite1h: 0 };
  }

  /**
   * Anthropic explicit caching: the longest cached prefix ending at a block boundary up to the
   * last breakpoint is read; every breakpoint beyond it writes its prefix, and the tokens of each
   * segment count toward the TTL tier of the breakpoint that closes it.
   */
  explicit(blocks: PromptBlock[]): PromptUsage {
    const { chain, tokens } = chainOf(blocks);
    const total = tokens.at(-1) ?? 0;
    const cfg = this.#config('anthropic');
    const entries = this.#live('anthropic');
    const breakpoints = blocks.flatMap((b, i) => (b.breakpoint ? [i] : []));
    const last = breakpoints.at(-1) ?? -1;
    let readAt = -1;
    for (let i = last; i >= 0; i--) {
      const key = chain[i] as string;
      if (entries.has(key)) {
        readAt = i;
        this.#touch('anthropic', key);
        break;
      }
    }
    const cacheRead = readAt >= 0 ? (tokens[readAt] ?? 0) : 0;
    const usage: PromptUsage = { total, cacheRead, cacheWrite5m: 0, cacheWrite1h: 0 };
    let writtenTo = cacheRead;
    for (const i of breakpoints) {
      const upTo = tokens[i] ?? 0;
      if (i <= readAt || upTo < cfg.minTokens) continue;
      const tier = blocks[i]?.breakpoint ?? '5m';
      const ttlMs = tier === '1h' ? ANTHROPIC_1H_TTL_MS : cfg.ttlMs;
      this.#store('anthropic', chain[i] as string, {
        chain: chain.slice(0, i + 1),
        tokens: tokens.slice(0, i + 1),
        ttlMs,
        expiresAt: 0,
      });
      if (tier === '1h') usage.cacheWrite1h += upTo - writtenTo;
      else usage.cacheWrite5m += upTo - writtenTo;
      writtenTo = upTo;
    }
    return usage;
  }

  #config(provider: Provider): Required<ProviderCacheOptions> {
    const own = this.#options[provider] ?? {};
    return {
      ttlMs: own.ttlMs ?? this.#options.ttlMs ?? DEFAULT_TTL_MS[provider],
      capacity: own.capacity ?? this.#options.capacity ?? DEFAULT_CAPACITY,
      minTokens: own.minTokens ?? this.#options.minTokens ?? DEFAULT_MIN_TOKENS,
    };
  }

  /** The provider's entries after dropping the expired ones. */
  #live(provider: Provider): Map<string, Entry> {
    const entries = this.#entries[provider];
    const now = this.#clock();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    return entries;
  }

  /** A hit refreshes the TTL and makes the entry most recently used. */
  #touch(provider: Provider, key: string): void {
    const entries = this.#entries[provider];
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    entry.expiresAt = this.#clock() + entry.ttlMs;
    entries.set(key, entry);
  }

  #store(provider: Provider, key: string, entry: Entry): void {
    const entries = this.#entries[provider];
    entries.delete(key);
    entry.expiresAt = this.#clock() + entry.ttlMs;
    entries.set(key, entry);
    const capacity = this.#config(provider).capacity;
    for (const oldest of entries.keys()) {
      if (entries.size <= capacity) break;
      entries.delete(oldest);
    }
  }
}

function chainOf(blocks: PromptBlock[]): { chain: string[]; tokens: number[] } {
  const chain: string[] = [];
  const tokens: number[] = [];
  let hash = '';
  let sum = 0;
  for (const block of blocks) {
    hash = createHash('sha256').update(hash).update(JSON.stringify(block.content) ?? '').digest('hex');
    sum += block.tokens;
    chain.push(hash);
    tokens.push(sum);
  }
  return { chain, tokens };
}

/** Number of leading blocks two chains share. */
function sharedBlocks(a: string[], b: string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
