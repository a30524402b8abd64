/**
 * A scripted conversation against the simulator's prompt-cache model, for each provider that
 * caches (OpenAI automatic, Anthropic cache_control, Gemini implicit): every call's `llm.cache.*`
 * attributes say what happened and why. Simulator and classifier share a short TTL and a low
 * minimum, so "expired" takes seconds, not minutes.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLlmContext } from '../packages/instrumentation/src/index.ts';
import { createHarness, finishedCalls, sleep, type Harness } from '../packages/instrumentation/test/harness.ts';

const TTL_MS = 2000;
const MIN_TOKENS = 64;

let h: Harness;
beforeAll(async () => {
  h = await createHarness(
    { promptCache: { ttlMs: { openai: TTL_MS, anthropic: TTL_MS, gemini: TTL_MS }, minTokens: { openai: MIN_TOKENS, anthropic: MIN_TOKENS, gemini: MIN_TOKENS } } },
    { cache: { ttlMs: TTL_MS, minTokens: MIN_TOKENS } },
  );
});
afterAll(() => h.close());

/** A system prompt well above the minimum on both sides (~500 tokens). */
const SYSTEM = Array.from({ length: 100 }, (_, i) => `Rule ${i}: answer politely and briefly.`).join(' ');

type Provider = 'openai' | 'anthropic' | 'gemini';

/** One call with `system` and the alternating user/assistant `turns`; returns its call span. */
async function ask(provider: Provider, system: string, turns: string[]): Promise<ReadableSpan> {
  h.exporter.reset();
  const role = (i: number) => (i % 2 === 0 ? 'user' : 'assistant');
  if (provider === 'openai') {
    await h.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: system }, ...turns.map((content, i) => ({ role: role(i) as 'user' | 'assistant', content }))],
    });
  } else if (provider === 'anthropic') {
    await h.anthropic.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 256,
      system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
      messages: turns.map((content, i) => ({ role: role(i) as 'user' | 'assistant', content })),
    });
  } else {
    await h.gemini.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: turns.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'model', parts: [{ text }] })),
      config: { systemInstruction: system },
    });
  }
  const [call] = await finishedCalls(h.exporter);
  return call!;
}

const cacheOf = (span: ReadableSpan) => ({
  state: span.attributes['llm.cache.state'],
  reason: span.attributes['llm.cache.miss_reason'],
  breakAt: span.attributes['llm.cache.break_at'],
});

/** What each step reports: Anthropic reports its writes (`write`), the others read silently (`miss`). */
const missState = (provider: Provider) => (provider === 'anthropic' ? 'write' : 'miss');

describe.each(['openai', 'anthropic', 'gemini'] as const)('%s', (provider) => {
  // The cold call stores the prefix: Anthropic reports it as a write, the others store silently.
  it('cold (write) → hit → evicted → expired → prefix_changed at system', async () => {
    await withLlmContext({ conversationId: `conv-${provider}` }, async () => {
      const turns = ['What is a prism?'];

      const cold = await ask(provider, SYSTEM, turns);
      expect(cacheOf(cold)).toEqual({ state: missState(provider), reason: 'cold', breakAt: undefined });
      expect(cold.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(0);
      if (provider === 'anthropic') expect(cold.attributes['gen_ai.usage.cache_write.input_tokens']).toBeGreaterThan(MIN_TOKENS);

      turns.push('A prism splits light.', 'Why does it split light?');
      const hit = await ask(provider, SYSTEM, turns);
      expect(cacheOf(hit)).toEqual({ state: 'hit', reason: undefined, breakAt: undefined });
      const read = hit.attributes['gen_ai.usage.cache_read.input_tokens'] as number;
      expect(read).toBeGreaterThan(MIN_TOKENS);
      // Cached tokens are part of the input total for every provider, never counted twice.
      const input = hit.attributes['gen_ai.usage.input_tokens'] as number;
      expect(input).toBeGreaterThan(read);
      if (provider === 'anthropic') expect(input).toBe(read + (hit.attributes['gen_ai.usage.cache_write.input_tokens'] as number) + uncachedAnthropicInput(turns));

      h.sim.cache.evictAll(provider);
      turns.push('Because of refraction.', 'And a rainbow?');
      const evicted = await ask(provider, SYSTEM, turns);
      expect(cacheOf(evicted)).toEqual({ state: missState(provider), reason: 'evicted', breakAt: undefined });

      await sleep(TTL_MS + 500);
      turns.push('Also refraction.', 'Thanks!');
      const expired = await ask(provider, SYSTEM, turns);
      expect(cacheOf(expired)).toEqual({ state: missState(provider), reason: 'expired', breakAt: undefined });

      // Per-user text put in front of the system prompt: nothing of the cached prefix is reused.
      turns.push('You are welcome.', 'Bye.');
      const changed = await ask(provider, `User: alice@example.com. ${SYSTEM}`, turns);
      expect(cacheOf(changed)).toEqual({ state: missState(provider), reason: 'prefix_changed', breakAt: 'system' });
      expect(changed.attributes['llm.cache.prefix_hash']).not.toBe(expired.attributes['llm.cache.prefix_hash']);
      for (const span of [cold, hit, evicted, expired, changed]) expect(JSON.stringify(span.attributes)).not.toContain('Rule 1:');
    });
  });
});

/** Anthropic's uncached `input_tokens` of the hit turn: the messages after the cached system block. */
function uncachedAnthropicInput(turns: string[]): number {
  return turns.reduce((sum, t) => sum + 4 + Math.ceil(t.length / 4), 0);
}
