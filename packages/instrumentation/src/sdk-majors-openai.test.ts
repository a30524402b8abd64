/**
 * The span contract on every supported `openai` major, each a real install (sdk-majors-harness.ts):
 * 4.x goes through node-fetch over node:http (http-tap.ts), 5.x on through undici.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type OpenAIType from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { DROPPED, MAJOR_STREAM_TIMINGS, PROMPT, breakAfter, chatMessages, chatStreamAttributes, drain, expectAbortedAt, expectDroppedCall, expectFaithfulStream, expectRetriedInQueue, expectSameError, expectToolSpans, expectUnstreamedCall, now, readLate, useHarness, weatherAndTime } from '../test/contract.ts';
import { expectFaithful, loadSdk, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, durationMs, finishedCalls, scenario, treeOf } from '../test/harness.ts';

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

const h = useHarness();
const messages = () => chatMessages(uniquePrompt(PROMPT));

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
    const s = MAJOR_STREAM_TIMINGS;
    const read = await readLate(() =>
      client.chat.completions.create({ model: 'gpt-4o', messages: messages(), stream: true, stream_options: { include_usage: true } }, scenario({ ...s, tokensPerChunk: 2 })),
    );
    const chunks = read.items;
    const t = await expectFaithfulStream(h.exporter, 'chat gpt-4o', s, read, { sdk: major.label, what: 'chat stream' });
    expect(t.call.attributes).toMatchObject({
      ...chatStreamAttributes(chunks, h.sim.openaiBaseURL),
      'gen_ai.usage.output_tokens': 24,
      'llm.stream.chunks': 12,
      'llm.attempts': 1,
      'llm.outcome': 'success',
    });
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('chat, not streamed: llm.queue to the headers and the usage', TIMING, async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: messages() }, scenario({ queueMs: 100, prefillMs: 100, chunks: 5, chunkIntervalMs: 20 }));
    const [call] = await finishedCalls(h.exporter);
    // The simulator answers in one piece once generation is done: 100 + 100 + 4 × 20 ms.
    const t = expectUnstreamedCall(h.exporter, call!, 'chat gpt-4o-mini', 280);
    expectFaithful(durationMs(t.call), 280, 'call');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
      'llm.attempts': 1,
    });
  });

  it('chat: a 429 and the backoff are an attempt inside llm.queue', TIMING, async () => {
    const started = now();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: messages(), stream: true },
      scenario({ httpErrors: { status: 429, count: 1, retryAfterS: 0.2 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 }),
    );
    await drain(stream);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    // llm.queue runs from the call to the answering attempt's headers, the backoff included
    // (0.2 s as asked, or the SDK's own backoff where it parses retry-after as an integer).
    expectRetriedInQueue(t, h.sim.requests, started, 100);
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
    expectSameError(instrumented, reference);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.call.attributes).toMatchObject({ 'error.type': '429', 'llm.outcome': 'error', 'llm.attempts': 2, 'llm.rate_limited_attempts': 2 });
    expect(t.ttft).toBeUndefined();
  });

  it('chat: each streamed tool call gets its llm.tool_call span inside llm.decode', TIMING, async () => {
    const toolCalls = weatherAndTime(5, 3);
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: messages(), stream: true }, scenario({ chunks: 2, chunkIntervalMs: 40, toolCalls }));
    const names: string[] = [];
    for await (const chunk of stream) for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.name) names.push(tc.function.name);
    expect(names).toEqual(['get_weather', 'get_time']);
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expectToolSpans(t, { blocksMs: [4 * 40, 2 * 40] });
    expect(t.call.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_calls'], 'llm.stream.chunks': 2 + (1 + 5) + (1 + 3) });
  });

  it('chat: break out of the stream → aborted at the break', TIMING, async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: messages(), stream: true }, scenario({ chunks: 30, chunkIntervalMs: 40 }));
    const brokeAt = await breakAfter(stream, 3, (chunk) => chunk.choices[0]?.delta.content);
    await expectAbortedAt(h.exporter, { at: brokeAt, label: 'end at break', chunks: 3 });
  });

  it('chat: a dropped connection → ERROR', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: messages(), stream: true },
      scenario({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }),
    );
    await expectDroppedCall(h.exporter, await drain(stream).catch((e: unknown) => e), DROPPED[major.transport]);
  });

  if (major.responses) {
    it('responses, streamed: phases at arrival with a consumer that reads late', TIMING, async () => {
      const s = { queueMs: 150, prefillMs: 200, chunks: 10, chunkIntervalMs: 20 };
      const read = await readLate(() => client.responses.create({ model: 'gpt-5', input: uniquePrompt('Summarise the news'), stream: true }, scenario({ ...s, tokensPerChunk: 3 })));
      const events: Array<{ type: string; response?: { id: string; usage?: { output_tokens: number } | null } }> = read.items;
      const completed = events.find((e) => e.type === 'response.completed');

      const t = await expectFaithfulStream(h.exporter, 'chat gpt-5', s, read, { sdk: major.label, what: 'responses stream' });
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
      const t = expectUnstreamedCall(h.exporter, call!, 'chat gpt-5', 190);
      expect(t.call.attributes).toMatchObject({ 'gen_ai.response.id': response.id, 'gen_ai.usage.output_tokens': response.usage!.output_tokens });
    });
  }
});
