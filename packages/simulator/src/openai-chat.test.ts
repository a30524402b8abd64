import OpenAI, { APIError, InternalServerError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

let sim: Simulator;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
});
afterAll(() => sim.close());

// 'hi' is 1 token + 4 overhead.
const messages = [{ role: 'user' as const, content: 'hi' }];
const PROMPT_TOKENS = 5;

function withScenario(scenario: Scenario) {
  return { headers: scenarioHeaders(scenario) };
}

describe('chat completions, streamed', () => {
  it('sends the role-only chunk, the text, the finish reason and an exact usage chunk', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
      withScenario({ chunks: 4, tokensPerChunk: 2 }),
    );
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('tok '.repeat(8));
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(4);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: 8,
      total_tokens: PROMPT_TOKENS + 8,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('sends no usage without include_usage', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, withScenario({ chunks: 2 }));
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('tok tok ');
  });

  it('streams tool calls as fragments that the stream helper reassembles', async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 4 },
      { name: 'get_time', arguments: '{"tz":"Europe/Paris"}', fragments: 2 },
    ];
    const stream = openai.chat.completions.stream(
      { model: 'gpt-4o', messages, stream_options: { include_usage: true } },
      withScenario({ chunks: 1, toolCalls }),
    );
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('tok ');
    expect(choice?.message.tool_calls?.map((c) => c.type === 'function' && [c.function.name, c.function.arguments])).toEqual([
      ['get_weather', toolCalls[0]?.arguments],
      ['get_time', toolCalls[1]?.arguments],
    ]);
    // 1 text token + ceil(34/4) + ceil(21/4)
    expect(final.usage?.completion_tokens).toBe(1 + 9 + 6);
  });

  it('counts hidden reasoning in reasoning_tokens', async () => {
    const final = await openai.chat.completions
      .stream({ model: 'o3', messages, stream_options: { include_usage: true } }, withScenario({ chunks: 2, thinkingChunks: 3 }))
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('tok tok ');
    expect(final.usage?.completion_tokens_details?.reasoning_tokens).toBe(3);
    expect(final.usage?.completion_tokens).toBe(5);
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['tool_calls', 'tool_calls'],
    ['stop', 'stop'],
  ] as const)('maps finishReason %s to %s', async (finishReason, expected) => {
    const final = await openai.chat.completions
      .stream({ model: 'gpt-4o', messages }, withScenario({ chunks: 1, finishReason }))
      .finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe(expected);
  });

  it('streams a refusal in delta.refusal', async () => {
    const final = await openai.chat.completions
      .stream({ model: 'gpt-4o', messages }, withScenario({ chunks: 3, finishReason: 'refusal' }))
      .finalChatCompletion();
    expect(final.choices[0]?.message.refusal).toBe('tok tok tok ');
    // Only the role-only chunk's empty content.
    expect(final.choices[0]?.message.content).toBe('');
    expect(final.choices[0]?.finish_reason).toBe('stop');
  });

  it('raises the error event sent mid-stream as an APIError, after the chunks before it', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      withScenario({ chunks: 5, failAfterChunks: 2 }),
    );
    const texts: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBeUndefined();
    expect(texts.join('')).toBe('tok tok ');
  });

  it('raises a dropped connection mid-stream', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      withScenario({ chunks: 5, failAfterChunks: 3, failMode: 'drop' }),
    );
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) received++;
    })().catch((e: unknown) => e);
    // undici reports the closed socket as TypeError('terminated'); the SDK passes it through.
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('terminated');
    expect(received).toBe(3);
  });

  it('survives a client that breaks off mid-stream', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-break', messages, stream: true },
      withScenario({ chunks: 10, chunkIntervalMs: 20 }),
    );
    let received = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content && ++received === 2) break;
    expect(stream.controller.signal.aborted).toBe(true);
    const next = await openai.chat.completions.create({ model: 'gpt-break', messages }, withScenario({ chunks: 1 }));
    expect(next.choices[0]?.message.content).toBe('tok ');
  });
});

