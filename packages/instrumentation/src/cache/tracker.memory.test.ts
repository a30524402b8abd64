import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { PrefixSegment } from './segments.ts';
import { CacheTracker } from './tracker.ts';
import { CACHE_MODELS } from '../formats/index.ts';

// A real collection before each heap reading, without restarting the worker with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus ArrayBuffer memory, after a full collection. */
function memoryAfterGc(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Call i: its own system prompt and conversation, so each call adds two prefixes and a turn. */
function segmentsOf(i: number): PrefixSegment[] {
  const hex = i.toString(16).padStart(16, '0');
  return [
    { kind: 'system', index: 0, hash: hex, tokens: 1500 },
    { kind: 'message', index: 1, hash: hex.split('').reverse().join(''), tokens: 600, breakpoint: true },
  ];
}

describe('CacheTracker memory', () => {
  it('stays bounded and flat over 400 000 distinct prefixes', () => {
    const maxPrefixes = 100_000;
    const baseline = memoryAfterGc();
    const tracker = new CacheTracker({ models: CACHE_MODELS, maxPrefixes, now: () => 0 });
    const usage = { inputTokens: 2100, cacheReadTokens: 0, cacheWriteTokens: 0 };
    const run = (from: number, to: number) => {
      for (let i = from; i < to; i++) tracker.classify({ provider: 'openai', segments: segmentsOf(i), usage });
    };

    run(0, 50_000); // 100 000 prefixes: the prefix map is full.
    expect(tracker.size.prefixes).toBe(maxPrefixes);
    run(50_000, 100_000); // and now the conversations too.
    const full = memoryAfterGc();
    run(100_000, 200_000); // 200 000 more prefixes, 100 000 more conversations.
    const later = memoryAfterGc();

    expect(tracker.size).toEqual({ prefixes: maxPrefixes, conversations: maxPrefixes });
    // Unbounded maps would have doubled what they held at `full`; the LRU keeps memory flat.
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    console.log(`tracker at capacity ${mib(full - baseline)}; growth over 200k more prefixes ${mib(later - full)}`);
    expect(full - baseline).toBeGreaterThan(10 * 2 ** 20);
    expect(later - full).toBeLessThan(0.1 * (full - baseline));
  });

  it('stays flat while a full tracker sees only prompts and conversations it holds (cache hits)', () => {
    // A service with a fixed set of prompt templates: once the maps are full, every call refreshes
    // keys they hold and none is evicted. (An LRU that parked an iterator on its Map kept every
    // table V8 rehashed since the last eviction: +0.6 KB a call, without end.)
    const maxPrefixes = 2_000;
    const tracker = new CacheTracker({ models: CACHE_MODELS, maxPrefixes, now: () => 0 });
    const usage = { inputTokens: 2100, cacheReadTokens: 0, cacheWriteTokens: 0 };
    for (let i = 0; i < 3_000; i++) tracker.classify({ provider: 'openai', segments: segmentsOf(i), usage });
    const repeat = (calls: number) => {
      for (let i = 0; i < calls; i++) tracker.classify({ provider: 'openai', segments: segmentsOf(2_500 + (i % 500)), usage });
    };
    repeat(50_000);
    const warm = memoryAfterGc();
    repeat(300_000);
    const later = memoryAfterGc();
    console.log(`growth over 300k repeated calls at capacity: ${((later - warm) / 2 ** 20).toFixed(1)} MiB`);
    expect(tracker.size).toEqual({ prefixes: maxPrefixes, conversations: maxPrefixes });
    expect(later - warm).toBeLessThan(4 * 2 ** 20);
  });
});
