/**
 * The span contract on every supported `openai` major, each a real install (sdk-majors-harness.ts):
 * 4.x goes through node-fetch over node:http (http-tap.ts), 5.x on through undici.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type OpenAIType from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectFaithful, loadSdk, recordFidelity, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, createHarness, durationMs, endMs, expectStreamedTree, finishedCalls, scenario, sleep, startMs, treeOf, type Harness } from '../test/harness.ts';

interface OpenAIMajor extends SdkMajor {
  /** `responses.create` exists (4.87+). */
  responses: boolean;
}

const MAJORS: OpenAIMajor[] = [
  { label: 'openai 4.19', module: 'openai', fixture: 'openai-4.19', version: /^4\.19\./, transport: 'node:http', responses: false },
  { label: 'openai 4', module: 'openai', fixture: 'openai-4', version: /^4\.1\d\d\./, transport: 'node:http', responses: true },
  { label: 'openai 5', module: 'openai', fixture: 'openai-5', version: /^5\./, transport: 'undici', responses: true },
  { label: 'openai 6', module: 'openai', fixture: 'openai-6', version: /^6\./, transport: 'undici', responses: true },
  { label: 'openai 7', module: 'openai', version: /^7\./, transport: 'undici', responses: true },
];

/** The connection dropped mid-stream, as each transport names it. */
const DROPPED = { undici: 'UND_ERR_SOCKET', 'node:http': 'ECONNRESET' };

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());

const now = () => performance.timeOrigin + performance.now();
const messages = () => [{ role: 'user' as const, content: uniquePrompt('What is the weather in Paris?') }];

