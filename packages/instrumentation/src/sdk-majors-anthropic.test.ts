/**
 * The span contract on every supported `@anthropic-ai/sdk` release line, each a real install
 * (sdk-majors-harness.ts): 0.14 (the floor: `client.messages` and `messages.stream()` became
 * generally available) and 0.41 go through node-fetch over node:http (http-tap.ts), 0.50 on
 * through undici.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type AnthropicType from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectFaithful, loadSdk, recordFidelity, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, createHarness, durationMs, endMs, expectStreamedTree, finishedCalls, scenario, sleep, startMs, treeOf, type Harness } from '../test/harness.ts';

const MAJORS: SdkMajor[] = [
  { label: 'anthropic 0.14', module: '@anthropic-ai/sdk', fixture: 'anthropic-0.14', version: /^0\.14\./, transport: 'node:http' },
  { label: 'anthropic 0.41', module: '@anthropic-ai/sdk', fixture: 'anthropic-0.41', version: /^0\.41\./, transport: 'node:http' },
  { label: 'anthropic 0.x', module: '@anthropic-ai/sdk', fixture: 'anthropic-0', version: /^0\.1\d\d\./, transport: 'undici' },
  { label: 'anthropic 1', module: '@anthropic-ai/sdk', version: /^1\./, transport: 'undici' },
];

/** The connection dropped mid-stream, as each transport names it. */
const DROPPED = { undici: 'UND_ERR_SOCKET', 'node:http': 'ECONNRESET' };

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());

const model = 'claude-sonnet-5-5';
const now = () => performance.timeOrigin + performance.now();
const params = () => ({ model, max_tokens: 1024, messages: [{ role: 'user' as const, content: uniquePrompt('What is the weather in Paris?') }] });

async function drain(stream: AsyncIterable<RawMessageStreamEvent>): Promise<RawMessageStreamEvent[]> {
  const events: RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

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
    const s = { queueMs: 150, prefillMs: 200, chunks: 12, chunkIntervalMs: 20 };
    const started = now();
    const stream = await client.messages.create({ ...params(), stream: true }, scenario({ ...s, tokensPerChunk: 2, pings: true }));
    await sleep(800); // the whole answer arrives meanwhile, unread
    const pullStart = now();
    const events = await drain(stream);

    const [call] = await finishedCalls(h.exporter);
    recordFidelity(major.label, 'messages stream', s, treeOf(h.exporter, call!));
    // Pings during prefill and message_start are not output: TTFT is queue + prefill.
    const t = expectStreamedTree(h.exporter, call!, { name: `chat ${model}`, started, pullStart, ...s });
    expectFaithful(durationMs(t.queue!), s.queueMs, 'queue');
    expectFaithful(durationMs(t.ttft!), s.queueMs + s.prefillMs, 'ttft');
    expectFaithful(durationMs(t.decode!), (s.chunks - 1) * s.chunkIntervalMs, 'decode');
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
    const t = treeOf(h.exporter, call!);
    expect(t.all.map((s) => s.name).sort()).toEqual([`chat ${model}`, 'llm.queue']);
    // Answered in one piece once generated: 100 + 100 + 4 × 20 ms.
    expectFaithful(durationMs(t.queue!), 280, 'queue');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.request.stream': false,
      'gen_ai.response.id': message.id,
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
      'llm.outcome': 'success',
    });
  });

  it('a 529 and the backoff are an attempt inside llm.queue', TIMING, async () => {
    const started = now();
    await drain(
      await client.messages.create({ ...params(), stream: true }, scenario({ httpErrors: { status: 529, count: 1, retryAfterS: 0.2 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 })),
    );
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    const [first, second] = h.sim.requests.slice(-2);
    expect([first!.attempt, second!.attempt]).toEqual([0, 1]);
    expect(startMs(t.queue!)).toBe(startMs(t.call));
    expectFaithful(endMs(t.queue!) - second!.receivedAt, 0, 'queue end vs answering attempt');
    expect(durationMs(t.queue!)).toBeGreaterThanOrEqual(second!.receivedAt - started - 5);
    expectFaithful(durationMs(t.ttft!) - durationMs(t.queue!), 100, 'prefill after the retry');
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([529, 200]);
  });

  it('retries run out → ERROR with the status, the SDK error unchanged', async () => {
    const p = { ...params(), stream: true as const };
    const opts = { ...scenario({ httpErrors: { status: 529, count: 10, retryAfterS: 0.05 } }), maxRetries: 1 };
    const instrumented = await client.messages.create(p, opts).catch((e: unknown) => e);
    const reference = await plain.messages.create(p, opts).catch((e: unknown) => e);
    expect((instrumented as { status: number }).status).toBe(529);
    expect((instrumented as Error).constructor.name).toBe((reference as Error).constructor.name);
    expect((instrumented as Error).message).toBe((reference as Error).message);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'error.type': '529', 'llm.outcome': 'error', 'llm.attempts': 2 });
  });

  it('each streamed tool_use block gets its llm.tool_call span inside llm.decode', TIMING, async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 4 },
      { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}', fragments: 2 },
    ];
    const events = await drain(await client.messages.create({ ...params(), stream: true }, scenario({ prefillMs: 50, chunks: 2, chunkIntervalMs: 40, toolCalls })));
    const ids = events.flatMap((e) => (e.type === 'content_block_start' && e.content_block.type === 'tool_use' ? [e.content_block.id] : []));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call get_weather', 'llm.tool_call get_time']);
    expect(t.tools.map((s) => s.attributes['gen_ai.tool.call.id'])).toEqual(ids);
    expectFaithful(durationMs(t.tools[0]!), 3 * 40, 'get_weather block');
    expectFaithful(durationMs(t.tools[1]!), 1 * 40, 'get_time block');
    for (const tool of t.tools) {
      expect(startMs(tool)).toBeGreaterThanOrEqual(startMs(t.decode!));
      expect(endMs(tool)).toBeLessThanOrEqual(endMs(t.decode!));
    }
    expect(t.call.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_use'], 'llm.stream.chunks': 2 + (1 + 4) + (1 + 2) });
  });

  it('break out of the stream → aborted at the break', TIMING, async () => {
    const stream = await client.messages.create({ ...params(), stream: true }, scenario({ chunks: 30, chunkIntervalMs: 40 }));
    let n = 0;
    for await (const e of stream) if (e.type === 'content_block_delta' && ++n === 3) break;
    const brokeAt = now();
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('aborted');
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expectFaithful(endMs(call!) - brokeAt, 0, 'end at break');
    expect(call!.attributes['llm.stream.chunks']).toBe(3);
  });

  it('a dropped connection → ERROR', async () => {
    const stream = await client.messages.create({ ...params(), stream: true }, scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }));
    const error = await drain(stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': DROPPED[major.transport] });
    expect(call!.attributes['llm.stream.chunks']).toBeLessThanOrEqual(3);
  });
});
