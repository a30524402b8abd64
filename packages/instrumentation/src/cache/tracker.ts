/**
 * Classifies each call's prompt-cache outcome (`llm.cache.*`, DESIGN.md "Cache state and miss
 * reasons") from the usage the provider reported and what this process has seen of earlier
 * prefixes. Pure: no I/O, the clock is injectable. Rules in ./README.md.
 */
import { diag } from '@opentelemetry/api';
import { digest, HASH_HEX_DIGITS } from './fingerprint.ts';
import { LruMap } from './lru.ts';
import type { CacheTtl, PrefixSegment } from './segments.ts';

export type CacheState = 'hit' | 'partial' | 'write' | 'miss' | 'none';
export type MissReason = 'cold' | 'expired' | 'evicted' | 'prefix_changed';
/** Lifetimes a request can ask for beyond the provider default (`5m` is the default). */
export type RequestedTtl = Exclude<CacheTtl, '5m'>;

export interface CacheUsage {
  /** Total input tokens, cached ones included (`gen_ai.usage.input_tokens`). */
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * How one provider caches prompt prefixes: its wire format says so (src/formats/). The tracker
 * knows providers only by their id and this model.
 */
export interface CacheModel {
  /** Default lifetime of a stored prefix, in ms. */
  ttlMs: number;
  /** Smallest prefix the provider caches, in estimated tokens. */
  minTokens: number;
  /** Reads come in blocks of this many tokens (OpenAI: 128), so a full read may fall short of the prompt by one block. */
  readGranularity: number;
  /**
   * The provider reports writes and stores a prefix only at its breakpoints (Anthropic); else it
   * caches silently and stores the whole prompt, so every prefix of it can be read later.
   */
  explicit: boolean;
}

export interface ClassifyInput {
  /** The provider id: a key of the tracker's `models`. */
  provider: string;
  /** `gen_ai.request.model`: providers cache per model, so prefixes and turns are kept per model. */
  model?: string | undefined;
  /** The provider cache the request reached (scope.ts `cacheScopeOf`): kept apart from every other's. */
  scope?: string | undefined;
  conversationId?: string | undefined;
  segments: PrefixSegment[];
  usage: CacheUsage;
  /** Epoch ms when the call ended (its prefix is stored from then on); defaults to the tracker's clock. */
  now?: number | undefined;
  /**
   * Epoch ms when the request was sent; defaults to `now`. Only prefixes stored before it could
   * have served the call, so concurrent writers of one prefix (a stampede) are all `cold`.
   */
  startedAt?: number | undefined;
}

export interface CacheClassification {
  state: CacheState;
  /** On `miss` and `write`: why nothing was read. */
  missReason?: MissReason;
  /** Where the prompt left the previous turn's cached prefix: `tools`, `system`, `messages[3]`. */
  breakAt?: string;
  /** Fingerprint of the cacheable prefix (up to the last breakpoint). */
  prefixHash: string;
  /** Fingerprint of the whole prompt (every segment): equal prompts, equal hashes (duplicate calls). */
  promptHash: string;
}

export interface CacheTrackerOptions {
  /** Each provider's cache model, by provider id. */
  models: Readonly<Record<string, CacheModel>>;
  /** Bound of each LRU (prefixes, conversations). Default 100 000. */
  maxPrefixes?: number;
  /** Overrides of the provider default TTLs (by provider id, or one number for all) and of the lifetimes a request can ask for (`1h`, `30m`, `12h`). */
  ttlMs?: number | Partial<Record<string, number>>;
  /** Overrides of the smallest prefix each provider caches (by provider id, or one number for all), in estimated tokens. */
  minTokens?: number | Partial<Record<string, number>>;
  now?: () => number;
}

const MINUTE = 60_000;
const REQUESTED_TTL_MS: Record<RequestedTtl, number> = {
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '12h': 12 * 60 * MINUTE,
};

/** `field` of every model, by provider id. */
function byProvider<K extends 'ttlMs' | 'minTokens'>(models: Readonly<Record<string, CacheModel>>, field: K): Record<string, number> {
  return Object.fromEntries(Object.entries(models).map(([id, model]) => [id, model[field]]));
}

/**
 * The defaults with the option's overrides: one number for every provider, or some by key. A key
 * nothing reads (`gcp.gemini` for `gemini`) or a value that is no number from 0 on is named through
 * diag and left out, rather than ignored silently.
 */
function withOverrides(defaults: Record<string, number>, option: unknown, name: string): Record<string, number> {
  if (option === undefined) return defaults;
  const valid = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (typeof option === 'number') {
    if (valid(option)) return Object.fromEntries(Object.keys(defaults).map((key) => [key, option]));
    diag.warn(`llm-prism: promptCache.${name} ${option} is not a number from 0 on: ignored`);
    return defaults;
  }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    diag.warn(`llm-prism: promptCache.${name} ${String(option)} is neither a number nor an object by provider id: ignored`);
    return defaults;
  }
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(option)) {
    if (!Object.hasOwn(defaults, key)) diag.warn(`llm-prism: promptCache.${name}.${key} is not a provider id or lifetime (${Object.keys(defaults).join(', ')}): ignored`);
    else if (!valid(value)) diag.warn(`llm-prism: promptCache.${name}.${key} ${String(value)} is not a number from 0 on: ignored`);
    else merged[key] = value;
  }
  return merged;
}