describe.each(MAJORS)('$label', (major) => {
  let client: OpenAIType;
  let plain: OpenAIType;
  beforeAll(async () => {
    const sdk = await loadSdk<typeof import('openai')>(major);
    const options = { baseURL: h.sim.openaiBaseURL, apiKey: 'test-key', maxRetries: 2 };
    client = new sdk.patched.OpenAI(options);
    plain = new sdk.plain.OpenAI(options);
    // A first request pays for lazy loading (the SDK's modules, Node's fetch): not a contract matter.
    await client.chat.completions.create({ model: 'gpt-4o', messages: messages() }, scenario({ chunks: 1 }));
    await plain.chat.completions.create({ model: 'gpt-4o', messages: messages() }, scenario({ chunks: 1 }));
  });

  it('chat, streamed: queue, TTFT and decode at arrival, with a consumer that reads late', TIMING, async () => {
    const s = { queueMs: 150, prefillMs: 200, chunks: 12, chunkIntervalMs: 20 };
    const started = now();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: messages(), stream: true, stream_options: { include_usage: true } },
      scenario({ ...s, tokensPerChunk: 2 }),
    );
    await sleep(800); // the whole answer arrives meanwhile, unread
    const pullStart = now();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const [call] = await finishedCalls(h.exporter);
    recordFidelity(major.label, 'chat stream', s, treeOf(h.exporter, call!));
    const t = expectStreamedTree(h.exporter, call!, { name: 'chat gpt-4o', started, pullStart, ...s });
    expectFaithful(durationMs(t.queue!), s.queueMs, 'queue');
    expectFaithful(durationMs(t.ttft!), s.queueMs + s.prefillMs, 'ttft');
    expectFaithful(durationMs(t.decode!), (s.chunks - 1) * s.chunkIntervalMs, 'decode');
    const usage = chunks.at(-1)!.usage!;
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': chunks[0]!.id,
      'gen_ai.response.model': chunks[0]!.model,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': 24,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(h.sim.openaiBaseURL).port),
      'llm.stream.chunks': 12,
      'llm.attempts': 1,
      'llm.outcome': 'success',
    });
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('chat, not streamed: llm.queue to the headers and the usage', TIMING, async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: messages() }, scenario({ queueMs: 100, prefillMs: 100, chunks: 5, chunkIntervalMs: 20 }));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o-mini', 'llm.queue']);
    // The simulator answers in one piece once generation is done: 100 + 100 + 4 × 20 ms.
    expectFaithful(durationMs(t.queue!), 280, 'queue');
    expectFaithful(durationMs(t.call), 280, 'call');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.request.stream': false,
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'llm.outcome': 'success',
      'llm.attempts': 1,
    });
  });

  it('chat: a 429 and the backoff are an attempt inside llm.queue', TIMING, async () => {
    const started = now();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: messages(), stream: true },
      scenario({ httpErrors: { status: 429, count: 1, retryAfterS: 0.2 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 }),
    );
    for await (const _ of stream);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    const [first, second] = h.sim.requests.slice(-2);
    expect([first!.attempt, second!.attempt]).toEqual([0, 1]);
    // llm.queue runs from the call to the answering attempt's headers, the backoff included
    // (0.2 s as asked, or the SDK's own backoff where it parses retry-after as an integer).
    expect(startMs(t.queue!)).toBe(startMs(t.call));
    expectFaithful(endMs(t.queue!) - second!.receivedAt, 0, 'queue end vs answering attempt');
    expect(durationMs(t.queue!)).toBeGreaterThanOrEqual(second!.receivedAt - started - 5);
    expectFaithful(durationMs(t.ttft!) - durationMs(t.queue!), 100, 'prefill after the retry');
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.rate_limited_attempts': 1, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes)).toEqual([
      { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.2, 'error.type': '429' },
      { 'llm.attempt': 2, 'http.response.status_code': 200 },
    ]);
  });

  it('chat: retries run out → ERROR with the status, the SDK error unchanged', async () => {
    const params = { model: 'gpt-4o', messages: messages(), stream: true as const };
    const opts = { ...scenario({ httpErrors: { status: 429, count: 10, retryAfterS: 0.05 } }), maxRetries: 1 };
    const instrumented = await client.chat.completions.create(params, opts).catch((e: unknown) => e);
    const reference = await plain.chat.completions.create(params, opts).catch((e: unknown) => e);
    expect((instrumented as Error).constructor.name).toBe('RateLimitError');
    expect((instrumented as Error).constructor.name).toBe((reference as Error).constructor.name);
    expect((instrumented as Error).message).toBe((reference as Error).message);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.call.attributes).toMatchObject({ 'error.type': '429', 'llm.outcome': 'error', 'llm.attempts': 2, 'llm.rate_limited_attempts': 2 });
    expect(t.ttft).toBeUndefined();
  });

  it('chat: each streamed tool call gets its llm.tool_call span inside llm.decode', TIMING, async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 5 },
      { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}', fragments: 3 },
    ];
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: messages(), stream: true }, scenario({ chunks: 2, chunkIntervalMs: 40, toolCalls }));
    const names: string[] = [];
    for await (const chunk of stream) for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.name) names.push(tc.function.name);
    expect(names).toEqual(['get_weather', 'get_time']);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call get_weather', 'llm.tool_call get_time']);
    expectFaithful(durationMs(t.tools[0]!), 4 * 40, 'get_weather block');
    expectFaithful(durationMs(t.tools[1]!), 2 * 40, 'get_time block');
    for (const tool of t.tools) {
      expect(startMs(tool)).toBeGreaterThanOrEqual(startMs(t.decode!));
      expect(endMs(tool)).toBeLessThanOrEqual(endMs(t.decode!));
    }
    expect(t.call.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_calls'], 'llm.stream.chunks': 2 + (1 + 5) + (1 + 3) });
  });

  it('chat: break out of the stream → aborted at the break', TIMING, async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: messages(), stream: true }, scenario({ chunks: 30, chunkIntervalMs: 40 }));
    let n = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content && ++n === 3) break;
    const brokeAt = now();
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('aborted');
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expectFaithful(endMs(call!) - brokeAt, 0, 'end at break');
    expect(call!.attributes['llm.stream.chunks']).toBe(3);
  });

  it('chat: a dropped connection → ERROR', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: messages(), stream: true },
      scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }),
    );
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': DROPPED[major.transport] });
    expect(call!.attributes['llm.stream.chunks']).toBeLessThanOrEqual(3);
  });

  if (major.responses) {
    it('responses, streamed: phases at arrival with a consumer that reads late', TIMING, async () => {
      const s = { queueMs: 150, prefillMs: 200, chunks: 10, chunkIntervalMs: 20 };
      const started = now();
      const stream = await client.responses.create({ model: 'gpt-5', input: uniquePrompt('Summarise the news'), stream: true }, scenario({ ...s, tokensPerChunk: 3 }));
      await sleep(800);
      const pullStart = now();
      const events: Array<{ type: string; response?: { id: string; usage?: { output_tokens: number } | null } }> = [];
      for await (const event of stream) events.push(event);
      const completed = events.find((e) => e.type === 'response.completed');

      const [call] = await finishedCalls(h.exporter);
      recordFidelity(major.label, 'responses stream', s, treeOf(h.exporter, call!));
      const t = expectStreamedTree(h.exporter, call!, { name: 'chat gpt-5', started, pullStart, ...s });
      expectFaithful(durationMs(t.queue!), s.queueMs, 'queue');
      expectFaithful(durationMs(t.ttft!), s.queueMs + s.prefillMs, 'ttft');
      expectFaithful(durationMs(t.decode!), (s.chunks - 1) * s.chunkIntervalMs, 'decode');
      expect(t.call.attributes).toMatchObject({
        'gen_ai.response.id': completed!.response!.id,
        'gen_ai.response.finish_reasons': ['completed'],
        'gen_ai.usage.output_tokens': completed!.response!.usage!.output_tokens,
        'llm.stream.chunks': 10,
        'llm.outcome': 'success',
      });
    });
  }

  if (major.responses) {
    it('responses, not streamed', TIMING, async () => {
      const response = await client.responses.create({ model: 'gpt-5', input: uniquePrompt('Summarise') }, scenario({ queueMs: 50, prefillMs: 100, chunks: 3, chunkIntervalMs: 20 }));
      const [call] = await finishedCalls(h.exporter);
      const t = treeOf(h.exporter, call!);
      expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-5', 'llm.queue']);
      expectFaithful(durationMs(t.queue!), 190, 'queue');
      expect(t.call.attributes).toMatchObject({ 'gen_ai.response.id': response.id, 'gen_ai.usage.output_tokens': response.usage!.output_tokens, 'llm.outcome': 'success' });
    });
  }
});