describe('chat completions, not streamed', () => {
  it('answers with the whole message and usage', async () => {
    const completion = await openai.chat.completions.create(
      { model: 'gpt-4o', messages },
      withScenario({ chunks: 3, toolCalls: [{ name: 'f', arguments: '{"a":1}' }] }),
    );
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('tok tok tok ');
    expect(completion.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'f', arguments: '{"a":1}' } });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 5, total_tokens: PROMPT_TOKENS + 5 });
  });

  it('fails with the provider status when the scenario fails', async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'fail me' }] }, { ...withScenario({ failAfterChunks: 1 }), maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
  });
});

describe('HTTP errors and retries', () => {
  it('answers 429 with retry-after, which the SDK waits for before retrying', async () => {
    const content = `retry-${Math.random()}`;
    const stream = await openai.chat.completions.create(
      { model: 'gpt-retry', messages: [{ role: 'user', content }], stream: true },
      withScenario({ chunks: 2, httpErrors: { status: 429, count: 1, retryAfterS: 2 } }),
    );
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('tok tok ');
    const attempts = sim.requests.filter((r) => r.model === 'gpt-retry');
    expect(attempts.map((r) => [r.attempt, r.status])).toEqual([
      [0, 429],
      [1, 200],
    ]);
    // The SDK's own backoff would be 0.5–1 s; 2 s means it honoured retry-after.
    const gap = (attempts[1]?.receivedAt ?? 0) - (attempts[0]?.receivedAt ?? 0);
    expect(gap).toBeGreaterThan(1300);
    expect(gap).toBeLessThan(2700);
  });

  it('lets the SDK give up after its retries with its own error type', async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-exhaust', messages }, { ...withScenario({ httpErrors: { status: 429, count: 5, retryAfterS: 0.1 } }), maxRetries: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(sim.requests.filter((r) => r.model === 'gpt-exhaust').map((r) => r.attempt)).toEqual([0, 1, 2]);
  });

  it('starts a new logical request when an identical request comes again', async () => {
    const scenario = withScenario({ chunks: 1, httpErrors: { status: 500, count: 1 } });
    for (let i = 0; i < 2; i++) {
      await openai.chat.completions.create({ model: 'gpt-again', messages }, { ...scenario, maxRetries: 1 });
    }
    expect(sim.requests.filter((r) => r.model === 'gpt-again').map((r) => [r.attempt, r.status])).toEqual([
      [0, 500],
      [1, 200],
      [0, 500],
      [1, 200],
    ]);
  });
});

describe('headers and scenario selection', () => {
  it('sends request id, processing time and rate-limit headers', async () => {
    const { response } = await openai.chat.completions
      .create(
        { model: 'gpt-4o', messages },
        withScenario({ rateLimit: { requestsLimit: 500, requestsRemaining: 499, tokensLimit: 30000, tokensRemaining: 27000 } }),
      )
      .withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    expect(Number(response.headers.get('openai-processing-ms'))).toBeGreaterThanOrEqual(0);
    expect(Object.fromEntries([...response.headers].filter(([k]) => k.startsWith('x-ratelimit-')))).toEqual({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '27000',
      'x-ratelimit-reset-tokens': '6s',
    });
  });

  it('picks the header scenario over the model scenario over the default', async () => {
    sim.setDefaultScenario({ chunks: 1 });
    sim.scenarioForModel('gpt-three', { chunks: 3 });
    const text = async (model: string, options = {}) =>
      (await openai.chat.completions.create({ model, messages }, options)).choices[0]?.message.content;
    expect(await text('gpt-other')).toBe('tok ');
    expect(await text('gpt-three')).toBe('tok tok tok ');
    expect(await text('gpt-three', withScenario({ chunks: 2 }))).toBe('tok tok ');
    sim.setDefaultScenario({});
  });

  it('rejects a malformed scenario header with a 400', async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o', messages }, { headers: { 'x-llm-sim-scenario': '{nope' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
  });
});