/**
 * What a call stored (wrote or read). The provider stores it during the call: its lifetime counts
 * from the call's start, but only calls sent after the storing call ended could have read it.
 */
interface Stored {
  /** Start of the call that last wrote or read it. */
  refreshedAt: number;
  /** End of that call: calls sent earlier did not see this refresh. */
  visibleFrom: number;
  ttlMs: number;
}

/** A prefix the provider holds, as far as this process saw. */
interface PrefixEntry extends Stored {
  /** The refresh the last refreshing call itself saw, for calls concurrent with it (a stampede). */
  earlier: number | undefined;
  /** Provider tokens of the prefix when a call ended its cacheable prefix here, else 0 (unknown). */
  tokens: number;
}

/** When `entry` was last refreshed as a call sent at `t` could know, if it could see it at all. */
function refreshSeenAt(entry: PrefixEntry, t: number): number | undefined {
  return entry.visibleFrom <= t ? entry.refreshedAt : entry.earlier;
}

/** The last turn of a conversation that left its prefix in the cache. */
interface Turn extends Stored {
  /** Cumulative segment hashes up to the turn's cacheable end, concatenated. */
  hashes: string;
  /** Per segment one UTF-16 code unit (see labelCode), for `breakAt`; compact and heap-only. */
  labels: string;
  tokens: number;
  /** Fingerprint of the turn's messages (linked by its opening message only): see `linkedTurn`. */
  messages: number | undefined;
}

interface Known {
  /** Number of segments in the known prefix. */
  end: number;
  key: string;
  entry: PrefixEntry;
  /** Its last refresh as this call could know it. */
  seen: number;
}

/** A prompt reduced to what the tracker compares. */
interface Prompt {
  model: CacheModel;
  segs: PrefixSegment[];
  /** cum[i] fingerprints segments 0..i, seeded by provider and model (each has its own cache). */
  cum: string[];
  /** est[b]: estimated tokens of the first b segments. */
  est: number[];
  /** Segment counts at which a breakpoint closes a cacheable prefix. */
  breakpoints: number[];
  /** Segments in the cacheable prefix (up to the last breakpoint); 0 when nothing is cacheable. */
  cacheEnd: number;
}

/** Provider, model and scope triples whose seed is kept. */
const SEEDS = 256;

