import { SpanStatusCode } from '@opentelemetry/api';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TIMING, createHarness, durationMs, endMs, expectNear, expectStreamedTree, finishedCalls, scenario, sleep, startMs, treeOf, type Harness } from '../test/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());

const messages = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];

describe('chat.completions.create, streamed', () => {
  it('splits the call into queue, prefill and decode at arrival times, whatever the consumer does', TIMING, async () => {
    const started = performance.timeOrigin + performance.now();
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
      scenario({
        queueMs: 200,
        prefillMs: 300,
        chunks: 20,
        chunkIntervalMs: 20,
        tokensPerChunk: 2,
        rateLimit: { requestsLimit: 100, requestsRemaining: 40, tokensLimit: 10000, tokensRemaining: 9000 },
      }),
    );
    // A slow consumer: the whole stream has arrived before the first chunk is pulled.
    await sleep(1000);
    const pullStart = performance.timeOrigin + performance.now();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const [call] = await finishedCalls(h.exporter);
    const t = expectStreamedTree(h.exporter, call!, { name: 'chat gpt-4o', started, pullStart, queueMs: 200, prefillMs: 300, chunks: 20, chunkIntervalMs: 20 });
    expectNear(durationMs(t.call), 200 + 300 + 19 * 20, 'call');
    expect(startMs(t.queue!)).toBe(startMs(t.call));
    expect(startMs(t.ttft!)).toBe(startMs(t.call));
    expect(endMs(t.ttft!)).toBe(startMs(t.decode!));

    const a = t.call.attributes;
    expect(a['llm.queue_ms']).toBeCloseTo(durationMs(t.queue!), 2);
    expect(a['llm.ttft_ms']).toBeCloseTo(durationMs(t.ttft!), 2);
    expect(a['llm.prefill_ms']).toBeCloseTo((a['llm.ttft_ms'] as number) - (a['llm.queue_ms'] as number), 2);
    expect(a['llm.decode_ms']).toBeCloseTo(durationMs(t.decode!), 2);
    expect(a['gen_ai.response.time_to_first_chunk']).toBeCloseTo((a['llm.ttft_ms'] as number) / 1000, 5);
    expect(a['llm.stream.chunks']).toBe(20);
    expectNear(a['llm.stream.gap_p50_ms'] as number, 20, 'gap p50');
    expectNear(a['llm.stream.gap_p95_ms'] as number, 20, 'gap p95');
    expect(a['llm.stream.gap_max_ms'] as number).toBeGreaterThanOrEqual(a['llm.stream.gap_p95_ms'] as number);
    expect(a['llm.stream.gap_max_ms'] as number).toBeLessThan(200);
    expect(a['llm.tool_call_ms']).toBe(0);

    // Request and response attributes, checked against what the application itself received.
    const usage = chunks.at(-1)!.usage!;
    expect(a).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': chunks[0]!.id,
      'gen_ai.response.model': chunks[0]!.model,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': usage.prompt_tokens_details!.cached_tokens,
      'gen_ai.usage.reasoning.output_tokens': 0,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(h.sim.openaiBaseURL).port),
      'llm.outcome': 'success',
      'llm.attempts': 1,
      'llm.retries': 0,
      'llm.rate_limited_attempts': 0,
      'llm.ratelimit.requests.limit': 100,
      'llm.ratelimit.requests.remaining': 40,
      'llm.ratelimit.tokens.limit': 10000,
      'llm.ratelimit.tokens.remaining': 9000,
      'llm.ratelimit.headroom': 0.4,
    });
    expect(usage.completion_tokens).toBe(40);
    expect(a['llm.ratelimit.requests.reset_s']).toBeTypeOf('number');
    expect(a['llm.decode.tokens_per_second']).toBeCloseTo(40 / ((a['llm.decode_ms'] as number) / 1000), 1);
    expect(a['error.type']).toBeUndefined();
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
    // No content capture unless opted in.
    expect(a['gen_ai.input.messages']).toBeUndefined();
    expect(a['gen_ai.output.messages']).toBeUndefined();
    for (const span of t.all) expect(JSON.stringify(span.attributes)).not.toContain('Paris');

    const [attempt] = t.queue!.events;
    expect(t.queue!.events).toHaveLength(1);
    expect(attempt!.name).toBe('llm.http.attempt');
    expect(attempt!.attributes).toEqual({ 'llm.attempt': 1, 'http.response.status_code': 200 });
  });

  it('makes every retry visible and lets llm.queue cover the backoff', TIMING, async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ httpErrors: { status: 429, count: 2, retryAfterS: 0.3 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 }),
    );
    for await (const _ of stream);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    // Two 300 ms backoffs happen before the answering attempt's headers.
    expect(durationMs(t.queue!)).toBeGreaterThanOrEqual(600);
    expectNear(durationMs(t.queue!), 600, 'queue with retries');
    expectNear(durationMs(t.ttft!) - durationMs(t.queue!), 100, 'prefill after retries');
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 3, 'llm.retries': 2, 'llm.rate_limited_attempts': 2, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes)).toEqual([
      { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.3, 'error.type': '429' },
      { 'llm.attempt': 2, 'http.response.status_code': 429, 'llm.retry_after_s': 0.3, 'error.type': '429' },
      { 'llm.attempt': 3, 'http.response.status_code': 200 },
    ]);
    const attempts = h.sim.requests.slice(-3).map((r) => r.attempt);
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('ends as ERROR with the HTTP status when retries run out, and the SDK error is unchanged', async () => {
    const opts = scenario({ httpErrors: { status: 429, count: 10, retryAfterS: 0.05 } });
    const params = { model: 'gpt-4o', messages, stream: true as const };
    const instrumented = await h.client.chat.completions.create(params, opts).catch((e: unknown) => e);
    const plain = await h.plainClient.chat.completions.create(params, opts).catch((e: unknown) => e);
    expect((instrumented as Error).constructor.name).toBe('RateLimitError');
    expect((instrumented as Error).constructor.name).toBe((plain as Error).constructor.name);
    expect((instrumented as { status: number }).status).toBe((plain as { status: number }).status);
    expect((instrumented as Error).message).toBe((plain as Error).message);

    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.call.attributes).toMatchObject({ 'error.type': '429', 'llm.outcome': 'error', 'llm.attempts': 3, 'llm.rate_limited_attempts': 3 });
    expect(t.ttft).toBeUndefined();
    expect(t.decode).toBeUndefined();
    expect(t.queue!.events).toHaveLength(3);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('records a mid-stream error event as an ERROR after output', async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 10, chunkIntervalMs: 10, failAfterChunks: 4, failMode: 'error_event' }),
    );
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) received++;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(received).toBe(4);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.call.attributes['llm.outcome']).toBe('error');
    expect(t.call.attributes['error.type']).toBeTypeOf('string');
    expect(t.call.attributes['llm.stream.chunks']).toBe(4);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(t.ttft).toBeDefined();
  });

  it('records a dropped connection as an ERROR', async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }),
    );
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) received++;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes['llm.outcome']).toBe('error');
    expect(call!.attributes['error.type']).toBe('UND_ERR_SOCKET');
    // Destroying the socket may discard the simulator's unflushed writes, and an errored body
    // drops what the application had not read yet: the wire saw at least what the app got.
    const chunks = call!.attributes['llm.stream.chunks'] as number;
    expect(chunks).toBeGreaterThanOrEqual(Math.max(1, received));
    expect(chunks).toBeLessThanOrEqual(3);
  });

  it('ends the call as aborted when the application breaks out early', TIMING, async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 30, chunkIntervalMs: 40 }),
    );
    let n = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content && ++n === 3) break;
    const brokeAt = performance.timeOrigin + performance.now();
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('aborted');
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    // Ended at the abort, long before the 30 chunks (1.2 s) would have arrived.
    expectNear(endMs(call!) - brokeAt, 0, 'end at break');
    expect(call!.attributes['llm.stream.chunks']).toBe(3);
  });

  it('ends the call as aborted on controller.abort(), with the SDK error unchanged', async () => {
    const run = async (client: Harness['client']) => {
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario({ chunks: 30, chunkIntervalMs: 30 }));
      return (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) stream.controller.abort();
      })().then(
        () => 'completed',
        (e: unknown) => (e as Error).constructor.name,
      );
    };
    const instrumented = await run(h.client);
    expect(instrumented).toBe(await run(h.plainClient));
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('aborted');
  });

  it('gives each streamed tool call its own llm.tool_call span inside llm.decode', TIMING, async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 5 },
      { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}', fragments: 3 },
    ];
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 2, chunkIntervalMs: 40, toolCalls }),
    );
    const names: string[] = [];
    for await (const chunk of stream) for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.name) names.push(tc.function.name);
    expect(names).toEqual(['get_weather', 'get_time']);

    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call get_weather', 'llm.tool_call get_time']);
    // Header and first fragment arrive together; each further fragment 40 ms later.
    expectNear(durationMs(t.tools[0]!), 4 * 40, 'get_weather block');
    expectNear(durationMs(t.tools[1]!), 2 * 40, 'get_time block');
    expect(startMs(t.tools[1]!)).toBeGreaterThanOrEqual(endMs(t.tools[0]!));
    expect(t.tools[0]!.attributes['gen_ai.tool.name']).toBe('get_weather');
    expect(t.tools[0]!.attributes['gen_ai.tool.call.id']).toMatch(/^call_/);
    for (const tool of t.tools) {
      expect(startMs(tool)).toBeGreaterThanOrEqual(startMs(t.decode!));
      expect(endMs(tool)).toBeLessThanOrEqual(endMs(t.decode!));
    }
    expect(t.call.attributes['llm.tool_call_ms']).toBeCloseTo(durationMs(t.tools[0]!) + durationMs(t.tools[1]!), 2);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    // 2 text chunks + per tool call its header event and each argument fragment.
    expect(t.call.attributes['llm.stream.chunks']).toBe(2 + (1 + 5) + (1 + 3));
  });

  it('keeps concurrent calls on shared keep-alive sockets apart', async () => {
    const run = async (i: number) => {
      const stream = await h.client.chat.completions.create(
        { model: `gpt-4o-${i}`, messages, stream: true },
        scenario({ chunks: 2 + i, chunkIntervalMs: 5 + 3 * i, prefillMs: 20 * i }),
      );
      for await (const _ of stream);
    };
    for (let round = 0; round < 2; round++) await Promise.all([0, 1, 2, 3, 4, 5].map(run));
    const calls = await finishedCalls(h.exporter, 12);
    expect(calls).toHaveLength(12);
    for (const call of calls) {
      const i = Number(call.name.split('-').at(-1));
      expect(call.attributes['llm.stream.chunks'], call.name).toBe(2 + i);
      expect(call.attributes['llm.attempts'], call.name).toBe(1);
      expect(treeOf(h.exporter, call).all).toHaveLength(4);
    }
  });

  it('reports truncation and refusals through llm.outcome', async () => {
    for await (const _ of await h.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario({ finishReason: 'length' })));
    for await (const _ of await h.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario({ finishReason: 'refusal' })));
    for await (const _ of await h.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario({ finishReason: 'content_filter' })));
    const calls = await finishedCalls(h.exporter, 3);
    expect(calls.map((c) => [c.attributes['gen_ai.response.finish_reasons'], c.attributes['llm.outcome']])).toEqual([
      [['length'], 'truncated'],
      [['stop'], 'refused'],
      [['content_filter'], 'filtered'],
    ]);
  });
});

