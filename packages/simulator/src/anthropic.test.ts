import Anthropic, { APIError, AnthropicError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

let sim: Simulator;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'x', openTelemetry: false });
});
afterAll(() => sim.close());

// system 'be brief' = 2 tokens (no overhead), message 'hello there' = 3 + 4.
const request = {
  model: 'claude-sim',
  max_tokens: 1024,
  system: 'be brief',
  messages: [{ role: 'user' as const, content: 'hello there' }],
};
const INPUT_TOKENS = 9;

function withScenario(scenario: Scenario) {
  return { headers: scenarioHeaders(scenario) };
}

describe('messages, streamed', () => {
  it('sends message_start, the blocks, message_delta and message_stop', async () => {
    const stream = await anthropic.messages.create({ ...request, stream: true }, withScenario({ chunks: 3, tokensPerChunk: 2 }));
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = events[0];
    expect(start?.type === 'message_start' && start.message.usage).toMatchObject({
      input_tokens: INPUT_TOKENS,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 1,
    });
    const delta = events[6];
    expect(delta?.type === 'message_delta' && [delta.delta.stop_reason, delta.usage.output_tokens]).toEqual(['end_turn', 6]);
  });

  it('streams thinking, text and tool_use blocks that finalMessage reassembles', async () => {
    const toolCalls = [{ name: 'get_weather', arguments: '{"city":"Paris"}', fragments: 3 }];
    const stream = anthropic.messages.stream(request, withScenario({ thinkingChunks: 2, chunks: 2, toolCalls }));
    const json: string[] = [];
    stream.on('inputJson', (partial) => json.push(partial));
    const final = await stream.finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'hmm hmm ' });
    expect(final.content[0]?.type === 'thinking' && final.content[0].signature.length).toBeGreaterThan(0);
    expect(final.content[1]).toMatchObject({ type: 'text', text: 'tok tok ' });
    expect(final.content[2]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    expect(final.content[2]?.type === 'tool_use' && final.content[2].id).toMatch(/^toolu_/);
    expect(json.join('')).toBe(toolCalls[0]?.arguments);
    expect(final.stop_reason).toBe('tool_use');
    // 2 thinking + 2 text + ceil(16/4)
    expect(final.usage.output_tokens).toBe(2 + 2 + 4);
    expect(final.usage.input_tokens).toBe(INPUT_TOKENS);
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['refusal', 'refusal'],
    ['content_filter', 'refusal'],
  ] as const)('maps finishReason %s to %s', async (finishReason, expected) => {
    const final = await anthropic.messages.stream(request, withScenario({ chunks: 1, finishReason })).finalMessage();
    expect(final.stop_reason).toBe(expected);
  });

  it('raises the error event as an APIError', async () => {
    const stream = anthropic.messages.stream(request, withScenario({ chunks: 4, failAfterChunks: 2 }));
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(texts).toEqual(['tok ', 'tok ']);
  });

  it('raises a dropped connection as an AnthropicError', async () => {
    const error = await anthropic.messages
      .stream(request, withScenario({ chunks: 4, failAfterChunks: 1, failMode: 'drop' }))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnthropicError);
    expect((error as Error).message).toBe('terminated');
  });
});

describe('messages, not streamed', () => {
  it('answers with the content blocks and usage', async () => {
    const message = await anthropic.messages.create(request, withScenario({ chunks: 3, toolCalls: [{ name: 'f', arguments: '{"a":1}' }] }));
    expect(message.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(message.content[0]).toMatchObject({ text: 'tok tok tok ' });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: INPUT_TOKENS, output_tokens: 3 + 2 });
  });

  it('answers 529 overloaded when the scenario fails', async () => {
    const error = await anthropic.messages
      .create({ ...request, system: 'fail' }, { ...withScenario({ failAfterChunks: 0 }), maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as APIError).status).toBe(529);
  });
});

describe('HTTP errors, retries and headers', () => {
  it('retries 529 after retry-after and counts the attempts', async () => {
    const final = await anthropic.messages
      .stream({ ...request, model: 'claude-retry' }, withScenario({ chunks: 1, httpErrors: { status: 529, count: 2, retryAfterS: 1 } }))
      .finalMessage();
    expect(final.content[0]).toMatchObject({ text: 'tok ' });
    const attempts = sim.requests.filter((r) => r.model === 'claude-retry');
    expect(attempts.map((r) => [r.attempt, r.status])).toEqual([
      [0, 529],
      [1, 529],
      [2, 200],
    ]);
    const gap = (attempts[2]?.receivedAt ?? 0) - (attempts[1]?.receivedAt ?? 0);
    expect(gap).toBeGreaterThan(650);
    expect(gap).toBeLessThan(1350);
  });

  it('gives up with a RateLimitError', async () => {
    const error = await anthropic.messages
      .create({ ...request, model: 'claude-429' }, { ...withScenario({ httpErrors: { status: 429, count: 9, retryAfterS: 0.05 } }), maxRetries: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(sim.requests.filter((r) => r.model === 'claude-429').length).toBe(2);
  });

  it('sends request-id and anthropic-ratelimit headers with RFC 3339 resets', async () => {
    const before = Date.now();
    const { response } = await anthropic.messages
      .create(request, withScenario({ chunks: 1, rateLimit: { requestsLimit: 50, requestsRemaining: 25, tokensLimit: 1000 } }))
      .withResponse();
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('50');
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('25');
    expect(response.headers.get('anthropic-ratelimit-tokens-remaining')).toBe('1000');
    const reset = response.headers.get('anthropic-ratelimit-requests-reset') ?? '';
    expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Half the window used: 30 s to refill.
    expect(Date.parse(reset) - before).toBeGreaterThan(29_000);
    expect(Date.parse(reset) - before).toBeLessThan(32_000);
  });

  it('rejects more than four cache_control breakpoints', async () => {
    const marked = { type: 'text' as const, text: 'x', cache_control: { type: 'ephemeral' as const } };
    const error = await anthropic.messages
      .create({ ...request, system: [marked, marked, marked, marked, marked] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
  });
});