function promptOf(model: CacheModel, seed: string, segs: PrefixSegment[]): Prompt {
  const cum: string[] = [];
  const est: number[] = [0];
  let hash = seed;
  for (const seg of segs) {
    hash = digest(hash + seg.hash);
    cum.push(hash);
    est.push(est.at(-1)! + seg.tokens);
  }
  const breakpoints = segs.flatMap((seg, i) => (seg.breakpoint ? [i + 1] : []));
  return { model, segs, cum, est, breakpoints, cacheEnd: breakpoints.at(-1) ?? 0 };
}

export class CacheTracker {
  readonly #prefixes: LruMap<string, PrefixEntry>;
  readonly #turns: LruMap<string, Turn>;
  readonly #models: Readonly<Record<string, CacheModel>>;
  readonly #ttlMs: Partial<Record<string, number>>;
  readonly #minTokens: Partial<Record<string, number>>;
  readonly #now: () => number;
  /** Each provider, model and scope's seed (a digest), by `provider\0model\0scope`: the same few for every call. */
  readonly #seeds = new LruMap<string, string>(SEEDS);

  constructor(options: CacheTrackerOptions) {
    const max = options.maxPrefixes ?? 100_000;
    this.#prefixes = new LruMap(max);
    this.#turns = new LruMap(max);
    this.#models = options.models;
    const providerTtl = withOverrides(byProvider(options.models, 'ttlMs'), typeof options.ttlMs === 'number' ? options.ttlMs : undefined, 'ttlMs');
    this.#ttlMs = withOverrides({ ...providerTtl, ...REQUESTED_TTL_MS }, typeof options.ttlMs === 'number' ? undefined : options.ttlMs, 'ttlMs');
    this.#minTokens = withOverrides(byProvider(options.models, 'minTokens'), options.minTokens, 'minTokens');
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, for tests and diagnostics. */
  get size(): { prefixes: number; conversations: number } {
    return { prefixes: this.#prefixes.size, conversations: this.#turns.size };
  }

  classify(input: ClassifyInput): CacheClassification {
    const { provider, usage } = input;
    const now = input.now ?? this.#now();
    const sentAt = input.startedAt ?? now;
    // Providers drop an entry once its TTL has fully elapsed.
    const alive = (refreshedAt: number, ttlMs: number): boolean => sentAt - refreshedAt < ttlMs;
    const read = usage.cacheReadTokens;
    const written = usage.cacheWriteTokens;

    const seed = this.#seed(provider, input.model, input.scope);
    const model = this.#models[provider]!;
    const prompt = promptOf(model, seed, input.segments);
    const { segs, cum, est, cacheEnd } = prompt;
    // The estimate decides only what the provider's own count allows: a prompt it counts below the
    // minimum (the estimate reads JSON keys, and base64 images as text) is not cacheable.
    const minTokens = this.#minTokens[provider]!;
    const eligible = cacheEnd > 0 && est[cacheEnd]! >= minTokens && usage.inputTokens >= minTokens;
    const prefixHash = cum[(cacheEnd || segs.length) - 1] ?? seed;
    const promptHash = cum.at(-1) ?? seed;

    // The longest prefix of this prompt that this process saw stored, and the longest still live.
    let known: Known | undefined;
    let live: Known | undefined;
    for (let end = cacheEnd; end > 0 && !live; end--) {
      const key = cum[end - 1]!;
      const entry = this.#prefixes.peek(key);
      const seen = entry && refreshSeenAt(entry, sentAt);
      if (!entry || seen === undefined) continue;
      known ??= { end, key, entry, seen };
      if (alive(seen, entry.ttlMs)) live = { end, key, entry, seen };
    }

    const turnKey = conversationKey(seed, input.conversationId, segs);
    const messages = input.conversationId === undefined ? messagesOf(segs) : undefined;
    const lastTurn = turnKey === undefined ? undefined : this.#turns.peek(turnKey);
    const prev = lastTurn && lastTurn.visibleFrom <= sentAt && linkedTurn(lastTurn, messages) ? lastTurn : undefined;
    const prevLive = prev !== undefined && alive(prev.refreshedAt, prev.ttlMs);
    const divergedAt = prev && firstDifference(prev, cum);
    // A live known prefix reaching past the divergence means the prompt continues that prefix
    // rather than the linked turn (a heuristic link to another conversation).
    const changed = prevLive && divergedAt !== undefined && !(live && live.end > divergedAt);
    const breakAt = changed ? breakLabel(prev!, segs, divergedAt!) : undefined;

    let result: CacheClassification;
    if (read > 0) {
      // Expected: all the previous turn cached (unless the prompt changed it), or the longest
      // live prefix; reads come in blocks, so a block short still counts as everything.
      const extendsPrev = prevLive && divergedAt === undefined && prev.labels.length <= cacheEnd;
      const fromPrev = changed || extendsPrev ? prev!.tokens : 0;
      const expected = Math.max(live?.entry.tokens ?? 0, fromPrev);
      result = read + model.readGranularity >= expected
        ? { state: 'hit', prefixHash, promptHash }
        : { state: 'partial', prefixHash, promptHash, ...(breakAt && { breakAt }) };
    } else if (written > 0 || eligible) {
      const missReason: MissReason = changed
        ? 'prefix_changed'
        : live
          ? 'evicted'
          : known
            ? 'expired'
            : prev && divergedAt === undefined
              ? prevLive ? 'evicted' : 'expired'
              : 'cold';
      result = { state: written > 0 ? 'write' : 'miss', missReason, prefixHash, promptHash, ...(breakAt && { breakAt }) };
    } else {
      return { state: 'none', prefixHash, promptHash };
    }

    const cached = model.explicit ? read + written > 0 : read > 0 || eligible;
    if (cached && cacheEnd > 0) {
      // A read refreshes the lifetime of what it read (Anthropic: "refreshed on each hit").
      if (read > 0 && live) this.#prefixes.set(live.key, { ...live.entry, refreshedAt: sentAt, visibleFrom: now, earlier: live.seen });
      this.#remember(provider, prompt, usage, turnKey, messages, sentAt, now);
    }
    return result;
  }

  #seed(provider: string, model: string | undefined, scope: string | undefined): string {
    const key = `${provider}\0${model ?? ''}\0${scope ?? ''}`;
    let seed = this.#seeds.peek(key);
    if (seed === undefined) this.#seeds.set(key, (seed = digest(key)));
    return seed;
  }

  /** Records what the provider holds after a call that read or wrote its prefix. */
  #remember(provider: string, prompt: Prompt, usage: CacheUsage, turnKey: string | undefined, messages: number | undefined, sentAt: number, now: number): void {
    const { model, segs, cum, est, breakpoints, cacheEnd } = prompt;
    const { explicit } = model;
    const endTokens = explicit
      ? usage.cacheReadTokens + usage.cacheWriteTokens
      : Math.round((usage.inputTokens * est[cacheEnd]!) / Math.max(est[segs.length]!, 1));
    // Anthropic stores each breakpoint's prefix; implicit caching makes every prefix readable.
    const ends = explicit ? breakpoints : Array.from({ length: cacheEnd }, (_, i) => i + 1);
    for (const end of ends) {
      if (end !== cacheEnd && est[end]! < this.#minTokens[provider]!) continue;
      const key = cum[end - 1]!;
      const before = this.#prefixes.peek(key);
      const seen = before && refreshSeenAt(before, sentAt);
      // A live entry this call read keeps its own lifetime (a 5-minute request reading a prefix a
      // 1-hour one wrote refreshes it, and it stays a 1-hour entry); one it wrote takes the request's:
      // Anthropic each breakpoint's own TTL, implicit caching the request's.
      const readIt = before !== undefined && seen !== undefined && sentAt - seen < before.ttlMs && usage.cacheReadTokens > 0 && before.tokens <= usage.cacheReadTokens;
      this.#prefixes.set(key, {
        refreshedAt: sentAt,
        visibleFrom: now,
        earlier: seen,
        ttlMs: readIt ? before.ttlMs : this.#ttl(provider, segs[(explicit ? end : cacheEnd) - 1]!),
        tokens: end === cacheEnd ? endTokens : (before?.tokens ?? 0),
      });
    }
    if (turnKey === undefined) return;
    this.#turns.set(turnKey, {
      hashes: cum.slice(0, cacheEnd).join(''),
      labels: segs.slice(0, cacheEnd).map((seg) => String.fromCharCode(labelCode(seg))).join(''),
      tokens: endTokens,
      messages,
      refreshedAt: sentAt,
      visibleFrom: now,
      ttlMs: this.#ttl(provider, segs[cacheEnd - 1]!),
    });
  }

  #ttl(provider: string, seg: PrefixSegment): number {
    return (seg.ttl && seg.ttl !== '5m' ? this.#ttlMs[seg.ttl] : this.#ttlMs[provider])!;
  }
}