describe('chat.completions.create, not streamed', () => {
  it('records the call span, llm.queue to the headers and the usage', TIMING, async () => {
    const completion = await h.client.chat.completions.create(
      { model: 'gpt-4o-mini', messages },
      scenario({ queueMs: 100, prefillMs: 200, chunks: 5, chunkIntervalMs: 20, thinkingChunks: 2 }),
    );
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o-mini', 'llm.queue']);
    // The simulator answers in one piece once generation is done: 100 + 200 + 6 × 20 ms.
    expectNear(durationMs(t.queue!), 420, 'queue');
    expectNear(durationMs(t.call), 420, 'call');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.request.stream': false,
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.finish_reasons': [completion.choices[0]!.finish_reason],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'gen_ai.usage.reasoning.output_tokens': 2,
      'llm.outcome': 'success',
      'llm.attempts': 1,
    });
    for (const key of ['llm.ttft_ms', 'llm.decode_ms', 'llm.stream.chunks', 'gen_ai.response.time_to_first_chunk']) {
      expect(t.call.attributes[key], key).toBeUndefined();
    }
  });

  it('records a 500 answer as an ERROR with its status', async () => {
    const err = await h.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages }, { ...scenario({ httpErrors: { status: 500, count: 5 } }), maxRetries: 0 })
      .catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(500);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes).toMatchObject({ 'error.type': '500', 'llm.outcome': 'error', 'llm.attempts': 1 });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
  });
});
