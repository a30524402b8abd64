/**
 * The span contract on every supported `@anthropic-ai/sdk` release line, each a real install
 * (sdk-majors-harness.ts): 0.14 (the floor: `client.messages` and `messages.stream()` became
 * generally available) and 0.41 go through node-fetch over node:http (http-tap.ts), 0.50 on
 * through undici.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type AnthropicType from '@anthropic-ai/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_MODEL as model, DROPPED, MAJOR_STREAM_TIMINGS, PROMPT, anthropicParams, breakAfter, drain, expectAbortedAt, expectDroppedCall, expectFaithfulStream, expectRetriedInQueue, expectSameError, expectToolSpans, expectUnstreamedCall, now, readLate, useHarness, weatherAndTime } from '../test/contract.ts';
import { loadSdk, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, finishedCalls, scenario, treeOf } from '../test/harness.ts';

const MAJORS: SdkMajor[] = [
  { label: 'anthropic 0.14', module: '@anthropic-ai/sdk', fixture: 'anthropic-0.14', version: /^0\.14\./, transport: 'node:http' },
  { label: 'anthropic 0.41', module: '@anthropic-ai/sdk', fixture: 'anthropic-0.41', version: /^0\.41\./, transport: 'node:http' },
  { label: 'anthropic 0.x', module: '@anthropic-ai/sdk', fixture: 'anthropic-0', version: /^0\.1\d\d\./, transport: 'undici' },
  { label: 'anthropic 1', module: '@anthropic-ai/sdk', version: /^1\./, transport: 'undici' },
];

const h = useHarness();
const params = () => anthropicParams(uniquePrompt(PROMPT));

describe.each(MAJORS)('$label', (major) => {
  let client: AnthropicType;
  let plain: AnthropicType;
  beforeAll(async () => {
    const sdk = await loadSdk<typeof import('@anthropic-ai/sdk')>(major);
    const options = { baseURL: h.sim.anthropicBaseURL, apiKey: 'test-key', maxRetries: 2 };
    client = new sdk.patched.Anthropic(options);
    plain = new sdk.plain.Anthropic(options);
    // A first request pays for lazy loading (the SDK's modules, Node's fetch): not a contract matter.
    await client.messages.create(params(), scenario({ chunks: 1 }));
    await plain.messages.create(params(), scenario({ chunks: 1 }));
  });

  it('messages.create, streamed: queue, TTFT and decode at arrival, with a consumer that reads late', TIMING, async () => {
    const s = MAJOR_STREAM_TIMINGS;
    const read = await readLate(() => client.messages.create({ ...params(), stream: true }, scenario({ ...s, tokensPerChunk: 2, pings: true })));
    const events = read.items;
    // Pings during prefill and message_start are not output: TTFT is queue + prefill.
    const t = await expectFaithfulStream(h.exporter, `chat ${model}`, s, read, { sdk: major.label, what: 'messages stream' });
    const start = events.find((e) => e.type === 'message_start');
    if (start?.type !== 'message_start') throw new Error('no message_start');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': model,
      'gen_ai.response.id': start.message.id,
      'gen_ai.response.model': start.message.model,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': start.message.usage.input_tokens,
      'gen_ai.usage.output_tokens': 24,
      'server.address': '127.0.0.1',
      'llm.stream.chunks': 12,
      'llm.attempts': 1,
      'llm.outcome': 'success',
    });
  });

  it('messages.stream(): finalMessage and one call span', async () => {
    const p = params();
    const opts = scenario({ chunks: 5, chunkIntervalMs: 5 });
    const final = await client.messages.stream(p, opts).finalMessage();
    const reference = await plain.messages.stream(p, opts).finalMessage();
    expect(final.content).toEqual(reference.content);
    const calls = await finishedCalls(h.exporter);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.kind).toBe(SpanKind.CLIENT);
    expect(calls[0]!.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': final.id,
      // One token per chunk (0.14's finalMessage keeps message_start's usage.output_tokens).
      'gen_ai.usage.output_tokens': 5,
      'llm.stream.chunks': 5,
      'llm.outcome': 'success',
    });
  });

  it('messages.create, not streamed: llm.queue to the headers and the usage', TIMING, async () => {
    const message = await client.messages.create(params(), scenario({ queueMs: 100, prefillMs: 100, chunks: 5, chunkIntervalMs: 20 }));
    const [call] = await finishedCalls(h.exporter);
    // Answered in one piece once generated: 100 + 100 + 4 × 20 ms.
    const t = expectUnstreamedCall(h.exporter, call!, `chat ${model}`, 280);
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': message.id,
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
    });
  });

  it('a 529 and the backoff are an attempt inside llm.queue', TIMING, async () => {
    const started = now();
    await drain(
      await client.messages.create({ ...params(), stream: true }, scenario({ httpErrors: { status: 529, count: 1, retryAfterS: 0.2 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 })),
    );
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expectRetriedInQueue(t, h.sim.requests, started, 100);
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([529, 200]);
  });

  it('retries run out → ERROR with the status, the SDK error unchanged', async () => {
    const p = { ...params(), stream: true as const };
    const opts = { ...scenario({ httpErrors: { status: 529, count: 10, retryAfterS: 0.05 } }), maxRetries: 1 };
    const instrumented = await client.messages.create(p, opts).catch((e: unknown) => e);
    const reference = await plain.messages.create(p, opts).catch((e: unknown) => e);
    expect((instrumented as { status: number }).status).toBe(529);
    expectSameError(instrumented, reference);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'error.type': '529', 'llm.outcome': 'error', 'llm.attempts': 2 });
  });

  it('each streamed tool_use block gets its llm.tool_call span inside llm.decode', TIMING, async () => {
    const toolCalls = weatherAndTime(4, 2);
    const events = await drain(await client.messages.create({ ...params(), stream: true }, scenario({ prefillMs: 50, chunks: 2, chunkIntervalMs: 40, toolCalls })));
    const ids = events.flatMap((e) => (e.type === 'content_block_start' && e.content_block.type === 'tool_use' ? [e.content_block.id] : []));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expectToolSpans(t, { ids, blocksMs: [3 * 40, 1 * 40] });
    expect(t.call.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_use'], 'llm.stream.chunks': 2 + (1 + 4) + (1 + 2) });
  });

  it('break out of the stream → aborted at the break', TIMING, async () => {
    const stream = await client.messages.create({ ...params(), stream: true }, scenario({ chunks: 30, chunkIntervalMs: 40 }));
    const brokeAt = await breakAfter(stream, 3, (e) => e.type === 'content_block_delta');
    await expectAbortedAt(h.exporter, { at: brokeAt, label: 'end at break', chunks: 3 });
  });

  it('a dropped connection → ERROR', async () => {
    const stream = await client.messages.create({ ...params(), stream: true }, scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }));
    await expectDroppedCall(h.exporter, await drain(stream).catch((e: unknown) => e), DROPPED[major.transport]);
  });
});
