import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { STREAM_TIMINGS, breakAfter, chatMessages, chatStreamAttributes, expectAbortedAt, expectDroppedCall, expectSameError, expectToolSpans, expectUnstreamedCall, readLate, readUntilError, useHarness, weatherAndTime } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectNear, expectStreamedTree, finishedCalls, scenario, startMs, treeOf, type Harness } from '../test/harness.ts';

const h = useHarness();
const messages = chatMessages();

describe('chat.completions.create, streamed', () => {
  it('splits the call into queue, prefill and decode at arrival times, whatever the consumer does', TIMING, async () => {
    // A slow consumer: the whole stream has arrived before the first chunk is pulled.
    const { started, pullStart, items: chunks } = await readLate(
      () =>
        h.client.chat.completions.create(
          { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
          scenario({ ...STREAM_TIMINGS, tokensPerChunk: 2, rateLimit: { requestsLimit: 100, requestsRemaining: 40, tokensLimit: 10000, tokensRemaining: 9000 } }),
        ),
      1000,
    );

    const [call] = await finishedCalls(h.exporter);
    const t = expectStreamedTree(h.exporter, call!, { name: 'chat gpt-4o', started, pullStart, ...STREAM_TIMINGS });
    expectNear(durationMs(t.call), 200 + 300 + 19 * 20, 'call');
    expect(startMs(t.setup!)).toBe(startMs(t.call));
    expect(startMs(t.ttft!)).toBe(startMs(t.call));
    expect(endMs(t.ttft!)).toBe(startMs(t.decode!));

    const a = t.call.attributes;
    expect(a['llm.client_setup_ms']).toBeCloseTo(durationMs(t.setup!), 2);
    expect(a['llm.queue_ms']).toBeCloseTo(durationMs(t.queue!), 2);
    expect(a['llm.ttft_ms']).toBeCloseTo(durationMs(t.ttft!), 2);
    expect(a['llm.prefill_ms']).toBeCloseTo((a['llm.ttft_ms'] as number) - (a['llm.client_setup_ms'] as number) - (a['llm.queue_ms'] as number), 2);
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
      ...chatStreamAttributes(chunks, h.sim.openaiBaseURL),
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': usage.prompt_tokens_details!.cached_tokens,
      'gen_ai.usage.reasoning.output_tokens': 0,
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
    expectSameError(instrumented, plain);
    expect((instrumented as { status: number }).status).toBe((plain as { status: number }).status);

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
    const { received, error } = await readUntilError(stream, (chunk) => chunk.choices[0]?.delta.content);
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
    const { received, error } = await readUntilError(stream, (chunk) => chunk.choices[0]?.delta.content);
    // Destroying the socket may discard the simulator's unflushed writes, and an errored body
    // drops what the application had not read yet: the wire saw at least what the app got.
    await expectDroppedCall(h.exporter, error, 'UND_ERR_SOCKET', Math.max(1, received));
  });

  it('ends the call as aborted when the application breaks out early', TIMING, async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 30, chunkIntervalMs: 40 }),
    );
    const brokeAt = await breakAfter(stream, 3, (chunk) => chunk.choices[0]?.delta.content);
    // Ended at the abort, long before the 30 chunks (1.2 s) would have arrived.
    await expectAbortedAt(h.exporter, { at: brokeAt, label: 'end at break', chunks: 3, check: expectNear });
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
    const toolCalls = weatherAndTime(5, 3);
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      scenario({ chunks: 2, chunkIntervalMs: 40, toolCalls }),
    );
    const names: string[] = [];
    for await (const chunk of stream) for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.name) names.push(tc.function.name);
    expect(names).toEqual(['get_weather', 'get_time']);

    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    // Header and first fragment arrive together; each further fragment 40 ms later.
    expectToolSpans(t, { blocksMs: [4 * 40, 2 * 40], check: expectNear });
    expect(startMs(t.tools[1]!)).toBeGreaterThanOrEqual(endMs(t.tools[0]!));
    expect(t.tools[0]!.attributes['gen_ai.tool.name']).toBe('get_weather');
    expect(t.tools[0]!.attributes['gen_ai.tool.call.id']).toMatch(/^call_/);
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
      expect(treeOf(h.exporter, call).all).toHaveLength(5);
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
    // The simulator answers in one piece once generation is done: 100 + 200 + 6 × 20 ms.
    const t = expectUnstreamedCall(h.exporter, call!, 'chat gpt-4o-mini', 420, expectNear);
    expectNear(durationMs(t.call), 420, 'call');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.finish_reasons': [completion.choices[0]!.finish_reason],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'gen_ai.usage.reasoning.output_tokens': 2,
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