/**
 * Conversation link: the application's conversation id when set, otherwise the first message
 * segment (turns of one conversation repeat their opening message while tools and system may change).
 */
function conversationKey(seed: string, conversationId: string | undefined, segs: PrefixSegment[]): string | undefined {
  // The id hashed: a short flat key per conversation, whatever its length (a first message's hash is one already).
  if (conversationId !== undefined) return digest(`${seed}\0id\0${conversationId}`);
  const first = segs.find((seg) => seg.kind === 'message');
  return first && `${seed}${first.hash}`;
}

/**
 * Fingerprint of a prompt's messages (not its tools or system prompt): 52 bits of their digest as
 * a number, kept per conversation without the 64-digit string a slice of the digest would hold on to.
 */
function messagesOf(segs: PrefixSegment[]): number {
  let hashes = '';
  for (const seg of segs) if (seg.kind === 'message') hashes += seg.hash;
  return Number.parseInt(digest(hashes).slice(0, 13), 16);
}

/**
 * Whether a turn found by its opening message (no conversation id) is this prompt's previous turn.
 * Each turn of a conversation adds messages: a prompt with the very same messages is not the next
 * turn but another call sent the same messages (one agent's question handed to another with its
 * own system prompt and tools), and is not `prefix_changed` against it.
 */
