/**
 * LangChain.js chat models, real packages against the simulator: `ChatOpenAI` (`@langchain/openai`,
 * through its `openai` dependency, patched) and `ChatAnthropic` (`@langchain/anthropic`, through its
 * own nested `@anthropic-ai/sdk` 0.x, patched). One call span per request with wire recognition on
 * too (the SDK call's requests are its attempts, never wire calls), and LangChain's own retries
 * (`AsyncCaller`, p-retry, `maxRetries`; the SDK's retries are off) as attempts of one call inside
 * `llm.queue`: `AsyncCaller.callWithRetries` runs in a call group (call-group.ts).
 */
import { createRequire } from 'node:module';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { scenarioHeaders, type Scenario } from '@llm-prism/simulator';
import { beforeAll, describe, expect, it } from 'vitest';
import { withLlmContext } from './context.ts';
import { clientSpans, MAJOR_STREAM_TIMINGS, now, useWireHarness, weatherAndTime } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectAdjoiningPhases, sleep, startMs, treeOf } from '../test/harness.ts';
import { expectFaithful, recordFidelity, uniquePrompt } from '../test/sdk-majors-harness.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const h = useWireHarness();
let lc: { ChatOpenAI: Any; ChatAnthropic: Any };
beforeAll(() => {
  const require = createRequire(import.meta.url);
  lc = { ChatOpenAI: require('@langchain/openai').ChatOpenAI, ChatAnthropic: require('@langchain/anthropic').ChatAnthropic };
});

const S = MAJOR_STREAM_TIMINGS;

const calls = (count: number): Promise<ReadableSpan[]> => clientSpans(h.exporter, count);

/**
 * The simulator numbers the attempts of one request by its body, but a Stainless SDK's
 * `x-stainless-retry-count: 0` starts a new request — and LangChain retries by calling the SDK
 * again (its own retries off), so every retry says 0. This fetch (Node's, still on undici) leaves
 * the header out, so the simulator sees LangChain's retry as the retry it is.
 */
const retryAwareFetch = (url: Any, init: Any = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  headers.delete('x-stainless-retry-count');
  return fetch(url, { ...init, headers });
};

interface Client {
  label: string;
  provider: string;
  name: string;
  model(s: Scenario, maxRetries?: number, options?: { fetch?: typeof fetch; maxConcurrency?: number }): Any;
}

const CLIENTS: Client[] = [
  {
    label: 'ChatOpenAI',
    provider: 'openai',
    name: 'chat gpt-4o',
    model: (s, maxRetries = 2, o = {}) =>
      new lc.ChatOpenAI({ model: 'gpt-4o', apiKey: 'test-key', maxRetries, maxConcurrency: o.maxConcurrency, configuration: { baseURL: h.sim.openaiBaseURL, defaultHeaders: scenarioHeaders(s), fetch: o.fetch ?? retryAwareFetch } }),
  },
  {
    label: 'ChatAnthropic',
    provider: 'anthropic',
    name: 'chat claude-sonnet-5-5',
    model: (s, maxRetries = 2, o = {}) =>
      new lc.ChatAnthropic({ model: 'claude-sonnet-5-5', apiKey: 'test-key', maxRetries, maxConcurrency: o.maxConcurrency, anthropicApiUrl: h.sim.anthropicBaseURL, clientOptions: { defaultHeaders: scenarioHeaders(s), fetch: o.fetch ?? retryAwareFetch } }),
  },
];

