/** withLlmContext and the prompt-cache classifier, as they reach the call span. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator } from '@llm-prism/simulator';
import { withLlmContext } from './context.ts';
import { createHarness, finishedCalls, type Harness } from '../test/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

it('tags calls with the conversation, the route and the cache state of their prefix', async () => {
  // ~1900 tokens of system prompt: above OpenAI's 1024-token minimum, so the prefix is cached.
  const system = 'You are a careful assistant. '.repeat(260);
  const first = [
    { role: 'system' as const, content: system },
    { role: 'user' as const, content: 'First question' },
  ];
  const completions = await withLlmContext({ conversationId: 'conv-42', route: '/support' }, async () => {
    const a = await h.client.chat.completions.create({ model: 'gpt-4o', messages: first });
    const b = await h.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [...first, { role: 'assistant' as const, content: 'Answer' }, { role: 'user' as const, content: 'Second question' }],
    });
    return [a, b];
  });
  const outside = await h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'short' }] });

  const [one, two, three] = await finishedCalls(h.exporter, 3);
  expect(one!.attributes).toMatchObject({ 'gen_ai.conversation.id': 'conv-42', 'llm.route': '/support', 'llm.cache.state': 'miss', 'llm.cache.miss_reason': 'cold' });
  expect(completions[1]!.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);
  expect(two!.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(completions[1]!.usage!.prompt_tokens_details!.cached_tokens);
  expect(['hit', 'partial']).toContain(two!.attributes['llm.cache.state']);
  expect(two!.attributes['llm.cache.prefix_hash']).toMatch(/^[0-9a-f]+$/);
  expect(two!.attributes['llm.cache.prefix_hash']).not.toBe(one!.attributes['llm.cache.prefix_hash']);
  // Outside the context: no conversation, and a prompt too short to be cached.
  expect(three!.attributes['gen_ai.conversation.id']).toBeUndefined();
  expect(three!.attributes['llm.route']).toBeUndefined();
  expect(three!.attributes['llm.cache.state']).toBe('none');
  expect(outside.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
});

it('keeps provider caches apart: the same prompt at another endpoint starts cold there', async () => {
  h.exporter.reset();
  // Each simulator is a provider with caches of its own (it keeps one per provider, whatever the key:
  // scope.test.ts checks that keys make scopes too).
  const other = await startSimulator({ port: 0 });
  try {
    const OpenAI = h.client.constructor as typeof import('openai').OpenAI;
    const messages = [
      { role: 'system' as const, content: 'You are a tenant-scoped assistant. '.repeat(220) },
      { role: 'user' as const, content: 'Hello' },
    ];
    for (const sim of [h.sim, other]) await new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'tenant-a', maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages });
    const calls = await finishedCalls(h.exporter, 2);
    // Before, the second was `evicted`: the tracker had seen the prefix stored at the first endpoint.
    expect(calls.map((c) => [c.attributes['llm.cache.state'], c.attributes['llm.cache.miss_reason']])).toEqual([
      ['miss', 'cold'],
      ['miss', 'cold'],
    ]);
  } finally {
    await other.close();
  }
});