function linkedTurn(turn: Turn, messages: number | undefined): boolean {
  return messages === undefined || turn.messages !== messages;
}

/**
 * Index of the first segment where the prompt leaves the turn's cached prefix, if it does. A prompt
 * that ends inside that prefix (a history cut back to an earlier turn, a regenerate) leaves
 * nothing: all of it is what the turn left cached.
 */
function firstDifference(turn: Turn, cum: string[]): number | undefined {
  const end = Math.min(turn.labels.length, cum.length);
  const sameAt = (i: number): boolean => turn.hashes.startsWith(cum[i]!, i * HASH_HEX_DIGITS);
  // Hashes are cumulative: equal at the last shared segment means equal everywhere before it.
  if (end === 0 || sameAt(end - 1)) return undefined;
  for (let i = 0; i < end; i++) if (!sameAt(i)) return i;
  return undefined;
}

/** 0 tools, 1 system, 2 + i messages[i]. */
function labelCode(seg: PrefixSegment): number {
  return seg.kind === 'tools' ? 0 : seg.kind === 'system' ? 1 : Math.min(2 + (seg.index ?? 0), 0xffff);
}

/**
 * Where the prompt left the turn: of the two segments at the first difference, the earlier in the
 * prompt's order, so a removed part is named (tools dropped: `tools`, not the system after them).
 */
function breakLabel(turn: Turn, segs: PrefixSegment[], at: number): string {
  const now = segs[at];
  const before = at < turn.labels.length ? turn.labels.charCodeAt(at) : undefined;
  return label(Math.min(now ? labelCode(now) : Infinity, before ?? Infinity));
}

function label(seg: PrefixSegment | number): string {
  const code = typeof seg === 'number' ? seg : labelCode(seg);
  return code === 0 ? 'tools' : code === 1 ? 'system' : `messages[${code - 2}]`;
}