describe.each(CLIENTS)('$label', (client) => {
  beforeAll(async () => {
    await client.model({ chunks: 1 }).invoke(uniquePrompt('warm up'));
  });

  it('stream, the application reading late: one call, phases at arrival', TIMING, async () => {
    const started = now();
    const stream = await client.model({ ...S, tokensPerChunk: 2 }).stream(uniquePrompt('What is the weather in Paris?'));
    await sleep(800);
    const pullStart = now();
    let text = '';
    for await (const chunk of stream) text += typeof chunk.content === 'string' ? chunk.content : '';
    expect(text.length).toBeGreaterThan(0);
    const [call] = await calls(1);
    const t = treeOf(h.exporter, call!);
    expect(t.call.name).toBe(client.name);
    expect(t.all.map((s) => s.name).sort()).toEqual([client.name, 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
    expectFaithful(startMs(t.call) - started, 0, 'call start');
    expectFaithful(durationMs(t.queue!), S.queueMs, 'queue');
    expectFaithful(durationMs(t.ttft!), S.queueMs + S.prefillMs, 'ttft');
    expectFaithful(durationMs(t.decode!), (S.chunks - 1) * S.chunkIntervalMs, 'decode');
    expect(endMs(t.call)).toBeLessThan(pullStart);
    recordFidelity(`LangChain ${client.label}`, 'stream', S, t);
    expect(t.call.attributes).toMatchObject({ 'gen_ai.provider.name': client.provider, 'gen_ai.request.stream': true, 'llm.attempts': 1, 'llm.outcome': 'success' });
  });

  it('a 429 then success: LangChain retries it, one call with two attempts, the retry inside llm.queue', TIMING, async () => {
    const started = now();
    await client.model({ httpErrors: { status: 429, count: 1, retryAfterS: 0.1 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 }).invoke(uniquePrompt('Retry me'));
    const [call] = await calls(1);
    const t = treeOf(h.exporter, call!);
    const [first, second] = h.sim.requests.slice(-2);
    expect([first!.attempt, second!.attempt]).toEqual([0, 1]);
    expectFaithful(startMs(t.call) - started, 0, 'call start');
    expectAdjoiningPhases(t);
    // Not streamed: the answering attempt's headers come once generation is done (100 + 2 × 10 ms).
    expectFaithful(endMs(t.queue!) - second!.receivedAt, 120, 'queue end vs answering attempt');
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.rate_limited_attempts': 1, 'llm.outcome': 'success' });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([429, 200]);
  });

  it('retries run out: one call, ERROR with the last status', TIMING, async () => {
    const error = await client.model({ httpErrors: { status: 429, count: 10, retryAfterS: 0.05 } }, 1).invoke(uniquePrompt('Never')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await calls(1);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'error.type': '429', 'llm.outcome': 'error', 'llm.attempts': 2 });
  });

  it('the application aborts while the answer is held: the call ends at the abort, aborted, whatever LangChain does next', TIMING, async () => {
    // LangChain's loop does not know @anthropic-ai/sdk's abort error: it retries with the aborted
    // signal (each try fails unsent) and rejects seconds later; the call must not wait for it.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const requests = h.sim.requests.length;
    const error = await client.model({ prefillMs: 1000, chunks: 1 }, 1).invoke(uniquePrompt('Abort me'), { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [call] = await calls(1);
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'aborted', 'llm.attempts': 1 });
    expectFaithful(durationMs(call!), 100, 'call until the abort');
    // LangChain's background retries (one here, after its backoff) add no call and send nothing.
    await sleep(2500);
    expect(h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(1);
    expect(h.sim.requests.length - requests).toBe(1);
  });

  it('maxConcurrency 1, the first of three calls failing: three calls, each with its own conversation and parent (p-queue runs a queued call in the context of the one before it)', TIMING, async () => {
    // Each item's scenario by its prompt: item 0 answers 500 (no retries), items 1 and 2 succeed with 2 and 4 chunks.
    const byItem = (url: Any, init: Any = {}): Promise<Response> => {
      const i = Number(/item-(\d)/.exec(String(init.body))?.[1]);
      const headers = new Headers(init.headers);
      headers.set('x-llm-sim-scenario', JSON.stringify(i === 0 ? { httpErrors: { status: 500, count: 1 } } : { chunks: 2 * i, chunkIntervalMs: 0 }));
      return retryAwareFetch(url, { ...init, headers });
    };
    const model = client.model({}, 0, { fetch: byItem as typeof fetch, maxConcurrency: 1 });
    const tracer = h.provider.getTracer('app');
    const results = await Promise.allSettled(
      [0, 1, 2].map((i) =>
        withLlmContext({ conversationId: `conv-${i}` }, () => tracer.startActiveSpan(`item-${i}`, (span) => model.invoke(uniquePrompt(`item-${i}`)).finally(() => span.end()))),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    const spans = h.exporter.getFinishedSpans();
    const items = new Map(spans.filter((s) => s.name.startsWith('item-')).map((s) => [s.spanContext().spanId, s.name]));
    const called = (await calls(3)).map((c) => ({
      item: items.get(c.parentSpanContext?.spanId ?? ''),
      conversation: c.attributes['gen_ai.conversation.id'],
      outcome: c.attributes['llm.outcome'],
      attempts: c.attributes['llm.attempts'],
      output: c.attributes['gen_ai.usage.output_tokens'],
    }));
    expect(called.sort((a, b) => String(a.item).localeCompare(String(b.item)))).toEqual([
      { item: 'item-0', conversation: 'conv-0', outcome: 'error', attempts: 1, output: undefined },
      { item: 'item-1', conversation: 'conv-1', outcome: 'success', attempts: 1, output: 2 },
      { item: 'item-2', conversation: 'conv-2', outcome: 'success', attempts: 1, output: 4 },
    ]);
  });

  it('a two-step tool loop (tool call, then the answer with its result): two calls', TIMING, async () => {
    const tools = [
      { name: 'get_weather', description: 'weather', schema: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'get_time', description: 'time', schema: { type: 'object', properties: { timezone: { type: 'string' } } } },
    ];
    const first = await client.model({ chunks: 2, toolCalls: weatherAndTime(2, 2) }).bindTools(tools).invoke(uniquePrompt('Weather and time?'));
    expect(first.tool_calls.map((c: { name: string }) => c.name)).toEqual(['get_weather', 'get_time']);
    const results = first.tool_calls.map((c: { id: string }) => ({ role: 'tool', tool_call_id: c.id, content: 'sunny' }));
    await client.model({ chunks: 2 }).bindTools(tools).invoke([{ role: 'user', content: uniquePrompt('Weather and time?') }, first, ...results]);
    const [a, b] = await calls(2);
    expect(a!.attributes['llm.attempts']).toBe(1);
    expect(b!.attributes['llm.attempts']).toBe(1);
  });
});
