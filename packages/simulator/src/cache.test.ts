import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server.ts';

const MINUTE = 60_000;
// 400 characters = 100 tokens.
const LONG = (seed: string) => seed.padEnd(400, '.');

let now = 0;
const clock = () => now;
const sims: Simulator[] = [];

async function simulator(cache: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator({ port: 0, defaultScenario: { chunks: 2 }, ...cache });
  sims.push(sim);
  return sim;
}
afterAll(() => Promise.all(sims.map((s) => s.close())));
beforeEach(() => {
  now = 1_000_000;
});

describe('OpenAI automatic caching', () => {
  let sim: Simulator;
  let openai: OpenAI;
  beforeAll(async () => {
    sim = await simulator({ cache: { minTokens: 50, clock, openai: { capacity: 3 } } });
    openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
  });
  beforeEach(() => sim.cache.clear());

  type Message = OpenAI.Chat.ChatCompletionMessageParam;
  const usage = async (messages: Message[]) => {
    const { usage } = await openai.chat.completions.create({ model: 'gpt-4o', messages });
    return [usage?.prompt_tokens, usage?.prompt_tokens_details?.cached_tokens];
  };
  // system 100 + 4, user 'hello there' 3 + 4
  const base: Message[] = [
    { role: 'system', content: LONG('you are a prism') },
    { role: 'user', content: 'hello there' },
  ];

  it('reads the longest previously seen prefix, counted inside prompt_tokens', async () => {
    expect(await usage(base)).toEqual([111, 0]);
    expect(await usage(base)).toEqual([111, 111]);
    const grown: Message[] = [...base, { role: 'assistant', content: 'tok tok ' }, { role: 'user', content: 'and more' }];
    expect(await usage(grown)).toEqual([123, 111]);
    const diverged: Message[] = [base[0] as Message, { role: 'user', content: 'something else' }];
    expect(await usage(diverged)).toEqual([112, 104]);
  });

  it('expires entries after the TTL, refreshed by every hit', async () => {
    await usage(base);
    now += 4 * MINUTE;
    expect(await usage(base)).toEqual([111, 111]);
    now += 4 * MINUTE;
    expect(await usage(base)).toEqual([111, 111]);
    now += 5 * MINUTE + 1;
    expect(await usage(base)).toEqual([111, 0]);
  });

  it('caches nothing below minTokens', async () => {
    const short: Message[] = [{ role: 'user', content: 'hi' }];
    expect(await usage(short)).toEqual([5, 0]);
    expect(await usage(short)).toEqual([5, 0]);
    expect(sim.cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond capacity, and on evictAll', async () => {
    const prompt = (seed: string): Message[] => [{ role: 'system', content: LONG(seed) }];
    for (const seed of ['a', 'b', 'c']) await usage(prompt(seed));
    expect(await usage(prompt('a'))).toEqual([104, 104]); // a is now the most recent
    await usage(prompt('d')); // evicts b
    expect(sim.cache.size).toBe(3);
    expect(await usage(prompt('b'))).toEqual([104, 0]); // b re-enters, evicting c
    expect(await usage(prompt('a'))).toEqual([104, 104]);
    expect(await usage(prompt('c'))).toEqual([104, 0]);
    sim.cache.evictAll('openai');
    expect(sim.cache.size).toBe(0);
    expect(await usage(prompt('a'))).toEqual([104, 0]);
  });

  it('caches the Responses API prompt too (tools → instructions → input)', async () => {
    const request = { model: 'gpt-5', instructions: LONG('instructions'), input: 'hello there' };
    const first = await openai.responses.create(request);
    const second = await openai.responses.create({ ...request, input: 'another question' });
    expect(first.usage?.input_tokens_details.cached_tokens).toBe(0);
    expect([second.usage?.input_tokens, second.usage?.input_tokens_details.cached_tokens]).toEqual([104 + 8, 104]);
  });
});

describe('Anthropic explicit caching', () => {
  let sim: Simulator;
  let anthropic: Anthropic;
  beforeAll(async () => {
    sim = await simulator({ cache: { minTokens: 50, clock } });
    anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'x', openTelemetry: false });
  });
  beforeEach(() => sim.cache.clear());

  const system = (seed: string, ttl?: '1h'): Anthropic.TextBlockParam[] => [
    { type: 'text', text: LONG(seed), cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' } },
  ];
  const hello: Anthropic.MessageParam[] = [{ role: 'user', content: 'hello there' }];
  const usage = async (params: Partial<Anthropic.MessageCreateParamsNonStreaming>) => {
    const { usage } = await anthropic.messages
      .stream({ model: 'claude-sim', max_tokens: 100, messages: hello, ...params })
      .finalMessage();
    return {
      input: usage.input_tokens,
      read: usage.cache_read_input_tokens,
      write: usage.cache_creation_input_tokens,
      write5m: usage.cache_creation?.ephemeral_5m_input_tokens,
      write1h: usage.cache_creation?.ephemeral_1h_input_tokens,
    };
  };

  it('writes the prefix up to the breakpoint, then reads it, both outside input_tokens', async () => {
    expect(await usage({ system: system('s') })).toEqual({ input: 7, read: 0, write: 100, write5m: 100, write1h: 0 });
    expect(await usage({ system: system('s') })).toEqual({ input: 7, read: 100, write: 0, write5m: 0, write1h: 0 });
    // No breakpoint: nothing is read or written.
    expect(await usage({ system: LONG('s') })).toEqual({ input: 107, read: 0, write: 0, write5m: 0, write1h: 0 });
  });

  it('reads the cached part and writes the rest up to a later breakpoint', async () => {
    await usage({ system: system('s') });
    const conversation: Anthropic.MessageParam[] = [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: 'tok tok ' },
      { role: 'user', content: [{ type: 'text', text: LONG('question'), cache_control: { type: 'ephemeral' } }] },
    ];
    // system 100 | user 7 | assistant 6 | user 104
    expect(await usage({ system: system('s'), messages: conversation })).toEqual({ input: 0, read: 100, write: 117, write5m: 117, write1h: 0 });
    expect(await usage({ system: system('s'), messages: conversation })).toEqual({ input: 0, read: 217, write: 0, write5m: 0, write1h: 0 });
  });

  it('keeps 5-minute entries 5 minutes and 1-hour entries an hour', async () => {
    await usage({ system: system('short') });
    expect(await usage({ system: system('long', '1h') })).toMatchObject({ write: 100, write1h: 100, write5m: 0 });
    now += 5 * MINUTE + 1;
    expect(await usage({ system: system('short') })).toMatchObject({ read: 0, write: 100 });
    expect(await usage({ system: system('long', '1h') })).toMatchObject({ read: 100, write: 0 });
    now += 60 * MINUTE + 1;
    expect(await usage({ system: system('long', '1h') })).toMatchObject({ read: 0, write: 100 });
  });

  it('caches tools in front of the system prompt', async () => {
    const tools: Anthropic.Tool[] = [
      { name: 'lookup', description: LONG('looks things up'), input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } },
    ];
    const first = await usage({ tools });
    expect(first.write).toBeGreaterThan(100);
    expect(await usage({ tools, system: 'different' })).toMatchObject({ read: first.write, write: 0 });
  });

  it('writes nothing below minTokens and raises no error', async () => {
    const small: Anthropic.TextBlockParam[] = [{ type: 'text', text: 'tiny', cache_control: { type: 'ephemeral' } }];
    expect(await usage({ system: small })).toEqual({ input: 8, read: 0, write: 0, write5m: 0, write1h: 0 });
    expect(sim.cache.size).toBe(0);
  });
});

describe('Gemini implicit caching', () => {
  let sim: Simulator;
  let gemini: GoogleGenAI;
  beforeAll(async () => {
    sim = await simulator({ cache: { minTokens: 50, clock, gemini: { ttlMs: MINUTE } } });
    gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: sim.geminiBaseURL } });
  });

  it('reports cachedContentTokenCount inside promptTokenCount, with its own TTL', async () => {
    const usage = async (contents: string) => {
      let last;
      const config = { systemInstruction: LONG('gemini system') };
      for await (const chunk of await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents, config })) {
        last = chunk.usageMetadata;
      }
      return [last?.promptTokenCount, last?.cachedContentTokenCount];
    };
    // systemInstruction 100 + 4, content 'hello there' 3 + 4
    expect(await usage('hello there')).toEqual([111, undefined]);
    expect(await usage('hello there')).toEqual([111, 111]);
    expect(await usage('other words')).toEqual([111, 104]);
    now += MINUTE + 1;
    expect(await usage('other words')).toEqual([111, undefined]);
  });
});
