import OpenAI, { APIError } from 'openai';
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

// 'hello there' is ceil(11/4) = 3 tokens + 4 overhead; instructions 'be brief' 2 + 4.
const request = { model: 'gpt-5', input: 'hello there', instructions: 'be brief' };
const INPUT_TOKENS = 7 + 6;

function withScenario(scenario: Scenario) {
  return { headers: scenarioHeaders(scenario) };
}

describe('responses, streamed', () => {
  it('sends the lifecycle events in order with increasing sequence numbers', async () => {
    const stream = await openai.responses.create({ ...request, stream: true }, withScenario({ chunks: 3 }));
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1);
    expect(completed?.type === 'response.completed' && completed.response.usage).toEqual({
      input_tokens: INPUT_TOKENS,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: INPUT_TOKENS + 3,
    });
  });

  it('streams reasoning, text and function calls that the stream helper reassembles', async () => {
    const toolCalls = [{ name: 'lookup', arguments: '{"query":"prism","limit":3}', fragments: 3 }];
    const final = await openai.responses
      .stream(request, withScenario({ thinkingChunks: 2, chunks: 2, tokensPerChunk: 2, toolCalls }))
      .finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(final.output_text).toBe('tok '.repeat(4));
    const call = final.output[2];
    expect(call?.type === 'function_call' && [call.name, call.arguments, call.call_id.startsWith('call_')]).toEqual([
      'lookup',
      toolCalls[0]?.arguments,
      true,
    ]);
    const reasoning = final.output[0];
    expect(reasoning?.type === 'reasoning' && reasoning.summary[0]?.text).toBe('hmm '.repeat(4));
    // 4 reasoning + 4 text + ceil(27/4) tool tokens
    expect(final.usage?.output_tokens).toBe(4 + 4 + 7);
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(4);
  });

  it('sends function_call_arguments deltas and done with the item id', async () => {
    const stream = await openai.responses.create(
      { ...request, stream: true },
      withScenario({ chunks: 0, toolCalls: [{ name: 'f', arguments: '{"x":12345}', fragments: 2 }] }),
    );
    const deltas: string[] = [];
    let itemId = '';
    let done = '';
    for await (const event of stream) {
      if (event.type === 'response.output_item.added' && event.item.type === 'function_call') itemId = event.item.id ?? '';
      if (event.type === 'response.function_call_arguments.delta' && event.item_id === itemId) deltas.push(event.delta);
      if (event.type === 'response.function_call_arguments.done') done = event.arguments;
    }
    expect(itemId).toMatch(/^fc_/);
    expect(deltas).toEqual(['{"x":1', '2345}']);
    expect(done).toBe('{"x":12345}');
  });

  it.each([
    ['length', 'max_output_tokens'],
    ['content_filter', 'content_filter'],
  ] as const)('ends %s as response.incomplete (%s)', async (finishReason, reason) => {
    const final = await openai.responses.stream(request, withScenario({ chunks: 2, finishReason })).finalResponse();
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details?.reason).toBe(reason);
  });

  it('streams a refusal content part', async () => {
    const final = await openai.responses.stream(request, withScenario({ chunks: 2, finishReason: 'refusal' })).finalResponse();
    const message = final.output[0];
    expect(message?.type === 'message' && message.content[0]).toMatchObject({ type: 'refusal', refusal: 'tok tok ' });
  });

  it('raises the error event as an APIError', async () => {
    const stream = await openai.responses.create({ ...request, stream: true }, withScenario({ chunks: 4, failAfterChunks: 1 }));
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const event of stream) if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(deltas).toEqual(['tok ']);
  });

  it('raises a dropped connection', async () => {
    const error = await openai.responses
      .stream(request, withScenario({ chunks: 4, failAfterChunks: 2, failMode: 'drop' }))
      .finalResponse()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/terminated/);
  });
});

describe('responses, not streamed', () => {
  it('answers with the output items and usage', async () => {
    const response = await openai.responses.create(request, withScenario({ chunks: 3, toolCalls: [{ name: 'f', arguments: '{}' }] }));
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('tok tok tok ');
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call']);
    expect(response.usage?.input_tokens).toBe(INPUT_TOKENS);
    expect(response.usage?.output_tokens).toBe(3 + 1);
  });
});
