/** `@anthropic-ai/sdk` against the simulator: span tree, timings, usage, tool calls, failures. */
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_MODEL as model, PROMPT_TOKENS, STREAM_TIMINGS, anthropicParams, breakAfter, drain, expectAbortedAt, expectDroppedCall, expectSameError, expectToolSpans, expectUnstreamedCall, readLate, readUntilError, useHarness, weatherAndTime } from '../test/contract.ts';
import { TIMING, durationMs, expectNear, expectStreamedTree, finishedCalls, scenario, sleep, treeOf, type Harness } from '../test/harness.ts';

const h = useHarness();
const params = anthropicParams();

describe('messages.create, streamed', () => {
  it('splits the call into queue, prefill and decode at arrival times, with usage and rate limits', TIMING, async () => {
    // A slow consumer: the stream has arrived before the application pulls anything.
    const { started, pullStart, items: events } = await readLate(
      () =>
        h.anthropic.messages.create(
          { ...params, stream: true },
          scenario({ ...STREAM_TIMINGS, tokensPerChunk: 2, pings: true, rateLimit: { requestsLimit: 50, requestsRemaining: 45, tokensLimit: 10000, tokensRemaining: 2500 } }),
        ),
      1000,
    );

    const [call] = await finishedCalls(h.exporter);
    // Pings during prefill and message_start are not output: TTFT is queue + prefill.
    const t = expectStreamedTree(h.exporter, call!, { name: `chat ${model}`, started, pullStart, ...STREAM_TIMINGS });
    expect(events.some((e) => (e.type as string) === 'ping')).toBe(false); // the SDK skips pings

    const start = events.find((e) => e.type === 'message_start')!;
    const delta = events.find((e) => e.type === 'message_delta')!;
    if (start.type !== 'message_start' || delta.type !== 'message_delta') throw new Error('unexpected events');
    const a = t.call.attributes;
    expect(a).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': model,
      'gen_ai.request.stream': true,
      'gen_ai.response.id': start.message.id,
      'gen_ai.response.model': start.message.model,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': PROMPT_TOKENS,
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': 0,
      'gen_ai.usage.cache_creation.input_tokens': 0,
      'gen_ai.usage.cache_write.input_tokens': 0,
      'server.address': '127.0.0.1',
      'llm.stream.chunks': 20,
      'llm.outcome': 'success',
      'llm.attempts': 1,
      'llm.ratelimit.requests.limit': 50,
      'llm.ratelimit.requests.remaining': 45,
      'llm.ratelimit.tokens.limit': 10000,
      'llm.ratelimit.tokens.remaining': 2500,
      'llm.ratelimit.headroom': 0.25,
    });
    expect(delta.usage.output_tokens).toBe(40);
    expect(start.message.usage.input_tokens).toBe(PROMPT_TOKENS);
    // Resets are RFC 3339 times: (limit − remaining) / limit × 60 s from the answer.
    expectNear((a['llm.ratelimit.requests.reset_s'] as number) * 1000, 6000, 'requests reset');
    expectNear((a['llm.ratelimit.tokens.reset_s'] as number) * 1000, 45000, 'tokens reset');
    expect(a['llm.decode.tokens_per_second']).toBeCloseTo(40 / ((a['llm.decode_ms'] as number) / 1000), 1);
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
    for (const span of t.all) expect(JSON.stringify(span.attributes)).not.toContain('Paris');
  });

  it('makes thinking output and gives each tool_use block its own llm.tool_call span', TIMING, async () => {
    const toolCalls = weatherAndTime(4, 2);
    const events = await drain(
      await h.anthropic.messages.create({ ...params, stream: true }, scenario({ prefillMs: 100, thinkingChunks: 3, chunks: 2, chunkIntervalMs: 40, toolCalls })),
    );
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    // The first output is the first thinking delta, right after prefill.
    expectNear(durationMs(t.ttft!), 100, 'ttft to the first thinking delta');
    const toolBlocks = events.flatMap((e) => (e.type === 'content_block_start' && e.content_block.type === 'tool_use' ? [e.content_block] : []));
    // content_block_start and the first fragment arrive together, each further fragment 40 ms later.
    expectToolSpans(t, { ids: toolBlocks.map((b) => b.id), blocksMs: [3 * 40, 1 * 40], check: expectNear });
    const argTokens = toolCalls.reduce((sum, c) => sum + Math.ceil(c.arguments.length / 4), 0);
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['tool_use'],
      // 3 thinking + 2 text deltas, per tool its start and every non-empty fragment (signature_delta is not output).
      'llm.stream.chunks': 3 + 2 + (1 + 4) + (1 + 2),
      'gen_ai.usage.output_tokens': 3 + 2 + argTokens,
      'llm.outcome': 'success',
    });
    expect(t.call.attributes['llm.tool_call_ms']).toBeCloseTo(durationMs(t.tools[0]!) + durationMs(t.tools[1]!), 2);
  });

  it('reports stop reasons as sent, through llm.outcome', async () => {
    for (const finishReason of ['length', 'refusal', 'stop'] as const) await drain(await h.anthropic.messages.create({ ...params, stream: true }, scenario({ finishReason })));
    const calls = await finishedCalls(h.exporter, 3);
    expect(calls.map((c) => [c.attributes['gen_ai.response.finish_reasons'], c.attributes['llm.outcome']])).toEqual([
      [['max_tokens'], 'truncated'],
      [['refusal'], 'refused'],
      [['end_turn'], 'success'],
    ]);
  });

  it('records a mid-stream error event as an ERROR after output, the SDK error unchanged', async () => {
    const run = async (client: Harness['anthropic']) => {
      const stream = await client.messages.create({ ...params, stream: true }, scenario({ chunks: 10, chunkIntervalMs: 10, failAfterChunks: 4, failMode: 'error_event' }));
      const { received, error } = await readUntilError(stream, (e) => e.type === 'content_block_delta');
      return { received, name: (error as Error).constructor.name, message: (error as Error).message };
    };
    const instrumented = await run(h.anthropic);
    expect(instrumented).toEqual(await run(h.plainAnthropic));
    expect(instrumented.received).toBe(4);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.call.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'overloaded_error', 'llm.stream.chunks': 4 });
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(t.ttft).toBeDefined();
  });

  it('records a dropped connection as an ERROR', async () => {
    const stream = await h.anthropic.messages.create({ ...params, stream: true }, scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }));
    const { received, error } = await readUntilError(stream, (e) => e.type === 'content_block_delta');
    await expectDroppedCall(h.exporter, error, 'UND_ERR_SOCKET', Math.max(1, received));
  });

  it('ends the call as aborted when the application breaks out early', TIMING, async () => {
    const stream = await h.anthropic.messages.create({ ...params, stream: true }, scenario({ chunks: 30, chunkIntervalMs: 40 }));
    const brokeAt = await breakAfter(stream, 3, (e) => e.type === 'content_block_delta');
    await expectAbortedAt(h.exporter, { at: brokeAt, label: 'end at break', chunks: 3, check: expectNear });
    // message_start's output count (a placeholder) is no usage: the input tokens only.
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(call!.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('retries 529 overloaded answers inside llm.queue', TIMING, async () => {
    await drain(await h.anthropic.messages.create({ ...params, stream: true }, scenario({ httpErrors: { status: 529, count: 2, retryAfterS: 0.2 }, chunks: 2 })));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(durationMs(t.queue!)).toBeGreaterThanOrEqual(400);
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 3, 'llm.retries': 2, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([529, 529, 200]);
  });
});

describe('messages.create, not streamed', () => {
  it('records the call span, llm.queue to the headers and the usage', TIMING, async () => {
    const message = await h.anthropic.messages.create(params, scenario({ queueMs: 100, prefillMs: 200, chunks: 5, chunkIntervalMs: 20, thinkingChunks: 2 }));
    const [call] = await finishedCalls(h.exporter);
    // Answered in one piece once generated: 100 + 200 + 6 × 20 ms.
    const t = expectUnstreamedCall(h.exporter, call!, `chat ${model}`, 420, expectNear);
    expectNear(durationMs(t.call), 420, 'call');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': message.model,
      'gen_ai.response.finish_reasons': [message.stop_reason],
      'gen_ai.usage.input_tokens': PROMPT_TOKENS,
      'gen_ai.usage.output_tokens': 7,
    });
    expect(message.usage.output_tokens).toBe(7);
    for (const key of ['llm.ttft_ms', 'llm.decode_ms', 'llm.stream.chunks']) expect(t.call.attributes[key], key).toBeUndefined();
  });

  it('records a 529 answer as an ERROR, the SDK error unchanged', async () => {
    const opts = { ...scenario({ httpErrors: { status: 529, count: 5 } }), maxRetries: 0 };
    const [a, b] = await Promise.all([h.anthropic, h.plainAnthropic].map((c) => c.messages.create(params, opts).catch((e: unknown) => e)));
    expectSameError(a, b);
    expect((a as { status: number }).status).toBe(529);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes).toMatchObject({ 'error.type': '529', 'llm.outcome': 'error', 'llm.attempts': 1 });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('SDK behaviour is unchanged', () => {
  const opts = scenario({ chunks: 5, chunkIntervalMs: 5 });

  it('withResponse() and asResponse()', async () => {
    const run = async (client: Harness['anthropic']) => {
      const { data, response, request_id } = await client.messages.create(params, opts).withResponse();
      const raw = await client.messages.create(params, opts).asResponse();
      const body = (await raw.json()) as { type: string; content: unknown[] };
      return { type: data.type, content: data.content, status: response.status, hasId: typeof request_id === 'string', raw: [raw.status, body.type, body.content] };
    };
    expect(await run(h.anthropic)).toEqual(await run(h.plainAnthropic));
    const calls = await finishedCalls(h.exporter, 2);
    expect(calls.map((c) => c.attributes['gen_ai.usage.output_tokens'])).toEqual([5, 5]);
  });

  it('messages.stream(): events, finalMessage and one call span', async () => {
    const run = async (client: Harness['anthropic']) => {
      const texts: string[] = [];
      const seen = new Set<string>();
      const stream = client.messages.stream(params, opts);
      stream.on('text', (delta) => texts.push(delta));
      for (const name of ['connect', 'streamEvent', 'message', 'contentBlock', 'end'] as const) stream.on(name, () => seen.add(name));
      const final = await stream.finalMessage();
      return { texts, seen: [...seen].sort(), content: final.content, stop: final.stop_reason, usage: final.usage.output_tokens };
    };
    expect(await run(h.anthropic)).toEqual(await run(h.plainAnthropic));
    await sleep(50);
    const calls = await finishedCalls(h.exporter);
    expect(calls).toHaveLength(1);
    const t = treeOf(h.exporter, calls[0]!);
    expect(t.decode).toBeDefined();
    expect(t.call.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'llm.stream.chunks': 5, 'llm.outcome': 'success' });
  });

  it('messages.stream() abort()', async () => {
    const run = async (client: Harness['anthropic']) => {
      const stream = client.messages.stream(params, scenario({ chunks: 30, chunkIntervalMs: 30 }));
      stream.on('text', () => stream.abort());
      return stream.finalMessage().then(
        () => 'resolved',
        (e: unknown) => (e as Error).constructor.name,
      );
    };
    expect(await run(h.anthropic)).toBe(await run(h.plainAnthropic));
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('aborted');
  });
});
