import { SpanStatusCode } from '@opentelemetry/api';
import type { Response } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { expectUnstreamedCall, readLate, useHarness } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectNear, finishedCalls, scenario, treeOf } from '../test/harness.ts';

const h = useHarness();

describe('responses.create, streamed', () => {
  it('splits the call into phases and takes usage from response.completed', TIMING, async () => {
    const { items: events } = await readLate(() =>
      h.client.responses.create(
        { model: 'gpt-5', input: 'Summarise the news', stream: true },
        scenario({ queueMs: 200, prefillMs: 300, chunks: 10, chunkIntervalMs: 30, thinkingChunks: 3, tokensPerChunk: 3 }),
      ),
    );
    const completed = events.find((e) => e.type === 'response.completed');
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');

    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.name).toBe('chat gpt-5');
    expectNear(durationMs(t.queue!), 200, 'queue');
    // Reasoning summary deltas are output: the first arrives after prefill.
    expectNear(durationMs(t.ttft!), 500, 'ttft');
    expectNear(durationMs(t.decode!), 12 * 30, 'decode');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': completed.response.id,
      'gen_ai.response.model': completed.response.model,
      'gen_ai.response.finish_reasons': ['completed'],
      'gen_ai.usage.input_tokens': completed.response.usage!.input_tokens,
      'gen_ai.usage.output_tokens': completed.response.usage!.output_tokens,
      'gen_ai.usage.cache_read.input_tokens': completed.response.usage!.input_tokens_details.cached_tokens,
      'gen_ai.usage.reasoning.output_tokens': 9,
      'llm.stream.chunks': 13,
      'llm.outcome': 'success',
    });
    // response.created, in_progress, *.added and *.done events are not output chunks.
    expect(events.length).toBeGreaterThan(13);
  });

  it('gives function calls llm.tool_call spans from item added to the last argument delta', TIMING, async () => {
    const stream = await h.client.responses.create(
      { model: 'gpt-5', input: 'Weather?', stream: true },
      scenario({ chunks: 1, chunkIntervalMs: 30, toolCalls: [{ name: 'lookup', arguments: '{"q":"weather in Paris"}', fragments: 4 }] }),
    );
    for await (const _ of stream);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call lookup']);
    expectNear(durationMs(t.tools[0]!), 4 * 30, 'tool block');
    expect(endMs(t.tools[0]!)).toBeLessThanOrEqual(endMs(t.decode!));
    expect(t.tools[0]!.attributes['gen_ai.tool.call.id']).toMatch(/^call_/);
  });

  it('records error + response.failed as an ERROR', async () => {
    const stream = await h.client.responses.create(
      { model: 'gpt-5', input: 'x', stream: true },
      scenario({ chunks: 6, chunkIntervalMs: 10, failAfterChunks: 2, failMode: 'error_event' }),
    );
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'server_error', 'llm.stream.chunks': 2 });
  });

  it('maps an incomplete response to truncated with the reason the provider sent', async () => {
    for await (const _ of await h.client.responses.create({ model: 'gpt-5', input: 'x', stream: true }, scenario({ finishReason: 'length' })));
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['gen_ai.response.finish_reasons']).toEqual(['max_output_tokens']);
    expect(call!.attributes['llm.outcome']).toBe('truncated');
  });

  it('instruments the responses.stream() helper', async () => {
    const runner = h.client.responses.stream({ model: 'gpt-5', input: 'x' }, scenario({ chunks: 4, chunkIntervalMs: 10 }));
    const final: Response = await runner.finalResponse();
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['gen_ai.response.id']).toBe(final.id);
    expect(call!.attributes['llm.stream.chunks']).toBe(4);
  });
});

describe('responses.create, not streamed', () => {
  it('records usage, finish and llm.queue', TIMING, async () => {
    const response = await h.client.responses.create({ model: 'gpt-5-mini', input: 'x' }, scenario({ queueMs: 100, prefillMs: 100, chunks: 3 }));
    const [call] = await finishedCalls(h.exporter);
    const t = expectUnstreamedCall(h.exporter, call!, 'chat gpt-5-mini', 200, expectNear);
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': response.id,
      'gen_ai.response.finish_reasons': ['completed'],
      'gen_ai.usage.input_tokens': response.usage!.input_tokens,
      'gen_ai.usage.output_tokens': response.usage!.output_tokens,
    });
  });
});
